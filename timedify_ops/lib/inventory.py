"""The secrets inventory, Django-free: every variable a deployment needs, whether it is set, and a
short fingerprint of its value — never the value — so a backed-up copy can be checked against
production without either side showing a secret.

A fingerprint is the first 12 hex digits of the SHA-256 of the value (48 bits: enough to tell two
values apart, far too few to learn anything about a random secret). The same value gives the same
fingerprint anywhere, also outside timedify-ops:

    printf %s "$VALUE" | sha256sum | cut -c1-12

`manage.py secrets_inventory` prints the table; docs/SECRETS.md is the runbook page around it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass

ALWAYS, PRODUCTION, OPTIONAL = "always", "production", "optional"


@dataclass(frozen=True)
class Variable:
    name: str
    purpose: str
    secret: bool  # a credential: back it up, rotate it when it leaks, never paste it anywhere
    required: str  # always | production (DJANGO_DEBUG off) | optional | "with X" (needed once X is used)


VARIABLES: tuple[Variable, ...] = (
    # Start-up stops without these (production).
    Variable("DJANGO_SECRET_KEY", "signs sessions and CSRF tokens; a new one logs everybody out", True, ALWAYS),
    Variable(
        "SHOPIFY_API_SECRET",
        "the app's client secret: verifies Shopify's HMAC, re-signs forwarded webhooks",
        True,
        ALWAYS,
    ),
    Variable("LOG_INGEST_TOKEN", "bearer token of POST /logs/ingest (the Fly log shipper's HTTP_TOKEN)", True, ALWAYS),
    Variable("METRICS_TOKEN", "bearer token of GET /metrics (Prometheus)", True, ALWAYS),
    Variable("ALLOWED_HOSTS", "host names this console answers to", False, PRODUCTION),
    Variable("WEBHOOK_TARGET_URL", "where events are forwarded: the app's webhook endpoint", False, PRODUCTION),
    Variable("APP_HEALTH_URL", "the app's own health endpoint, probed every minute", False, PRODUCTION),
    Variable(
        "DATABASE_URL",
        "timedify-ops' PostgreSQL (its password is in it); unset: SQLite under var/",
        True,
        "with PostgreSQL",
    ),
    # Needed once the feature is used; a lost one breaks that feature.
    Variable(
        "TOKEN_ENCRYPTION_KEY",
        "Fernet key of the shops' offline tokens at rest: without it no stored token can be read",
        True,
        "with shops' tokens",
    ),
    Variable(
        "TOKEN_ENCRYPTION_KEY_PREVIOUS", "the key before a rotation: still decrypts, never encrypts", True, OPTIONAL
    ),
    Variable("SHOPIFY_API_SECRET_PREVIOUS", "the client secret before a rotation: still accepted", True, OPTIONAL),
    Variable(
        "SHOPIFY_API_KEY", "the app's client id: refreshes expiring offline tokens", False, "with expiring tokens"
    ),
    Variable("REDIS_URL", "django-q2's Redis broker (more than one worker machine)", True, "with several workers"),
    Variable(
        "HEARTBEAT_TOKEN", "bearer token outside jobs report with (POST /heartbeats/<name>)", True, "with HEARTBEATS"
    ),
    Variable("HEARTBEATS", "the outside jobs expected to report, with period and grace", False, OPTIONAL),
    Variable("APP_DATABASE_URL", "the app's database, read-only, for its Prisma migrations probe", True, OPTIONAL),
    Variable("CSRF_TRUSTED_ORIGINS", "the console's https origin behind Fly's proxy", False, OPTIONAL),
    Variable("WEBHOOK_TARGET_OVERRIDES", "per-topic forwarding targets", False, OPTIONAL),
    Variable(
        "ALERT_SLACK_WEBHOOK_URL", "Slack incoming webhook for alerts (the URL is the credential)", True, OPTIONAL
    ),
    Variable("ALERT_WEBHOOK_URL", "generic JSON webhook for alerts (may carry a token)", True, OPTIONAL),
    Variable("ALERT_EMAIL_TO", "alert e-mail recipients", False, OPTIONAL),
    Variable("SLO_REPORT_SLACK_WEBHOOK_URL", "Slack incoming webhook for the daily SLO summary", True, OPTIONAL),
    Variable("EMAIL_HOST", "SMTP server for alert and report e-mail", False, "with e-mail"),
    Variable("EMAIL_HOST_USER", "SMTP user", False, "with e-mail"),
    Variable("EMAIL_HOST_PASSWORD", "SMTP password", True, "with e-mail"),
)
BY_NAME = {variable.name: variable for variable in VARIABLES}


def fingerprint(value: str) -> str:
    """The first 12 hex digits of SHA-256(value): `printf %s "$VALUE" | sha256sum | cut -c1-12`."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Row:
    name: str
    purpose: str
    secret: bool
    required: str
    set: bool
    fingerprint: str  # "" when not set

    @property
    def missing(self) -> bool:
        """Not set although start-up needs it (`production` counts only with production=True)."""
        return not self.set and self.required == ALWAYS

    def as_dict(self) -> dict:
        return asdict(self)


def rows(environ: Mapping[str, str], *, production: bool = True) -> list[Row]:
    """One row per variable, read from `environ` (the process environment, or a backed-up env file)."""
    found = []
    for variable in VARIABLES:
        value = environ.get(variable.name) or ""
        required = variable.required
        if required == PRODUCTION and production:
            required = ALWAYS
        found.append(
            Row(
                name=variable.name,
                purpose=variable.purpose,
                secret=variable.secret,
                required=required,
                set=bool(value),
                fingerprint=fingerprint(value) if value else "",
            )
        )
    return found


@dataclass(frozen=True)
class Difference:
    name: str
    verdict: str  # same | differs | missing here | missing there | unset on both


def compare(mine: list[Row], theirs: Mapping[str, str]) -> list[Difference]:
    """This side's rows against the other side's fingerprints ({name: fingerprint or ""})."""
    found = []
    for row in mine:
        other = theirs.get(row.name) or ""
        if row.fingerprint and other:
            verdict = "same" if row.fingerprint == other else "differs"
        elif row.fingerprint:
            verdict = "missing there"
        elif other:
            verdict = "missing here"
        else:
            verdict = "unset on both"
        found.append(Difference(row.name, verdict))
    return found


def read_env_text(text: str) -> dict[str, str]:
    """KEY=VALUE lines as a backed-up env file holds them: comments, blank lines, `export KEY=…`,
    and a value in matching single or double quotes are understood."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values
