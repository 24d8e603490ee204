"""Import offline tokens from the Shopify app template's Prisma `Session` table, or a JSON file.

    manage.py import_offline_tokens --session-database-url postgres://…/app [--dry-run]
    manage.py import_offline_tokens --session-database-url file:/srv/app/prisma/dev.sqlite
    manage.py import_offline_tokens --json sessions.json [--dry-run]

Only offline sessions (`isOnline` false) are read; each becomes (or updates) a shop with its
access token, expiry, refresh token and scopes, encrypted with TOKEN_ENCRYPTION_KEY. Tokens
are never printed. Exit 1 when a row could not be imported.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from psycopg.rows import dict_row

from shops import crypto, services
from shops.models import Shop
from timedify_ops.audit.services import record_audit

# The template's prisma/schema.prisma `model Session`; the refresh columns came with expiring
# offline tokens and may be missing from older databases.
REQUIRED_COLUMNS = ("shop", "isOnline", "accessToken")
OPTIONAL_COLUMNS = ("id", "scope", "expires", "refreshToken", "refreshTokenExpires")


def _moment(value) -> datetime | None:
    """Prisma DateTime: a timestamp (PostgreSQL), ISO text, or epoch milliseconds (SQLite)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    parsed = parse_datetime(str(value).strip().replace(" ", "T", 1))
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _offline(value) -> bool:
    return value in (False, 0, "0", "false", "False", None)


def rows_from_database(url: str) -> tuple[list[dict], int]:
    """The offline sessions, and how many online ones were left out."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        with psycopg.connect(url, row_factory=dict_row) as connection:
            columns = {
                row["column_name"]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'Session'"
                )
            }
            return _select(connection, columns)
    if parts.scheme in ("file", "sqlite"):
        path = unquote(url.split(":", 1)[1].removeprefix("//").split("?", 1)[0])
        if not Path(path).exists():
            raise CommandError(f"no SQLite database at {path}")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        try:
            columns = {row["name"] for row in connection.execute('PRAGMA table_info("Session")')}
            return _select(connection, columns)
        finally:
            connection.close()
    raise CommandError(f"--session-database-url must be a postgres:// or file: URL (got scheme {parts.scheme!r})")


def _select(connection, columns: set[str]):
    if not columns:
        raise CommandError('the database has no "Session" table (the Shopify app template\'s Prisma schema)')
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise CommandError(f'the "Session" table lacks the column(s) {", ".join(missing)}')
    wanted = [name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in columns]
    select = ", ".join(f'"{name}"' for name in wanted)
    # Column names come from the fixed lists above, never from input. Online sessions are only
    # counted (reported as skipped), never read.
    online = connection.execute('SELECT count(*) AS online FROM "Session" WHERE "isOnline" = true').fetchone()
    rows = [dict(row) for row in connection.execute(f'SELECT {select} FROM "Session" WHERE "isOnline" = false')]  # noqa: S608
    return rows, int(online["online"])


def rows_from_json(path: str) -> tuple[list[dict], int]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from None
    if isinstance(data, dict):
        data = data.get("sessions", data.get("shops"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CommandError(f"{path} must hold a list of session objects (or {{'sessions': [...]}})")
    offline = [row for row in data if _offline(_field(row, "isOnline", "is_online"))]
    return offline, len(data) - len(offline)


def _field(row: dict, camel: str, snake: str):
    return row.get(camel, row.get(snake))


class Command(BaseCommand):
    help = "Import offline Shopify tokens from the app's Prisma Session table or a JSON file (encrypted at rest)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--session-database-url", help="postgres://… or file:/path/to/dev.sqlite")
        source.add_argument(
            "--json",
            dest="json_file",
            metavar="FILE",
            help="a list of {shop, accessToken, scope, expires, refreshToken, refreshTokenExpires} "
            "(snake_case keys work too); online sessions (isOnline true) are skipped",
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would be imported, change nothing")

    def handle(self, *args, session_database_url=None, json_file=None, dry_run=False, **options):
        if session_database_url:
            rows, skipped = rows_from_database(session_database_url)
        else:
            rows, skipped = rows_from_json(json_file)
        if not dry_run:
            crypto.cipher()  # fail before anything is written when TOKEN_ENCRYPTION_KEY is missing
        created = updated = failed = 0
        for row in rows:
            try:
                domain = services.normalise_domain(str(_field(row, "shop", "shop") or ""))
                token = _field(row, "accessToken", "access_token")
                if not token:
                    raise ValueError("no access token")
                expires = _moment(_field(row, "expires", "expires_at"))
                refresh = _field(row, "refreshToken", "refresh_token") or None
                refresh_expires = _moment(_field(row, "refreshTokenExpires", "refresh_token_expires_at"))
                scopes = _field(row, "scope", "scope")
            except ValueError as error:
                failed += 1
                self.stderr.write(f"skipped a session ({row.get('id') or row.get('shop') or '?'}): {error}")
                continue
            kind = f"expiring {expires:%Y-%m-%d %H:%M} UTC" if expires else "non-expiring"
            detail = f"{kind} token{', refresh token' if refresh else ''}, scopes {scopes or '-'}"
            if dry_run:
                exists = Shop.objects.filter(domain=domain).exists()
                self.stdout.write(f"would {'update' if exists else 'create'} {domain}: {detail}")
                updated += exists
                created += not exists
                continue
            stored = services.store_tokens(
                domain,
                access_token=str(token),
                access_token_expires_at=expires,
                refresh_token=refresh,
                refresh_token_expires_at=refresh_expires,
                scopes=scopes if scopes is not None else None,
            )
            created += stored.created
            updated += not stored.created
            self.stdout.write(f"{'created' if stored.created else 'updated'} {domain}: {detail}")
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{verb} {created + updated} offline token(s): {created} new, {updated} updated; "
            f"{skipped} online session(s) skipped, {failed} failed"
        )
        if not dry_run and created + updated:
            record_audit(
                "manage.py",
                "shops.import_tokens",
                target_type="shop",
                count=created + updated,
                summary=f"imported {created + updated} offline token(s) ({created} new)",
                details={"source": "json" if json_file else "session-database", "failed": failed},
            )
        if failed:
            raise SystemExit(1)
