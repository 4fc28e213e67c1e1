"""Human-readable bench output (rich tables on stdout): the formatting edge."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from toolkit.tables import table_console

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.bench.benchmark import BenchResult
    from toolkit.bench.sweep import BenchEntry


def ms(value: float | None) -> str:
    """Milliseconds with sensible precision."""
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def number(value: float | None, digits: int = 1) -> str:
    """A float or a dash."""
    return "-" if value is None else f"{value:,.{digits}f}"


def short(model: str) -> str:
    """The last two path parts of a model (enough to tell run folders apart)."""
    parts = Path(model).parts
    return str(Path(*parts[-2:])) if len(parts) > 1 else model


def bench_table(entries: Sequence[BenchEntry]) -> Table:
    """One row per measured configuration."""
    table = Table(title="cnnkit bench (latency in ms)")
    columns = ("model", "mode", "device", "thr", "batch", "p50", "p90", "p99", "mean", "std")
    for column in (*columns, "img/s", "vs first", "GFLOP/s"):
        table.add_column(column, justify="left" if column in ("model", "mode") else "right")
    for e in entries:
        s = e.stats
        table.add_row(
            short(e.model),
            e.mode,
            e.device,
            str(e.threads),
            str(e.batch),
            *(ms(v) for v in (s.p50_ms, s.p90_ms, s.p99_ms, s.mean_ms, s.std_ms)),
            number(e.throughput_ips),
            f"{e.ratio:.2f}x" if e.ratio else "-",
            number(e.gflops),
        )
    return table


def ratio_lines(entries: Sequence[BenchEntry]) -> list[str]:
    """'B is 2.10x faster than A' for every non-first model and configuration, or 'unstable'
    when the two timings' spreads say the ratio is noise."""
    if not entries:
        return []
    first = entries[0].model
    baseline = {(e.batch, e.threads, e.device): e for e in entries if e.model == first}
    lines = []
    for e in entries:
        if e.model == first or not e.ratio:
            continue
        where = f"(p50, batch {e.batch}, {e.threads} threads, {e.device})"
        base = baseline.get((e.batch, e.threads, e.device))
        if base is not None and unstable(base, e):
            lines.append(
                f"{short(e.model)} vs {short(first)}: unstable {where}: p50/p90 "
                f"{e.stats.p50_ms:.2f}/{e.stats.p90_ms:.2f} ms vs {base.stats.p50_ms:.2f}/"
                f"{base.stats.p90_ms:.2f} ms overlap or spread past 2x; rerun on a quiet machine"
            )
            continue
        verdict = f"{1 / e.ratio:.2f}x faster" if e.ratio < 1 else f"{e.ratio:.2f}x slower"
        lines.append(f"{short(e.model)} is {verdict} than {short(first)} {where}")
    return lines


def unstable(a: BenchEntry, b: BenchEntry) -> bool:
    """Whether a speed ratio of a and b is noise: a p90 past twice its p50 (interference
    dominates), or the [min, p90] spreads of the two overlap."""
    if any(e.stats.p90_ms > 2 * e.stats.p50_ms for e in (a, b)):
        return True
    low, high = sorted((a, b), key=lambda e: e.stats.p50_ms)
    return low.stats.p90_ms >= high.stats.min_ms


def cost_lines(entries: Sequence[BenchEntry]) -> list[str]:
    """Session creation, first run and memory per model."""
    seen, lines = set(), []
    for e in entries:
        key = (e.model, e.threads, e.device, e.batch)
        if key in seen:
            continue
        seen.add(key)
        lines.append(
            f"{short(e.model)} b{e.batch} t{e.threads} {e.device}: "
            f"session {e.session_s * 1e3:.1f} ms, first run {e.first_run_ms:.1f} ms, "
            f"process peak RSS so far {e.peak_rss_mb:.0f} MiB"
        )
    return lines


def ops_table(entry: BenchEntry) -> Table:
    """Per-op-type and heaviest-node times from onnxruntime's profiler for one entry."""
    ops = entry.ops
    overhead = ops.get("overhead_ms")
    beside = (
        f"; un-profiled p50 {ops['unprofiled_p50_ms']:.3f} ms, profiler overhead "
        f"{overhead:+.3f} ms per run"
        if overhead is not None
        else ""
    )
    table = Table(
        title=f"{short(entry.model)} b{entry.batch} t{entry.threads}: profiler, median of "
        f"{ops['runs']} runs: run {ops['run_ms']:.3f} ms, kernels {ops['kernel_ms']:.3f} ms"
        f"{beside} (ranked by median kernel time)"
    )
    for column in ("op type / node", "op", "median ms per run", "share"):
        table.add_column(column, justify="left" if column in ("op type / node", "op") else "right")
    for op in ops["by_op"]:
        nodes = f"{op['nodes']} node" + ("s" if op["nodes"] != 1 else "")
        table.add_row(op["op"], nodes, ms(op["ms"]), f"{op['share']:.1%}")
    table.add_section()
    for node in ops["top_nodes"]:
        table.add_row(node["name"], node["op"], ms(node["ms"]), f"{node['share']:.1%}")
    return table


def print_bench(result: BenchResult, console: Console | None = None) -> None:
    """Print the bench result: table, ratios, costs, profiler tables, peak."""
    console = console or table_console()
    if result.entries:
        console.print(bench_table(result.entries))
        for line in ratio_lines(result.entries) + cost_lines(result.entries):
            console.print(line, highlight=False)
        for entry in result.entries:
            if entry.ops:
                console.print(ops_table(entry))
    if result.peak:
        peak = result.peak
        kernels = ", ".join(f"{k} {v:.1f}" for k, v in peak.kernels.items())
        isa = ", ".join(result.machine.get("vector_extensions") or []) or "unknown"
        console.print(
            f"peak: {peak.gflops:.1f} GFLOP/s float32 ({peak.source}, {peak.threads} threads, "
            f"best of {peak.repeats}: {kernels}) on {result.machine['cpu']} [{isa}]",
            highlight=False,
        )
        for e in result.entries:
            if e.gflops:
                console.print(
                    f"{short(e.model)} b{e.batch} t{e.threads}: {e.gflops:.1f} GFLOP/s achieved "
                    f"= {e.gflops / peak.gflops:.0%} of peak",
                    highlight=False,
                )
