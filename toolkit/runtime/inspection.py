"""`cnnkit inspect`: the facts of an ONNX file and what the other verbs assume about it."""

from __future__ import annotations

from pathlib import Path

from toolkit.runtime.interpret import Interpretation, Use, plan_for
from toolkit.runtime.preprocess import SpecFlags

ROWS = (  # (label, reasons key) in the order a reader follows the data
    ("layout", "layout"),
    ("dtype", "dtype"),
    ("channels", "channels"),
    ("size", "size"),
    ("resize", "resize"),
    ("mean / std", "mean_std"),
    ("output", "output"),
    ("reading", "reading"),
    ("labels", "labels"),
)


def inspect_model(path: str | Path, flags: SpecFlags | None = None, run: bool = True):
    """The Interpretation of a file; with `run`, settled by one test run as infer does it."""
    interp = plan_for(path, Use.INSPECT, flags)
    if not run or not interp.runnable:
        return interp
    from toolkit.runtime.options import PredictorOptions, SessionOptions
    from toolkit.runtime.predictor import Predictor

    options = PredictorOptions(SessionOptions(device="cpu"), flags or SpecFlags())
    predictor = Predictor(path, options, quiet=True)
    return predictor.interpretation


def human_bytes(count: int) -> str:
    """1234567 -> '1.2 MB'."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"


def render(interp: Interpretation) -> str:
    """inspect's human output."""
    opsets = ", ".join(f"{domain} {version}" for domain, version in interp.opsets.items())
    graph = f"IR {interp.ir_version}, opsets {opsets}" if interp.opsets else "ORT format"
    lines = [
        f"{interp.path}: {human_bytes(interp.file_bytes)} (external data included), "
        f"{graph}, producer {interp.producer or 'unknown'}",
        "inputs:",
        *(f"  {t.describe()}{dynamic(t.dynamic_axes)}" for t in interp.inputs),
        "outputs:",
        *(f"  {t.describe()}{dynamic(t.dynamic_axes)}" for t in interp.outputs),
    ]
    if not interp.metadata.foreign:
        lines.append("cnnkit metadata:")
        values = interp.metadata.to_dict()
        lines += [f"  {key}: {value}" for key, value in values.items() if key != "classes"]
        classes = values.get("classes") or []
        if classes:
            shown = ", ".join(map(str, classes[:8])) + (", ..." if len(classes) > 8 else "")
            lines.append(f"  classes: {len(classes)} ({shown})")
    else:
        lines.append("cnnkit metadata: none (a foreign file)")
    if not interp.runnable:
        lines.append("infer cannot feed images to it:")
        lines += [f"  {problem}" for problem in interp.problems]
        return "\n".join(lines)
    lines.append(f"what infer / bench / quantize assume (input {interp.image_input!r}):")
    for label, key in ROWS:
        if key in interp.reasons:
            flag = "  [assumed]" if key in interp.assumed else ""
            lines.append(f"  {label:<11} {interp.reasons[key]}{flag}")
    if interp.constants:
        fed = ", ".join(f"{name}={path}" for name, path in interp.constants)
        lines.append(f"  {'constants':<11} {fed} (--feed)")
    if interp.assumed:
        lines.append("  ([assumed]: decided without metadata; see --layout, --input-size, "
                     "--resize, --mean, --std, --labels, --outputs, --output)")  # fmt: skip
    return "\n".join(lines)


def dynamic(axes: list[int]) -> str:
    """'  (dynamic axes 0, 2, 3)' or ''."""
    return f"  (dynamic axes {', '.join(map(str, axes))})" if axes else ""
