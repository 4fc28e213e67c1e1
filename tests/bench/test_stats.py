"""LatencyStats on timings whose statistics are known by hand."""

from __future__ import annotations

import math

import pytest

from toolkit.bench.stats import LatencyStats


def test_stats_of_one_to_five_milliseconds():
    stats = LatencyStats.from_timings([0.003, 0.001, 0.005, 0.002, 0.004])
    assert stats.count == 5
    assert stats.min_ms == pytest.approx(1.0)
    assert stats.max_ms == pytest.approx(5.0)
    assert stats.mean_ms == pytest.approx(3.0)
    assert stats.p50_ms == pytest.approx(3.0)
    assert stats.p90_ms == pytest.approx(4.6)  # linear interpolation between 4 and 5
    assert stats.p99_ms == pytest.approx(4.96)
    assert stats.std_ms == pytest.approx(math.sqrt(2.5))  # sample standard deviation
    assert stats.total_s == pytest.approx(0.015)


def test_throughput_counts_every_image_of_every_run():
    stats = LatencyStats.from_timings([0.010, 0.030])  # 2 runs in 40 ms
    assert stats.throughput(batch=8) == pytest.approx(16 / 0.040)


def test_single_timing_has_zero_spread():
    stats = LatencyStats.from_timings([0.002])
    assert stats.std_ms == 0.0
    assert stats.p50_ms == stats.p99_ms == stats.min_ms == pytest.approx(2.0)


def test_no_timings_is_an_error():
    with pytest.raises(ValueError):
        LatencyStats.from_timings([])


def test_stats_are_frozen_numbers():
    stats = LatencyStats.from_timings([0.001, 0.002])
    with pytest.raises(AttributeError):
        stats.p50_ms = 0.0
    assert all(isinstance(v, (int, float)) for v in stats.to_dict().values())
