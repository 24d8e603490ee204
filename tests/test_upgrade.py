"""Upgrading keeps every row: a database made by the layout where every room's models lived in the
console app (`dashboard`) migrates to one app per room, and the console serves every row as before.

The old layout is rebuilt by migrating the test database back to the migrations main had then (the
files are still in the graph: the move only added migrations), filled through those historical
models, then migrated forward again.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from dashboard.alerts.models import Alert, Notification, RuleState
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from dashboard.logs.models import LogEntry
from dashboard.retention.models import RetentionRun
from dashboard.slo.models import SloDailyReport, SloMinute
from deadletters.models import BulkAction, DeadLetter
from shops.models import Shop, SyntheticRun
from tests.live import ROOT, subprocess_env
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.telemetry.models import LatencyMinute, LatencyTotal, MetricCounter
from webhooks.models import DeliveryAttempt, WebhookEvent

# The last migration of each project app before the rooms got their own apps.
OLD_LAYOUT = {
    "webhooks": "0001_initial",
    "deadletters": "0002_deadletters",
    "shops": "0001_shops",
    "dashboard": "0008_retention_indexes",
}
NEW_APPS = ("accounts", "audit", "jobs", "telemetry", "health", "logs", "slo", "alerts", "retention")
# Each moved model: its new app, and the model class that serves it now.
MOVED = {
    "auditentry": ("audit", AuditEntry),
    "jobrun": ("jobs", JobRun),
    "latencyminute": ("telemetry", LatencyMinute),
    "latencytotal": ("telemetry", LatencyTotal),
    "metriccounter": ("telemetry", MetricCounter),
    "probestate": ("health", ProbeState),
    "probeflip": ("health", ProbeFlip),
    "probehour": ("health", ProbeHour),
    "proberesult": ("health", ProbeResult),
    "logentry": ("logs", LogEntry),
    "slodailyreport": ("slo", SloDailyReport),
    "slominute": ("slo", SloMinute),
    "rulestate": ("alerts", RuleState),
    "alert": ("alerts", Alert),
    "notification": ("alerts", Notification),
    "retentionrun": ("retention", RetentionRun),
}


def old_targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    """Every app at its newest migration, except the project's apps at the old layout and the new apps unapplied."""
    targets = [(app, OLD_LAYOUT.get(app, name)) for app, name in executor.loader.graph.leaf_nodes()]
    return [target for target in targets if target[0] not in NEW_APPS] + [(app, None) for app in NEW_APPS]


def old_apps(executor: MigrationExecutor):
    """The historical models of the old layout."""
    nodes = [target for target in old_targets(executor) if target[1] is not None]
    return executor.loader.project_state(nodes).apps


def migrate_to(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def fill_the_old_layout(old, now) -> dict:
    """One row (or a few) in every table of the old layout, written through its historical models."""
    day = (now - timedelta(days=1)).date()
    User = old.get_model("auth", "User")
    # Historical models have no methods (no set_password): the test logs in with force_login.
    operator = User.objects.create(username="olivia", is_superuser=True, is_staff=True)
    # get_or_create: a transactional test before this one flushed the groups the roles migration made.
    group = old.get_model("auth", "Group").objects.get_or_create(name="operator")[0]
    group.user_set.add(operator)
    ContentType = old.get_model("contenttypes", "ContentType")
    audit_type = ContentType.objects.get(app_label="dashboard", model="auditentry")
    view_audit = old.get_model("auth", "Permission").objects.get(content_type=audit_type, codename="view_auditentry")
    group.permissions.add(view_audit)

    event = old.get_model("webhooks", "WebhookEvent").objects.create(
        webhook_id="wh-upgrade-1", topic="orders/create", shop_domain="upgrade-shop.myshopify.com",
        body=b'{"id": 1}', body_size=9, status="dead_lettered", attempts=1, received_at=now - timedelta(hours=2),
    )  # fmt: skip
    old.get_model("webhooks", "DeliveryAttempt").objects.create(
        event=event, number=1, started_at=now - timedelta(hours=2), duration_ms=88.5, status_code=500,
        response_excerpt="upstream exploded",
    )  # fmt: skip
    bulk = old.get_model("deadletters", "BulkAction").objects.create(
        kind="replay", status="done", actor_name="olivia", expected=1, seen=1, done=1, dispatch_complete=True,
        summary="1 replayed, 0 failed",
    )  # fmt: skip
    letter = old.get_model("deadletters", "DeadLetter").objects.create(
        event=event, reason="HTTP 500 after 5 attempts (retry budget spent)", topic=event.topic,
        shop_domain=event.shop_domain, last_status_code=500, created_at=now - timedelta(hours=1), bulk_action=bulk,
    )  # fmt: skip
    old.get_model("shops", "Shop").objects.create(domain="upgrade-shop.myshopify.com", scopes="read_orders")
    old.get_model("shops", "SyntheticRun").objects.create(
        topics=["orders/create"], status="done", ok=True, finished_at=now,
        results=[{"topic": "orders/create", "url": "http://x/webhooks/orders/create", "status_code": 200,
                  "ms": 12.5, "error": "", "webhook_id": "syn-1", "ok": True}],
    )  # fmt: skip

    dashboard = {name: old.get_model("dashboard", name) for name in MOVED}
    entry = dashboard["auditentry"].objects.create(
        actor=operator, actor_name="olivia", action="deadletter.replay", target_type="deadletter",
        target_id=str(letter.pk), summary="replay requested: the upgrade's own audit entry",
    )  # fmt: skip
    old.get_model("admin", "LogEntry").objects.create(
        user=operator, content_type=audit_type, object_id=str(entry.pk), object_repr="audit entry", action_flag=2,
        action_time=now,
    )  # fmt: skip
    dashboard["jobrun"].objects.create(
        key="sweep-stale-events", started_at=now - timedelta(seconds=30), finished_at=now, duration_ms=4.2, ok=True,
        result="{'requeued': 7654321}",
    )  # fmt: skip
    dashboard["latencyminute"].objects.create(
        series="db_query", labels="kind=select,ok=1", minute=now - timedelta(minutes=5), count=3, sum_ms=3, b00=3
    )
    dashboard["latencytotal"].objects.create(series="ingress", labels="outcome=accepted", count=2, sum_ms=80, b05=2)
    dashboard["metriccounter"].objects.create(name="deliveries_total", labels="outcome=delivered_first_try", value=4242)
    dashboard["probestate"].objects.create(
        probe="app", status="down", status_since=now - timedelta(minutes=3), consecutive_failures=3,
        last_checked_at=now - timedelta(seconds=20), last_state="fail", last_detail="HTTP 503 from the upgrade",
    )  # fmt: skip
    dashboard["probeflip"].objects.create(
        probe="app", at=now - timedelta(minutes=3), from_status="up", to_status="down", detail="HTTP 503"
    )
    dashboard["probehour"].objects.create(probe="app", hour=now.replace(minute=0, second=0), checks=60, failures=3)
    dashboard["proberesult"].objects.create(
        probe="app", checked_at=now - timedelta(seconds=20), state="fail", latency_ms=12, detail="HTTP 503"
    )
    dashboard["logentry"].objects.create(
        timestamp=now - timedelta(minutes=1), timestamp_ns=int((now - timedelta(minutes=1)).timestamp() * 1e9),
        app="timedify-app", message="the upgrade's own log line", level=40,
    )  # fmt: skip
    dashboard["slominute"].objects.create(minute=now - timedelta(minutes=10), received=5, probe_checks=1, probe_up=1)
    dashboard["slodailyreport"].objects.create(
        date=day, all_met=False, received=1234, incidents=[],
        slos={"uptime": {"name": "Uptime", "objective": 0.999, "target": "> 99.9 %", "value": 0.99, "met": False,
                         "good": 99, "bad": 1, "total": 100, "budget_consumed": 10.0, "burn_rate": 10.0,
                         "window_days": 28}},
    )  # fmt: skip
    dashboard["rulestate"].objects.create(key="probe-down", available=True, breaching=True, value=1, detail="down: app")
    alert = dashboard["alert"].objects.create(
        rule_key="probe-down", title="The upgrade's own alert", category="health", pending_since=now, fired_at=now,
        last_seen_at=now, value=1, threshold=0,
    )  # fmt: skip
    dashboard["notification"].objects.create(
        alert=alert, channel="slack", event="fire", ok=False, error="HTTP 500 from the upgrade's Slack", attempts=4
    )
    dashboard["retentionrun"].objects.create(
        started_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=3), ok=True, complete=True,
        event_days=14, deleted={"webhook_events": 31337}, skipped=[], duration_ms=1500,
    )  # fmt: skip
    return {
        "user": operator.pk,
        "letter": letter.pk,
        "entry": entry.pk,
        "content_types": {model: ContentType.objects.get(app_label="dashboard", model=model).pk for model in MOVED},
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_layout_keeps_every_row_and_the_console_serves_them():
    executor = MigrationExecutor(connection)
    new_leaves = executor.loader.graph.leaf_nodes()
    executor = migrate_to(old_targets(executor))
    old = old_apps(executor)
    now = timezone.now().replace(microsecond=0)
    before = fill_the_old_layout(old, now)
    counts = {model: old.get_model("dashboard", model).objects.count() for model in MOVED}

    migrate_to(new_leaves)
    ContentType.objects.clear_cache()

    # Every row is still there, now read through the new apps' models, from the same tables.
    for model, (_label, current) in MOVED.items():
        assert current._meta.db_table == f"dashboard_{model}"
        assert current.objects.count() == counts[model] >= 1, model
    for current in (WebhookEvent, DeliveryAttempt, DeadLetter, BulkAction, Shop, SyntheticRun):
        assert current.objects.count() == 1, current
    assert AuditEntry.objects.get().actor_id == before["user"]
    assert DeadLetter.objects.get().bulk_action_id == BulkAction.objects.get().pk
    assert Notification.objects.get().alert_id == Alert.objects.get().pk

    # The content types moved with their models (same ids), and so did what points at them.
    for model, (label, current) in MOVED.items():
        content_type = ContentType.objects.get_for_model(current)
        assert (content_type.app_label, content_type.pk) == (label, before["content_types"][model])
    assert not ContentType.objects.filter(app_label="dashboard", model__in=list(MOVED)).exists()
    operators = Group.objects.get(name="operator")
    assert operators.permissions.filter(codename="view_auditentry", content_type__app_label="audit").exists()
    assert AdminLogEntry.objects.get().get_edited_object() == AuditEntry.objects.get()

    # The console serves them: each page shows its row.
    client = Client()
    client.force_login(get_user_model().objects.get(pk=before["user"]))
    pages = {
        "/audit/": "replay requested: the upgrade&#x27;s own audit entry",
        "/schedules/": "7654321",
        "/status/": "HTTP 503 from the upgrade",
        "/logs/?app=timedify-app": "the upgrade&#x27;s own log line",
        "/slo/daily/": "1,234",
        f"/slo/daily/{(now - timedelta(days=1)).date().isoformat()}/": "Uptime",
        "/alerts/": "HTTP 500 from the upgrade&#x27;s Slack",
        "/deadletters/": "upgrade-shop.myshopify.com",
        f"/deadletters/{before['letter']}/": "upstream exploded",
        "/shops/": "upgrade-shop.myshopify.com",
        "/shops/synthetic/": "orders/create",
        "/": "wh-upgrade-1",
        "/admin/audit/auditentry/": "deadletter.replay",
        "/admin/": "audit entry",
    }
    for path, text in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert text in response.content.decode(), path
    assert "31337" in client.get("/schedules/").content.decode()  # the last retention run
    assert "The upgrade&#x27;s own alert" in client.get("/alerts/").content.decode()
    metrics = client.get("/metrics", headers={"Authorization": "Bearer test-metrics-token-0123456789"})
    assert 'timedify_deliveries_total{outcome="delivered_first_try"} 4242' in metrics.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_content_type_made_early_for_a_new_app_is_merged_into_the_old_one():
    """`migrate audit` alone (or an interrupted run) lets post_migrate create audit.auditentry while
    dashboard.auditentry still exists: the old row keeps its id, the new one's permissions join it."""
    executor = migrate_to(old_targets(MigrationExecutor(connection)))
    new_leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = old_apps(executor)
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldPermission = old.get_model("auth", "Permission")
    original = OldContentType.objects.get(app_label="dashboard", model="auditentry")
    early = OldContentType.objects.create(app_label="audit", model="auditentry")
    early_permission = OldPermission.objects.create(content_type=early, codename="export_auditentry", name="Export")
    viewers = old.get_model("auth", "Group").objects.get_or_create(name="viewer")[0]
    viewers.permissions.add(early_permission)
    twin = OldPermission.objects.create(content_type=early, codename="view_auditentry", name="Can view audit entry")
    viewers.permissions.add(twin)

    migrate_to(new_leaves)
    ContentType.objects.clear_cache()

    content_type = ContentType.objects.get_for_model(AuditEntry)
    assert content_type.pk == original.pk
    assert ContentType.objects.filter(model="auditentry", app_label__in=["audit", "dashboard"]).count() == 1
    held = set(Group.objects.get(name="viewer").permissions.values_list("content_type_id", "codename"))
    assert held == {(original.pk, "export_auditentry"), (original.pk, "view_auditentry")}
    assert Permission.objects.filter(content_type=content_type, codename="view_auditentry").count() == 1


def _fresh_database_env(tmp_path) -> tuple[dict[str, str], callable]:
    """The environment of a process that finds an empty database, and how to remove it afterwards."""
    env = subprocess_env()
    env.pop("TIMEDIFY_TEST_SQLITE_NAME", None)
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["TIMEDIFY_VAR_DIR"] = str(tmp_path)
        return env, lambda: None
    name = f"timedify_fresh_{uuid.uuid4().hex[:8]}"
    admin_url = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return env, drop


SHOW_CONTENT_TYPES = """
import django; django.setup()
from django.contrib.contenttypes.models import ContentType
from django.contrib.auth.models import Group
from timedify_ops.audit.models import AuditEntry
print(sorted(set(ContentType.objects.values_list("app_label", flat=True))))
print(ContentType.objects.get_for_model(AuditEntry).app_label)
print(sorted(Group.objects.values_list("name", flat=True)))
"""


def test_migrate_builds_a_fresh_database_from_nothing(tmp_path):
    env, drop = _fresh_database_env(tmp_path)
    try:
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stderr
        assert "Applying dashboard.0009_models_moved_out... OK" in migrated.stdout
        pending = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert pending.returncode == 0, pending.stdout + pending.stderr
        shown = subprocess.run(
            [sys.executable, "-c", SHOW_CONTENT_TYPES], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        labels, audit_label, groups = shown.stdout.splitlines()
        assert audit_label == "audit"
        assert groups == "['operator', 'viewer']"  # the roles, made by two migrations, once
        assert all(f"'{label}'" in labels for label in NEW_APPS[1:])
    finally:
        drop()
