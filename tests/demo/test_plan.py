"""The demo week's plan (demo.seed.plan): deterministic, and the story it promises."""

from datetime import UTC, datetime, timedelta

from demo.seed.plan import OUTAGE_MINUTES, make_plan
from timedify_ops.lib.retry import RetryBudget

NOW = datetime(2026, 11, 26, 15, 40, 12, tzinfo=UTC)


def plan(seed: int = 7, events: int = 3000):
    return make_plan(now=NOW, seed=seed, events=events, days=7, budget=RetryBudget())


def test_the_same_seed_plans_the_same_week_and_another_seed_another():
    assert plan(7).fingerprint() == plan(7).fingerprint()
    assert plan(7).fingerprint() != plan(8).fingerprint()


def test_it_plans_whole_days_up_to_now_with_every_topic():
    week = plan()
    assert week.start == datetime(2026, 11, 19, tzinfo=UTC)
    assert all(week.start <= event.received_at < NOW for event in week.events)
    assert {event.topic for event in week.events} == {
        "app/uninstalled",
        "app/scopes_update",
        "customers/data_request",
        "customers/redact",
        "shop/redact",
        "app_subscriptions/update",
    }
    assert len({event.webhook_id for event in week.events}) == len(week.events)


def test_every_delivery_in_the_outage_fails_and_ends_in_the_bulk_replay():
    week = plan()
    start, end = week.outage
    assert end - start == timedelta(minutes=OUTAGE_MINUTES)
    in_outage = [e for e in week.events if start <= e.attempts[0].started_at < end and not e.synthetic]
    assert in_outage and all(event.letter is not None for event in in_outage)
    assert {e.webhook_id for e in in_outage} <= {e.webhook_id for e in week.bulk_letters}
    assert [e.letter.status for e in week.bulk_letters].count("failed") == 1


def test_a_few_percent_of_first_attempts_fail_and_a_fraction_of_a_percent_dead_letter():
    week = plan(events=6000)
    first_failed = sum(1 for event in week.events if not event.attempts[0].ok)
    assert 0.01 < first_failed / len(week.events) < 0.06
    assert 0.001 < len(week.letters) / len(week.events) < 0.005  # the 99.5 % error-rate SLO can hold


def test_attempts_follow_the_retry_budget_and_replays_come_after():
    for event in plan().events:
        originals = [attempt for attempt in event.attempts if attempt.replayed_by is None]
        assert 1 <= len(originals) <= 5
        for before, after in zip(event.attempts, event.attempts[1:], strict=False):
            assert after.started_at >= before.finished_at
        assert [attempt.number for attempt in event.attempts] == list(range(1, len(event.attempts) + 1))
        if event.letter is None:
            assert event.attempts[-1].ok and event.delivered_at == event.attempts[-1].finished_at
