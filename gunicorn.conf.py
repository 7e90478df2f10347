"""Gunicorn settings for production (docker-compose.yml's web service; .ci/run uses the same).

Gunicorn reads this file from the working directory by itself. WEB_CONCURRENCY sets the
number of worker processes (default 3, about 2 per core plus 1 on the 2-core reference machine).
"""

import os

# All interfaces inside the container; docker-compose.yml decides what the host publishes.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 60
graceful_timeout = 30
# Recycle workers now and then so a slow leak in a long-lived process cannot build up.
max_requests = 1000
max_requests_jitter = 100
accesslog = "-"
# Heartbeat files on tmpfs: a container's overlay filesystem can stall workers.
worker_tmp_dir = "/dev/shm"  # noqa: S108
# Gunicorn >= 25 opens a control socket under $HOME by default; nothing here uses it.
control_socket_disable = True
