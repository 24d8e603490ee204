import math
import random

import pytest

from timedify_ops.lib.histogram import BUCKETS, EDGES_MS, Histogram, bucket_index


def test_100_ms_is_a_bucket_edge():
    assert 100 in EDGES_MS


def test_a_value_on_an_edge_belongs_to_the_bucket_below_it():
    assert bucket_index(100) == EDGES_MS.index(100)
    assert bucket_index(100.0001) == EDGES_MS.index(100) + 1
    assert bucket_index(0) == 0
    assert bucket_index(1e9) == BUCKETS - 1


def test_the_fraction_at_or_under_an_edge_is_exact_against_raw_data():
    rng = random.Random(7)
    raw = [rng.lognormvariate(3.5, 1.0) for _ in range(20_000)] + [100.0] * 50
    histogram = Histogram()
    for value in raw:
        histogram.observe(value)
    exact = sum(1 for value in raw if value <= 100) / len(raw)
    assert histogram.fraction_le(100) == exact


def test_the_p95_lies_within_one_bucket_of_the_raw_p95():
    rng = random.Random(11)
    raw = sorted(rng.lognormvariate(3.0, 0.8) for _ in range(10_000))
    histogram = Histogram()
    for value in raw:
        histogram.observe(value)
    raw_p95 = raw[math.ceil(0.95 * len(raw)) - 1]
    lower, upper = histogram.quantile_bounds(0.95)
    assert lower < raw_p95 <= upper
    assert lower <= histogram.quantile(0.95) <= upper


def test_histograms_merge_by_adding_counts():
    a, b = Histogram(), Histogram()
    a.observe(3)
    b.observe(3)
    b.observe(700)
    merged = a.merge(b)
    assert merged.count == 3
    assert merged.total_ms == 706
    assert merged.cumulative()[-1] == 3


def test_a_threshold_that_is_not_an_edge_is_refused():
    with pytest.raises(ValueError, match="not a bucket edge"):
        Histogram().count_le(99)


def test_an_empty_histogram_has_no_quantile():
    assert Histogram().quantile(0.95) is None
    assert Histogram().fraction_le(100) is None


def test_the_top_bucket_is_open_ended():
    histogram = Histogram()
    histogram.observe(60_000)
    assert histogram.quantile_bounds(0.5) == (10_000, math.inf)
    assert histogram.quantile(0.5) == 10_000
