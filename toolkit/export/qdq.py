"""The steps quantize_onnx and quantize_auto share: options checked, the output path, the
onnxruntime.quantization calls (pre-process; static QDQ, dynamic or FP16), the report.

Torch-free: everything here works from the .onnx file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from toolkit.confidence import small_sample_caveat
from toolkit.errors import CnnkitError
from toolkit.export.calibration import BatchReader, Samples
from toolkit.export.files import check_output_path, save_onnx
from toolkit.export.options import QuantizeOptions
from toolkit.export.status import captured_chatter

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

    @property
    def caveats(self) -> list[str]:
        """Warnings for figures that rest on too few samples (printed, and in the JSON)."""
        rates = {"agreement": self.agreement}
        if self.metric == "accuracy":  # mIoU pools pixels: no binomial interval
            rates.update(
                {"fp32 accuracy": self.fp32_metric, "quantized accuracy": self.quant_metric}
            )
        found = (small_sample_caveat(what, rate, self.eval_samples) for what, rate in rates.items())
        return [line for line in found if line]

    def to_dict(self) -> dict:
        """JSON-ready: paths as strings, speedup and caveats included."""
        data = dataclasses.asdict(self)
        data.update(path=str(self.path), source=str(self.source), speedup=self.speedup)
        return {**data, "caveats": self.caveats}


def check_options(options: QuantizeOptions) -> None:
    """One line naming the first option out of range."""
    mode, calibration = options.mode, options.calibration
    samples, min_agreement = options.samples, options.min_agreement
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


def output_path(source: Path, out: str | Path | None, mode: str) -> Path:
    """--out, else MODEL.int8.onnx / MODEL.fp16.onnx beside it; never the fp32 file itself."""
    out = check_output_path(out or source.with_name(f"{_stem(source)}.{SUFFIX[mode]}.onnx"))
    if out.resolve() == source.resolve():
        raise CnnkitError(f"output {out} would overwrite the fp32 model; choose another --out")
    return out


def _stem(path: Path) -> str:
    return path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.stem


def metric_name(task: str) -> str:
    """The quality metric of a task: accuracy, or mIoU for segmentation."""
    return "miou" if task == "segmentation" else "accuracy"


def quantized_model(
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
    kept in float (static mode); `work`: a scratch folder (prepared.onnx is left there)."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    if mode == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        with captured_chatter():
            return convert_float_to_float16(proto, keep_io_types=True)
    if reading.file_bytes > source.stat().st_size:  # ORT's optimiser loses external data
        source = work / "inline.onnx"
        save_onnx(proto, source)
    prepared = pre_process(source, work / "prepared.onnx")
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
                calibrate_method=calibrate_method(calibration),
                nodes_to_exclude=[*(exclude or []), *wrapper_nodes(proto)],
            )
    return onnx.load(str(target))


def wrapper_nodes(proto) -> list[str]:
    """The nodes a self-contained file adds around the model (kept in float by quantize)."""
    from toolkit.export.embed import POST, PRE

    return [node.name for node in proto.graph.node if node.name.startswith((PRE, POST))]


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


def calibrate_method(name: str):
    """onnxruntime's CalibrationMethod for --calibration NAME."""
    from onnxruntime.quantization import CalibrationMethod

    return {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[name]


def pre_process(source: Path, target: Path) -> Path:
    """quant_pre_process (ONNX shape inference + ORT graph optimisation) before quantizing.

    onnxruntime's symbolic shape inference is skipped: it exists for transformer graphs
    (ONNX's own inference covers our CNNs), and when it gives up it dumps
    sym_shape_infer_temp.onnx and a <uuid>.data copy of the weights into the working folder.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with captured_chatter():
        quant_pre_process(source, target, skip_symbolic_shape=True)
    return target
