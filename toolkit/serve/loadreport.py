"""The load generator's output: a perf_analyzer-style table and a throughput-vs-latency PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from toolkit.errors import CnnkitError
from toolkit.serve.loadgen import LevelResult
from toolkit.tables import table_console


def fmt(value: float | None, digits: int = 1) -> str:
    """A number or a dash."""
    return "-" if value is None else f"{value:,.{digits}f}"


def load_table(url: str, levels: Sequence[LevelResult]) -> Table:
    """One row per concurrency (or rate) level: client throughput and latency, server split."""
    table = Table(title=f"cnnkit bench --serve {url} (latency in ms)")
    open_loop = any(level.offered_per_s is not None for level in levels)
    first = ("offered/s", "req/s", "goodput/s") if open_loop else ("conc", "req/s")
    columns = (*first, "p50", "p90", "p95", "p99", "errors", "batch", "queue", "compute")
    for column in columns:
        table.add_column(column, justify="right")
    for level in levels:
        server = level.server
        if open_loop:
            lead = [fmt(level.offered_per_s), fmt(level.requests_per_s), fmt(level.goodput_per_s)]
        else:
            lead = [str(level.concurrency), fmt(level.requests_per_s)]
        table.add_row(
            *lead,
            *(fmt(v, 2) for v in (level.p50_ms, level.p90_ms, level.p95_ms, level.p99_ms)),
            str(level.errors),
            fmt(server.mean_batch if server else None),
            fmt(server.queue_wait_ms if server else None, 2),
            fmt(server.compute_ms if server else None, 2),
        )
    return table


def print_load(url: str, levels: Sequence[LevelResult]) -> None:
    """The table on stdout, with what its server columns mean."""
    console = table_console()
    console.print(load_table(url, levels))
    console.print(
        "batch: mean requests per session.run; queue: mean wait per request before its batch;"
        " compute: mean time per batch (session.run + rows), all from the server's /metrics."
    )
    for level in levels:
        if level.server and level.server.batch_sizes:
            name = (
                fmt(level.offered_per_s) + "/s" if level.offered_per_s else f"c{level.concurrency}"
            )
            sizes = ", ".join(f"{k}: {v}" for k, v in level.server.batch_sizes.items())
            console.print(f"batches by size at {name}: {sizes}")


def plot_load(levels: Sequence[LevelResult], path: str | Path) -> Path:
    """Write a PNG: requests/s against p50 and p99 latency, one point per concurrency."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CnnkitError(f"--plot {path}: expected a .png, .svg or .pdf file name")
    from toolkit.plotting import pyplot, save

    try:
        plt = pyplot()
    except ImportError:
        raise CnnkitError("--plot needs matplotlib: pip install matplotlib") from None
    measured = [lv for lv in levels if lv.p50_ms is not None]
    if any(lv.offered_per_s is not None for lv in measured):
        return save(plot_rates(plt, measured), path)
    figure, axis = plt.subplots(figsize=(7, 5))
    for name in ("p50_ms", "p99_ms"):
        axis.plot(
            [getattr(lv, name) for lv in measured],
            [lv.requests_per_s for lv in measured],
            marker="o",
            label=name.replace("_ms", ""),
        )
    for level in measured:
        axis.annotate(f"c{level.concurrency}", (level.p50_ms, level.requests_per_s))
    axis.set(xlabel="client latency (ms)", ylabel="requests/s", title="throughput vs latency")
    axis.grid(alpha=0.3)
    axis.legend()
    return save(figure, path)


def plot_rates(plt, levels: Sequence[LevelResult]):
    """Open loop: achieved and good requests/s, and p50/p99 latency, against the offered rate."""
    figure, (rates, latency) = plt.subplots(1, 2, figsize=(11, 4.5))
    offered = [lv.offered_per_s for lv in levels]
    rates.plot(offered, offered, linestyle=":", color="grey", label="offered")
    rates.plot(offered, [lv.requests_per_s for lv in levels], marker="o", label="achieved")
    goodput = [lv.goodput_per_s for lv in levels]
    rates.plot(offered, goodput, marker="s", label="goodput (within --slo-ms)")
    rates.set(xlabel="offered requests/s", ylabel="requests/s", title="achieved vs offered")
    for name in ("p50_ms", "p90_ms", "p99_ms"):
        values = [getattr(lv, name) for lv in levels]
        latency.plot(offered, values, marker="o", label=name.replace("_ms", ""))
    latency.set(xlabel="offered requests/s", ylabel="client latency (ms)", yscale="log",
                title="latency from the scheduled arrival")  # fmt: skip
    for axis in (rates, latency):
        axis.grid(alpha=0.3)
        axis.legend()
    return figure
