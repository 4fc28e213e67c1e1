"""Human-readable tables for export and quantize reports (the CLI's edge; numbers stay numbers)."""

from __future__ import annotations

from rich.table import Table


def parity_table(report) -> Table:
    """One row per parity check: stage, input shape, errors, cosine, agreement, verdict."""
    table = Table(title=f"{report.path}  ({report.exporter}, opset {report.opset})")
    for column in ("stage", "input", "max abs", "max rel", "cosine", "argmax", "ok"):
        table.add_column(column, justify="left" if column in ("stage", "input") else "right")
    for row in report.parity:
        table.add_row(
            row["stage"],
            "x".join(map(str, row["shape"])),
            f"{row['max_abs']:.2e}",
            f"{row['max_rel']:.2e}",
            f"{row['cosine']:.8f}",
            f"{row['agreement']:.2%}",
            "yes" if row["ok"] else "NO",
        )
    return table


def export_summary(report) -> str:
    """One closing line: nodes, size, time."""
    nodes = " -> ".join(f"{n} ({stage})" for stage, n in report.nodes.items())
    return (
        f"wrote {report.path}: {report.size_bytes / 1e6:.2f} MB, {nodes} nodes, "
        f"{report.seconds:.1f} s"
    )


def quantize_table(report) -> Table:
    """fp32 vs quantized: metric, agreement, size, batch-1 latency."""
    table = Table(title=f"{report.source} -> {report.path}  ({report.mode})")
    for column in ("", "fp32", report.mode):
        table.add_column(column, justify="left" if not column else "right")
    if report.metric:
        table.add_row(report.metric, _pct(report.fp32_metric), _pct(report.quant_metric))
    table.add_row("agreement", "", f"{report.agreement:.2%}")
    table.add_row("size", f"{report.fp32_bytes / 1e6:.2f} MB", f"{report.quant_bytes / 1e6:.2f} MB")
    table.add_row(
        "latency b=1",
        f"{report.fp32_latency_ms:.3f} ms",
        f"{report.quant_latency_ms:.3f} ms ({report.speedup:.2f}x)",
    )
    table.caption = f"on {report.eval_samples} samples of {report.eval_source}"
    return table


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"
