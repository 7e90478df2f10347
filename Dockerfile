# Jihui production image: gunicorn serves the web app; the same image runs the Celery worker
# and beat (docker-compose.yml). Build: docker compose build
FROM python:3.11-slim

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

COPY . .

# Static files are collected into the image and served by whitenoise. The secret key exists
# for this step only (settings refuse to load without one when DEBUG is off); nothing is kept.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    JIHUI_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
 && rm -rf /tmp/build-var \
 && mkdir -p /app/var/media \
 && chown -R jihui:jihui /app/var

USER jihui
EXPOSE 8000
# Settings in gunicorn.conf.py (bind 0.0.0.0:8000, WEB_CONCURRENCY workers).
CMD ["gunicorn", "crm.wsgi"]
