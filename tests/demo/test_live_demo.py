"""The living demo for real: gunicorn and a qcluster on the test database, the demo app (receiver) and
the simulator in threads. Webhooks arrive signed, duplicates are recognised, every accepted event is
delivered to the demo app, and the log lines of both reach the log store through /logs/ingest."""

import threading

import pytest
from django.conf import settings

from dashboard.logs.models import LogEntry
from demo import content
from demo.receiver import Behaviour, DemoApp, Receiver
from demo.shipper import LogShipper
from demo.simulator import Simulator
from tests.live import gunicorn, qcluster, subprocess_env, wait_for
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]

SIMULATE_MAX_S = 60


def test_the_simulator_feeds_the_ingress_and_every_event_reaches_the_demo_app(tmp_path, empty_queue):
    # The app fails a fifth of first tries (retried and delivered); nothing it answers is permanent.
    flaky = Behaviour(
        slow_share=0, timeout_share=0, error_share=0.2, gone_share=0, spell_every_s=0, health_blip_every_s=0
    )
    app = DemoApp(secret=settings.SHOPIFY_API_SECRET, behaviour=flaky, seed=3)
    receiver = Receiver(app, port=0)
    env = subprocess_env(
        WEBHOOK_TARGET_URL=f"{receiver.url}/webhooks",
        APP_HEALTH_URL=f"{receiver.url}/health",
        DELIVERY_RETRY_BASE_MS="20",
        Q_WORKERS="2",
    )
    with (
        gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base,
        qcluster(env, log_path=tmp_path / "q.log"),
    ):
        app.shipper = LogShipper(f"{base}/logs/ingest", settings.LOG_INGEST_TOKEN, interval=0.5)
        receiver.start()
        simulator = Simulator(
            base,
            settings.SHOPIFY_API_SECRET,
            log_token=settings.LOG_INGEST_TOKEN,
            rate=6,
            duplicate_share=0.3,
            churn_share=0.1,
            unsigned_share=0.05,
            redact_after_s=(0.5, 1.5),
            seed=11,
            log_interval=0.5,
        )
        stop = threading.Event()
        thread = threading.Thread(target=simulator.run, args=(stop,), daemon=True)
        thread.start()
        # Simulate until there is enough to check (accepted webhooks, a duplicate, shipped log
        # lines), not for a fixed time.
        wait_for(
            lambda: (
                simulator.counts["accepted"] >= 10
                and simulator.counts["duplicate"] >= 1
                and simulator.shipper.shipped > 0
                and app.shipper.shipped > 0
            ),
            timeout=SIMULATE_MAX_S,
            interval=0.2,
            message=f"the simulator sent too little: {dict(simulator.counts)}",
        )
        stop.set()
        thread.join(timeout=30)

        def settled():
            return not WebhookEvent.objects.filter(status__in=["received", "delivering"]).exists()

        wait_for(settled, timeout=60, interval=0.25, message=(tmp_path / "q.log").read_text(errors="replace")[-3000:])
        receiver.stop()  # ships the demo app's last log lines

    counts = simulator.counts
    assert set(counts) <= {"accepted", "duplicate", "http_401"}, counts
    assert counts["accepted"] >= 10 and counts["duplicate"] >= 1
    events = WebhookEvent.objects.filter(synthetic=False)
    assert sorted(events.values_list("webhook_id", flat=True)) == sorted(simulator.accepted_ids)
    assert sum(events.values_list("duplicates", flat=True)) == counts["duplicate"]
    assert set(events.values_list("status", flat=True)) == {"delivered"}
    # Each delivered once and only once to the demo app (its failed tries answered 500 and were retried).
    assert sorted(app.webhook_ids) == sorted(simulator.accepted_ids)
    assert set(events.values_list("topic", flat=True)) <= set(content.TOPICS)

    assert simulator.shipper.shipped > 0 and app.shipper.shipped > 0
    shipped = LogEntry.objects.filter(app__in=["timedify", "timedify-db"]).count()
    assert shipped == simulator.shipper.shipped + app.shipper.shipped
    assert LogEntry.objects.filter(app="timedify", message__startswith="POST /webhooks 200").count() == len(
        app.webhook_ids
    )
