"""manage.py replay_deadletters: --list, --replay, --replay-all, --cleanup, --dry-run, exit codes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from deadletters.models import BulkAction, DeadLetter
from deadletters.services import sweeps
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.models import AuditEntry
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("replay_deadletters", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_needs_a_mode():
    with pytest.raises(CommandError, match="one of the arguments"):
        run()


def test_list_prints_a_table_with_filters():
    make_dead_letter(topic="shop/redact", shop="x.myshopify.com", webhook_id="wh-listed", attempts=5, last_error="bad")
    make_dead_letter(topic="app/uninstalled", webhook_id="wh-other")
    make_dead_letter(topic="shop/redact", webhook_id="wh-old", created_at=timezone.now() - timedelta(days=3))
    out, _ = run("--list", "--topic", "shop/redact", "--since", "24h")
    lines = out.splitlines()
    assert (
        lines[0]
        == "dead letters (status open · topic shop/redact · created after " + lines[0].split("created after ")[1]
    )
    assert lines[1].split() == ["id", "topic", "shop", "webhook", "id", "attempts", "last", "error", "status"]
    assert len(lines) == 3
    row = lines[2]
    for text in ("shop/redact", "x.myshopify.com", "wh-listed", " 5 ", "HTTP 500: bad", "open"):
        assert text in row


def test_list_says_when_more_match_than_the_limit():
    for _ in range(3):
        make_dead_letter()
    out, _ = run("--list", "--limit", "2", "--status", "any", "--since", "2026-01-01")
    assert out.count("app/uninstalled") == 2 and "more match" in out


def test_a_bad_since_is_a_clear_error():
    with pytest.raises(CommandError, match="--since 'yesterday-ish'"):
        run("--list", "--since", "yesterday-ish")


def test_replay_ids_delivers_now_and_exits_0(target, fast_budget):
    target.expect_request("/webhooks").respond_with_data("ok")
    letters = [make_dead_letter() for _ in range(2)]
    out, err = run("--replay", *(str(letter.pk) for letter in letters))
    assert out.splitlines() == [f"{letter.pk}: replayed: HTTP 200" for letter in letters]
    assert err == ""
    assert set(DeadLetter.objects.values_list("status", flat=True)) == {"replayed"}
    assert [r.headers["X-Timedify-Replay"] for r, _ in target.log] == [str(letter.pk) for letter in letters]
    entry = AuditEntry.objects.filter(action="deadletter.replay").first()
    assert entry.actor is None and entry.actor_name.endswith("(replay_deadletters)")


def test_a_failed_replay_exits_1(target, fast_budget):
    target.expect_request("/webhooks").respond_with_data("nope", status=500)
    letter = make_dead_letter()
    with pytest.raises(CommandError, match="1 of 1 replays failed") as raised:
        run("--replay", str(letter.pk))
    assert raised.value.returncode == 1
    assert DeadLetter.objects.get(pk=letter.pk).status == "failed"


def test_an_unknown_or_unreplayable_id_exits_1(target):
    done = make_dead_letter(status="replayed")
    with pytest.raises(CommandError) as raised:
        run("--replay", str(done.pk), "424242")
    assert raised.value.returncode == 1
    assert target.log == []


def test_replay_dry_run_changes_nothing(target):
    letter = make_dead_letter()
    done = make_dead_letter(status="replayed")
    out, _ = run("--replay", str(letter.pk), str(done.pk), "--dry-run")
    assert f"{letter.pk}: would replay" in out and f"{done.pk}: would skip: it is replayed" in out
    assert DeadLetter.objects.get(pk=letter.pk).status == "open" and target.log == []


def test_replay_all_replays_open_and_failed_matching_the_filters(target, fast_budget):
    target.expect_request("/webhooks").respond_with_data("ok")
    chosen = [make_dead_letter(topic="shop/redact"), make_dead_letter(topic="shop/redact", status="failed")]
    make_dead_letter(topic="app/uninstalled")
    out, _ = run("--replay-all", "--topic", "shop/redact", "--rate", "100")
    assert "2 open or failed dead letters, at most 100/s" in out
    assert "done: 2 replayed, 0 failed" in out
    assert set(DeadLetter.objects.filter(status="replayed").values_list("pk", flat=True)) == {c.pk for c in chosen}
    bulk = BulkAction.objects.get()
    assert bulk.inline and bulk.status == "done" and bulk.actor_name.endswith("(replay_deadletters)")


def test_replay_all_exits_1_when_any_replay_fails(target, fast_budget):
    target.expect_request("/webhooks").respond_with_data("nope", status=400)
    make_dead_letter()
    with pytest.raises(CommandError, match="1 replays failed") as raised:
        run("--replay-all", "--rate", "100")
    assert raised.value.returncode == 1


def test_replay_all_dry_run_counts_and_changes_nothing(target):
    for _ in range(2):
        make_dead_letter()
    out, _ = run("--replay-all", "--dry-run")
    assert out.startswith("would replay 2 open or failed dead letters (any status)")
    assert not BulkAction.objects.exists() and target.log == []


def test_replay_all_with_nothing_to_do_exits_0():
    out, _ = run("--replay-all", "--topic", "nothing/here")
    assert out.startswith("nothing to replay")


def test_cleanup_removes_letters_replayed_longer_ago_than_the_grace(settings):
    settings.DEADLETTER_REPLAYED_GRACE = timedelta(hours=24)
    now = timezone.now()
    old = make_dead_letter(status="replayed", replayed_at=now - timedelta(hours=25))
    fresh = make_dead_letter(status="replayed", replayed_at=now - timedelta(hours=1))
    still_open = make_dead_letter()

    out, _ = run("--cleanup", "--dry-run")
    assert out.strip() == "would delete 1 dead letters replayed more than 24 h ago"
    assert DeadLetter.objects.count() == 3

    out, _ = run("--cleanup")
    assert out.strip() == "deleted 1 dead letters replayed more than 24 h ago"
    assert set(DeadLetter.objects.values_list("pk", flat=True)) == {fresh.pk, still_open.pk}
    # The replayed event itself was delivered: it stays, with its attempts, for retention.
    assert WebhookEvent.objects.filter(pk=old.event_id).exists()
    assert AuditEntry.objects.get(action="deadletter.cleanup").count == 1


def test_cleanup_replayed_is_callable_by_retention():
    make_dead_letter(status="replayed", replayed_at=timezone.now() - timedelta(days=2))
    assert sweeps.cleanup_replayed(timedelta(days=1), dry_run=True) == 1
    assert sweeps.cleanup_replayed(timedelta(days=1), dry_run=False) == 1
    assert sweeps.cleanup_replayed(timedelta(days=1), dry_run=False) == 0
