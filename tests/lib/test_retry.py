from timedify_ops.lib.retry import RetryBudget, is_retryable_status, parse_retry_after


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


def test_it_parses_retry_after_seconds_only():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None
