"""Heartbeats: outside jobs report over real HTTP (httpx against gunicorn), the probe judges them,
the board shows them, and a missed one is a probe down and an alert."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from dashboard.alerts import engine
from dashboard.alerts.rules import get_rule
from dashboard.health import heartbeats, probes, services
from dashboard.health.models import Heartbeat, HeartbeatPing, ProbeState
from tests.live import gunicorn, subprocess_env
from timedify_ops.lib.heartbeats import parse

TOKEN = "heartbeat-token-0123456789abcdef"
CONFIG = "nightly-backup=24h+2h,shopify-sync=15m+5m"


@pytest.fixture
def configured(settings):
    settings.HEARTBEATS = parse(CONFIG)
    settings.HEARTBEAT_TOKEN = TOKEN


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- over real HTTP


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_backup_job_reports_over_http_and_the_probe_follows(configured, tmp_path):
    env = subprocess_env(HEARTBEATS=CONFIG, HEARTBEAT_TOKEN=TOKEN)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as base, httpx.Client(base_url=base) as http:
        assert http.post("/heartbeats/nightly-backup").status_code == 401
        assert http.post("/heartbeats/nightly-backup", headers=auth("wrong-token-0123456789")).status_code == 401
        assert http.get("/heartbeats/nightly-backup", headers=auth()).status_code == 405
        assert http.post("/heartbeats/weekly-report", headers=auth()).status_code == 404

        started = http.post("/heartbeats/nightly-backup/start", headers=auth())
        assert started.status_code == 200
        assert started.json() == {"heartbeat": "nightly-backup", "kind": "start", "status": "started"}
        done = http.post("/heartbeats/nightly-backup", headers=auth(), content=b"-rw-r--r-- 1 backup 41M db.dump")
        assert done.json() == {"heartbeat": "nightly-backup", "kind": "success", "status": "up"}

        beat = Heartbeat.objects.get(name="nightly-backup")
        assert (beat.last_kind, beat.pings, beat.last_start_at) == ("success", 2, None)
        assert beat.last_duration_s is not None and beat.last_duration_s >= 0
        assert probes.run_probe(probe_named("nightly-backup")).state == "ok"

        failed = http.post(
            "/heartbeats/nightly-backup/fail",
            headers={**auth(), "User-Agent": "curl/8.5.0"},
            content=b'pg_dump: error: connection to server at "db.internal" failed\nmore output',
        )
        assert failed.json()["status"] == "down"
    outcome = probes.run_probe(probe_named("nightly-backup"))
    assert outcome.state == "fail"
    assert re.fullmatch(
        r'reported a failure \d+ s ago: pg_dump: error: connection to server at "db.internal" failed', outcome.detail
    )
    last = HeartbeatPing.objects.filter(heartbeat__name="nightly-backup").first()
    assert (last.kind, last.user_agent) == ("fail", "curl/8.5.0")
    assert last.remote_addr == "127.0.0.1"


def probe_named(name: str) -> probes.Probe:
    return next(probe for probe in probes.registry() if probe.name == name)


# --------------------------------------------------------------------------- the view, in process


@pytest.mark.django_db
def test_a_body_larger_than_the_limit_is_413(configured):
    client = Client()
    response = client.post(
        "/heartbeats/nightly-backup",
        data=b"x" * 100_001,
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 413
    assert not Heartbeat.objects.filter(pings__gt=0).exists()


@pytest.mark.django_db
def test_without_a_token_configured_every_report_is_refused(settings):
    settings.HEARTBEATS = parse(CONFIG)
    settings.HEARTBEAT_TOKEN = ""
    response = Client().post("/heartbeats/nightly-backup", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


@pytest.mark.django_db
def test_only_the_newest_pings_are_kept(configured):
    for _ in range(heartbeats.PINGS_KEPT + 2 * heartbeats.PRUNE_EVERY):
        heartbeats.record_ping("shopify-sync", "success")
    assert HeartbeatPing.objects.filter(heartbeat__name="shopify-sync").count() == heartbeats.PINGS_KEPT
    assert Heartbeat.objects.get(name="shopify-sync").pings == heartbeats.PINGS_KEPT + 2 * heartbeats.PRUNE_EVERY


@pytest.mark.django_db
def test_the_output_kept_is_cut_and_cleaned(configured):
    heartbeats.record_ping("shopify-sync", "fail", body=b"boom\x00" + "é".encode() * 2000)
    ping = HeartbeatPing.objects.get()
    assert len(ping.body) == heartbeats.BODY_CHARS and "\x00" not in ping.body


# --------------------------------------------------------------------------- missed: probe down, alert


@pytest.mark.django_db
def test_a_missed_heartbeat_is_a_probe_down_and_an_alert(configured, settings):
    settings.ALERT_FOR_MINUTES = {"probe-down": 0}
    now = timezone.now()
    heartbeats.record_ping("shopify-sync", "success", now=now - timedelta(minutes=21))  # 15 min + 5 min grace
    heartbeats.record_ping("nightly-backup", "success", now=now - timedelta(hours=3))
    for minute in (2, 1):
        at = now - timedelta(minutes=minute)
        services.record_results([probes.run_probe(probe_named(name)) for name in settings.HEARTBEATS], at=at)
    assert ProbeState.objects.get(probe="shopify-sync").status == "down"
    assert ProbeState.objects.get(probe="nightly-backup").status == "up"
    results, _ = engine.alert_now(now, rules=[get_rule("probe-down")])
    assert results[0].state == "firing"
    assert "shopify-sync" in results[0].evaluation.detail


@pytest.mark.django_db
def test_a_heartbeat_that_never_reported_is_missed_once_its_first_period_and_grace_pass(configured):
    first_seen = timezone.now() - timedelta(hours=27)
    Heartbeat.objects.create(name="nightly-backup", first_seen_at=first_seen)
    outcome = probes.run_probe(probe_named("nightly-backup"))
    assert (outcome.state, outcome.detail) == ("fail", "never reported (expected every 1 d, grace 2 h)")
    late = probes.run_probe(probe_named("shopify-sync"))  # first seen now: waiting for its first report
    assert late.state == "ok" and late.detail.startswith("waiting for its first report")


@pytest.mark.django_db
def test_the_status_board_lists_every_heartbeat_with_its_cadence(configured, viewer_client):
    heartbeats.record_ping("nightly-backup", "success")
    services.record_results(services.run_all_probes())
    html = viewer_client.get("/status/").content.decode()
    assert "nightly-backup" in html and "shopify-sync" in html
    assert "every 1 d, grace 2 h" in html and "every 15 min, grace 5 min" in html
    assert re.search(r"last success \d+ s ago, next due in 23 h", html)  # rounded down: 23 h 59 min
