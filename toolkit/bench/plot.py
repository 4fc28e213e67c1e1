"""Bench plots (matplotlib Agg): latency histogram, throughput and latency vs batch size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy

from toolkit.plotting import check_plot_path, pyplot, save

if TYPE_CHECKING:
    from toolkit.bench.sweep import BenchEntry

MAX_HISTOGRAMS = 6  # more overlaid histograms are unreadable


def series_label(entry: BenchEntry) -> str:
    """Legend text for one (model, threads, device) series."""
    return f"{Path(entry.model).name} t{entry.threads} {entry.device}"


def plot_bench(entries: Sequence[BenchEntry], path: str | Path) -> Path:
    """Write a PNG: per-run latency histograms and throughput/p50 against batch size."""
    plt = pyplot()
    path = check_plot_path(path)
    figure, (hist, thru, lat) = plt.subplots(1, 3, figsize=(16, 4.5))
    shown = list(entries)[:MAX_HISTOGRAMS]
    # A log axis keeps a 1 ms onnxruntime run and a 1 s torch eager run readable side by side;
    # rare hiccups past 1.5x the largest p99 would only stretch it.
    low = min(e.stats.min_ms for e in shown) * 0.9
    high = max(e.stats.p99_ms for e in shown) * 1.5
    bins = numpy.geomspace(low, max(high, low * 1.01), 60)
    for entry in shown:
        times = [t * 1e3 for t in entry.timings_s]
        label = f"{series_label(entry)} b{entry.batch}"
        hist.hist(times, bins=bins, alpha=0.5, label=label)
    hist.set_xscale("log")
    title = "per-run latency (log axis, to 1.5x the largest p99)"
    hist.set(title=title, xlabel="ms", ylabel="runs")
    hist.legend(fontsize="small")
    series = defaultdict(list)
    for entry in entries:
        series[series_label(entry)].append(entry)
    for label, rows in series.items():
        rows = sorted(rows, key=lambda e: e.batch)
        batches = [e.batch for e in rows]
        thru.plot(batches, [e.throughput_ips for e in rows], marker="o", label=label)
        lat.plot(batches, [e.stats.p50_ms for e in rows], marker="o", label=label)
    thru.set(title="throughput", xlabel="batch", ylabel="images/s")
    lat.set(title="p50 latency", xlabel="batch", ylabel="ms")
    lat.set_yscale("log")  # several runtimes differ by orders of magnitude
    for axis in (thru, lat):
        axis.set_xscale("log", base=2)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    return save(figure, path)
