"""`diff_models`: two models on the same inputs, output by output and (optionally) layer by layer.

Batch by batch: each batch's activations are folded into running statistics and dropped,
so memory depends on the batch size, not on the number of inputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.diff.matching import Pair, onnx_pairs, resolve, torch_onnx_pairs
from toolkit.diff.samples import DiffInputs, diff_inputs
from toolkit.diff.sides import OnnxSide, SideSpec
from toolkit.errors import CnnkitError
from toolkit.runtime.tensorstats import TensorStats, Tolerance


@dataclass(frozen=True)
class DiffOptions:
    """Inputs, tolerance and what to report for one diff."""

    inputs: str | None = None  # a folder of images
    data: str | None = None  # a cnnkit data source (needs torch), e.g. digits
    split: str = "test"
    samples: int = 64
    batch_size: int = 16
    seed: int = 0
    tolerance: Tolerance = field(default_factory=Tolerance)
    layerwise: bool = False
    plot: str | None = None  # PNG of SQNR per layer
    quiet: bool = False


@dataclass
class DiffReport:
    """Per-output and per-layer statistics of A against B (B is the reference)."""

    a: str
    b: str
    inputs: str
    samples: int
    rule: str
    tolerance: dict
    outputs: list[dict]
    agreement: dict
    layers: list[dict] = field(default_factory=list)
    first_failing: str | None = None
    weights: list[dict] = field(default_factory=list)
    plot: str | None = None

    @property
    def ok(self) -> bool:
        """True when every output is within tolerance."""
        return all(row["ok"] for row in self.outputs)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {**dataclasses.asdict(self), "ok": self.ok}


def diff_models(a: SideSpec, b: SideSpec, options: DiffOptions) -> DiffReport:
    """Run A and B on the same preprocessed inputs and compare them."""
    if options.samples < 1 or options.batch_size < 1:
        raise CnnkitError("--samples and --batch-size must be at least 1")
    side_a = open_side(a, options.layerwise)
    try:
        side_b = open_side(b, options.layerwise)
        try:
            samples = diff_inputs(side_a, side_b, options)
            report = _compare(side_a, side_b, samples, options)
        finally:
            side_b.close()
    finally:
        side_a.close()
    if options.layerwise and options.plot:
        from toolkit.diff.plot import plot_layers

        report.plot = str(plot_layers(report, options.plot))
    return report


def _compare(side_a, side_b, samples: DiffInputs, options: DiffOptions) -> DiffReport:
    tol = options.tolerance
    pairs = layer_pairs(side_a, side_b) if options.layerwise else []
    outputs: dict[str, TensorStats] = {}
    layers = {pair.name: TensorStats() for pair in pairs}
    agreement = Agreement(samples.targets is not None)
    n = len(samples.x)
    for start in range(0, n, options.batch_size):
        x = samples.x[start : start + options.batch_size]
        targets = None if samples.targets is None else samples.targets[start : start + len(x)]
        out_a, out_b = side_a.run(x), side_b.run(x)
        for name, (va, vb) in paired_outputs(out_a, out_b).items():
            stats = outputs.setdefault(name, TensorStats(total=va.size * n // len(x)))
            stats.update(va, vb, tol, channels=va.shape[1] if va.ndim > 1 else None)
        agreement.update(*next(iter(paired_outputs(out_a, out_b).values())), targets)
        if pairs:
            _update_layers(side_a, side_b, x, pairs, layers, tol, n)
    rows = [{"name": name, **s.summary(tol)} for name, s in outputs.items()]
    layer_rows = [
        {"name": p.name, "op": p.op, **layers[p.name].summary(tol)}
        for p in pairs
        if layers[p.name].count
    ]
    first = next((row["name"] for row in layer_rows if not row["ok"]), None)
    return DiffReport(
        a=side_a.label,
        b=side_b.label,
        inputs=samples.origin,
        samples=n,
        rule=tol.rule(),
        tolerance=dataclasses.asdict(tol),
        outputs=rows,
        agreement=agreement.summary(),
        layers=layer_rows,
        first_failing=first,
        weights=weight_rows(side_a, side_b),
    )


def paired_outputs(out_a: dict, out_b: dict) -> dict[str, tuple]:
    """Outputs matched by name; two single outputs are matched whatever their names."""
    common = [name for name in out_a if name in out_b]
    if common:
        return {name: (out_a[name], out_b[name]) for name in common}
    if len(out_a) == len(out_b) == 1:
        (na, va), (nb, vb) = next(iter(out_a.items())), next(iter(out_b.items()))
        return {f"{na} / {nb}": (va, vb)}
    raise CnnkitError(f"no output names in common: A has {list(out_a)}, B has {list(out_b)}")


def layer_pairs(side_a, side_b) -> list[Pair]:
    """The tensors both sides expose, matched (see toolkit.diff.matching)."""
    onnx_a, onnx_b = hasattr(side_a, "proto"), hasattr(side_b, "proto")
    if onnx_a and onnx_b:
        quantized = None
        if side_a.quantized != side_b.quantized:
            quantized = "a" if side_a.quantized else "b"
        return onnx_pairs(side_a.graph_order(), side_b.graph_order(), quantized)
    if onnx_a or onnx_b:
        torch_side, onnx_side = (side_b, side_a) if onnx_a else (side_a, side_b)
        return torch_onnx_pairs(torch_side.graph_order(), onnx_side.proto, "b" if onnx_a else "a")
    order = side_b.graph_order()
    return [Pair(name, op, name, name) for name, op in order]


def _update_layers(side_a, side_b, x, pairs, layers, tol, n) -> None:
    la, lb = side_a.run_layers(x), side_b.run_layers(x)
    quantized = pairs[0].post_qdq if pairs else None
    if quantized == "a":
        la = resolve(la, lb)
    elif quantized == "b":
        lb = resolve(lb, la)
    for pair in pairs:
        va, vb = la.get(pair.key_a), lb.get(pair.key_b)
        if va is None or vb is None or va.size != vb.size:
            continue
        if va.shape != vb.shape:
            va = va.reshape(vb.shape)
        stats = layers[pair.name]
        if not stats.total:
            stats.total = va.size * n // len(x)
        stats.update(va, vb, tol, channels=vb.shape[1] if vb.ndim > 2 else None)


class Agreement:
    """Top-1 agreement (classification) or pixel agreement and mIoU (segmentation)."""

    def __init__(self, has_targets: bool):
        self.has_targets = has_targets
        self.same = self.total = 0
        self.hits = {"a": 0, "b": 0}
        self.confusion: dict[str, np.ndarray] = {}
        self.task = "classification"

    def update(self, a: np.ndarray, b: np.ndarray, targets) -> None:
        """Fold in one batch of outputs [N, K] or [N, K, H, W]."""
        from toolkit.evaluate.metrics import confusion_matrix

        pa, pb = a.argmax(1), b.argmax(1)
        self.same += int((pa == pb).sum())
        self.total += pa.size
        if a.ndim == 4:
            self.task = "segmentation"
            k = a.shape[1]
            pairs = {"a": (pa, targets), "b": (pb, targets)} if self.has_targets else {}
            pairs = pairs or {"a_vs_b": (pa, pb)}
            for key, (pred, ref) in pairs.items():
                counts = confusion_matrix(pred, np.asarray(ref), k)
                self.confusion[key] = self.confusion.get(key, 0) + counts
        elif self.has_targets:
            self.hits["a"] += int((pa == targets).sum())
            self.hits["b"] += int((pb == targets).sum())

    def summary(self) -> dict:
        """Plain numbers for the report."""
        from toolkit.evaluate.metrics import mean_iou

        share = self.same / max(self.total, 1)
        if self.task == "segmentation":
            result = {"pixel_agreement": share}
            ious = {key: mean_iou(c) for key, c in self.confusion.items()}
            if "a" in ious:
                result.update(miou_a=ious["a"], miou_b=ious["b"], miou_delta=ious["a"] - ious["b"])
            else:
                result["miou_a_vs_b"] = ious.get("a_vs_b")
            return result
        result = {"top1_agreement": share}
        if self.has_targets:
            result.update(
                accuracy_a=self.hits["a"] / self.total, accuracy_b=self.hits["b"] / self.total
            )
        return result


def weight_rows(side_a, side_b) -> list[dict]:
    """Weight SQNR per Conv (float vs dequantised weights) when one ONNX side is QDQ."""
    onnx_sides = [s for s in (side_a, side_b) if hasattr(s, "proto")]
    if len(onnx_sides) != 2 or side_a.quantized == side_b.quantized:
        return []
    from toolkit.diff.weights import conv_weight_sqnr

    qdq, fp = (side_a, side_b) if side_a.quantized else (side_b, side_a)
    return conv_weight_sqnr(Path(fp.spec.source), Path(qdq.spec.source), fp.proto)


def open_side(spec: SideSpec, layers: bool = False):
    """An OnnxSide for .onnx files, a TorchSide (needs torch) for run folders and .pt files."""
    path = Path(spec.source)
    if not path.exists():
        raise CnnkitError(f"{spec.source}: no such file or folder")
    if spec.is_onnx:
        return OnnxSide.open(spec, layers)
    if path.is_dir() or path.suffix == ".pt":
        from toolkit.extras import require_extra

        require_extra("train", f"running the checkpoint {spec.source} (diff .onnx files instead)")
        from toolkit.diff.torch_side import TorchSide

        return TorchSide.open(spec, layers)
    raise CnnkitError(f"{spec.source}: expected an .onnx file, a run folder or a .pt checkpoint")
