# Jihui production image: gunicorn serves the web app; the same image runs the Celery worker
# and beat (docker-compose.yml). Build: docker compose build
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JIHUI_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

WORKDIR /app

RUN groupadd --system --gid 10001 jihui \
 && useradd --system --uid 10001 --gid jihui --home-dir /app --no-create-home --shell /usr/sbin/nologin jihui

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt


# Build stage: recompiles the translations (gettext is needed here only; the committed .mo files
# would do, this keeps them in step with the .po) and collects the static files, which whitenoise serves. The secret key exists for
# these commands only (settings refuse to load without one when DEBUG is off).
FROM runtime AS build
# Debian's current gettext; pinning its version would break the build at its next update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN export DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-stage-only JIHUI_VAR_DIR=/tmp/build-var \
 && python manage.py compilemessages \
 && python manage.py collectstatic --noinput \
 && rm -rf /tmp/build-var


FROM runtime
COPY --from=build /app /app
RUN mkdir -p /app/var/media \
 && chown -R jihui:jihui /app/var
# Numeric, so that platforms checking "runs as non-root" can tell without /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Settings in gunicorn.conf.py (bind 0.0.0.0:8000, WEB_CONCURRENCY workers).
CMD ["gunicorn", "crm.wsgi"]
