"""Human-readable diff tables (the CLI's edge; the report keeps plain numbers)."""

from __future__ import annotations

from rich.table import Table

WORST_SHOWN = 5


def _num(value, fmt: str = ".2e") -> str:
    return "n/a" if value is None else format(value, fmt)


def _db(value) -> str:
    return "inf" if value is None else f"{value:.1f}"


def outputs_table(report, validate: bool = False) -> Table:
    """One row per output: errors, cosine, SQNR, verdict (and NaN/Inf counts with --validate)."""
    table = Table(title=f"A: {report.a}\nB: {report.b} (reference)")
    columns = ["output", "max abs", "max rel", "mean abs", "cosine", "SQNR dB", "ok"]
    if validate:
        columns[-1:-1] = ["NaN a/b", "Inf a/b"]
    for column in columns:
        table.add_column(column, justify="left" if column == "output" else "right")
    for row in report.outputs:
        cells = [
            row["name"],
            _num(row["max_abs"]),
            _num(row["max_rel"]),
            _num(row["mean_abs"]),
            _num(row["cosine"], ".6f"),
            _db(row["sqnr_db"]),
        ]
        if validate:
            cells += [
                f"{row['nan']['a']}/{row['nan']['b']}",
                f"{row['inf']['a']}/{row['inf']['b']}",
            ]
        table.add_row(*cells, "yes" if row["ok"] else "NO")
    table.caption = f"{report.samples} inputs: {report.inputs}; {agreement_text(report.agreement)}"
    return table


def agreement_text(agreement: dict) -> str:
    """'top-1 agreement 99.2%' or pixel agreement and mIoU delta."""
    parts = []
    for key, value in agreement.items():
        if value is None:
            continue
        label = key.replace("_", " ").replace("top1", "top-1")
        parts.append(f"{label} {value:+.4f}" if key == "miou_delta" else f"{label} {value:.2%}")
    return ", ".join(parts)


def layers_table(report) -> Table:
    """Every matched tensor in graph order; the first out of tolerance marked."""
    table = Table(title="layer by layer (graph order)")
    for column in ("#", "tensor", "op", "max abs", "cosine", "SQNR dB", "worst ch dB", "ok"):
        table.add_column(column, justify="left" if column in ("tensor", "op") else "right")
    for i, row in enumerate(report.layers):
        table.add_row(
            str(i),
            row["name"],
            row["op"],
            _num(row["max_abs"]),
            _num(row["cosine"], ".6f"),
            _db(row["sqnr_db"]),
            "-" if row["channels"] is None else _db(row["worst_channel_sqnr_db"]),
            _verdict(row, report.first_failing),
        )
    return table


def _verdict(row: dict, first: str | None) -> str:
    if row["ok"]:
        return "yes"
    return "NO (first)" if row["name"] == first else "NO"


def weights_table(report) -> Table:
    """Weight SQNR per Conv of the quantized side."""
    table = Table(title="Conv weights: float vs dequantised int8")
    for column in ("weight", "node", "channels", "SQNR dB", "worst channel dB"):
        table.add_column(column, justify="left" if column in ("weight", "node") else "right")
    for row in report.weights:
        table.add_row(
            row["name"],
            row["node"],
            str(row["channels"]),
            _db(row["sqnr_db"]),
            _db(row["worst_channel_sqnr_db"]),
        )
    return table


def closing_lines(report) -> list[str]:
    """The rule, the first failing layer, and the verdict."""
    lines = [f"pass rule: {report.rule}"]
    if report.layers:
        first = report.first_failing
        lines.append(
            f"first tensor out of tolerance: {first}" if first else "every layer within tolerance"
        )
    if report.plot:
        lines.append(f"wrote {report.plot}")
    bad = [row["name"] for row in report.outputs if not row["ok"]]
    lines.append(f"FAILED: {', '.join(bad)} out of tolerance" if bad else "PASSED")
    return lines
