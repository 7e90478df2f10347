"""Settings for the throughput benchmark (``bench/throughput.py``): production's, plus one URL.

Everything comes from ``crm.settings`` and so from the environment, as in production: the
benchmark starts gunicorn with ``DJANGO_DEBUG=false``, a secret key and ``DJANGO_ALLOWED_HOSTS``.
Production's HTTPS settings stay on (SSL redirect, secure cookies, HSTS); the benchmark sends
``X-Forwarded-Proto: https`` as the TLS-terminating proxy in front of production does, so each
request takes production's path through SecurityMiddleware instead of a path that exists only here.

Two things differ, neither of them on the measured path:

- ``ROOT_URLCONF`` adds the trivial view that measures the ceiling (``bench/urls.py``); it must
  never be reachable in production, so it lives only here.
- ``STATIC_ROOT`` is a folder of the benchmark's own, where it collects the static files before
  starting gunicorn (production's manifest storage needs them to render ``{% static %}``), so a
  run neither needs nor touches the checkout's ``staticfiles/``. Static files are not measured.
"""

import os
from pathlib import Path

from crm.settings import *  # noqa: F403
from crm.settings import STATIC_ROOT as CRM_STATIC_ROOT

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = Path(os.environ.get("JIHUI_BENCH_STATIC_ROOT") or CRM_STATIC_ROOT)
