"""manage.py import_offline_tokens: from a Prisma-shaped "Session" table in a throwaway PostgreSQL
database (the Shopify app template's schema), from a template SQLite file, or from JSON."""

import io
import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shops import crypto
from shops.models import Shop
from timedify_ops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

# prisma/schema.prisma `model Session` of the Shopify app template, as Prisma migrates it for PostgreSQL.
PRISMA_SESSION_TABLE = """
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),
    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
)
"""
INSERT = (
    'INSERT INTO "Session" ("id", "shop", "state", "isOnline", "scope", "expires", "accessToken", "userId", '
    '"refreshToken", "refreshTokenExpires") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'
)


def server_url() -> str:
    """The PostgreSQL server of the test database, or the local one when the suite runs on SQLite."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
        return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}"
    return "postgres://postgres@127.0.0.1:5432"


@pytest.fixture
def session_database():
    """A throwaway PostgreSQL database holding the app template's Session table."""
    name = f"timedify_prisma_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(f"{server_url()}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL server for the Prisma Session table: {error}")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url()}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as app:
            app.execute(PRISMA_SESSION_TABLE)
            yield url, app
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_offline_tokens", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_offline_sessions_become_shops_with_encrypted_tokens(session_database):
    url, app = session_database
    expires = datetime(2026, 11, 26, 15, 0, 0)  # Prisma keeps UTC in TIMESTAMP(3)
    refresh_expires = datetime(2027, 2, 24, 14, 0, 0)
    app.execute(
        INSERT,
        (
            "offline_demo-shop.myshopify.com",
            "demo-shop.myshopify.com",
            "",
            False,
            "read_products,write_products",
            expires,
            "shpat_expiring",
            None,
            "shprt_demo",
            refresh_expires,
        ),
    )
    app.execute(
        INSERT,
        (
            "offline_classic.myshopify.com",
            "classic.myshopify.com",
            "",
            False,
            "read_orders",
            None,
            "shpat_classic",
            None,
            None,
            None,
        ),
    )
    app.execute(
        INSERT,
        (
            "demo-shop.myshopify.com_42",
            "demo-shop.myshopify.com",
            "st",
            True,
            "read_products",
            expires,
            "shpua_online",
            42,
            None,
            None,
        ),
    )

    out, _ = run("--session-database-url", url)

    assert "imported 2 offline token(s): 2 new, 0 updated; 1 online session(s) skipped, 0 failed" in out
    assert "shpat_" not in out and "shprt_" not in out
    demo = Shop.objects.get(domain="demo-shop.myshopify.com")
    assert crypto.decrypt(demo.access_token_encrypted) == "shpat_expiring"
    assert crypto.decrypt(demo.refresh_token_encrypted) == "shprt_demo"
    assert demo.access_token_expires_at == expires.replace(tzinfo=UTC)
    assert demo.refresh_token_expires_at == refresh_expires.replace(tzinfo=UTC)
    assert demo.scopes == "read_products,write_products" and demo.installed
    classic = Shop.objects.get(domain="classic.myshopify.com")
    assert classic.access_token_expires_at is None and not classic.has_refresh_token
    assert AuditEntry.objects.get(action="shops.import_tokens").count == 2

    # Running it again updates in place.
    out, _ = run("--session-database-url", url)
    assert "0 new, 2 updated" in out and Shop.objects.count() == 2


def test_a_dry_run_changes_nothing(session_database):
    url, app = session_database
    app.execute(
        INSERT,
        ("offline_a.myshopify.com", "a.myshopify.com", "", False, "read_orders", None, "shpat_a", None, None, None),
    )
    out, _ = run("--session-database-url", url, "--dry-run")
    assert "would create a.myshopify.com: non-expiring token, scopes read_orders" in out
    assert "would import 1 offline token(s)" in out
    assert not Shop.objects.exists()


def test_a_bad_row_is_reported_and_the_command_fails(session_database):
    url, app = session_database
    app.execute(INSERT, ("offline_x", "not-a-shop.example.com", "", False, None, None, "shpat_x", None, None, None))
    app.execute(INSERT, ("offline_ok", "ok.myshopify.com", "", False, None, None, "shpat_ok", None, None, None))
    with pytest.raises(SystemExit) as exited:
        run("--session-database-url", url)
    assert exited.value.code == 1
    assert Shop.objects.filter(domain="ok.myshopify.com").exists()


def test_a_database_without_the_session_table_is_a_clear_error(session_database):
    url, app = session_database
    app.execute('DROP TABLE "Session"')
    with pytest.raises(CommandError, match='no "Session" table'):
        run("--session-database-url", url)


def test_the_template_sqlite_file_works_too_even_without_refresh_columns(tmp_path):
    """The template's default database: SQLite, DateTime as epoch milliseconds; an older schema."""
    path = tmp_path / "dev.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        'CREATE TABLE "Session" ("id" TEXT PRIMARY KEY, "shop" TEXT NOT NULL, "state" TEXT NOT NULL, '
        '"isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" DATETIME, "accessToken" TEXT NOT NULL)'
    )
    expires_ms = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000)
    db.execute(
        'INSERT INTO "Session" VALUES (?, ?, ?, ?, ?, ?, ?)',
        ("offline_s", "s.myshopify.com", "", 0, "read_orders", expires_ms, "shpat_s"),
    )
    db.execute(
        'INSERT INTO "Session" VALUES (?, ?, ?, ?, ?, ?, ?)', ("online", "s.myshopify.com", "", 1, "", None, "shpua")
    )
    db.commit()
    db.close()
    out, _ = run("--session-database-url", f"file:{path}")
    assert "1 new" in out and "1 online session(s) skipped" in out
    assert Shop.objects.get().access_token_expires_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_a_json_file_works_with_either_spelling(tmp_path):
    path = tmp_path / "sessions.json"
    path.write_text(
        json.dumps(
            [
                {"shop": "camel.myshopify.com", "isOnline": False, "accessToken": "shpat_c", "scope": "read_orders"},
                {
                    "shop": "snake.myshopify.com",
                    "access_token": "shpat_s",
                    "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                    "refresh_token": "shprt_s",
                },
                {"shop": "online.myshopify.com", "isOnline": True, "accessToken": "shpua"},
            ]
        )
    )
    out, _ = run("--json", str(path))
    assert "2 new" in out
    assert Shop.objects.get(domain="snake.myshopify.com").has_refresh_token
    assert not Shop.objects.filter(domain="online.myshopify.com").exists()


def test_importing_without_a_key_names_the_variable(tmp_path, settings):
    settings.TOKEN_ENCRYPTION_KEY = ""
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps([{"shop": "a.myshopify.com", "accessToken": "shpat_a"}]))
    with pytest.raises(Exception, match="TOKEN_ENCRYPTION_KEY is not set"):
        run("--json", str(path))
    assert not Shop.objects.exists()
