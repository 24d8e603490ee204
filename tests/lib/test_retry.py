from datetime import UTC, datetime

from timedify_ops.lib.retry import RETRY_AFTER_CEILING_S, RetryBudget, is_retryable_status, parse_retry_after


def test_the_default_budget_is_300_ms_doubling_for_four_retries():
    budget = RetryBudget()
    assert budget.max_attempts == 5
    assert [budget.backoff_ms(n) for n in range(1, 5)] == [300, 600, 1200, 2400]


def test_jitter_only_lengthens_a_wait():
    budget = RetryBudget()
    assert budget.delay_s(1, rng=lambda: 0.0) == 0.3
    assert budget.delay_s(1, rng=lambda: 1.0) == 0.3 * 1.1
    assert budget.delay_s(4, rng=lambda: 0.5) >= 2.4


def test_retry_after_lengthens_up_to_the_cap_and_never_shortens():
    budget = RetryBudget(retry_after_cap_s=5)
    assert budget.delay_s(1, retry_after_s=2, rng=lambda: 0) == 2
    assert budget.delay_s(1, retry_after_s=60, rng=lambda: 0) == 5
    assert budget.delay_s(4, retry_after_s=0.1, rng=lambda: 0) == 2.4


def test_the_worst_case_bounds_a_whole_delivery():
    budget = RetryBudget(retry_after_cap_s=5)
    assert budget.worst_case_s(5) == 5 * 5 + 4 * 5 * 1.1


def test_it_classifies_statuses():
    assert all(is_retryable_status(code) for code in (408, 429, 500, 502, 503, 599))
    assert not any(is_retryable_status(code) for code in (200, 301, 400, 401, 404, 410, 422))


def test_it_parses_retry_after_seconds():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("0") == 0
    assert parse_retry_after("-1") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None


NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def test_it_reads_an_http_date_as_the_seconds_until_then():
    assert parse_retry_after("Thu, 26 Nov 2026 10:02:00 GMT", now=NOW) == 120
    assert parse_retry_after("Thursday, 26-Nov-26 10:00:30 GMT", now=NOW) == 30  # RFC 850
    assert parse_retry_after("Thu Nov 26 10:00:05 2026", now=NOW) == 5  # asctime, read as GMT
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:10 +0100", now=NOW) == 10


def test_a_date_that_has_passed_means_retry_now():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0


def test_it_believes_a_retry_after_for_at_most_the_ceiling():
    assert RETRY_AFTER_CEILING_S == 3600
    assert parse_retry_after("86400") == RETRY_AFTER_CEILING_S
    assert parse_retry_after("Fri, 27 Nov 2026 10:00:00 GMT", now=NOW) == RETRY_AFTER_CEILING_S
    assert parse_retry_after("600", ceiling_s=60) == 60


def test_an_unreadable_retry_after_is_ignored():
    for value in ("soon", "Thu, 32 Nov 2026 10:00:00 GMT", "", "   ", "inf", "inf-ish"):
        assert parse_retry_after(value, now=NOW) is None


def test_a_budget_says_whether_its_loop_waits_a_retry_after_or_the_caller_should_reschedule():
    budget = RetryBudget(retry_after_cap_s=5)
    assert budget.waits_for(None)
    assert budget.waits_for(5)
    assert not budget.waits_for(30)  # the loop would wait only 5 s: reschedule for 30 s instead
    assert budget.delay_s(1, retry_after_s=30, rng=lambda: 0) == 5
