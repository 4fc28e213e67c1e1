"""TensorStats and Tolerance: streaming numbers equal the whole-array ones; the pass rule."""

from __future__ import annotations

import math

import numpy as np
from onnxruntime.quantization.qdq_loss_debug import compute_signal_to_quantization_noice_ratio

from toolkit.runtime.tensorstats import TensorStats, Tolerance


def folded(a: np.ndarray, b: np.ndarray, tol: Tolerance, batch: int = 3) -> TensorStats:
    stats = TensorStats(total=a.size)
    for i in range(0, len(a), batch):
        stats.update(a[i : i + batch], b[i : i + batch], tol, channels=a.shape[1])
    return stats


def test_batch_by_batch_equals_onnxruntimes_sqnr_on_everything_at_once():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((10, 4, 5)).astype(np.float32)
    a = b + 0.01 * rng.standard_normal(b.shape).astype(np.float32)
    stats = folded(a, b, Tolerance())
    expected = compute_signal_to_quantization_noice_ratio([b], [a])
    assert math.isclose(stats.sqnr_db(), expected, rel_tol=1e-6)
    summary = stats.summary(Tolerance())
    assert math.isclose(summary["max_abs"], float(np.abs(a - b).max()), rel_tol=1e-6)
    assert math.isclose(summary["mean_abs"], float(np.abs(a - b).mean()), rel_tol=1e-5)
    cosine = float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))
    assert math.isclose(summary["cosine"], cosine, rel_tol=1e-6)


def test_elementwise_rule_is_polygraphys():
    b = np.array([[1.0, 100.0]], np.float32)
    tol = Tolerance(atol=0.01, rtol=0.01)
    assert folded(b + np.array([[0.019, 0.9]], np.float32), b, tol).passed(tol)
    assert not folded(b + np.array([[0.021, 0.0]], np.float32), b, tol).passed(tol)
    assert "|a-b| > atol + rtol*|b|" in tol.rule()


def test_mean_and_median_rules_need_both_errors_too_large():
    b = np.ones((1, 100), np.float32)
    a = b.copy()
    a[0, 0] = 11.0  # one huge outlier: max fails, median passes, mean = 0.1
    for stat, ok in (("max", False), ("median", True), ("mean", False)):
        tol = Tolerance(atol=0.05, rtol=0.05, check_error_stat=stat)
        assert folded(a, b, tol).passed(tol) is ok, stat
        assert f"{stat}(|a-b|)" in tol.rule()


def test_nan_and_inf_are_counted_and_fail():
    b = np.zeros((2, 3), np.float32)
    a = b.copy()
    a[0, 0], a[1, 2] = np.nan, np.inf
    stats = folded(a, b, Tolerance())
    summary = stats.summary(Tolerance())
    assert summary["nan"] == {"a": 1, "b": 0} and summary["inf"] == {"a": 1, "b": 0}
    assert not summary["ok"]


def test_worst_channel_finds_a_crushed_channel_and_skips_dead_ones():
    rng = np.random.default_rng(1)
    b = rng.random((8, 3, 4)).astype(np.float32)
    b[:, 2] = 0.0  # a dead channel: no signal to measure noise against
    a = b.copy()
    a[:, 0] = 0.0  # channel 0 crushed to zero: SQNR 0 dB
    a[:, 2] = 1e-3
    stats = folded(a, b, Tolerance())
    assert abs(stats.worst_channel_sqnr_db()) < 1e-6
    assert stats.sqnr_db() > stats.worst_channel_sqnr_db()
    floor = Tolerance(None, None, min_sqnr=10.0)
    assert not stats.passed(floor) and "worst-channel SQNR is below 10 dB" in floor.rule()


def test_a_nearly_dead_channel_is_left_out_but_one_huge_channel_does_not_hide_the_rest():
    rng = np.random.default_rng(2)
    b = rng.random((8, 4, 4)).astype(np.float32)
    b[:, 3] *= 1e-3  # energy 1e-6 of its neighbours': nearly dead
    a = b.copy()
    a[:, 3] = 0.0  # rounded away entirely, which says nothing about the layer
    assert folded(a, b, Tolerance()).worst_channel_sqnr_db() == math.inf  # no noise elsewhere
    b[:, 0] *= 1000.0  # one blown-up channel: the median keeps the others "alive"
    a = b.copy()
    a[:, 1] = 0.0
    assert abs(folded(a, b, Tolerance()).worst_channel_sqnr_db()) < 1e-6
