"""Profile results as numbers (dataclasses), rendered only here: table, JSON, CSV (torch-free)."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.safeio import write_json

if TYPE_CHECKING:
    from rich.console import Group

CSV_COLUMNS = (
    "name", "op", "output_shape", "params", "macs", "flops", "receptive_field", "jump",
    "start", "activation_bytes", "precision", "buffers", "shared", "counted",
)  # fmt: skip


@dataclass
class Layer:
    """One node (ONNX) or leaf module (torch) of the profiled model."""

    name: str
    op: str
    output_shape: list[int] | None
    params: int = 0
    macs: int = 0
    flops: int = 0
    receptive_field: list[float] | None = None  # per spatial axis
    jump: list[float] | None = None
    start: list[float] | None = None
    activation_bytes: int = 0
    precision: str = ""
    buffers: int = 0
    shared: bool = False  # owns a tensor that other layers use too
    counted: bool = True  # False: an op the profiler has no rule for
    whole_input: bool = False  # the field covers the whole feature map (global pool, FC)

    def to_dict(self) -> dict:
        """JSON-ready row; per-axis values collapse to one number when all axes agree."""
        row = asdict(self)
        for key in ("receptive_field", "jump", "start"):
            row[key] = collapse(row[key])
        return row


@dataclass
class Totals:
    """Whole-model sums (shared tensors counted once)."""

    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    activation_bytes: int = 0
    int8_macs: int = 0
    param_bytes: int = 0


@dataclass
class Profile:
    """Everything `cnnkit profile` reports about one model."""

    model: str
    input_size: list[int]
    batch: int
    convention: str
    flop_rules: dict[str, str]
    layers: list[Layer]
    totals: Totals
    warnings: list[str] = field(default_factory=list)
    source: str = "onnx"  # "onnx" graph or "torch" module
    uncounted: list[str] = field(default_factory=list)
    inputs: dict[str, list[int]] = field(default_factory=dict)  # every input's full shape

    def by_op(self) -> dict[str, dict]:
        """Per op type: node count, params, MACs, FLOPs and their shares of the totals."""
        groups: dict[str, dict] = {}
        for layer in self.layers:
            g = groups.setdefault(layer.op, {"count": 0, "params": 0, "macs": 0, "flops": 0})
            g["count"] += 1
            g["params"] += layer.params
            g["macs"] += layer.macs
            g["flops"] += layer.flops
        param_sum = sum(g["params"] for g in groups.values()) or 1
        for g in groups.values():
            g["params_share"] = g["params"] / param_sum
            g["macs_share"] = g["macs"] / (self.totals.macs or 1)
        return dict(sorted(groups.items(), key=lambda kv: (-kv[1]["macs"], -kv[1]["params"])))

    def heaviest(self, top: int | None) -> list[Layer]:
        """The `top` layers with most MACs (then params), in graph order; all when None."""
        if not top:
            return self.layers
        ranked = sorted(self.layers, key=lambda ly: (ly.macs, ly.params), reverse=True)[:top]
        keep = {id(layer) for layer in ranked}
        return [layer for layer in self.layers if id(layer) in keep]

    def to_dict(self, top: int | None = None) -> dict:
        """The `profile --json` document (stable keys per DESIGN.md)."""
        return {
            "model": self.model,
            "input_size": self.input_size,
            "inputs": self.inputs,
            "batch": self.batch,
            "convention": self.convention,
            "flop_rules": self.flop_rules,
            "source": self.source,
            "totals": asdict(self.totals),
            "by_op": self.by_op(),
            "layers": [layer.to_dict() for layer in self.heaviest(top)],
            "uncounted": self.uncounted,
            "warnings": self.warnings,
        }

    def write_json(self, path: str | Path) -> Path:
        """Write the JSON document to `path`."""
        path = Path(path)
        write_json(path, self.to_dict())  # strict JSON, atomic, never through a link
        return path

    def write_csv(self, path: str | Path) -> Path:
        """One CSV row per layer (all layers), shapes as 1x64x56x56."""
        path = Path(path)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for layer in self.layers:
                row = layer.to_dict()
                row["output_shape"] = dims(layer.output_shape)
                for key in ("receptive_field", "jump", "start"):
                    row[key] = text(row[key])
                writer.writerow(row)
        return path


def collapse(values: list[float] | None) -> float | list[float] | None:
    """[435.0, 435.0] -> 435; [3.5, 2.0] -> [3.5, 2]; None stays None."""
    if values is None or not values:
        return None
    numbers = [int(v) if float(v).is_integer() else round(float(v), 4) for v in values]
    return numbers[0] if len(set(numbers)) == 1 else numbers


def text(value: float | list[float] | None) -> str:
    """Per-axis value as short text: 435, 3.5x2, or '' when absent."""
    if value is None:
        return ""
    return "x".join(str(v) for v in value) if isinstance(value, list) else str(value)


def dims(shape: list[int] | None) -> str:
    """A shape as 1x64x56x56 ('?' when unknown)."""
    return "?" if shape is None else "x".join(str(d) for d in shape)


def human(number: float) -> str:
    """1814073344 -> '1.81G'."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.2f}{unit}"
    return f"{number:g}"


def render(profile: Profile, top: int | None = None) -> Group:
    """A rich renderable: header, per-layer table, by-op breakdown, totals, warnings."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    size = f"input {profile.batch}x" + "x".join(str(v) for v in profile.input_size)
    if len(profile.inputs) > 1:
        size = "inputs " + ", ".join(
            f"{name} {'x'.join(map(str, shape))}" for name, shape in profile.inputs.items()
        )
    header = Text(
        f"{profile.model}  {size}  ({profile.source})\n{profile.convention}",
        style="bold",
    )
    layers = Table(title="layers" + (f" (top {top} by MACs)" if top else ""))
    for column in ("name", "op", "output", "params", "MACs", "FLOPs", "RF", "jump", "start"):
        left = column in ("name", "op", "output")
        layers.add_column(column, justify="left" if left else "right", overflow="fold")
    layers.add_column("act bytes", justify="right")
    for layer in profile.heaviest(top):
        row = layer.to_dict()
        op = layer.op + ("" if layer.counted else " (uncounted)") + (" *" if layer.shared else "")
        if layer.precision == "int8":
            op += " int8"
        layers.add_row(
            layer.name, op, dims(layer.output_shape), f"{layer.params:,}", f"{layer.macs:,}",
            f"{layer.flops:,}", text(row["receptive_field"]), text(row["jump"]),
            text(row["start"]), human(layer.activation_bytes),
        )  # fmt: skip
    by_op = Table(title="by op type")
    for column in ("op", "count", "params", "% params", "MACs", "% MACs"):
        by_op.add_column(column, justify="left" if column == "op" else "right")
    for op, g in profile.by_op().items():
        by_op.add_row(
            op, str(g["count"]), f"{g['params']:,}", f"{100 * g['params_share']:.1f}",
            f"{g['macs']:,}", f"{100 * g['macs_share']:.1f}",
        )  # fmt: skip
    t = profile.totals
    totals = Text(
        f"params {t.params:,} ({human(t.params)})   buffers {t.buffers:,}   "
        f"MACs {t.macs:,} ({human(t.macs)})   FLOPs {t.flops:,} ({human(t.flops)})   "
        f"int8 MACs {t.int8_macs:,}   activations {human(t.activation_bytes)}B"
    )
    layers.caption = footnote(profile.layers)
    return Group(header, layers, by_op, totals)


def footnote(layers) -> str | None:
    """What the op column's marks mean, for the marks the table shows."""
    marks = []
    if any(layer.shared for layer in layers):
        marks.append("* uses a tensor that other layers use too (counted once in the totals)")
    if any(not layer.counted for layer in layers):
        marks.append("(uncounted): an op whose MACs cnnkit does not count (see the warnings)")
    return "; ".join(marks) or None
