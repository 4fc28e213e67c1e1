"""Human-readable tables for export and quantize reports (the CLI's edge; numbers stay numbers)."""

from __future__ import annotations

from rich.table import Table


def parity_table(report) -> Table:
    """One row per parity check: stage, input shape, errors, cosine, agreement, verdict."""
    table = Table(title=f"{report.path}  ({report.exporter}, opset {report.opset})")
    columns = ("stage", "input", "max abs", "max rel", "worst/allowed", "cosine", "argmax", "ok")
    for column in columns:
        table.add_column(column, justify="left" if column in ("stage", "input") else "right")
    for row in report.parity:
        table.add_row(
            row["stage"],
            "x".join(map(str, row["shape"])),
            f"{row['max_abs']:.2e}",
            f"{row['max_rel']:.2e}",
            f"{row['allowed_ratio']:.3f}",
            f"{row['cosine']:.8f}",
            f"{row['agreement']:.2%}",
            "yes" if row["ok"] else "NO",
        )
    table.caption = parity_rule(report.atol, report.rtol)
    return table


def parity_rule(atol: float, rtol: float) -> str:
    """The pass rule the parity rows are judged by, in words."""
    return (
        f"ok when every element has |onnx - torch| <= atol + rtol*|torch| (atol {atol:g}, "
        f"rtol {rtol:g}), i.e. worst/allowed <= 1; max rel divides by max(|torch|, atol), "
        "so it may pass rtol where atol covers elements near zero"
    )


def export_summary(report) -> str:
    """One closing line: nodes, size, time."""
    nodes = " -> ".join(f"{n} ({stage})" for stage, n in report.nodes.items())
    return (
        f"wrote {report.path}: {report.size_bytes / 1e6:.2f} MB, {nodes} nodes, "
        f"{report.seconds:.1f} s"
    )


def edge_lines(report) -> list[str]:
    """export --embed-preprocess / --format ort: parity, the ORT files, the build command."""
    lines = []
    if report.plain is not None:
        lines.append(f"exported {report.plain.model}: parity with torch ok "
                     f"({len(report.plain.parity)} checks)")  # fmt: skip
    parity = report.parity
    if parity is not None:
        delta = "" if parity.max_abs_prob is None else f", max |dprob| {parity.max_abs_prob:.2e}"
        what = "mask pixels" if parity.max_abs_prob is None else "labels"
        lines.append(
            f"self-contained vs `cnnkit infer` on {parity.origin}: {parity.agreement:.2%} of "
            f"{what} equal (needs {parity.required:.1%}){delta}"
            + (" -- FORCED" if parity.forced else "")
        )
    ort = report.ort
    if ort is not None:
        worst = max((row.get("max_abs", 0.0) for row in ort.parity), default=0.0)
        lines.append(f".ort vs .onnx on seeded inputs: max abs {worst:.2e}; metadata kept; "
                     f"{ort.onnx_bytes / 1e6:.2f} MB -> {ort.ort_bytes / 1e6:.2f} MB")  # fmt: skip
        lines += [f"wrote {path}" for path in ort.configs]
        lines.append(f"a reduced-operator onnxruntime for it (from an onnxruntime checkout, "
                     f"the config beside you): {ort.build_command}")  # fmt: skip
    lines.append(f"wrote {report.path}: {report.size_bytes / 1e6:.2f} MB, {report.seconds:.1f} s")
    return lines


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


def auto_table(auto: dict) -> Table:
    """quantize --auto: nodes kept in float, agreement and latency at every step."""
    b = auto["batch_size"]
    table = Table(title=f"quantize --auto (fp32: {auto['fp32_latency_ms']:.3f} ms at batch {b})")
    for column in ("step", "kept in float (tensor)", "float nodes", "agreement", f"ms b={b}", ""):
        table.add_column(column, justify="left" if "kept" in column else "right")
    for i, step in enumerate(auto["steps"]):
        speed = auto["fp32_latency_ms"] / step["latency_ms"]
        table.add_row(
            str(i),
            step["kept_tensor"] or "(plain int8)",
            str(len(step["float_nodes"])),
            f"{step['agreement']:.2%}",
            f"{step['latency_ms']:.3f} ({speed:.2f}x)",
            "first to reach" if i == auto["chosen"] else "",
        )
    return table


def explain_lines(refused) -> list[str]:
    """--explain: the worst quantized tensors (worst-channel SQNR vs fp32) and the fix."""
    lines = ["worst layers (each tensor's own INT8 noise: SQNR of its worst channel, whole):"]
    for row in refused.worst:
        worst = row["worst_channel_sqnr_db"]
        whole = row["sqnr_db"]
        lines.append(
            f"  {row['name']:<32} {row['op']:<14} worst channel "
            f"{'inf' if worst is None else f'{worst:.1f}'} dB, whole tensor "
            f"{'inf' if whole is None else f'{whole:.1f}'} dB"
        )
    lines.append(f"to keep the layers that break in float: {refused.command}")
    return lines
