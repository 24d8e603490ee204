"""The app's `_prisma_migrations`, created exactly as Prisma's schema engine creates it (the DDL of
prisma-engines' sql-schema-connector, PostgreSQL and SQLite flavours), in the states Prisma leaves it."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection

from timedify_ops.lib import prisma_migrations
from timedify_ops.lib.prisma_migrations import Migration, assess, check, postgres_conninfo, sqlite_path

POSTGRES_DDL = """
CREATE TABLE {table} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
"""

SQLITE_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
"""

# What Prisma writes into `logs` when a migration fails (migrate deploy's P3018).
FAILED_LOGS = (
    "A migration failed to apply. New migrations cannot be applied before the error is recovered from.\n"
    "Database error code: 42P07\n"
    'Database error:\nERROR: relation "Session" already exists'
)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def checksum(name: str) -> str:
    return hashlib.sha256(f"-- {name}\nSELECT 1;".encode()).hexdigest()


def row(name, *, started, finished=None, rolled_back=None, logs=None, steps=1):
    return (str(uuid.uuid4()), checksum(name), finished, name, logs, rolled_back, started, steps)


HEALTHY = [
    row("20240101000000_init", started=NOW - timedelta(days=30), finished=NOW - timedelta(days=30)),
    row("20240301000000_add_sessions", started=NOW - timedelta(days=3), finished=NOW - timedelta(days=3)),
]
FAILED = [*HEALTHY, row("20241120000000_add_index", started=NOW - timedelta(hours=1), logs=FAILED_LOGS, steps=0)]
UNFINISHED = [*HEALTHY, row("20241120000000_add_index", started=NOW - timedelta(minutes=5), steps=0)]
ROLLED_BACK = [
    *HEALTHY,
    row(
        "20241120000000_add_index",
        started=NOW - timedelta(hours=2),
        rolled_back=NOW - timedelta(hours=1),
        logs=FAILED_LOGS,
        steps=0,
    ),
]
# Rolled back, then applied by the next deploy: a new row of the same name that finished.
RECOVERED = [*ROLLED_BACK, row("20241120000000_add_index", started=NOW, finished=NOW)]


# --------------------------------------------------------------------------- judging


def test_every_migration_applied_is_ok_and_names_the_latest():
    status = assess([prisma_migrations._migration(_as_read(r)) for r in HEALTHY], now=NOW)
    assert status.ok
    assert status.detail == "2 applied, latest 20240301000000_add_sessions, applied 3 d ago"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (FAILED, "20241120000000_add_index failed (A migration failed to apply."),
        (UNFINISHED, "20241120000000_add_index unfinished, started 5 min ago"),
        (ROLLED_BACK, "20241120000000_add_index rolled back and not applied again"),
    ],
)
def test_a_failed_unfinished_or_rolled_back_migration_fails(rows, expected):
    status = assess([prisma_migrations._migration(_as_read(r)) for r in rows], now=NOW)
    assert not status.ok
    assert status.detail.startswith("1 migration(s) not applied: ")
    assert expected in status.detail
    assert status.applied == 2


def test_a_rolled_back_migration_applied_again_is_ok():
    status = assess([prisma_migrations._migration(_as_read(r)) for r in RECOVERED], now=NOW)
    assert status.ok and status.applied == 3


def test_an_empty_table_is_ok_but_says_so():
    assert assess([], now=NOW).detail == "no migrations recorded yet"


def _as_read(prisma_row) -> tuple:
    """A row in the column order read_migrations selects."""
    _id, _checksum, finished, name, logs, rolled_back, started, steps = prisma_row
    return (name, started, finished, rolled_back, steps, logs)


# --------------------------------------------------------------------------- URLs


def test_prisma_only_parameters_are_taken_out_of_a_postgres_url():
    conninfo, schema = postgres_conninfo(
        "postgresql://app:s3cret@db.internal:5432/app?schema=shop&connection_limit=5&pgbouncer=true&sslmode=require"
    )
    assert conninfo == "postgresql://app:s3cret@db.internal:5432/app?sslmode=require"
    assert schema == "shop"
    assert postgres_conninfo("postgres://db/app")[1] == "public"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file:/data/dev.sqlite", "/data/dev.sqlite"),
        ("file:./dev.sqlite", "./dev.sqlite"),
        ("file:///a/b.db", "/a/b.db"),
    ],
)
def test_it_reads_the_file_of_a_prisma_sqlite_url(url, path):
    assert sqlite_path(url) == path


def test_an_unsupported_url_is_a_failure_with_the_reason():
    status = check("mysql://app@db/app")
    assert not status.ok and status.detail == "mysql URLs are not supported (PostgreSQL or SQLite)"


# --------------------------------------------------------------------------- SQLite, as the app template uses


def sqlite_app_database(tmp_path, rows, *, as_millis=True):
    path = tmp_path / "dev.sqlite"
    database = sqlite3.connect(path)
    database.executescript(SQLITE_DDL)

    def stored(moment):
        if moment is None:
            return None
        return int(moment.timestamp() * 1000) if as_millis else moment.strftime("%Y-%m-%d %H:%M:%S")

    database.executemany(
        'INSERT INTO "_prisma_migrations" VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [(i, c, stored(f), n, lg, stored(rb), stored(s), st) for i, c, f, n, lg, rb, s, st in rows],
    )
    database.commit()
    database.close()
    return f"file:{path}"


@pytest.mark.parametrize("as_millis", [True, False])
def test_it_reads_a_healthy_sqlite_app_database(tmp_path, as_millis):
    status = check(sqlite_app_database(tmp_path, HEALTHY, as_millis=as_millis), now=NOW)
    assert status.ok, status.detail
    assert status.detail.startswith("2 applied, latest 20240301000000_add_sessions")


def test_it_fails_on_a_failed_migration_in_a_sqlite_app_database(tmp_path):
    status = check(sqlite_app_database(tmp_path, FAILED), now=NOW)
    assert not status.ok and "20241120000000_add_index failed" in status.detail


def test_it_opens_the_sqlite_file_read_only(tmp_path):
    url = sqlite_app_database(tmp_path, HEALTHY)
    before = (tmp_path / "dev.sqlite").read_bytes()
    assert check(url).ok
    assert (tmp_path / "dev.sqlite").read_bytes() == before
    missing = check(f"file:{tmp_path / 'absent.sqlite'}")
    assert not missing.ok and "unable to open database file" in missing.detail
    assert not (tmp_path / "absent.sqlite").exists()  # mode=ro never creates the file


def test_a_sqlite_database_without_the_table_fails(tmp_path):
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    status = check(f"file:{path}")
    assert not status.ok and "no _prisma_migrations table" in status.detail


# --------------------------------------------------------------------------- PostgreSQL, as on Fly / Supabase / Neon

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the app's PostgreSQL database needs the suite on PostgreSQL"
)


def _server_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    where = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return f"postgresql://{db.get('USER') or 'postgres'}{password}@{where}"


@pytest.fixture
def app_schema(db):
    """A schema in the test database standing in for the app's database, as Prisma's `?schema=` names it."""
    name = f"prisma_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_server_url(), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        admin.execute(POSTGRES_DDL.format(table=f'"{name}"._prisma_migrations'))
    yield name
    with psycopg.connect(_server_url(), autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def fill(schema: str, rows) -> None:
    with psycopg.connect(_server_url(), autocommit=True) as admin:
        for prisma_row in rows:
            admin.execute(
                f'INSERT INTO "{schema}"._prisma_migrations VALUES (%s, %s, %s, %s, %s, %s, %s, %s)', prisma_row
            )


@needs_postgres
def test_it_reads_the_apps_postgres_migrations_through_a_prisma_url(app_schema):
    fill(app_schema, HEALTHY)
    url = f"{_server_url()}?schema={app_schema}&connection_limit=3&pgbouncer=true"
    status = check(url, now=NOW)
    assert status.ok, status.detail
    assert status.detail.startswith("2 applied, latest 20240301000000_add_sessions")


@needs_postgres
@pytest.mark.parametrize(
    ("rows", "word"), [(FAILED, "failed"), (UNFINISHED, "unfinished"), (ROLLED_BACK, "rolled back")]
)
def test_it_fails_on_each_broken_state_in_postgres(app_schema, rows, word):
    fill(app_schema, rows)
    status = check(f"{_server_url()}?schema={app_schema}", now=NOW)
    assert not status.ok and f"20241120000000_add_index {word}" in status.detail


@needs_postgres
def test_the_postgres_connection_is_read_only(app_schema, monkeypatch):
    fill(app_schema, HEALTHY)
    writes = []
    real_connect = psycopg.connect

    def connect_and_try_a_write(*args, **kwargs):
        opened = real_connect(*args, **kwargs)
        try:
            opened.execute(f'DELETE FROM "{app_schema}"._prisma_migrations')
        except psycopg.errors.ReadOnlySqlTransaction:
            writes.append("refused")
        opened.rollback()
        return opened

    monkeypatch.setattr(prisma_migrations.psycopg, "connect", connect_and_try_a_write)
    assert check(f"{_server_url()}?schema={app_schema}").ok
    assert writes == ["refused"]


@needs_postgres
def test_a_postgres_database_without_the_table_fails(app_schema):
    status = check(f"{_server_url()}?schema=no_such_schema_here")
    assert not status.ok and "no no_such_schema_here._prisma_migrations table" in status.detail


def test_an_unreachable_postgres_server_fails_without_the_password():
    status = check("postgresql://app:hunter2-secret@127.0.0.1:9/app", timeout_s=1)
    assert not status.ok
    assert "hunter2-secret" not in status.detail


def test_migration_states_read_as_prisma_reads_them():
    base = {"name": "m", "started_at": NOW, "applied_steps_count": 0}
    assert Migration(**base, finished_at=NOW, rolled_back_at=None, logs="").state == "applied"
    assert Migration(**base, finished_at=None, rolled_back_at=None, logs="boom").state == "failed"
    assert Migration(**base, finished_at=None, rolled_back_at=None, logs="").state == "unfinished"
    assert Migration(**base, finished_at=None, rolled_back_at=NOW, logs="boom").state == "rolled back"
