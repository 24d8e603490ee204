"""Bulk pages: preview with the count, confirm (typed count for deletes), progress, cancel, history."""

import pytest

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from tests.conftest import queued_tasks, run_queued_tasks
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def confirm_data(preview_response, **extra) -> dict:
    """The hidden fields of the preview's confirm form, as the browser would post them."""
    context = preview_response.context
    preview = context["preview"]
    data = {"action": context["kind"], "expected": "" if preview.count is None else str(preview.count)}
    if context["ids"] is not None:
        data.update({"selection": "1", "ids": [str(i) for i in context["ids"]]})
    else:
        data.update(context["params"])
        data.update({"cutoff_id": str(preview.cutoff_id), "cutoff_at": preview.cutoff_at.isoformat()})
    data.update(extra)
    return data


# --------------------------------------------------------------------------- permissions


def test_the_preview_is_for_operators(viewer_client, operator_client):
    assert viewer_client.get("/deadletters/bulk/new/", {"action": "replay"}).status_code == 403
    assert operator_client.post("/deadletters/bulk/new/", {"action": "replay"}).status_code == 405


@pytest.mark.parametrize("path", ["/deadletters/bulk/confirm/", "/deadletters/bulk/1/cancel/"])
def test_bulk_changes_refuse_get(operator_client, path):
    assert operator_client.get(path).status_code == 405


def test_a_viewer_cannot_confirm_or_cancel(viewer_client, operator, empty_queue):
    letter = make_dead_letter()
    forged = {"action": "delete", "expected": "1", "cutoff_id": str(letter.pk), "confirm": "1"}
    assert viewer_client.post("/deadletters/bulk/confirm/", forged).status_code == 403
    assert not BulkAction.objects.exists()
    bulk = bulk_actions.start_bulk("replay", actor=operator, params={}, cutoff_id=letter.pk, expected=1)
    assert viewer_client.post(f"/deadletters/bulk/{bulk.pk}/cancel/").status_code == 403
    assert not BulkAction.objects.get(pk=bulk.pk).cancel_requested


# --------------------------------------------------------------------------- preview and confirm


def test_the_preview_states_the_count_and_fixes_the_bounds(operator_client):
    letters = [make_dead_letter(topic="shop/redact") for _ in range(3)]
    make_dead_letter(topic="app/uninstalled")
    response = operator_client.get("/deadletters/bulk/new/", {"action": "replay", "topic": "shop/redact"})
    assert response.status_code == 200
    assert response.context["preview"].count == 3
    assert response.context["preview"].cutoff_id == letters[-1].pk
    html = response.content.decode()
    assert '<strong data-count="3">3</strong> dead letters would be replayed' in html
    assert "status open · topic shop/redact" in html
    assert 'name="rate" value="10.0"' in html
    assert f'name="cutoff_id" value="{letters[-1].pk}"' in html


def test_over_the_cap_the_preview_says_so_and_explains_why(operator_client, monkeypatch):
    monkeypatch.setattr(filters, "COUNT_CAP", 2)
    for _ in range(3):
        make_dead_letter()
    html = operator_client.get("/deadletters/bulk/new/", {"action": "delete"}).content.decode()
    assert "More than 2" in html and "Counting stops at 2" in html
    assert '<strong class="mono">2+</strong>' in html


def test_a_bulk_action_is_refused_on_a_filter_with_errors(operator_client):
    make_dead_letter()
    response = operator_client.get("/deadletters/bulk/new/", {"action": "delete", "created_after": "soon"})
    assert response.status_code == 302
    page = operator_client.get(response["Location"]).content.decode()
    assert "Fix the filter before acting on everything it matches." in page


def test_an_unknown_action_or_an_empty_selection_goes_back_with_a_message(operator_client):
    assert operator_client.get("/deadletters/bulk/new/", {"action": "explode"}).status_code == 302
    response = operator_client.get("/deadletters/bulk/new/", {"action": "replay", "selection": "1"})
    assert response.status_code == 302
    assert "Tick at least one row first." in operator_client.get(response["Location"]).content.decode()


def test_a_confirmed_bulk_replay_runs_in_the_background_and_ignores_later_failures(
    operator_client, operator, target, fast_budget, empty_queue
):
    target.expect_request("/webhooks").respond_with_data("ok")
    first = [make_dead_letter() for _ in range(2)]
    preview = operator_client.get("/deadletters/bulk/new/", {"action": "replay"})
    late = make_dead_letter()  # dies after the operator saw "2"

    response = operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview, rate="50"))
    bulk = BulkAction.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deadletters/bulk/{bulk.pk}/"
    assert (bulk.kind, bulk.expected, bulk.rate, bulk.created_by) == ("replay", 2, 50.0, operator)
    run_queued_tasks()

    bulk.refresh_from_db()
    assert (bulk.status, bulk.done) == ("done", 2)
    assert set(DeadLetter.objects.filter(status="replayed").values_list("pk", flat=True)) == {f.pk for f in first}
    assert DeadLetter.objects.get(pk=late.pk).status == "open"
    html = operator_client.get(f"/deadletters/bulk/{bulk.pk}/").content.decode()
    assert "Summary:</strong> 2 replayed, 0 failed" in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_a_bulk_delete_needs_the_count_typed(operator_client, empty_queue):
    for _ in range(3):
        make_dead_letter()
    preview = operator_client.get("/deadletters/bulk/new/", {"action": "delete"})
    wrong = operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview, confirm="30"))
    assert wrong.status_code == 200
    assert "Type 3 to confirm the delete." in wrong.content.decode()
    assert not BulkAction.objects.exists()

    right = operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview, confirm=" 3 "))
    assert right.status_code == 302
    run_queued_tasks()
    assert not DeadLetter.objects.exists()
    assert AuditEntry.objects.filter(action="deadletter.bulk_delete", count=3).exists()


def test_over_the_cap_a_delete_is_confirmed_with_the_capped_phrase(operator_client, monkeypatch, empty_queue):
    monkeypatch.setattr(filters, "COUNT_CAP", 2)
    for _ in range(3):
        make_dead_letter()
    preview = operator_client.get("/deadletters/bulk/new/", {"action": "delete"})
    refused = operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview, confirm="2"))
    assert "Type 2+ to confirm" in refused.content.decode()
    assert operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview, confirm="2+")).status_code == 302
    run_queued_tasks()
    bulk = BulkAction.objects.get()
    assert (bulk.expected, bulk.done, bulk.expected_label) == (None, 3, "more than the count cap")


def test_selected_rows_are_previewed_and_replayed_alone(operator_client, empty_queue):
    chosen = [make_dead_letter() for _ in range(2)]
    make_dead_letter()
    preview = operator_client.get(
        "/deadletters/bulk/new/", {"action": "replay", "selection": "1", "ids": [c.pk for c in chosen]}
    )
    assert preview.context["preview"].count == 2
    assert "the 2 selected dead letters" in preview.content.decode()
    operator_client.post("/deadletters/bulk/confirm/", confirm_data(preview))
    bulk = BulkAction.objects.get()
    assert bulk.ids == sorted(c.pk for c in chosen) and bulk.filter == {}


def test_confirming_an_empty_set_does_nothing(operator_client):
    response = operator_client.post("/deadletters/bulk/confirm/", {"action": "replay", "expected": "0"})
    assert response.status_code == 302
    assert not BulkAction.objects.exists()


# --------------------------------------------------------------------------- progress, cancel, history


def test_the_progress_page_polls_while_running_and_offers_cancel_to_operators(
    operator_client, viewer_client, operator, empty_queue
):
    make_dead_letter()
    bulk = bulk_actions.start_bulk("replay", actor=operator, params={}, expected=1)
    html = viewer_client.get(f"/deadletters/bulk/{bulk.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and "/cancel/" not in html
    partial = operator_client.get(f"/deadletters/bulk/{bulk.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.strip().startswith('<section id="progress"') and "/cancel/" in partial


def test_an_operator_cancels_a_running_bulk(operator_client, operator, empty_queue):
    for _ in range(3):
        make_dead_letter()
    bulk = bulk_actions.start_bulk("replay", actor=operator, params={}, expected=3)
    BulkAction.objects.filter(pk=bulk.pk).update(status="running")
    response = operator_client.post(f"/deadletters/bulk/{bulk.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert "cancelling…" in response.content.decode()
    run_queued_tasks()
    bulk.refresh_from_db()
    assert (bulk.status, bulk.seen) == ("cancelled", 0)
    assert DeadLetter.objects.filter(status="open").count() == 3
    again = operator_client.post(f"/deadletters/bulk/{bulk.pk}/cancel/")
    assert again.status_code == 302
    assert "had already finished" in operator_client.get(again["Location"]).content.decode()


def test_the_history_lists_bulk_actions_newest_first(viewer_client, operator, empty_queue):
    older = bulk_actions.start_bulk("delete", actor=operator, ids=[1], expected=1)
    newer = bulk_actions.start_bulk("replay", actor=operator, params={"topic": "x"}, expected=None)
    queued_tasks()
    response = viewer_client.get("/deadletters/bulk/")
    assert [b.pk for b in response.context["page"].items] == [newer.pk, older.pk]
    assert "more than the count cap" in response.content.decode()
