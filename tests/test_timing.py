"""toolkit.timing: LatencyStats on timings whose statistics are known by hand, and the
measurement loop (counts, duration mode, warmup, refusals of bad counts)."""

from __future__ import annotations

import math

import pytest

from toolkit.errors import CnnkitError
from toolkit.timing import LatencyStats, check_counts, current_rss_mb, peak_rss_mb, time_runs


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


def counting_call():
    calls = []
    return calls, lambda: calls.append(1)


def test_first_run_warmup_and_timed_runs_are_separate():
    calls, run = counting_call()
    measurement = time_runs(run, warmup=4, iterations=7)
    assert len(calls) == 1 + 4 + 7
    assert len(measurement.timings_s) == measurement.stats.count == 7
    assert measurement.first_run_s >= 0


def test_duration_mode_runs_at_least_once_until_the_deadline():
    calls, run = counting_call()
    measurement = time_runs(run, warmup=0, iterations=None, duration=0.02)
    assert measurement.stats.count >= 1
    assert len(calls) == 1 + measurement.stats.count


@pytest.mark.parametrize(
    ("warmup", "iterations", "duration", "needle"),
    [
        (-1, 5, None, "--warmup"),
        (0, 0, None, "--iterations"),
        (0, -3, None, "--iterations"),
        (0, None, 0.0, "--duration"),
        (0, 5, 1.0, "not both"),
    ],
)
def test_bad_counts_are_user_errors(warmup, iterations, duration, needle):
    with pytest.raises(CnnkitError, match=needle):
        check_counts(warmup, iterations, duration)


def test_memory_readings_are_positive():
    assert peak_rss_mb() > 1
    rss = current_rss_mb()
    assert rss is None or 1 < rss <= peak_rss_mb() + 1
