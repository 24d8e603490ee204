"""Test settings: the real settings module, with test values for the required variables.

Subprocesses started by tests (gunicorn, qcluster) use this module too, so they see
the same secrets and the same test database.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SHOPIFY_API_SECRET", "shpss_test_current_secret")
os.environ.setdefault("WEBHOOK_TARGET_URL", "http://127.0.0.1:9/unset-target")
os.environ.setdefault("APP_HEALTH_URL", "http://127.0.0.1:9/unset-health")
os.environ.setdefault("LOG_INGEST_TOKEN", "test-log-ingest-token-0123456789")
os.environ.setdefault("METRICS_TOKEN", "test-metrics-token-0123456789")
# No flush thread in the test process: tests flush the recorder themselves.
os.environ.setdefault("TELEMETRY_FLUSH_SECONDS", "0")
# No background thread writing timedify-ops' own events into the test database behind the
# tests' backs; tests/logs flush the handler directly.
os.environ.setdefault("LOG_EVENTS_FLUSH_SECONDS", "0")
os.environ.setdefault("TIMEDIFY_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from timedify_ops.settings import *  # noqa: F403
from timedify_ops.settings import DATABASES, INSTALLED_APPS, VAR_DIR

# The demo is tested too (tests/demo, the screenshots), so it is installed here as demo.settings
# installs it; the product's settings never do (tests/demo/test_boundaries.py).
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The plain storage: tests do not run collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so gunicorn and qcluster subprocesses share the test database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    if os.environ.get("TIMEDIFY_TEST_SQLITE_NAME"):
        # Subprocesses are pointed straight at the test database file.
        DATABASES["default"]["NAME"] = os.environ["TIMEDIFY_TEST_SQLITE_NAME"]
