"""eval's report as text lines for the terminal (numbers stay numbers until here)."""

from __future__ import annotations

from toolkit.evaluate.report import EvalReport, ModelScore

PAIRS_SHOWN = 5
PER_CLASS_UP_TO = 20  # per-class rows printed for one model with at most this many classes


def number(value: float | None) -> str:
    """A fraction with four decimals, or '-'."""
    return "-" if value is None else f"{value:.4f}"


def signed(value: float | None) -> str:
    """A delta with its sign, or ''."""
    return "" if value is None else f"{value:+.4f}"


def columns(task: str) -> tuple[str, str]:
    """The two metrics a task's table shows."""
    return ("top1", "top5") if task == "classification" else ("miou", "pixel_accuracy")


def model_row(score: ModelScore, task: str) -> list[str]:
    """One table row: model, provider, precision, samples, metrics, deltas."""
    first, second = columns(task)
    return [
        score.model,
        score.provider,
        score.precision,
        str(score.samples),
        number(getattr(score, first)),
        number(getattr(score, second)),
        signed(score.delta.get(first)),
        signed(score.delta.get(second)),
        str(len(score.unreadable)),
    ]


def table(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, as wide as their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def report_lines(report: EvalReport) -> list[str]:
    """The whole report for people."""
    first, second = columns(report.task)
    header = ["model", "provider", "precision", "samples", first, second]
    header += [f"d_{first}", f"d_{second}", "unreadable"]
    lines = [f"{report.data} ({report.split} split), {report.task}"]
    lines += table([header] + [model_row(score, report.task) for score in report.models])
    for entry in report.agreement:
        lines.append(f"agreement {entry['b']} vs {entry['a']}: {entry['agreement']:.4f}")
    reference = report.models[0]
    if len(report.models) == 1 and len(reference.classes) <= PER_CLASS_UP_TO:
        lines += per_class_lines(reference)
    pairs = reference.worst_pairs[:PAIRS_SHOWN]
    if pairs:
        lines.append(f"most confused ({reference.model}):")
        lines += [pair_line(p) for p in pairs]
    lines += [f"wrote {what}: {path}" for what, path in report.written.items()]
    return lines


def per_class_lines(score: ModelScore) -> list[str]:
    """Per-class precision/recall/F1/support, or IoU for segmentation."""
    if score.task == "classification":
        rows = [["class", "precision", "recall", "f1", "support"]]
        rows += [
            [name, *(number(v[key]) for key in ("precision", "recall", "f1")), str(v["support"])]
            for name, v in score.per_class.items()
        ]
    else:
        rows = [["class", "iou"]] + [[name, number(v)] for name, v in score.per_class_iou.items()]
    return table(rows)


def pair_line(pair: dict) -> str:
    """'  8 -> 1: 4 (14.3% of 8)'."""
    true, share = pair["true"], pair["share"]
    return f"  {true} -> {pair['predicted']}: {pair['count']} ({share:.1%} of {true})"
