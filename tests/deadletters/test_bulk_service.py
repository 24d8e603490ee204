"""Bulk replay and delete: the set fixed at confirm time, the rate, progress, cancel, hand-over, sweeper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from deadletters.services import sweeps
from tests.conftest import queued_tasks, run_queued_tasks
from tests.deadletters.conftest import make_dead_letter, no_sleep
from timedify_ops.audit.models import AuditEntry
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


class FakeClock:
    """time.monotonic and time.sleep in one: sleeping moves the clock on."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def confirm(kind, actor, params=None, **options):
    """What the confirm button does: preview (fixing the bounds), then start."""
    preview = bulk_actions.preview_bulk(kind, params=params or {})
    return bulk_actions.start_bulk(
        kind,
        actor=actor,
        params=params or {},
        cutoff_id=preview.cutoff_id,
        cutoff_at=preview.cutoff_at,
        expected=preview.count,
        **options,
    )


def test_the_preview_counts_only_what_the_action_applies_to():
    for status in ("open", "open", "failed", "replaying", "replayed"):
        make_dead_letter(status=status)
    assert bulk_actions.preview_bulk("replay", params={"status": "any"}).count == 3
    assert bulk_actions.preview_bulk("delete", params={"status": "any"}).count == 4
    assert bulk_actions.preview_bulk("replay", params={}).count == 2  # the list's default: open
    assert bulk_actions.preview_bulk("replay", params={"status": "replayed"}).empty


def test_the_preview_stops_counting_at_the_cap(monkeypatch):
    monkeypatch.setattr(filters, "COUNT_CAP", 3)
    for _ in range(4):
        make_dead_letter()
    preview = bulk_actions.preview_bulk("delete", params={})
    assert preview.count is None
    assert preview.confirm_phrase == "3+"
    assert filters.capped_count(DeadLetter.objects.all(), cap=4) == 4


def test_a_bulk_replay_acts_only_on_the_set_fixed_at_confirm_time(operator, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    before = [make_dead_letter(topic="shop/redact") for _ in range(3)]
    make_dead_letter(topic="app/uninstalled")  # outside the filter
    preview = bulk_actions.preview_bulk("replay", params={"topic": "shop/redact"})
    assert preview.count == 3

    # Between the preview and the confirm click, and while it runs, more webhooks die.
    late = make_dead_letter(topic="shop/redact")
    reborn = before[0]
    DeadLetter.objects.filter(pk=reborn.pk).update(created_at=timezone.now() + timedelta(seconds=5))

    bulk = bulk_actions.start_bulk(
        "replay",
        actor=operator,
        params={"topic": "shop/redact"},
        cutoff_id=preview.cutoff_id,
        cutoff_at=preview.cutoff_at,
        expected=preview.count,
        rate=100,
    )
    run_queued_tasks()

    bulk.refresh_from_db()
    assert bulk.status == BulkAction.Status.DONE
    assert (bulk.seen, bulk.done, bulk.failed, bulk.skipped) == (2, 2, 0, 0)
    assert bulk.summary == "2 replayed, 0 failed; 1 of the 3 no longer matched when reached"
    replayed = set(DeadLetter.objects.filter(status="replayed").values_list("pk", flat=True))
    assert replayed == {before[1].pk, before[2].pk}
    assert DeadLetter.objects.get(pk=late.pk).status == "open"
    assert DeadLetter.objects.get(pk=reborn.pk).status == "open"
    assert sorted(int(r.headers["X-Timedify-Replay"]) for r, _ in target.log) == sorted(replayed)
    assert {letter.bulk_action_id for letter in DeadLetter.objects.filter(pk__in=replayed)} == {bulk.pk}


def test_a_bulk_replay_keeps_the_rate(operator, empty_queue):
    for _ in range(5):
        make_dead_letter()
    bulk = confirm("replay", operator, rate=4)
    clock = FakeClock()
    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [0.25] * 4  # the first goes at once, then one every 1/rate seconds
    assert len(queued_tasks()) == 6  # the runner's own task, then five replays


def test_the_confirm_is_audited_with_the_filter_and_count(operator, empty_queue):
    make_dead_letter(topic="shop/redact")
    bulk = confirm("replay", operator, params={"topic": "shop/redact"}, rate=5)
    entry = AuditEntry.objects.get(action="deadletter.bulk_replay")
    assert (entry.actor, entry.count, entry.target_id) == (operator, 1, str(bulk.pk))
    assert entry.details["filter"] == {"topic": "shop/redact"}
    assert entry.details["rate"] == 5
    assert "status open · topic shop/redact" in entry.summary


def test_progress_and_outcomes_add_up_with_failures(operator, target, fast_budget, empty_queue):
    letters = [make_dead_letter() for _ in range(4)]
    failing = {str(letters[1].pk), str(letters[3].pk)}

    def app(request):
        from werkzeug import Response

        return Response("no", status=422) if request.headers["X-Timedify-Replay"] in failing else Response("ok")

    target.expect_request("/webhooks").respond_with_handler(app)
    bulk = confirm("replay", operator, rate=100)
    run_queued_tasks()
    bulk.refresh_from_db()
    assert (bulk.status, bulk.done, bulk.failed, bulk.percent) == ("done", 2, 2, 100)
    assert bulk.summary == "2 replayed, 2 failed"


def test_cancel_stops_the_runner_before_its_next_item(operator, empty_queue):
    letters = [make_dead_letter() for _ in range(5)]
    bulk = confirm("replay", operator, rate=100)
    queued_tasks()  # the runner is called directly below

    def cancel_after_two(current, pk, result):
        if pk == letters[1].pk:
            assert bulk_actions.cancel_bulk(current.pk, user=operator)

    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), sleep=no_sleep, on_item=cancel_after_two)
    bulk.refresh_from_db()
    assert bulk.cancel_requested and bulk.dispatch_complete
    assert bulk.status == BulkAction.Status.RUNNING  # two replays still in flight
    assert bulk.outstanding == 2
    assert list(DeadLetter.objects.filter(status="open").values_list("pk", flat=True).order_by("pk")) == [
        letter.pk for letter in letters[2:]
    ]
    assert not bulk_actions.cancel_bulk(bulk.pk, user=operator)  # nothing left to cancel

    # The two in flight report back (delivered to the closed port: failed) and the bulk ends.
    for task in queued_tasks():
        bulk_actions.replay_item(task["args"][2], *task["args"][:2], sleep=no_sleep)
    bulk.refresh_from_db()
    assert bulk.status == BulkAction.Status.CANCELLED
    assert bulk.summary == "0 replayed, 2 failed; cancelled by olivia after 2 of 5"
    assert AuditEntry.objects.filter(action="deadletter.bulk_replay.cancel", target_id=str(bulk.pk)).exists()


def test_a_queued_bulk_cancelled_before_it_starts_does_nothing(operator, empty_queue):
    make_dead_letter()
    bulk = confirm("replay", operator)
    assert bulk_actions.cancel_bulk(bulk.pk, user=operator)
    assert run_queued_tasks() == ["skipped: another runner holds it, or it is finished"]
    bulk.refresh_from_db()
    assert (bulk.status, bulk.seen) == ("cancelled", 0)
    assert DeadLetter.objects.get().status == "open"


def test_a_long_set_hands_over_to_a_fresh_task_after_its_time_slice(operator, empty_queue):
    letters = [make_dead_letter() for _ in range(3)]
    bulk = confirm("replay", operator, rate=1)
    queued_tasks()
    clock = FakeClock()
    # rate 1/s, 1.5 s slices: two items per slice.
    result = bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), slice_s=1.5, sleep=clock.sleep, clock=clock)
    assert result == "continuing in a new task"
    bulk.refresh_from_db()
    assert (bulk.seen, bulk.cursor_id) == (2, letters[1].pk)
    tasks = queued_tasks()
    handover = [t for t in tasks if t["func"] == bulk_actions.BULK_TASK]
    assert len(handover) == 1 and handover[0]["args"] == (bulk.pk, str(bulk.runner_token))
    # The old token no longer runs it; the handed-over one does, from the cursor.
    assert bulk_actions.run_bulk(bulk.pk, "00000000-0000-0000-0000-000000000000").startswith("skipped")
    bulk_actions.run_bulk(*handover[0]["args"], sleep=no_sleep)
    bulk.refresh_from_db()
    assert (bulk.seen, bulk.dispatch_complete) == (3, True)


def test_the_sweeper_resumes_a_bulk_whose_runner_died(operator, empty_queue):
    for _ in range(2):
        make_dead_letter()
    bulk = confirm("replay", operator, rate=100)
    queued_tasks()  # the runner's task is lost
    assert sweeps.sweep_stuck()["bulk_resumed"] == 0
    BulkAction.objects.filter(pk=bulk.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweeps.sweep_stuck()["bulk_resumed"] == 1
    tasks = queued_tasks()
    assert [t["func"] for t in tasks] == [bulk_actions.BULK_TASK]
    bulk_actions.run_bulk(*tasks[0]["args"], sleep=no_sleep)
    assert BulkAction.objects.get(pk=bulk.pk).seen == 2


def test_the_sweeper_closes_a_command_run_that_stopped(operator):
    make_dead_letter()
    bulk = confirm("replay", operator, inline=True)
    BulkAction.objects.filter(pk=bulk.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweeps.sweep_stuck()["bulk_closed"] == 1
    bulk.refresh_from_db()
    assert bulk.status == BulkAction.Status.FAILED
    assert "command stopped" in bulk.summary


def test_the_sweeper_closes_a_bulk_whose_replays_never_reported(operator, empty_queue):
    make_dead_letter()
    bulk = confirm("replay", operator, rate=100)
    queued_tasks()
    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), sleep=no_sleep)
    queued_tasks()  # the replay task is lost, and so is the letter (deleted by hand)
    DeadLetter.objects.all().delete()
    BulkAction.objects.filter(pk=bulk.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweeps.sweep_stuck()["bulk_closed"] == 1
    bulk.refresh_from_db()
    assert bulk.status == BulkAction.Status.DONE
    assert bulk.summary.endswith("(1 never reported back)")


def test_a_bulk_delete_removes_letters_and_events_and_audits_each_batch(operator, monkeypatch, empty_queue):
    monkeypatch.setattr(bulk_actions, "DELETE_BATCH", 2)
    doomed = [make_dead_letter(attempts=2) for _ in range(3)]
    in_flight = make_dead_letter(status="replaying")
    bulk = confirm("delete", operator, params={"status": "any"})
    assert bulk.expected == 3
    run_queued_tasks()

    bulk.refresh_from_db()
    assert (bulk.status, bulk.done, bulk.skipped) == ("done", 3, 0)
    assert bulk.summary == "3 deleted"
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [in_flight.pk]
    assert not WebhookEvent.objects.filter(pk__in=[d.event_id for d in doomed]).exists()
    batches = AuditEntry.objects.filter(action="deadletter.bulk_delete.batch").order_by("id")
    assert [b.count for b in batches] == [2, 1]
    kept = [item for b in batches for item in b.details["deleted"]]
    assert [item["webhook_id"] for item in kept] == [d.event.webhook_id for d in doomed]
    assert set(kept[0]) == {"id", "topic", "shop", "webhook_id", "status"}


def test_a_bulk_of_selected_rows_touches_only_those(operator, empty_queue):
    chosen = [make_dead_letter() for _ in range(2)]
    other = make_dead_letter()
    bulk = bulk_actions.start_bulk("delete", actor=operator, ids=[c.pk for c in chosen], expected=2)
    run_queued_tasks()
    assert BulkAction.objects.get(pk=bulk.pk).done == 2
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [other.pk]


def test_a_duplicate_replay_task_is_counted_once(operator, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    make_dead_letter()
    bulk = confirm("replay", operator, rate=100)
    queued_tasks()
    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), sleep=no_sleep)
    (task,) = queued_tasks()
    # The sweeper thought the task was lost and queued it again: both copies run.
    first = bulk_actions.replay_item(task["args"][2], *task["args"][:2])
    second = bulk_actions.replay_item(task["args"][2], *task["args"][:2])
    assert (first.status, second.status) == ("replayed", "skipped")
    bulk.refresh_from_db()
    assert (bulk.status, bulk.seen, bulk.done, bulk.skipped) == ("done", 1, 1, 0)
    assert len(target.log) == 1


def test_a_slow_replay_the_sweeper_gave_up_on_is_counted_once_and_keeps_the_truth(
    operator, target, monkeypatch, empty_queue
):
    target.expect_request("/webhooks").respond_with_data("ok")
    letter = make_dead_letter()
    bulk = confirm("replay", operator, rate=100)
    queued_tasks()
    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), sleep=no_sleep)
    (task,) = queued_tasks()

    def deliver_after_the_sweep(*args, **kwargs):
        past = timezone.now() - timedelta(seconds=1)
        DeadLetter.objects.filter(pk=letter.pk).update(replay_lease_until=past)
        assert sweeps.sweep_stuck()["interrupted"] == 1  # counted as failed here, once
        return original(*args, **kwargs)

    from webhooks import services as webhook_services

    original = webhook_services.run_attempts
    monkeypatch.setattr(webhook_services, "run_attempts", deliver_after_the_sweep)
    bulk_actions.replay_item(task["args"][2], *task["args"][:2], sleep=no_sleep)
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED  # it was delivered after all
    bulk.refresh_from_db()
    assert (bulk.status, bulk.done, bulk.failed) == ("done", 0, 1)
