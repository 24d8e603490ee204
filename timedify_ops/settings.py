"""Settings, read from the environment through strict helpers (timedify_ops.lib.env).

Production (DJANGO_DEBUG off): every required variable must be set and well formed,
or start-up stops with a message naming it. Whether a well-formed value makes sense to a
room (a probe name, an SLO threshold, a Fernet key, the alert pattern) is that room's
system check (tag "settings"), which `check`, `migrate`, `qcluster` and the WSGI entry
point run. Embedded default (DATABASE_URL unset): SQLite under var/. With DJANGO_DEBUG on,
var/dev.env (written by `scripts/dev.py run`) supplies development secrets that the
environment overrides.
"""

from __future__ import annotations

import math
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

from timedify_ops.devenv import DEV_ENV_FILE
from timedify_ops.lib.env import REQUIRED, ConfigError, Env, read_env_file
from timedify_ops.lib.heartbeats import parse as parse_heartbeats
from timedify_ops.lib.retry import RetryBudget
from timedify_ops.lib.topics import DEFAULT_TOPICS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TIMEDIFY_VAR_DIR") or BASE_DIR / "var")


def _fail(error: ConfigError):
    sys.stderr.write(f"timedify-ops: configuration error: {error}\n")
    raise SystemExit(2)


try:
    DEBUG = Env().bool("DJANGO_DEBUG", default=False)
    env = Env(defaults=read_env_file(DEV_ENV_FILE) if DEBUG else None)
    SECRET_KEY = env.secret("DJANGO_SECRET_KEY", min_length=32)
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS",
        default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else REQUIRED,
        hint="comma-separated host names, e.g. myapp.fly.dev",
    )
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

    DATABASE_URL = env.raw("DATABASE_URL")
    REDIS_URL = env.url("REDIS_URL", default=None, schemes=("redis", "rediss", "unix"))

    # The webhook pipeline: Shopify's secret, where events go, the ingress' limits.
    SHOPIFY_API_SECRET = env.secret("SHOPIFY_API_SECRET", min_length=8)
    SHOPIFY_API_SECRET_PREVIOUS = env.secret("SHOPIFY_API_SECRET_PREVIOUS", default="", min_length=8)
    WEBHOOK_TARGET_URL = env.url(
        "WEBHOOK_TARGET_URL",
        default="http://127.0.0.1:8765/webhooks" if DEBUG else REQUIRED,
        hint="the app's webhook endpoint events are forwarded to",
    )
    # Per-topic overrides: WEBHOOK_TARGET_OVERRIDES="customers/redact=https://…,shop/redact=https://…"
    WEBHOOK_TARGET_OVERRIDES = env.url_mapping("WEBHOOK_TARGET_OVERRIDES")
    WEBHOOK_TOPICS = env.list("WEBHOOK_TOPICS", default=list(DEFAULT_TOPICS))
    WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=5 * 1024 * 1024, minimum=1024)
    APP_HEALTH_URL = env.url(
        "APP_HEALTH_URL",
        default="http://127.0.0.1:8765/health" if DEBUG else REQUIRED,
        hint="the monitored app's own health endpoint",
    )
    LOG_INGEST_TOKEN = env.secret("LOG_INGEST_TOKEN")
    METRICS_TOKEN = env.secret("METRICS_TOKEN")

    # Delivery: Shopify's own timeouts (1 s to connect, 5 s in all) and the retry budget.
    DELIVERY_CONNECT_TIMEOUT_S = env.float("DELIVERY_CONNECT_TIMEOUT_S", default=1.0, minimum=0.01)
    DELIVERY_TIMEOUT_S = env.float("DELIVERY_TIMEOUT_S", default=5.0, minimum=0.01)
    DELIVERY_RETRY_BUDGET = RetryBudget(
        base_ms=env.int("DELIVERY_RETRY_BASE_MS", default=300, minimum=0),
        retries=env.int("DELIVERY_RETRIES", default=4, minimum=0),
        retry_after_cap_s=env.float("DELIVERY_RETRY_AFTER_CAP_S", default=5.0, minimum=0),
    )
    # How long a worker's claim on a delivery lasts; once it runs out, the sweeper hands the event
    # to another worker (the first one died). Default: django-q2's task timeout + 30 s, which no
    # live task outlasts. A shorter lease recovers a killed worker's events sooner (the fault
    # tests use one) but must outlast a whole run of the retry budget, or a slow but live
    # delivery could be taken over and sent twice: the minimum is that worst case + 5 s.
    DELIVERY_LEASE_SECONDS = env.int(
        "DELIVERY_LEASE_SECONDS",
        default=int(DELIVERY_RETRY_BUDGET.worst_case_s(DELIVERY_TIMEOUT_S)) + 60,
        minimum=math.ceil(DELIVERY_RETRY_BUDGET.worst_case_s(DELIVERY_TIMEOUT_S)) + 5,
    )
    # An event still `received` this long after it was enqueued, or `delivering` past its
    # lease, is re-enqueued by the sweeper (a lost enqueue or a killed worker).
    WEBHOOK_STALE_SECONDS = env.int("WEBHOOK_STALE_SECONDS", default=120, minimum=1)
    Q_WORKERS = env.int("Q_WORKERS", default=4, minimum=1)
    Q_LOG_LEVEL = env.str("Q_LOG_LEVEL", default="WARNING").upper()
    # Per-process telemetry is flushed this often (0 = only on demand, as in tests); a crash
    # loses at most this many seconds of one process's latency figures.
    TELEMETRY_FLUSH_SECONDS = env.float("TELEMETRY_FLUSH_SECONDS", default=5.0, minimum=0)

    # The console: login throttling (django-axes locks a username+address pair after this many
    # failures), the client address behind Fly's proxy (empty when not behind a proxy that
    # overwrites Fly-Client-IP), the overview's refresh.
    LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
    LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15, minimum=1)
    TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="Fly-Client-IP")
    OVERVIEW_POLL_SECONDS = env.int("OVERVIEW_POLL_SECONDS", default=10, minimum=1)
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)

    # Shops: offline tokens, the Admin API client, synthetic webhooks.
    # The app's client id: needed (with SHOPIFY_API_SECRET) to refresh expiring offline tokens.
    SHOPIFY_API_KEY = env.str("SHOPIFY_API_KEY", default="")
    SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2026-10")
    # Where a shop's Admin API lives; "{shop}" becomes the shop's domain. Tests point it at localhost.
    SHOPIFY_ADMIN_BASE_URL = env.url(
        "SHOPIFY_ADMIN_BASE_URL", default="https://{shop}", fill={"{shop}": "example.myshopify.com"}
    )
    SHOPIFY_ADMIN_TIMEOUT_S = env.float("SHOPIFY_ADMIN_TIMEOUT_S", default=10.0, minimum=0.01)
    SHOPIFY_ADMIN_RETRY_BUDGET = RetryBudget(
        base_ms=env.int("SHOPIFY_ADMIN_RETRY_BASE_MS", default=300, minimum=0),
        retries=env.int("SHOPIFY_ADMIN_RETRIES", default=4, minimum=0),
        # Shopify's REST Retry-After is about 2 s; a GraphQL throttle waits for the bucket to refill.
        retry_after_cap_s=env.float("SHOPIFY_ADMIN_RETRY_AFTER_CAP_S", default=10.0, minimum=0),
    )
    # Fernet keys for tokens at rest (checked by the shops app); the previous key still decrypts
    # during a rotation. Missing is allowed at start-up (no shops yet); storing a token then fails
    # with an error naming it.
    TOKEN_ENCRYPTION_KEY = env.raw("TOKEN_ENCRYPTION_KEY") or ""
    TOKEN_ENCRYPTION_KEY_PREVIOUS = env.raw("TOKEN_ENCRYPTION_KEY_PREVIOUS") or ""
    # The hourly token check stops starting new checks after this long (the rest go first next hour);
    # with the 5 s check timeout it stays well inside django-q2's task timeout.
    TOKEN_CHECK_BUDGET_S = env.int("TOKEN_CHECK_BUDGET_S", default=30, minimum=1)
    # An expiring offline token is refreshed this long before it expires.
    TOKEN_REFRESH_MARGIN_S = env.int("TOKEN_REFRESH_MARGIN_S", default=300, minimum=0)
    # Synthetic webhooks carry this shop domain (and X-Timedify-Synthetic: 1); no real shop has it.
    SYNTHETIC_SHOP_DOMAIN = env.str("SYNTHETIC_SHOP_DOMAIN", default="timedify-synthetic.myshopify.com").lower()
    SYNTHETIC_TIMEOUT_S = env.float("SYNTHETIC_TIMEOUT_S", default=5.0, minimum=0.01)
    # The dashboard's "send to this ingress" base URL; unset: the URL the operator's browser used.
    SYNTHETIC_INGRESS_URL = env.url("SYNTHETIC_INGRESS_URL", default=None)

    # Health: probes every minute, /status/, /health.
    HEALTH_HTTP_TIMEOUT_S = env.float("HEALTH_HTTP_TIMEOUT_S", default=5.0, minimum=0.01)
    HEALTH_HTTP_SLOW_MS = env.int("HEALTH_HTTP_SLOW_MS", default=2000, minimum=1)
    # More HTTP targets probed like APP_HEALTH_URL: EXTRA_HTTP_PROBES="api=https://…/ping,shop=https://…"
    # (the health app checks the names).
    EXTRA_HTTP_PROBES = env.url_mapping("EXTRA_HTTP_PROBES")
    # A probe is down after this many failed checks in a row, and up again after this many passes.
    HEALTH_DOWN_AFTER = env.int("HEALTH_DOWN_AFTER", default=2, minimum=1)
    HEALTH_UP_AFTER = env.int("HEALTH_UP_AFTER", default=1, minimum=1)
    HEALTH_QUEUE_MAX_AGE_S = env.int("HEALTH_QUEUE_MAX_AGE_S", default=300, minimum=1)
    HEALTH_BACKLOG_AGE_S = env.int("HEALTH_BACKLOG_AGE_S", default=600, minimum=1)
    HEALTH_DEADLETTERS_WARN = env.int("HEALTH_DEADLETTERS_WARN", default=0, minimum=0)
    HEALTH_DISK_WARN_PERCENT = env.float("HEALTH_DISK_WARN_PERCENT", default=10.0, minimum=0)
    HEALTH_DISK_FAIL_PERCENT = env.float("HEALTH_DISK_FAIL_PERCENT", default=5.0, minimum=0)
    HEALTH_MIGRATIONS_CACHE_S = env.int("HEALTH_MIGRATIONS_CACHE_S", default=60, minimum=0)
    # The board warns that probes stopped running (the worker?) after this long without a run.
    HEALTH_STALE_AFTER_S = env.int("HEALTH_STALE_AFTER_S", default=180, minimum=60)
    STATUS_POLL_SECONDS = env.int("STATUS_POLL_SECONDS", default=15, minimum=1)

    # Heartbeats: outside jobs that report to POST /heartbeats/<name>, "nightly-backup=24h+2h,sync=15m+5m"
    # (period + grace; the health app checks the names and that HEARTBEAT_TOKEN is set with them).
    try:
        HEARTBEATS = parse_heartbeats(env.str("HEARTBEATS", default=""))
    except ValueError as error:
        raise ConfigError(f"HEARTBEATS: {error}") from None
    HEARTBEAT_TOKEN = env.secret("HEARTBEAT_TOKEN", default="")
    # The app's own database (its DATABASE_URL as Prisma takes it), read-only: the app-migrations probe
    # (the health app checks the kind of URL).
    APP_DATABASE_URL = env.raw("APP_DATABASE_URL") or ""

    # Dead letters.
    # The one grace for replayed dead letters: `replay_deadletters --cleanup` and the retention job
    # delete them once replayed longer ago than this. The checklist says "delete after a successful
    # replay"; not at once, because the operator who replayed it (or the incident note that links to
    # it) still reads its page, its attempts and its audit trail for a while: an hour by default.
    DEADLETTER_REPLAYED_GRACE = env.duration("DEADLETTER_REPLAYED_GRACE", default="1h")
    # Bulk replays start at most this many deliveries per second unless the operator picks another rate.
    DEADLETTER_BULK_RATE = env.float("DEADLETTER_BULK_RATE", default=10.0, minimum=0.1)
    # A replay claimed but not picked up by a worker within this long is re-enqueued by the sweeper.
    DEADLETTER_REPLAY_LEASE_SECONDS = env.int("DEADLETTER_REPLAY_LEASE_SECONDS", default=600, minimum=10)

    # Alerting (the alerts app checks the pattern and the rule names).
    # Channels: each is on when its variable is set. The Slack URL is a credential: never shown or logged.
    ALERT_SLACK_WEBHOOK_URL = env.url("ALERT_SLACK_WEBHOOK_URL", default=None)
    ALERT_WEBHOOK_URL = env.url("ALERT_WEBHOOK_URL", default=None)
    ALERT_EMAIL_TO = env.list("ALERT_EMAIL_TO", default=[])
    # Linked from every notification (e.g. https://timedify-ops.fly.dev); unset = no link.
    ALERT_CONSOLE_URL = env.url("ALERT_CONSOLE_URL", default=None)
    ALERT_REPEAT_HOURS = env.float("ALERT_REPEAT_HOURS", default=4.0, minimum=0)  # 0 = never repeat
    ALERT_NOTIFY_TIMEOUT_S = env.float("ALERT_NOTIFY_TIMEOUT_S", default=5.0, minimum=0.01)
    ALERT_NOTIFY_RETRY_BUDGET = RetryBudget(
        base_ms=env.int("ALERT_NOTIFY_RETRY_BASE_MS", default=300, minimum=0),
        retries=env.int("ALERT_NOTIFY_RETRIES", default=3, minimum=0),
        retry_after_cap_s=5.0,
    )
    # Per-rule overrides of the defaults in dashboard.alerts.rules: "open-dead-letters=50,error-log-lines=5".
    ALERT_THRESHOLDS = env.number_mapping("ALERT_THRESHOLDS")
    ALERT_FOR_MINUTES = env.number_mapping("ALERT_FOR_MINUTES")
    # Django's mail settings, for the email channels.
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25, minimum=1)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.secret("EMAIL_HOST_PASSWORD", default="", min_length=1)
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10, minimum=1)
    DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="timedify-ops@localhost")

    # Retention: how long each kind of row is kept.
    RETENTION_EVENT_DAYS = env.int("RETENTION_EVENT_DAYS", default=14, minimum=1)
    RETENTION_LOG_DAYS = env.int("RETENTION_LOG_DAYS", default=7, minimum=1)
    RETENTION_PROBE_RESULT_DAYS = env.int("RETENTION_PROBE_RESULT_DAYS", default=30, minimum=1)
    RETENTION_PROBE_FLIP_DAYS = env.int("RETENTION_PROBE_FLIP_DAYS", default=365, minimum=1)
    RETENTION_ROLLUP_DAYS = env.int("RETENTION_ROLLUP_DAYS", default=90, minimum=1)
    RETENTION_TASK_RESULT_DAYS = env.int("RETENTION_TASK_RESULT_DAYS", default=7, minimum=1)
    RETENTION_JOBRUN_DAYS = env.int("RETENTION_JOBRUN_DAYS", default=30, minimum=1)
    RETENTION_NOTIFICATION_DAYS = env.int("RETENTION_NOTIFICATION_DAYS", default=90, minimum=1)
    # Rows per delete transaction; the share of time spent deleting (it rests the remainder after
    # each batch, so the ingress keeps answering); how long one scheduled run may take before it
    # hands the rest to a follow-up task (it must stay under the task timeout).
    RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000, minimum=1)
    RETENTION_DUTY_PERCENT = env.int("RETENTION_DUTY_PERCENT", default=50, minimum=1, maximum=100)
    RETENTION_MAX_SECONDS = env.int("RETENTION_MAX_SECONDS", default=45, minimum=1)

    # Logs.
    # POST /logs/ingest: larger bodies get 413 (the Fly log shipper sends far smaller batches).
    LOG_INGEST_MAX_BYTES = env.int("LOG_INGEST_MAX_BYTES", default=10 * 1024 * 1024, minimum=1024)
    # /logs/: the live tail stops by itself after this long (a forgotten tab must not poll forever).
    LOG_TAIL_MAX_SECONDS = env.int("LOG_TAIL_MAX_SECONDS", default=900, minimum=10)
    LOG_TAIL_POLL_SECONDS = env.float("LOG_TAIL_POLL_SECONDS", default=1.5, minimum=0.2)
    # The tail opens with the last LOG_TAIL_INITIAL_LINES matching lines of the last LOG_TAIL_WINDOW_MINUTES.
    LOG_TAIL_WINDOW_MINUTES = env.int("LOG_TAIL_WINDOW_MINUTES", default=15, minimum=1)
    LOG_TAIL_INITIAL_LINES = env.int("LOG_TAIL_INITIAL_LINES", default=200, minimum=1)
    # timedify-ops' own events are written to the log store in batches by a background thread
    # this often; 0 turns the thread off (events are then only written by an explicit flush).
    LOG_EVENTS_FLUSH_SECONDS = env.float("LOG_EVENTS_FLUSH_SECONDS", default=1.0, minimum=0)

    # SLOs: objectives, windows, the alerting guard and the daily report.
    # The latency SLI counts answers at or under this (the slo app checks it is a histogram edge).
    SLO_LATENCY_THRESHOLD_MS = env.float("SLO_LATENCY_THRESHOLD_MS", default=100.0, minimum=0)
    SLO_LATENCY_OBJECTIVE = env.fraction("SLO_LATENCY_OBJECTIVE", default=0.95)
    SLO_ERROR_RATE_OBJECTIVE = env.fraction("SLO_ERROR_RATE_OBJECTIVE", default=0.995)
    SLO_UPTIME_OBJECTIVE = env.fraction("SLO_UPTIME_OBJECTIVE", default=0.999)
    SLO_WINDOW_DAYS = env.int("SLO_WINDOW_DAYS", default=28, minimum=1)
    # A burn-rate rule stays quiet while its long window holds fewer events than this.
    SLO_MIN_EVENTS = env.int("SLO_MIN_EVENTS", default=100, minimum=0)
    # The health probe whose checks make the uptime SLI.
    SLO_UPTIME_PROBE = env.str("SLO_UPTIME_PROBE", default="app")
    # Synthetic events are left out of the SLO figures unless this is on (applies to minutes
    # rolled up after the change).
    SLO_INCLUDE_SYNTHETIC = env.bool("SLO_INCLUDE_SYNTHETIC", default=False)
    # The rollup job recomputes this many closed minutes each run, catching late telemetry flushes.
    SLO_ROLLUP_MINUTES = env.int("SLO_ROLLUP_MINUTES", default=5, minimum=1)
    # The daily report's channels: a Slack incoming webhook, and/or e-mail addresses (sent through
    # the alert notifier, with its retry budget).
    SLO_REPORT_SLACK_WEBHOOK_URL = env.url("SLO_REPORT_SLACK_WEBHOOK_URL", default=None)
    SLO_REPORT_EMAIL_TO = env.emails("SLO_REPORT_EMAIL_TO")
except ConfigError as error:  # pragma: no cover - exercised by tests in a subprocess
    _fail(error)

# django-q2 kills a task after `timeout`; `retry` must exceed it or a slow task runs twice.
# (DELIVERY_LEASE_SECONDS defaults to Q_TIMEOUT_S + 30.)
Q_TIMEOUT_S = int(DELIVERY_RETRY_BUDGET.worst_case_s(DELIVERY_TIMEOUT_S)) + 30

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "csp",
    # The kernel: what every room below may use.
    "timedify_ops.accounts",
    "timedify_ops.audit",
    "timedify_ops.jobs",
    "timedify_ops.telemetry",
    # Receive, recover, observe, and the console shell on top (each imports only the ones before it).
    "webhooks",
    "deadletters",
    "shops",
    "dashboard.health",
    "dashboard.logs",
    "dashboard.slo",
    "dashboard.alerts",
    "dashboard.retention",
    "dashboard",
]

MIDDLEWARE = [
    # First, so the measured ingress time covers the whole stack.
    "webhooks.middleware.IngressTelemetryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs login unless it is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "timedify_ops.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "timedify_ops.urls"
WSGI_APPLICATION = "timedify_ops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% partialdef %} in every template without a {% load %}.
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "timedify_ops.navigation.navigation",
            ],
        },
    }
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "timedify.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so
    # django-q2's ORM broker and the ingress queue for it instead of failing with
    # "database is locked" halfway through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses authentication while a username+address pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "timedify_ops.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's output (hashed, compressed), served by whitenoise; the Docker build fills it.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security: production defaults; Fly's proxy terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health is probed by Fly over plain HTTP inside its network.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content security policy: everything from this origin, nothing inline. Templates carry no
# <script> code, no on*= or style= attributes; page data travels in json_script blocks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# django-q2: ORM broker by default, Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "timedify",
    "workers": Q_WORKERS,
    "timeout": Q_TIMEOUT_S,
    "retry": Q_TIMEOUT_S + 30,  # must exceed timeout, or a slow task is handed out twice
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 500,  # successful results kept; failures are kept until retention trims them
    "catch_up": False,  # after downtime, run each schedule once, not once per missed slot
    "queue_limit": Q_WORKERS * 4,
    "poll": 0.2,
    "label": "Task queue",
    # django-q2 logs every enqueue at INFO through its own handler: one stderr line per webhook.
    "log_level": Q_LOG_LEVEL,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # Ships timedify_ops.events into the log store (app "timedify-ops"), batched off the
        # request path by a background thread (dashboard.logs.handler).
        "logstore": {
            "class": "dashboard.logs.handler.LogStoreHandler",
            "level": "INFO",
            "flush_interval": LOG_EVENTS_FLUSH_SECONDS,
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # timedify-ops' own important events (failed deliveries, dead letters, replays …).
        "timedify_ops.events": {"level": "INFO", "handlers": ["logstore"]},
        "django_q": {"level": Q_LOG_LEVEL},
        # httpx logs every request's full URL at INFO, and some URLs are credentials (a Slack
        # incoming webhook's path): kept at WARNING even if the root level is lowered.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
