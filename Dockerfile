# timedify-ops: one image, two Fly processes (web: gunicorn, worker: qcluster).
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected (hashed and compressed for whitenoise) at build time. The settings
# need values to import: made up here for this one command, none of them end up in the image.
RUN random() { python -c 'import secrets; print(secrets.token_urlsafe(40))'; } \
 && DJANGO_SECRET_KEY="$(random)" SHOPIFY_API_SECRET="$(random)" LOG_INGEST_TOKEN="$(random)" \
    METRICS_TOKEN="$(random)" ALLOWED_HOSTS=build \
    WEBHOOK_TARGET_URL=http://build/ APP_HEALTH_URL=http://build/ TIMEDIFY_VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput -v 0 \
 && useradd --create-home --uid 10001 timedify && mkdir -p /app/var && chown timedify /app/var

USER timedify
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "timedify_ops.wsgi"]
