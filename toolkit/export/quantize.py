"""`quantize_onnx`: fp32 .onnx -> INT8 (static QDQ or dynamic) or FP16, kept only if it agrees.

Static INT8 uses uint8 activations and per-channel int8 weights in QDQ format: on our CPU
that runs ResNet-18 2.6-2.9x faster than fp32, while int8 activations are slower than fp32.
Dynamic INT8 quantizes weights only and activations on the fly: meant for FC-heavy nets
(slow for conv nets). FP16 keeps float32 inputs/outputs; it pays off on CUDA, not on CPU.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.export.calibration import (
    BatchReader,
    Samples,
    folder_samples,
    held_out,
    run_data,
    split_samples,
)
from toolkit.export.evaluate import side_by_side
from toolkit.export.files import check_output_path, publish, save_onnx, scratch_folder, staged
from toolkit.export.status import captured_chatter, status
from toolkit.meta import ModelMeta
from toolkit.onnxfile import load_onnx, read_metadata, write_metadata
from toolkit.progress import note

MODES = ("static", "dynamic", "fp16")
CALIBRATIONS = ("minmax", "entropy", "percentile")
SUFFIX = {"static": "int8", "dynamic": "int8", "fp16": "fp16"}


@dataclass
class QuantizeReport:
    """The quantized file and how it compares with the fp32 model on the same samples."""

    path: Path
    source: Path
    mode: str
    calibration: str | None  # None for dynamic and fp16
    calib_samples: int
    eval_source: str
    eval_samples: int
    metric: str | None  # "accuracy" | "miou" | None when the samples have no targets
    fp32_metric: float | None
    quant_metric: float | None
    agreement: float  # top-1 (or per-pixel argmax) agreement with fp32
    fp32_bytes: int
    quant_bytes: int
    fp32_latency_ms: float  # batch 1, median
    quant_latency_ms: float
    forced: bool = False  # written with --force despite agreement below --min-agreement
    seconds: float = 0.0
    auto: dict | None = None  # --auto: the steps (toolkit.export.auto.AutoResult.to_dict)

    @property
    def speedup(self) -> float:
        """fp32 latency / quantized latency at batch 1."""
        return self.fp32_latency_ms / self.quant_latency_ms

    def to_dict(self) -> dict:
        """JSON-ready: paths as strings, speedup included."""
        data = dataclasses.asdict(self)
        data.update(path=str(self.path), source=str(self.source), speedup=self.speedup)
        return data


def quantize_onnx(
    model_path: str | Path,
    out: str | Path | None = None,
    *,
    mode: str = "static",
    calibration: str = "minmax",
    samples: int = 256,
    calib_dir: str | Path | None = None,
    eval_dir: str | Path | None = None,
    data: str | None = None,
    split: str = "val",
    min_agreement: float = 0.98,
    force: bool = False,
    quiet: bool = False,
    explain: bool = False,
) -> QuantizeReport:
    """Quantize a .onnx file; refuse (nothing written) when agreement < min_agreement unless force.

    Samples come from the run's data (config.json beside the model, or `data`): calibration
    on the train split, the comparison on `split`. Otherwise on `calib_dir` images, compared
    on `eval_dir` images, or on a held-out part of `calib_dir` (never on an image calibrated
    on); then only agreement is measured. Preprocessing follows the file's own metadata
    wherever it lies, else what `interpret` decides from its graph. `explain`: a refusal
    (QuantizeRefused) names the worst layers and the command that keeps them in float.
    """
    start = time.perf_counter()
    _check_options(mode, calibration, samples, min_agreement)
    source = Path(model_path)
    proto = load_onnx(source)
    meta = read_metadata(proto)
    out = check_output_path(out or source.with_name(f"{_stem(source)}.{SUFFIX[mode]}.onnx"))
    if out.resolve() == source.resolve():
        raise CnnkitError(f"output {out} would overwrite the fp32 model; choose another --out")
    folders = (calib_dir, eval_dir)
    calib, evaluation, meta, reading = _samples(source, meta, data, split, folders, samples, quiet)
    with scratch_folder("cnnkit-quant-") as work, staged(out) as tmp:
        with status(f"quantizing {source.name} ({mode})", quiet):
            quantized = _quantize(source, Path(work), mode, calibration, calib, proto, reading)
        write_metadata(quantized, meta.replace(precision=SUFFIX[mode]))
        save_onnx(quantized, tmp)
        with status("comparing fp32 and quantized models", quiet):
            numbers = side_by_side(source, tmp, evaluation, meta.task, len(meta.classes))
        if explain and mode == "static" and numbers["agreement"] < min_agreement and not force:
            from toolkit.export.auto import refuse_explained

            prepared = Path(work) / "prepared.onnx"
            refuse_explained(prepared, tmp, calib, numbers["agreement"], min_agreement, source, out)
        forced = _refuse_or_force(numbers["agreement"], min_agreement, force, out)
        quant_bytes = tmp.stat().st_size
        publish(tmp, out)
    return QuantizeReport(
        path=out,
        source=source,
        mode=mode,
        calibration=calibration if mode == "static" else None,
        calib_samples=len(calib.x) if mode == "static" else 0,
        eval_source=evaluation.origin,
        eval_samples=len(evaluation.x),
        metric=None if evaluation.targets is None else _metric_name(meta.task),
        fp32_bytes=reading.file_bytes,
        quant_bytes=quant_bytes,
        forced=forced,
        seconds=time.perf_counter() - start,
        **numbers,
    )


def _check_options(mode: str, calibration: str, samples: int, min_agreement: float) -> None:
    if mode not in MODES:
        raise CnnkitError(f"--mode {mode!r}: expected one of {', '.join(MODES)}")
    if calibration not in CALIBRATIONS:
        raise CnnkitError(
            f"--calibration {calibration!r}: expected one of {', '.join(CALIBRATIONS)}"
        )
    if samples < 1:
        raise CnnkitError(f"--samples must be at least 1, got {samples}")
    if not 0.0 <= min_agreement <= 1.0:
        raise CnnkitError(f"--min-agreement must lie in 0..1, got {min_agreement}")


def _stem(path: Path) -> str:
    return path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.stem


def _metric_name(task: str) -> str:
    return "miou" if task == "segmentation" else "accuracy"


def _reading(source: Path):
    """How images go into the model (interpret); one line when quantize cannot take it."""
    from toolkit.runtime.interpret import interpret

    reading = interpret(source)
    if len(reading.inputs) > 1:
        names = ", ".join(t.name for t in reading.inputs)
        raise CnnkitError(f"{source}: quantize takes single-input models; this one has {names}")
    reading.require_runnable()
    if reading.input_dtype != "float32":
        raise CnnkitError(
            f"{source}: input {reading.image_input!r} is {reading.input_dtype}; "
            "quantize takes float32 models"
        )
    return reading


def _samples(source, meta, data, split, folders, samples, quiet):
    """(calibration samples, evaluation samples, completed metadata, the input reading)."""
    calib_dir, eval_dir = folders
    reading = _reading(source)
    spec = reading.spec
    if reading.note_line():
        note(reading.note_line())
    full = meta.completed(ModelMeta.from_spec(spec))  # the file's own metadata wins
    data, seed = run_data(source, data)
    known = bool(data) and not meta.foreign  # the run's data, preprocessed by the file's meta
    if eval_dir and not calib_dir:
        raise CnnkitError("--eval-dir compares on images; give --calib-dir to calibrate on too")
    if calib_dir:
        if eval_dir:
            calib = folder_samples(calib_dir, reading, samples)
            evaluation = folder_samples(eval_dir, reading)
        elif known:
            calib = folder_samples(calib_dir, reading, samples)
            evaluation = split_samples(data, split, full, seed)
        else:
            calib, evaluation = held_out(calib_dir, reading, samples, seed)
        if not quiet:
            note(f"calibrating on {len(calib.x)} images ({calib.origin}), "
                 f"comparing on {len(evaluation.x)} others ({evaluation.origin})")  # fmt: skip
        return calib, evaluation, full, reading
    if known:
        calib = split_samples(data, "train", full, seed, samples)
        return calib, split_samples(data, split, full, seed), full, reading
    what = "it carries cnnkit metadata but" if not meta.foreign else "no cnnkit metadata, and"
    raise CnnkitError(
        f"{source}: no samples to calibrate and compare with: {what} no run config.json with "
        "`data` lies beside it; pass --data SOURCE (e.g. digits) or --calib-dir IMAGES"
    )


def _quantize(
    source: Path,
    work: Path,
    mode: str,
    calibration: str,
    calib: Samples,
    proto,
    reading,
    exclude=None,
):
    """The quantized ModelProto (onnxruntime.quantization does the work); `exclude`: nodes
    kept in float (static mode)."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    if mode == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        with captured_chatter():
            return convert_float_to_float16(proto, keep_io_types=True)
    if reading.file_bytes > source.stat().st_size:  # ORT's optimiser loses external data
        source = work / "inline.onnx"
        save_onnx(proto, source)
    prepared = _pre_process(source, work / "prepared.onnx")
    target = work / "quantized.onnx"
    with captured_chatter():
        if mode == "dynamic":
            quantize_dynamic(prepared, target, per_channel=False, weight_type=QuantType.QInt8)
        else:
            quantize_static(
                prepared,
                target,
                calibration_reader(reading, calib),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=_calibrate_method(calibration),
                nodes_to_exclude=list(exclude or []),
            )
    return onnx.load(str(target))


def calibration_reader(reading, calib: Samples) -> BatchReader:
    """Batches of 16, or of the model's fixed batch (full ones only)."""
    first = reading.input_info().shape[0]
    if isinstance(first, int) and first > 0:
        if len(calib.x) < first:
            raise CnnkitError(
                f"the model takes batches of exactly {first}; calibrate on at least {first} images"
            )
        return BatchReader(reading.image_input, calib.x, batch=first, exact=True)
    return BatchReader(reading.image_input, calib.x)


def _calibrate_method(name: str):
    from onnxruntime.quantization import CalibrationMethod

    return {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[name]


def _pre_process(source: Path, target: Path) -> Path:
    """quant_pre_process (ONNX shape inference + ORT graph optimisation) before quantizing.

    onnxruntime's symbolic shape inference is skipped: it exists for transformer graphs
    (ONNX's own inference covers our CNNs), and when it gives up it dumps
    sym_shape_infer_temp.onnx and a <uuid>.data copy of the weights into the working folder.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with captured_chatter():
        quant_pre_process(source, target, skip_symbolic_shape=True)
    return target


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
