"""Speed-up lines: a ratio only where the timings' spreads support one."""

from __future__ import annotations

from toolkit.bench.sweep import BenchEntry
from toolkit.bench.text import ratio_lines
from toolkit.timing import LatencyStats


def entry(model: str, ms: list[float], ratio: float | None = None) -> BenchEntry:
    stats = LatencyStats.from_timings([m / 1e3 for m in ms])
    return BenchEntry(
        model=model, batch=1, threads=2, device="cpu", provider="CPUExecutionProvider",
        mode="session.run", input_shape=[1, 3, 8, 8], stats=stats, session_s=0.1,
        first_run_ms=1.0, peak_rss_mb=100.0, rss_mb=100.0, ratio=ratio,
    )  # fmt: skip


def test_separate_tight_timings_give_a_ratio():
    fp32 = entry("fp32.onnx", [10.0, 10.2, 10.1, 10.3, 10.1] * 4)
    int8 = entry("int8.onnx", [4.0, 4.1, 4.0, 4.2, 4.1] * 4, ratio=0.4)
    (line,) = ratio_lines([fp32, int8])
    assert line.startswith("int8.onnx is 2.50x faster than fp32.onnx")


def test_a_noisy_timing_is_marked_unstable_instead_of_a_ratio():
    fp32 = entry("fp32.onnx", [12.5, 12.6, 12.4, 12.8, 12.5] * 4)
    int8 = entry("int8.onnx", [1.4, 1.4, 1.5, 1.4, 5.4] * 4, ratio=0.112)  # p90 5.4, p50 1.4
    (line,) = ratio_lines([fp32, int8])
    assert line.startswith("int8.onnx vs fp32.onnx: unstable") and "faster" not in line


def test_overlapping_spreads_are_unstable():
    a = entry("a.onnx", [10.0, 10.5, 11.0, 11.5, 12.0] * 4)
    b = entry("b.onnx", [9.6, 10.0, 10.4, 10.8, 11.0] * 4, ratio=0.95)
    assert "unstable" in ratio_lines([a, b])[0]
