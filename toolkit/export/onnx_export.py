"""`export_onnx`: source -> checked, described, parity-verified .onnx file, written atomically."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from toolkit.errors import CnnkitError
from toolkit.export.convert import EXAMPLE_BATCH, exportable_copy, to_onnx
from toolkit.export.files import check_output_path, publish, save_onnx, staged
from toolkit.export.options import ExportOptions, ModelOverrides
from toolkit.export.parity import check_parity
from toolkit.export.simplify import node_count
from toolkit.export.simplify import simplify as slim
from toolkit.export.source import ExportSource, from_module, resolve_source
from toolkit.export.status import status
from toolkit.meta import ModelMeta
from toolkit.onnxfile import model_bytes, write_metadata


@dataclass
class ExportReport:
    """What `export_onnx` wrote and how well the file matches the torch model."""

    path: Path
    model: str
    task: str
    input_size: list[int]
    opset: int
    requested_opset: int | None
    exporter: str  # "dynamo" | "torchscript"
    parity: list[dict] = field(default_factory=list)  # one row per tested shape (and stage)
    nodes: dict[str, int] = field(
        default_factory=dict
    )  # "exported" and, with simplify, "simplified"
    size_bytes: int = 0
    external_data: bool = False
    seconds: float = 0.0
    atol: float = 1e-4  # the parity tolerances the rows were judged by
    rtol: float = 1e-3

    @property
    def parity_ok(self) -> bool:
        """True when every parity row is within tolerance (vacuously true with parity off)."""
        return all(row["ok"] for row in self.parity)

    def to_dict(self) -> dict:
        """JSON-ready: paths as strings."""
        data = dataclasses.asdict(self)
        data["path"] = str(self.path)
        data["parity_ok"] = self.parity_ok
        return data


def export_onnx(
    source: str | Path,
    out: str | Path | None = None,
    options: ExportOptions | None = None,
    **keywords,
) -> ExportReport:
    """Export a run folder, checkpoint, zoo name or `package.module:factory` to ONNX;
    nothing is written unless parity holds.

    Zoo names get seeded random weights (or --weights) and are written to `<name>.onnx`
    in the current folder (never into runs/, where a trained run of the same name may live).
    Keywords (opset=..., num_classes=..., quiet=...) apply on top of `options`.
    """
    start = time.perf_counter()
    options = (options or ExportOptions()).updated(**keywords)
    src = resolve_source(source, options.overrides)
    return export_resolved(src, out, options, start)


def export_module(
    module: torch.nn.Module,
    input_size: tuple[int, int, int],
    out: str | Path | None = None,
    *,
    meta: dict | None = None,
    options: ExportOptions | None = None,
    **keywords,
) -> ExportReport:
    """Export any nn.Module as the zoo is exported: parity-checked, described, dynamic batch.

    `meta` may give task, classes, mean, std and model (a name); the rest is defaulted
    and announced. The file goes to `out`, else `<ClassName>.onnx` in the current folder.
    Keywords (opset=..., simplify=..., quiet=...) apply on top of `options`; the source
    overrides of ExportOptions do not apply (`meta` and `input_size` say it all).
    """
    start = time.perf_counter()
    options = (options or ExportOptions()).updated(**keywords)
    if options.overrides != ModelOverrides():
        raise TypeError("export_module: describe the module with meta= and input_size")
    src = from_module(module, input_size, meta)
    return export_resolved(src, out, options, start)


def export_resolved(
    src: ExportSource, out: str | Path | None, options: ExportOptions, start: float
) -> ExportReport:
    """A resolved source converted, described, (simplified,) parity-checked and published."""
    opset, simplify, parity = options.opset, options.simplify, options.parity
    atol, rtol, quiet = options.atol, options.rtol, options.quiet
    external_data = options.external_data
    out = check_output_path(out or src.default_out)
    meta, size, task = src.meta, src.meta.input_size, src.meta.task
    model = exportable_copy(src.model)
    example = torch.randn(EXAMPLE_BATCH, *size, generator=torch.Generator().manual_seed(0))
    with status(f"exporting {meta.model} to ONNX", quiet):
        converted = to_onnx(model, example, task, opset)
    proto = described(converted.proto, meta)
    nodes = {"exported": node_count(proto)}
    rows: list[dict] = []
    if simplify:
        if parity:
            rows += _parity(model, proto.SerializeToString(), size, task, atol, rtol, "exported")
        with status("simplifying with onnxslim", quiet):
            proto = described(slim(proto), meta)
        nodes["simplified"] = node_count(proto)
    with staged(out) as tmp:
        save_onnx(proto, tmp, external_data)
        _check(tmp)
        if parity:
            stage = "simplified" if simplify else "exported"
            with status("checking parity with onnxruntime", quiet):
                rows += _parity(model, str(tmp), size, task, atol, rtol, stage)
        _refuse_on_mismatch(rows, atol, rtol, out)
        size_bytes = model_bytes(tmp)
        publish(tmp, out)
    return ExportReport(
        path=out,
        model=meta.model,
        task=task,
        input_size=list(size),
        opset=converted.opset,
        requested_opset=opset,
        exporter=converted.exporter,
        parity=rows,
        nodes=nodes,
        size_bytes=size_bytes,
        external_data=external_data,
        seconds=time.perf_counter() - start,
        atol=atol,
        rtol=rtol,
    )


def described(proto, meta: ModelMeta):
    """The model with shape inference stored in it and the cnnkit metadata set."""
    import onnx

    proto = onnx.shape_inference.infer_shapes(proto, check_type=True, data_prop=True)
    write_metadata(proto, meta)
    proto.producer_name = "cnnkit"
    return proto


def _check(path: Path) -> None:
    """onnx's full checker (with strict shape inference) on the file as written."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise CnnkitError(f"exported graph fails onnx.checker: {first}; nothing written") from None


def _parity(model, onnx_model, size, task, atol, rtol, stage) -> list[dict]:
    rows = check_parity(model, onnx_model, size, task, atol, rtol)
    return [{"stage": stage, **row} for row in rows]


def _refuse_on_mismatch(rows: list[dict], atol: float, rtol: float, out: Path) -> None:
    bad = [row for row in rows if not row["ok"]]
    if bad:
        worst = max(bad, key=lambda row: row["max_abs"])
        shape = "x".join(map(str, worst["shape"]))
        raise CnnkitError(
            f"parity check failed ({worst['stage']}, input {shape}): max abs error "
            f"{worst['max_abs']:.3g}, max rel {worst['max_rel']:.3g} beyond atol {atol:g} / "
            f"rtol {rtol:g}; {out} not written"
        )
