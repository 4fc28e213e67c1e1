"""The measurement loop: counts, duration mode, warmup, and refusals of bad counts."""

from __future__ import annotations

import pytest

from toolkit.bench.measure import check_counts, current_rss_mb, peak_rss_mb, time_runs
from toolkit.errors import CnnkitError


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
