"""Accuracy-aware INT8: keep in float, one tensor at a time, what quantization breaks.

Each step quantizes (static QDQ), measures top-1 agreement with fp32 on held-out samples
and latency at a batch size, then ranks the still-quantized tensors by their worst-channel
SQNR against the float model (onnxruntime's qdq_loss_debug matching, on calibration
samples) and keeps the worst one in float: its producer and consumers join
`nodes_to_exclude`. The ranking is redone after every step, because keeping one tensor in
float moves the damage to the next quantized tensor that carries the same range.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.export.calibration import gather_samples
from toolkit.export.evaluate import EVAL_BATCH, cpu_session, side_by_side
from toolkit.export.files import publish, save_onnx, staged
from toolkit.export.options import AutoOptions, QuantizeOptions
from toolkit.export.qdq import (
    QuantizeReport,
    check_options,
    metric_name,
    output_path,
    pre_process,
    quantized_model,
)
from toolkit.onnxfile import load_onnx, read_metadata, write_metadata
from toolkit.progress import note

RANK_SAMPLES = 64  # calibration samples the layer ranking runs on
WORST_SHOWN = 5


@dataclass
class AutoStep:
    """One mix of INT8 and float: what is kept in float and how it does."""

    float_nodes: list[str]
    kept_tensor: str | None  # the tensor this step added to the float set
    agreement: float
    latency_ms: float  # p50 at the report's batch size

    def to_dict(self) -> dict:
        """Plain JSON."""
        return dict(self.__dict__)


@dataclass
class AutoResult:
    """Every step, the fp32 latency they are compared with, and the chosen one."""

    batch_size: int
    fp32_latency_ms: float
    steps: list[AutoStep] = field(default_factory=list)
    chosen: int | None = None

    def to_dict(self) -> dict:
        """Plain JSON."""
        return {
            "batch_size": self.batch_size,
            "fp32_latency_ms": self.fp32_latency_ms,
            "chosen": self.chosen,
            "steps": [s.to_dict() for s in self.steps],
        }


class AutoRefused(CnnkitError):
    """--auto found no mix to write; carries every step so that the CLI can show them."""

    def __init__(self, message: str, result: AutoResult):
        super().__init__(message)
        self.auto = result.to_dict()


class QuantizeRefused(CnnkitError):
    """A refused quantization, with the worst layers and the command that would fix them."""

    def __init__(self, message: str, worst: list[dict], command: str):
        super().__init__(message)
        self.worst, self.command = worst, command


def batch_latency_ms(path: Path, x: np.ndarray, batch: int, runs: int = 30) -> float:
    """Median wall time of one run at `batch` (samples repeated when there are fewer)."""
    from toolkit.timing import time_runs

    session = cpu_session(path)
    sample = np.resize(x, (batch, *x.shape[1:])).astype(np.float32)
    feed = {session.get_inputs()[0].name: sample}
    return time_runs(lambda: session.run(None, feed), warmup=3, iterations=runs).stats.p50_ms


def argmax_all(path: Path, x: np.ndarray) -> np.ndarray:
    """Argmax over axis 1 for every sample."""
    session = cpu_session(path)
    name = session.get_inputs()[0].name
    outs = [
        session.run(None, {name: x[i : i + EVAL_BATCH]})[0] for i in range(0, len(x), EVAL_BATCH)
    ]
    return np.concatenate(outs).argmax(1)


def rank_layers(float_path: Path, qdq_path: Path, x: np.ndarray) -> list[dict]:
    """Quantized activations, worst first by their own quantization noise (worst channel)."""
    import onnx

    from toolkit.runtime.qdq_noise import local_sqnr

    rows = local_sqnr(float_path, onnx.load(str(qdq_path), load_external_data=False), x)
    return sorted(rows, key=_badness)


def _badness(row: dict) -> float:
    value = row["worst_channel_sqnr_db"] if row["channels"] else row["sqnr_db"]
    return float("inf") if value is None else value


def nodes_around(proto, tensor: str) -> list[str]:
    """The nodes that produce or consume `tensor` (kept in float so it is never quantized)."""
    return [node.name for node in proto.graph.node if tensor in node.output or tensor in node.input]


def auto_steps(quantize_step, fp32: Path, prepared: Path, evaluation, calib, options, work):
    """Step until agreement >= options.min_agreement or nothing is left to keep in float
    (`options`: QuantizeOptions, its `auto` saying the batch size and the most steps).

    `quantize_step(exclude, target)` writes a QDQ file keeping the `exclude` nodes in
    float; step k's file is `work/step<k>.onnx`.
    """
    import onnx

    prepared_proto = onnx.load(str(prepared), load_external_data=False)
    reference = argmax_all(fp32, evaluation.x)
    batch, max_steps = options.auto.batch_size, options.auto.max_steps
    fp32_ms = batch_latency_ms(fp32, evaluation.x, batch)
    result = AutoResult(batch, fp32_ms)
    exclude: list[str] = []
    kept: str | None = None
    for step in range(max_steps + 1):
        target = step_file(work, step)
        quantize_step(exclude, target)
        agreement = float((argmax_all(target, evaluation.x) == reference).mean())
        latency = batch_latency_ms(target, evaluation.x, batch)
        result.steps.append(AutoStep(list(exclude), kept, agreement, latency))
        if not options.quiet:
            note(
                f"step {step}: {len(exclude)} nodes in float, agreement {agreement:.2%}, "
                f"{latency:.3f} ms at batch {batch}"
            )
        if agreement >= options.min_agreement:
            result.chosen = step
            break
        ranking = rank_layers(prepared, target, calib.x[:RANK_SAMPLES])
        fresh = [r for r in ranking if set(nodes_around(prepared_proto, r["name"])) - set(exclude)]
        if not fresh:
            break
        kept = fresh[0]["name"]
        exclude += [n for n in nodes_around(prepared_proto, kept) if n not in exclude]
    return result


def step_file(work: Path, step: int) -> Path:
    """Where step `step` writes its QDQ file."""
    return work / f"step{step}.onnx"


def verdict(result: AutoResult, minimum: float, force: bool, out: Path) -> int:
    """The step to write; raises (nothing written) when no mix is good enough, unless force."""
    best = max(range(len(result.steps)), key=lambda i: result.steps[i].agreement)
    b, fp32_ms = result.batch_size, result.fp32_latency_ms
    if result.chosen is None:
        step = result.steps[best]
        message = (
            f"even with {len(step.float_nodes)} nodes in float, agreement is only "
            f"{step.agreement:.2%} (--min-agreement {minimum:.2%})"
        )
    else:
        step = result.steps[result.chosen]
        if step.latency_ms < fp32_ms:
            return result.chosen
        message = (
            f"no mix of INT8 and float beats fp32 here: the first to reach {minimum:.2%} "
            f"agreement ({len(step.float_nodes)} nodes in float) takes {step.latency_ms:.3f} ms "
            f"at batch {b} vs fp32 {fp32_ms:.3f} ms; keep the fp32 model"
        )
    if not force:
        raise AutoRefused(f"{message}; {out} not written (--force writes it anyway)", result)
    note(f"{message}; written anyway (--force)")
    return best if result.chosen is None else result.chosen


def refuse_explained(fp32, qdq, calib, agreement: float, minimum: float, model, out) -> None:
    """Raise QuantizeRefused with the five worst tensors and the command that fixes them."""
    worst = rank_layers(fp32, qdq, calib.x[:RANK_SAMPLES])[:WORST_SHOWN]
    command = f"cnnkit quantize {model} --auto --min-agreement {minimum:g}"
    raise QuantizeRefused(
        f"quantized model agrees with fp32 on only {agreement:.2%} of samples "
        f"(--min-agreement {minimum:.2%}); {out} not written (--force keeps it anyway)",
        worst,
        command,
    )


def quantize_auto(model_path: str | Path, out: str | Path | None, options: QuantizeOptions):
    """Static INT8 that keeps in float, step by step, the tensors it breaks (a QuantizeReport);
    `options.auto` (AutoOptions) says where latency is measured and the most steps."""
    import shutil

    start = time.perf_counter()
    options = dataclasses.replace(options, mode="static", auto=options.auto or AutoOptions())
    check_options(options)
    if options.auto.batch_size < 1 or options.auto.max_steps < 0:
        raise CnnkitError("--batch-size must be at least 1 and --max-steps at least 0")
    source = Path(model_path)
    proto = load_onnx(source)
    meta = read_metadata(proto)
    out = output_path(source, out, "static")
    calib, evaluation, meta, reading = gather_samples(source, meta, options)
    with tempfile.TemporaryDirectory(prefix="cnnkit-auto-") as tmpdir, staged(out) as tmp:
        work = Path(tmpdir)
        prepared = pre_process(source, work / "auto-prepared.onnx")
        calibration = options.calibration

        def quantize_step(exclude: list[str], target: Path) -> None:
            quantized = quantized_model(
                source, work, "static", calibration, calib, proto, reading, exclude
            )
            write_metadata(quantized, meta.replace(precision="int8"))
            save_onnx(quantized, target)

        result = auto_steps(quantize_step, source, prepared, evaluation, calib, options, work)
        chosen = verdict(result, options.min_agreement, options.force, out)
        shutil.copyfile(step_file(work, chosen), tmp)
        numbers = side_by_side(source, tmp, evaluation, meta.task, len(meta.classes))
        quant_bytes = tmp.stat().st_size
        publish(tmp, out)
    return QuantizeReport(
        path=out,
        source=source,
        mode="static",
        calibration=calibration,
        calib_samples=len(calib.x),
        eval_source=evaluation.origin,
        eval_samples=len(evaluation.x),
        metric=None if evaluation.targets is None else metric_name(meta.task),
        fp32_bytes=reading.file_bytes,
        quant_bytes=quant_bytes,
        forced=_forced(result, chosen),
        seconds=time.perf_counter() - start,
        auto=result.to_dict(),
        **numbers,
    )


def _forced(result: AutoResult, chosen: int) -> bool:
    """True when the written mix missed the agreement or the speed it was asked for."""
    return result.chosen is None or result.steps[chosen].latency_ms >= result.fp32_latency_ms
