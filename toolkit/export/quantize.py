"""`quantize_onnx`: fp32 .onnx -> INT8 (static QDQ or dynamic) or FP16, kept only if it agrees.

Static INT8 uses uint8 activations and per-channel int8 weights in QDQ format: on our CPU
that runs ResNet-18 2.6-2.9x faster than fp32, while int8 activations are slower than fp32.
Dynamic INT8 quantizes weights only and activations on the fly: meant for FC-heavy nets
(slow for conv nets). FP16 keeps float32 inputs/outputs; it pays off on CUDA, not on CPU.
"""

from __future__ import annotations

import time
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.export.auto import quantize_auto, refuse_explained
from toolkit.export.calibration import gather_samples
from toolkit.export.evaluate import side_by_side
from toolkit.export.files import publish, save_onnx, scratch_folder, staged
from toolkit.export.options import QuantizeOptions
from toolkit.export.qdq import (
    SUFFIX,
    QuantizeReport,
    check_options,
    metric_name,
    output_path,
    quantized_model,
)
from toolkit.export.status import status
from toolkit.onnxfile import load_onnx, read_metadata, write_metadata
from toolkit.progress import note

__all__ = ["QuantizeOptions", "QuantizeReport", "quantize_onnx"]


def quantize_onnx(
    model_path: str | Path,
    out: str | Path | None = None,
    options: QuantizeOptions | None = None,
    **keywords,
) -> QuantizeReport:
    """Quantize a .onnx file; refuse (nothing written) when agreement < min_agreement unless force.

    Samples come from the run's data (config.json beside the model, or `data`): calibration
    on the train split, the comparison on `split`. Otherwise on `calib_dir` images, compared
    on `eval_dir` images, or on a held-out part of `calib_dir` (never on an image calibrated
    on); then only agreement is measured. Preprocessing follows the file's own metadata
    wherever it lies, else what `interpret` decides from its graph. `explain`: a refusal
    (QuantizeRefused) names the worst layers and the command that keeps them in float.
    `auto` (AutoOptions): static INT8 keeping in float, step by step, the tensors it breaks.
    Keywords (mode=..., samples=..., quiet=...) apply on top of `options`.
    """
    options = (options or QuantizeOptions()).updated(**keywords)
    refuse_quantized(load_onnx(model_path), Path(model_path))
    if options.auto is not None:
        if options.mode != "static":
            raise CnnkitError(
                f"--auto keeps layers of a static INT8 model in float; not --mode {options.mode}"
            )
        return quantize_auto(model_path, out, options)
    start = time.perf_counter()
    check_options(options)
    mode, force, min_agreement = options.mode, options.force, options.min_agreement
    source = Path(model_path)
    proto = load_onnx(source)
    meta = read_metadata(proto)
    out = output_path(source, out, mode)
    calib, evaluation, meta, reading = gather_samples(source, meta, options)
    with scratch_folder("cnnkit-quant-") as work, staged(out) as tmp:
        with status(f"quantizing {source.name} ({mode})", options.quiet):
            quantized = quantized_model(
                source, Path(work), mode, options.calibration, calib, proto, reading
            )
        write_metadata(quantized, meta.replace(precision=SUFFIX[mode]))
        save_onnx(quantized, tmp)
        with status("comparing fp32 and quantized models", options.quiet):
            numbers = side_by_side(source, tmp, evaluation, meta.task, len(meta.classes))
        agreement = numbers["agreement"]
        if options.explain and mode == "static" and agreement < min_agreement and not force:
            prepared = Path(work) / "prepared.onnx"
            refuse_explained(prepared, tmp, calib, agreement, min_agreement, source, out)
        forced = _refuse_or_force(agreement, min_agreement, force, out)
        quant_bytes = tmp.stat().st_size
        publish(tmp, out)
    return QuantizeReport(
        path=out,
        source=source,
        mode=mode,
        calibration=options.calibration if mode == "static" else None,
        calib_samples=len(calib.x) if mode == "static" else 0,
        eval_source=evaluation.origin,
        eval_samples=len(evaluation.x),
        metric=None if evaluation.targets is None else metric_name(meta.task),
        fp32_bytes=reading.file_bytes,
        quant_bytes=quant_bytes,
        forced=forced,
        seconds=time.perf_counter() - start,
        **numbers,
    )


QUANTIZED_OPS = {
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
    "QLinearMatMul", "ConvInteger", "MatMulInteger",
}  # fmt: skip


def refuse_quantized(proto, source: Path) -> None:
    """One line when the file is already quantized: quantizing twice is never what was meant."""
    found = sorted({node.op_type for node in proto.graph.node} & QUANTIZED_OPS)
    if found or read_metadata(proto).precision == "int8":
        what = f" (it has {', '.join(found)} nodes)" if found else ""
        raise CnnkitError(
            f"{source}: is already quantized{what}; quantize the fp32 model it came from"
        )


def _refuse_or_force(agreement: float, minimum: float, force: bool, out: Path) -> bool:
    """Raise when agreement is too low (unless force); True when forced through."""
    if agreement >= minimum:
        return False
    if not force:
        raise CnnkitError(
            f"quantized model agrees with fp32 on only {agreement:.2%} of samples "
            f"(--min-agreement {minimum:.2%}); {out} not written (--force keeps it anyway)"
        )
    note(f"agreement {agreement:.2%} is below --min-agreement {minimum:.2%}; written (--force)")
    return True
