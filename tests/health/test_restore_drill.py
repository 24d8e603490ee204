"""The restore drill on a real PostgreSQL server: real pg_dump files (custom, gzipped plain SQL, and one
taken before the last migration), restored into a scratch database, migrated, checked, dropped."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import uuid
from datetime import timedelta

import dj_database_url
import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from dashboard.health import restore_drill
from dashboard.logs.ingest import insert_rows
from dashboard.logs.models import LogEntry
from dashboard.logs.records import LogRow, datetime_to_ns
from webhooks.models import WebhookEvent

ON_POSTGRES = connection.vendor == "postgresql"
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="the restore drill restores pg_dump files: PostgreSQL only")


def run_drill(*args, capsys) -> tuple[int, str, str]:
    try:
        call_command("restore_drill", *args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def server() -> restore_drill.Server:
    return restore_drill.server_from_settings()


def database_exists(name: str) -> bool:
    with psycopg.connect(server().url("postgres"), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


@pytest.fixture
def scratch():
    """A scratch name under this run's own database name (timedify_<short>_drill_…), dropped afterwards."""
    base = dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"] if ON_POSTGRES else "timedify"
    name = f"{base}_drill_{uuid.uuid4().hex[:8]}"
    yield name
    if ON_POSTGRES:
        restore_drill.drop_scratch(server(), name)


def pg_env() -> dict[str, str]:
    return server().tool_env(connection.settings_dict["NAME"])


def dump_test_database(path, *, plain_gzip: bool = False, database: str | None = None) -> None:
    env = server().tool_env(database or connection.settings_dict["NAME"])
    if plain_gzip:
        dumped = subprocess.run(["pg_dump", "--no-owner"], env=env, capture_output=True, check=True).stdout
        path.write_bytes(gzip.compress(dumped))
    else:
        subprocess.run(["pg_dump", "-Fc", "-f", str(path)], env=env, check=True)


def fill(received_at) -> None:
    get_user_model().objects.create_user(username="restored-operator", password="pw-restored-operator")
    for number in range(2):
        WebhookEvent.objects.create(
            webhook_id=f"restore-{number}",
            topic="app/uninstalled",
            shop_domain="restore.myshopify.com",
            body=b"{}",
            received_at=received_at,
            status=WebhookEvent.Status.DELIVERED,
        )
    insert_rows([LogRow(timestamp_ns=datetime_to_ns(received_at), message="restored line", app="timedify")])


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("plain_gzip", [False, True], ids=["custom", "plain-gzip"])
def test_a_good_dump_restores_migrates_passes_health_and_is_dropped(tmp_path, scratch, capsys, plain_gzip):
    fill(timezone.now() - timedelta(hours=1))
    dump = tmp_path / ("backup.sql.gz" if plain_gzip else "backup.dump")
    dump_test_database(dump, plain_gzip=plain_gzip)

    code, out, err = run_drill(str(dump), "--scratch", scratch, "--max-age", "26h", capsys=capsys)

    assert code == 0, out + err
    for step in ("dump", "create", "restore", "migrate", "health", "rows", "drop"):
        assert f"ok   {step}" in out
    assert ("plain-gzip dump restored with psql" if plain_gzip else "custom dump restored with pg_restore") in out
    assert "database ok, migrations ok, tokens ok" in out
    counts = dict(line.split() for line in out.split("rows per table:\n")[1].splitlines() if line.startswith("  "))
    assert counts["auth_user"] == "1"
    assert counts["webhooks_webhookevent"] == "2"
    assert counts[LogEntry._meta.db_table] == "1"
    assert "newest row 1.0 h old" in out
    assert not database_exists(scratch)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_taken_before_the_last_migration_is_migrated_to_this_code(tmp_path, scratch, capsys):
    fill(timezone.now())
    current = tmp_path / "current.dump"
    dump_test_database(current)
    # Make the backup a deploy behind: restore it aside, roll its newest log migration back, dump again.
    aside = f"{scratch}_aside"
    app_label = LogEntry._meta.app_label
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaf = max(name for label, name in loader.graph.leaf_nodes() if label == app_label)
    parent = next(name for label, name in loader.graph.node_map[(app_label, leaf)].parents if label == app_label)
    restore_drill.create_scratch(server(), aside)
    try:
        restore_drill.restore(server(), aside, current, "custom")
        env = {**os.environ, "DATABASE_URL": server().url(aside)}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", app_label, parent, "--noinput"],
            env=env,
            check=True,
            capture_output=True,
        )
        behind = tmp_path / "behind.dump"
        dump_test_database(behind, database=aside)
    finally:
        restore_drill.drop_scratch(server(), aside)

    code, out, err = run_drill(str(behind), "--scratch", scratch, capsys=capsys)

    assert code == 0, out + err
    assert f"applied 1 migration(s): {app_label}.{leaf}" in out


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_broken_dump_fails_at_restore_and_leaves_nothing_behind(tmp_path, scratch, capsys):
    dump = tmp_path / "truncated.dump"
    good = tmp_path / "good.dump"
    fill(timezone.now())
    dump_test_database(good)
    dump.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])  # a transfer that broke off

    code, out, err = run_drill(str(dump), "--scratch", scratch, capsys=capsys)

    assert code == 1
    assert "FAIL restore" in out and "pg_restore failed" in out
    assert "restore drill failed at restore" in err
    assert "ok   drop" in out and not database_exists(scratch)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_that_holds_no_data_fails(tmp_path, scratch, capsys):
    dump = tmp_path / "empty.dump"
    dump_test_database(dump)

    code, out, err = run_drill(str(dump), "--scratch", scratch, capsys=capsys)

    assert code == 1
    assert "holds no data" in err
    assert not database_exists(scratch)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_older_than_max_age_or_short_of_min_rows_fails(tmp_path, scratch, capsys):
    fill(timezone.now() - timedelta(days=3))
    dump = tmp_path / "old.dump"
    dump_test_database(dump)

    code, _, err = run_drill(
        str(dump), "--scratch", scratch, "--max-age", "26h", "--min-rows", "webhooks_webhookevent=3", capsys=capsys
    )

    assert code == 1
    assert "webhooks_webhookevent has 2 row(s), fewer than 3" in err
    assert "older than 26.0 h" in err


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_it_never_uses_or_drops_a_database_that_exists(tmp_path, scratch, capsys):
    fill(timezone.now())
    dump = tmp_path / "backup.dump"
    dump_test_database(dump)
    restore_drill.create_scratch(server(), scratch)

    code, out, _ = run_drill(str(dump), "--scratch", scratch, capsys=capsys)

    assert code == 1
    assert "exists already" in out
    assert "drop" not in out.split("FAIL create")[1]
    assert database_exists(scratch)


@needs_postgres
def test_a_file_that_is_not_there_fails_before_anything_is_created(tmp_path, scratch, capsys):
    code, out, _ = run_drill(str(tmp_path / "missing.dump"), "--scratch", scratch, capsys=capsys)
    assert code == 1
    assert "FAIL dump" in out and "cannot read" in out
    assert not database_exists(scratch)


@pytest.mark.skipif(ON_POSTGRES, reason="on PostgreSQL the drill runs; this is the embedded SQLite's answer")
def test_on_the_embedded_sqlite_it_says_it_needs_postgresql(tmp_path, capsys):
    code, _, err = run_drill(str(tmp_path / "backup.dump"), capsys=capsys)
    assert code == 1
    assert "needs PostgreSQL" in err


def test_it_reads_the_format_of_each_kind_of_dump(tmp_path):
    (tmp_path / "custom").write_bytes(b"PGDMP\x01\x0e\x00rest")
    (tmp_path / "plain.sql").write_text("--\n-- PostgreSQL database dump\n--\nSELECT 1;\n")
    (tmp_path / "plain.sql.gz").write_bytes(gzip.compress(b"SELECT 1;\n"))
    tar = bytearray(512)
    tar[257:262] = b"ustar"
    (tmp_path / "dump.tar").write_bytes(bytes(tar))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "toc.dat").write_bytes(b"PGDMP")
    assert restore_drill.dump_format(tmp_path / "custom") == "custom"
    assert restore_drill.dump_format(tmp_path / "plain.sql") == "plain"
    assert restore_drill.dump_format(tmp_path / "plain.sql.gz") == "plain-gzip"
    assert restore_drill.dump_format(tmp_path / "dump.tar") == "tar"
    assert restore_drill.dump_format(tmp_path / "dir") == "directory"


def test_the_password_reaches_the_postgresql_tools_in_their_environment_not_their_arguments():
    target = restore_drill.Server.from_url("postgresql://drill:pa%40ss@db.internal:6543/app?sslmode=require")
    env = target.tool_env("scratch")
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"]) == ("db.internal", "6543", "drill", "pa@ss")
    assert env["PGDATABASE"] == "scratch" and env["PGSSLMODE"] == "require"
    assert target.url("scratch") == "postgresql://drill:pa%40ss@db.internal:6543/scratch?sslmode=require"
