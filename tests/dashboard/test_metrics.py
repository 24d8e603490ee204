"""GET /metrics and the database query telemetry behind it."""

import pytest
from django.db import DatabaseError, connection, transaction

from deadletters.models import DeadLetter
from tests.conftest import post_webhook
from timedify_ops.telemetry import measure
from timedify_ops.telemetry.models import LatencyMinute, LatencyTotal, MetricCounter
from timedify_ops.telemetry.queries import query_kind
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

TOKEN = "test-metrics-token-0123456789"


@pytest.fixture(autouse=True)
def clean_telemetry():
    measure.recorder.flush()
    for model in (LatencyMinute, LatencyTotal, MetricCounter):
        model.objects.all().delete()


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in metrics:\n{text}")


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-000000000", "Basic abc", f"bearer{TOKEN}"])
def test_it_needs_the_metrics_token(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert TOKEN not in response.content.decode()


def test_a_logged_in_user_still_needs_the_token(viewer_client):
    assert viewer_client.get("/metrics").status_code == 401


def test_only_get_is_allowed(client):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_it_reports_ingress_counts_latency_and_gauges(client, empty_queue):
    post_webhook(client, webhook_id="m-1", topic="shop/redact")
    post_webhook(client, webhook_id="m-1", topic="shop/redact")
    post_webhook(client, webhook_id="m-2", secret="wrong")
    event = WebhookEvent.objects.get(webhook_id="m-1")
    WebhookEvent.objects.filter(pk=event.pk).update(status="dead_lettered")
    DeadLetter.objects.create(event=event, reason="HTTP 500", topic=event.topic, shop_domain=event.shop_domain)
    measure.recorder.flush()

    text = scrape(client)
    assert sample(text, 'timedify_webhooks_ingress_total{outcome="accepted",topic="shop/redact"}') == 1
    assert sample(text, 'timedify_webhooks_ingress_total{outcome="duplicate",topic="shop/redact"}') == 1
    # Unsigned requests are not labelled by their (unverified) topic: no label cardinality for attackers.
    assert sample(text, 'timedify_webhooks_ingress_total{outcome="unauthorized",topic="unknown"}') == 1
    assert sample(text, 'timedify_db_query_errors_total{kind="insert"}') == 1  # the duplicate's refused insert
    assert sample(text, 'timedify_ingress_duration_seconds_bucket{outcome="accepted",le="+Inf"}') == 1
    assert sample(text, 'timedify_ingress_duration_seconds_count{outcome="accepted"}') == 1
    assert sample(text, "timedify_deadletters_open") == 1
    assert "# TYPE timedify_ingress_duration_seconds histogram" in text
    assert "shpss_test_current_secret" not in text


def test_histogram_buckets_are_cumulative(client):
    for value in (0.5, 40, 90, 100, 700, 20_000):
        measure.observe("ingress", value, outcome="accepted", synthetic="0")
    measure.recorder.flush()
    text = scrape(client)
    bucket = 'timedify_ingress_duration_seconds_bucket{outcome="accepted",le="%s"}'
    assert sample(text, bucket % "0.001") == 1
    assert sample(text, bucket % "0.1") == 4  # 100 ms exactly is inside le=0.1
    assert sample(text, bucket % "1") == 5
    assert sample(text, bucket % "+Inf") == 6
    assert sample(text, 'timedify_ingress_duration_seconds_sum{outcome="accepted"}') == pytest.approx(20.9305)


def test_counts_survive_per_minute_retention(client):
    measure.observe("ingress", 5, outcome="accepted", synthetic="0")
    measure.recorder.flush()
    LatencyMinute.objects.all().delete()  # what retention does after 90 days
    assert sample(scrape(client), 'timedify_ingress_duration_seconds_count{outcome="accepted"}') == 1


def test_queries_are_timed_by_kind_and_errors_counted(client):
    measure.recorder.flush()
    list(WebhookEvent.objects.all())
    # In a savepoint: PostgreSQL refuses further queries in a transaction after an error.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_for_telemetry")
    measure.recorder.flush()
    text = scrape(client)
    assert sample(text, 'timedify_db_queries_total{kind="select"}') >= 2
    assert sample(text, 'timedify_db_query_errors_total{kind="select"}') == 1
    assert sample(text, 'timedify_db_query_duration_seconds_bucket{kind="select",le="+Inf"}') >= 2


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "select"),
        ("  insert into x values (1)", "insert"),
        ("UPDATE x SET a = 1", "update"),
        ("DELETE FROM x", "delete"),
        ("WITH a AS (SELECT 1) SELECT * FROM a", "select"),
        ("SAVEPOINT s1", "other"),
    ],
)
def test_queries_are_classified(sql, kind):
    assert query_kind(sql) == kind


def test_the_overview_shows_the_query_panel(viewer_client):
    list(WebhookEvent.objects.all())
    measure.recorder.flush()
    response = viewer_client.get("/")
    health = response.context["query_health"]
    assert health.queries >= 1
    assert health.error_rate == 0
    assert b'data-fact="p95"' in response.content


def test_it_counts_log_lines_ingested_and_notifications(client, settings, monkeypatch):
    import json

    from dashboard.alerts import notify

    batch = [{"message": "hello", "timestamp": "2026-11-26T10:00:00Z"}, "not a record"]
    response = client.post(
        "/logs/ingest",
        data=json.dumps(batch),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer test-log-ingest-token-0123456789",
    )
    assert response.json()["accepted"] == 1 and response.json()["rejected"] == 1
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/refused"
    settings.ALERT_NOTIFY_RETRY_BUDGET = type(settings.ALERT_NOTIFY_RETRY_BUDGET)(base_ms=1, retries=0)
    notify.send_test()
    measure.recorder.flush()
    text = scrape(client)
    assert sample(text, 'timedify_log_lines_ingested_total{result="accepted"}') == 1
    assert sample(text, 'timedify_log_lines_ingested_total{result="rejected"}') == 1
    assert sample(text, 'timedify_notifications_total{channel="webhook",ok="0"}') == 1
