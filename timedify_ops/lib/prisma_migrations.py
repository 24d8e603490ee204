"""The app's Prisma migrations, read from its database: the checklist's `prisma migrate status`.

Prisma Migrate records every migration it applies in a `_prisma_migrations` table (created by its
schema engine; one row per attempt):

    id VARCHAR(36) PK, checksum VARCHAR(64), finished_at TIMESTAMPTZ, migration_name VARCHAR(255),
    logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ DEFAULT now(),
    applied_steps_count INTEGER DEFAULT 0

A migration's latest row says where it stands, as `prisma migrate deploy` reads it:
- `finished_at` set, `rolled_back_at` empty: applied;
- neither set: failed (Prisma wrote the error into `logs`) or unfinished (a deploy died, or runs now)
  — `migrate deploy` refuses to continue (P3009) until someone resolves it;
- `rolled_back_at` set (`prisma migrate resolve --rolled-back`) with no later row that finished:
  not applied, waiting for the next deploy.

The connection is read-only: PostgreSQL opens every transaction READ ONLY with a statement timeout,
SQLite opens the file with `mode=ro`. APP_DATABASE_URL is the app's own DATABASE_URL as Prisma takes
it (`postgresql://…?schema=app`, or `file:/data/dev.sqlite` for the template's SQLite); Prisma-only
parameters (`schema`, `connection_limit`, `pgbouncer` …) are taken out before libpq sees the URL.
Django-free: the health room's `app-migrations` probe wraps `check`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

TABLE = "_prisma_migrations"
# Query parameters libpq understands and Prisma passes on; everything else in a Prisma URL is Prisma's.
_LIBPQ_PARAMS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "host", "port"})


class Unreadable(Exception):
    """The app's database or its migrations table could not be read; the message says why."""


@dataclass(frozen=True)
class Migration:
    name: str
    started_at: datetime | None
    finished_at: datetime | None
    rolled_back_at: datetime | None
    applied_steps_count: int
    logs: str

    @property
    def state(self) -> str:
        if self.rolled_back_at is not None:
            return "rolled back"
        if self.finished_at is not None:
            return "applied"
        return "failed" if self.logs.strip() else "unfinished"


@dataclass(frozen=True)
class Status:
    ok: bool
    detail: str
    applied: int
    problems: tuple[Migration, ...]


# --------------------------------------------------------------------------- reading


def postgres_conninfo(url: str) -> tuple[str, str]:
    """(a libpq URL without Prisma's own parameters, the schema to read: `?schema=` or public)."""
    parts = urlsplit(url)
    schema = "public"
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "schema":
            schema = unquote(value) or "public"
        elif key in _LIBPQ_PARAMS:
            kept.append((key, value))
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), "")), schema


def sqlite_path(url: str) -> str:
    """The file of a Prisma SQLite URL (`file:./dev.sqlite`, `file:/data/app.db`, `sqlite:///…`)."""
    if url.startswith("file:"):
        path = url[len("file:") :]
    elif url.startswith("sqlite://"):
        path = urlsplit(url).path
    else:
        raise Unreadable("not a SQLite URL")
    path = path.split("?", 1)[0]
    if path.startswith("//"):  # file:///data/app.db
        path = path[2:]
    if not path:
        raise Unreadable("the SQLite URL names no file")
    return unquote(path)


def read_migrations(url: str, *, timeout_s: float = 5.0) -> list[Migration]:
    """Every row of the app's `_prisma_migrations`, oldest first, over a read-only connection."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        return _read_postgres(url, timeout_s)
    if scheme in ("file", "sqlite"):
        return _read_sqlite(url, timeout_s)
    raise Unreadable(f"{scheme or 'this'} URLs are not supported (PostgreSQL or SQLite)")


_COLUMNS = "migration_name, started_at, finished_at, rolled_back_at, applied_steps_count, logs"


def _read_postgres(url: str, timeout_s: float) -> list[Migration]:
    conninfo, schema = postgres_conninfo(url)
    timeout_ms = max(1, int(timeout_s * 1000))
    try:
        with psycopg.connect(
            conninfo,
            connect_timeout=max(1, round(timeout_s)),
            options=f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}",
            application_name="timedify-ops app-migrations probe",
        ) as connection:
            query = sql.SQL("SELECT {columns} FROM {table} ORDER BY started_at, migration_name").format(
                columns=sql.SQL(_COLUMNS), table=sql.Identifier(schema, TABLE)
            )
            rows = connection.execute(query).fetchall()
    except psycopg.errors.UndefinedTable:
        raise Unreadable(f"there is no {schema}.{TABLE} table: Prisma Migrate has never run on this database") from None
    except psycopg.Error as error:
        raise Unreadable(_first_line(error)) from None
    return [_migration(row) for row in rows]


def _read_sqlite(url: str, timeout_s: float) -> list[Migration]:
    path = sqlite_path(url)
    try:
        connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=timeout_s)
    except sqlite3.Error as error:
        raise Unreadable(f"{path}: {error}") from None
    try:
        query = f'SELECT {_COLUMNS} FROM "{TABLE}" ORDER BY started_at, migration_name'  # noqa: S608 - constants only
        rows = connection.execute(query).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            raise Unreadable(f"there is no {TABLE} table: Prisma Migrate has never run on {path}") from None
        raise Unreadable(f"{path}: {error}") from None
    finally:
        connection.close()
    return [_migration(row) for row in rows]


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _moment(value) -> datetime | None:
    """A timestamp as PostgreSQL (datetime) or Prisma's SQLite rows (Unix milliseconds, or text) hold it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if text.isdigit():
            return _moment(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return datetime.min.replace(tzinfo=UTC)  # present but unreadable: still "set"
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _migration(row) -> Migration:
    name, started, finished, rolled_back, steps, logs = row
    return Migration(
        name=str(name),
        started_at=_moment(started),
        finished_at=_moment(finished),
        rolled_back_at=_moment(rolled_back),
        applied_steps_count=int(steps or 0),
        logs=str(logs or ""),
    )


# --------------------------------------------------------------------------- judging


def assess(migrations: list[Migration], *, now: datetime | None = None) -> Status:
    """Each migration's latest row decides; any failed, unfinished or rolled-back migration fails."""
    now = now or datetime.now(UTC)
    latest: dict[str, Migration] = {}
    for migration in migrations:  # oldest first, so the last row of a name wins
        latest[migration.name] = migration
    applied = [m for m in latest.values() if m.state == "applied"]
    problems = tuple(m for m in latest.values() if m.state != "applied")
    if problems:
        shown = "; ".join(_describe(m, now) for m in problems[:3])
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        return Status(False, f"{len(problems)} migration(s) not applied: {shown}{more}", len(applied), problems)
    if not applied:
        return Status(True, "no migrations recorded yet", 0, ())
    newest = max(applied, key=lambda m: (m.finished_at or m.started_at or now, m.name))
    when = f", applied {_ago(newest.finished_at, now)}" if newest.finished_at else ""
    return Status(True, f"{len(applied)} applied, latest {newest.name}{when}", len(applied), ())


def _describe(migration: Migration, now: datetime) -> str:
    if migration.state == "failed":
        error = migration.logs.strip().splitlines()[0][:160]
        return f"{migration.name} failed ({error})"
    if migration.state == "unfinished":
        since = f", started {_ago(migration.started_at, now)}" if migration.started_at else ""
        return f"{migration.name} unfinished{since}"
    return f"{migration.name} rolled back and not applied again"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None or moment.year < 1970:
        return "at an unreadable time"
    delta = max(timedelta(0), now - moment)
    if delta < timedelta(minutes=2):
        return f"{int(delta.total_seconds())} s ago"
    if delta < timedelta(hours=2):
        return f"{int(delta.total_seconds() // 60)} min ago"
    if delta < timedelta(days=2):
        return f"{int(delta.total_seconds() // 3600)} h ago"
    return f"{delta.days} d ago"


def check(url: str, *, timeout_s: float = 5.0, now: datetime | None = None) -> Status:
    """Read and judge; an unreadable database or table is a failure with the reason."""
    try:
        migrations = read_migrations(url, timeout_s=timeout_s)
    except Unreadable as error:
        return Status(False, str(error), 0, ())
    return assess(migrations, now=now)
