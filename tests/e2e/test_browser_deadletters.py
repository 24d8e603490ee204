"""The dead-letter console in Chromium.

- Replay: a real `qcluster` (tests/live.py) on the live server's test database does the
  delivery, so the click travels view → broker → worker → the local target, as in production.
- Bulk delete: the test thread runs the queued task (run_queued_tasks) while the page polls;
  the point there is the typed-count confirmation and the progress page, not the worker.
"""

import pytest

from deadletters.models import BulkAction, DeadLetter
from tests.conftest import make_user, run_queued_tasks
from tests.deadletters.conftest import make_dead_letter
from tests.e2e.conftest import login
from tests.live import qcluster, subprocess_env
from timedify_ops.lib import signing
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.queue
def test_an_operator_clicks_replay_and_the_app_receives_the_webhook_re_signed(
    page, live_server, target, tmp_path, empty_queue
):
    target.expect_request("/webhooks").respond_with_data("thanks")
    make_user("olivia", role="operator")
    letter = make_dead_letter(topic="customers/redact", webhook_id="wh-browser-replay", body=b'{"id": 42}')
    env = subprocess_env(WEBHOOK_TARGET_URL=target.url_for("/webhooks"), Q_WORKERS="1")

    with qcluster(env, log_path=tmp_path / "q.log"):
        login(page, live_server, "olivia")
        page.goto(f"{live_server.url}/deadletters/")
        row = page.locator(f"#dl-{letter.pk}")
        assert row.get_attribute("data-status") == "open"
        row.get_by_role("button", name="Replay").click()
        # The row is swapped in place, shows "replaying", and polls until the worker is done.
        page.wait_for_selector(f"#dl-{letter.pk}[data-status=replayed]", timeout=30_000)

    assert page.url == f"{live_server.url}/deadletters/"  # no page load: htmx did it in place
    assert row.locator(".status").inner_text() == "replayed"
    assert row.get_by_role("button", name="Replay").count() == 0
    request, _ = target.log[0]
    assert len(target.log) == 1
    assert request.get_data() == b'{"id": 42}'
    assert request.headers["X-Shopify-Hmac-Sha256"] == signing.sign(b'{"id": 42}', "shpss_test_current_secret")
    assert request.headers["X-Shopify-Webhook-Id"] == "wh-browser-replay"
    assert request.headers["X-Timedify-Replay"] == str(letter.pk)
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED and letter.replayed_by.username == "olivia"
    assert WebhookEvent.objects.get(pk=letter.event_id).status == WebhookEvent.Status.DELIVERED
    assert page.errors == []


def test_an_operator_bulk_deletes_with_the_typed_count(page, live_server, empty_queue):
    make_user("olivia", role="operator")
    doomed = [make_dead_letter(topic="shop/redact") for _ in range(3)]
    spared = make_dead_letter(topic="app/uninstalled")
    login(page, live_server, "olivia")
    page.goto(f"{live_server.url}/deadletters/?topic=shop%2Fredact")

    # The count arrives after the page (htmx) and names the number on the buttons.
    page.get_by_role("link", name="Delete all 3 matching…").click()
    assert page.locator(".bulk-preview [data-count]").inner_text() == "3"
    page.get_by_label("Type 3 to confirm").fill("4")
    page.get_by_role("button", name="Delete them").click()
    assert "Type 3 to confirm the delete." in page.locator("[role=alert]").inner_text()
    assert not BulkAction.objects.exists()

    page.get_by_label("Type 3 to confirm").fill("3")
    page.get_by_role("button", name="Delete them").click()
    page.wait_for_url(f"{live_server.url}/deadletters/bulk/*/")
    progress = page.locator("#progress")
    assert progress.get_attribute("data-status") == "queued"

    run_queued_tasks()  # the worker's part, while the page polls
    page.wait_for_selector("#progress[data-status=done]", timeout=10_000)
    assert "3 deleted" in page.locator("[data-role=summary]").inner_text()
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [spared.pk]
    assert not WebhookEvent.objects.filter(pk__in=[d.event_id for d in doomed]).exists()
    assert page.errors == []


def test_a_viewer_sees_everything_but_no_buttons(page, live_server):
    make_user("victor", role="viewer")
    letter = make_dead_letter()
    login(page, live_server, "victor")

    page.goto(f"{live_server.url}/deadletters/")
    assert page.locator(f"#dl-{letter.pk}").is_visible()
    page.wait_for_selector("[data-count=matching]")  # the counts have loaded
    assert page.get_by_role("button").filter(has_text="Replay").count() == 0
    assert page.get_by_role("button").filter(has_text="Delete").count() == 0
    assert page.get_by_role("link", name="Replay all").count() == 0
    assert page.locator("input[type=checkbox]").count() == 0

    page.get_by_role("link", name=letter.event.webhook_id).click()
    assert page.get_by_role("heading", name=f"Dead letter {letter.pk}").is_visible()
    assert page.get_by_role("link", name="Download the raw body").is_visible()
    assert page.locator("button").filter(has_text="Replay").count() == 0
    assert page.errors == []
