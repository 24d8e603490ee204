"""Fixtures for the health room: a real app health endpoint, a healthy system, a broken database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from pytest_httpserver import HTTPServer

from dashboard.health import services
from dashboard.health.probes import Outcome
from tests.live import free_port
from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun


@pytest.fixture(autouse=True)
def fresh_health_cache():
    """/health trusts a passing migrations check for a while per process; every test starts afresh."""
    services.reset_health_cache()
    yield
    services.reset_health_cache()


@pytest.fixture
def app_server(settings):
    """The monitored app's health endpoint: a real HTTP server on localhost (200 unless a test says otherwise)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/health").respond_with_json({"ok": True})
    settings.APP_HEALTH_URL = server.url_for("/health")
    settings.HEALTH_HTTP_TIMEOUT_S = 2.0
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def record_run(key: str, *, ago: timedelta = timedelta(seconds=5), ok: bool | None = True, **fields) -> JobRun:
    """A finished JobRun of `key` that started `ago` before now."""
    started = timezone.now() - ago
    return JobRun.objects.create(
        key=key, started_at=started, finished_at=started if ok is not None else None, ok=ok, duration_ms=1, **fields
    )


@pytest.fixture
def healthy(db, settings, app_server):
    """Every probe passes: the app answers, the schedules ran just now (heartbeat included), the disk
    thresholds are out of the way and the queue is empty."""
    from django_q.brokers import get_broker

    get_broker().purge_queue()
    settings.HEALTH_DISK_WARN_PERCENT = 0
    settings.HEALTH_DISK_FAIL_PERCENT = 0
    jobs.sync_schedules()
    for job in registry.JOBS:
        record_run(job.key)
    yield app_server
    get_broker().purge_queue()


def outcome(probe: str, state: str, latency_ms: float | None = 1.0, detail: str = "") -> Outcome:
    return Outcome(probe=probe, state=state, latency_ms=latency_ms, detail=detail or state)


def record(probe: str, states: str, *, start: datetime, every: timedelta = timedelta(minutes=1)) -> datetime:
    """Record one check per character of `states` ("o" ok, "w" warn, "f" fail), `every` apart; returns the last time."""
    names = {"o": "ok", "w": "warn", "f": "fail"}
    at = start
    for index, char in enumerate(states):
        at = start + index * every
        services.record_results([outcome(probe, names[char])], at=at)
    return at


@pytest.fixture
def broken_database(monkeypatch):
    """This process's database connection, pointed somewhere that refuses: a missing SQLite file in a
    missing directory, or a closed PostgreSQL port. Needs django_db(transaction=True)."""
    connection.close()
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict, "NAME", "/nonexistent-timedify-dir/broken.sqlite3")
    else:
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))
    yield
    connection.close()


def dashboard_leaf_migration() -> str:
    """The newest dashboard migration. Un-recording it makes a real unapplied migration
    (Django plans from the leaves, so un-recording an older one is not noticed)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    (leaf,) = [name for app, name in MigrationLoader(connection).graph.leaf_nodes() if app == "dashboard"]
    return leaf
