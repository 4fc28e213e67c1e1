"""`make bench`: every comparison measured in one run, written to REPORT.md and report.json.

    python -m toolkit.bench.report --out bench          # the real numbers, 3-5 minutes
    python -m toolkit.bench.report --out /tmp/b --quick # tiny models and counts, seconds

Order: how busy the machine is (load, usable cores: a warning when other work competes),
onnxruntime's own Conv/MatMul peak, train a ResNet-18 briefly on digits (fit vs a bare
loop), export and quantize it (int8 vs fp32 with top-1 agreement, then layer by layer
with `cnnkit diff`), ResNet-18 at 224 through onnxruntime and torch eager, the runner
from PNG files and from 12 MP JPEGs against raw session.run, scaled vs full JPEG decoding
(LeNet-5 top-1 agreement), `cnnkit serve` under load against raw session.run, achieved
GFLOP/s against the peak, and a fresh torch-free runtime process against a fresh torch
process.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit.bench import decode_cases, sections
from toolkit.bench.cold_start import cold_starts
from toolkit.bench.int8_layers import draw, int8_layerwise
from toolkit.bench.machine import announce, describe_machine, machine_state
from toolkit.bench.peak import measure_peak
from toolkit.bench.serve_speed import serve_vs_raw
from toolkit.errors import CnnkitError
from toolkit.progress import note


@dataclass(frozen=True)
class ReportPlan:
    """Models, sizes and counts of one report."""

    digits_model: str = "resnet18"
    digits_input: tuple[int, int, int] = (1, 32, 32)
    epochs: int = 5  # enough for the int8 agreement to reflect a trained model
    train_batch: int = 64
    limit: int | None = None  # samples per split (quick runs)
    eager_model: str | None = "resnet18"  # None: reuse the digits model
    eager_input: tuple[int, int, int] = (3, 224, 224)
    eager_batches: tuple[int, ...] = (1, 8)
    threads: int = 2
    warmup: int = 10  # the same counts as `cnnkit bench`
    iterations: int = 50
    runner_images: int = 256  # 32 batches: the runner's cold first batch is a small share
    runner_batch: int = 8
    process_repeats: int = 3
    peak_size: int = 2048
    parity: bool = True  # export's torch-vs-ORT check of the trained model
    serve_duration_s: float = 10.0  # per load level of the serving section
    serve_batch: int = 16  # --max-batch at concurrency 16, and the raw batch it is held to
    serve_concurrency: int = 16
    serve_delay_ms: float = 5.0
    small_batch: int = 64  # LeNet-5: --max-batch 64 vs 1 at concurrency 64
    small_concurrency: int = 64
    diff_samples: int = 64  # digits test images of the layer-by-layer int8 diff
    photos: int = 64  # 12 MP JPEGs for the runner (8 batches)
    photos_full: int = 16  # of them, also through the exact full-decode path
    photo_size: tuple[int, int] = (4000, 3000)  # (W, H)
    accuracy_epochs: int = 5  # LeNet-5 on digits for the scaled-vs-full agreement
    accuracy_images: int | None = None  # None: the whole digits test split


QUICK = ReportPlan(
    digits_model="lenet",
    epochs=1,
    limit=128,
    eager_model=None,
    warmup=1,
    iterations=3,
    runner_images=16,
    process_repeats=1,
    peak_size=512,
    parity=False,
    serve_duration_s=0.5,
    serve_batch=4,
    serve_concurrency=4,
    small_batch=8,
    small_concurrency=8,
    photos=8,
    photos_full=8,
    photo_size=(800, 600),
    accuracy_epochs=1,
    accuracy_images=32,
)


class Steps:
    """Numbered progress lines on stderr with the elapsed time."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def __call__(self, title: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        note(f"[{self.done}/{self.total}] {title} (at {elapsed:.0f} s)")

    @property
    def seconds(self) -> float:
        """Seconds since the first step."""
        return time.perf_counter() - self.start


def random_checkpoint(name: str, size: tuple[int, int, int], folder: Path) -> Path:
    """A checkpoint of a zoo model with seeded random weights (1000 classes, ImageNet stats)."""
    import torch

    from toolkit import models
    from toolkit.runtime.preprocess import IMAGENET_MEAN, IMAGENET_STD
    from toolkit.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = models.build(name, num_classes=1000, in_channels=size[0])
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model": name,
        "model_args": {"num_classes": 1000, "in_channels": size[0]},
        "task": "classification",
        "classes": [str(i) for i in range(1000)],
        "input_size": list(size),
        "mean": list(IMAGENET_MEAN[: size[0]]),
        "std": list(IMAGENET_STD[: size[0]]),
        "state_dict": model.state_dict(),
    }
    return save_checkpoint(checkpoint, folder / "best.pt")


def export(source: Path, out: Path, parity: bool = True) -> Path:
    """toolkit.export of a run folder or checkpoint to `out`."""
    from toolkit.export import export_onnx

    return export_onnx(source, out=out, parity=parity, quiet=True).path


def measure_all(plan: ReportPlan, work: Path, steps: Steps) -> dict:
    """Run every comparison in order; plain numbers keyed by section."""
    from toolkit.bench.train_speed import training_speed

    # First, while no torch or onnxruntime thread pool is alive to compete with numpy's BLAS.
    steps("onnxruntime's float32 peak (large Conv and MatMul, the models' threads)")
    peak = measure_peak(size=plan.peak_size, threads=plan.threads)
    steps(f"training {plan.digits_model} on digits: fit vs a bare PyTorch loop")
    speed, run_dir = training_speed(
        plan.digits_model,
        plan.digits_input,
        epochs=plan.epochs,
        batch=plan.train_batch,
        limit=plan.limit,
        threads=plan.threads,
        runs_dir=work / "runs",
    )
    steps("export + static int8 quantization; int8 vs fp32")
    digits_onnx = export(run_dir, run_dir / "model.onnx", parity=plan.parity)
    int8 = sections.int8_vs_fp32(digits_onnx, plan.digits_input, plan)
    steps("int8 vs fp32 layer by layer (cnnkit diff --layerwise)")
    int8_file = digits_onnx.with_name(int8["int8_file"])
    layers = int8_layerwise(digits_onnx, int8_file, plan.diff_samples)
    if plan.eager_model:
        steps(f"{plan.eager_model} {plan.eager_input}: onnxruntime vs torch eager")
        checkpoint = random_checkpoint(plan.eager_model, plan.eager_input, work / "eager")
        eager_onnx = export(checkpoint, work / "eager" / "model.onnx", parity=False)
        eager_size = plan.eager_input
    else:
        steps(f"{plan.digits_model}: onnxruntime vs torch eager")
        checkpoint, eager_onnx, eager_size = run_dir / "best.pt", digits_onnx, plan.digits_input
    eager = sections.ort_vs_eager(eager_onnx, checkpoint, plan)
    steps("runner end to end from PNG files vs raw session.run")
    runner = sections.runner_vs_raw(eager_onnx, eager_size, plan, work)
    steps("cnnkit serve vs raw session.run; LeNet-5 batching vs --max-batch 1")
    serving = serve_vs_raw(eager_onnx, eager_size, plan, work)
    steps(f"runner on {plan.photos} JPEGs of {plan.photo_size[0]}x{plan.photo_size[1]}")
    photos = decode_cases.photos_vs_raw(eager_onnx, plan, work)
    steps("scaled vs full JPEG decoding: LeNet-5 top-1 on 12 MP digits")
    agreement = decode_cases.decode_agreement(plan, work)
    eager_label = f"{plan.eager_model or plan.digits_model} {'x'.join(map(str, eager_size))}"
    digits_label = f"{plan.digits_model} {'x'.join(map(str, plan.digits_input))} (digits)"
    fp32_digits = [e for e in int8["entries"] if e["model"] == str(digits_onnx)]
    # int8 kernels are not bound by the float32 peak, so only fp32 files are compared to it.
    groups = {eager_label: eager["entries"], digits_label: fp32_digits}
    achieved = sections.achieved_vs_peak(groups, peak)
    steps("fresh runtime process vs fresh torch process")
    image = sections.write_pngs(work / "one", plan.digits_input, 1)[0]
    processes = cold_starts(
        digits_onnx,
        run_dir / "best.pt",
        image,
        threads=plan.threads,
        repeats=plan.process_repeats,
    )
    return {
        "ort_vs_eager": {"model": plan.eager_model or plan.digits_model, **eager},
        "int8_vs_fp32": {"model": plan.digits_model, **int8},
        "int8_layers": {"model": plan.digits_model, "int8_file": int8["int8_file"], "diff": layers},
        "runner_vs_raw": {"model": plan.eager_model or plan.digits_model, **runner},
        "serve_vs_raw": {"model": plan.eager_model or plan.digits_model, **serving},
        "photos_vs_raw": {"model": plan.eager_model or plan.digits_model, **photos},
        "decode_agreement": agreement,
        "achieved_vs_peak": achieved,
        "processes": {"model": plan.digits_model, **processes},
        "training": speed.to_dict(),
    }


def build_report(out: str | Path, quick: bool = False, plan: ReportPlan | None = None) -> dict:
    """Measure everything and write OUT/report.json and OUT/REPORT.md; the report dict."""
    from toolkit.bench.report_md import render_markdown

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CnnkitError(f"--out {out}: is a file, expected a folder")
    plan = plan or (QUICK if quick else ReportPlan())
    machine = describe_machine()  # before timing: load average and usable cores
    announce(machine["state"])
    steps = Steps(total=10)
    with tempfile.TemporaryDirectory(prefix="cnnkit-bench-") as work:
        measured = measure_all(plan, Path(work), steps)
    machine["state_after"] = machine_state()
    report = {
        "quick": quick,
        "machine": machine,
        "plan": asdict(plan),
        "seconds": steps.seconds,
        "sections": measured,
    }
    out.mkdir(parents=True, exist_ok=True)
    measured["int8_layers"]["png"] = draw(measured["int8_layers"], out)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "REPORT.md").write_text(render_markdown(report))
    note(f"wrote {out / 'REPORT.md'} and {out / 'report.json'} in {steps.seconds:.0f} s")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: `python -m toolkit.bench.report --out bench [--quick]`."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.bench.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="bench", help="Folder for REPORT.md and report.json.")
    parser.add_argument("--quick", action="store_true", help="Tiny models and counts (tests).")
    args = parser.parse_args(argv)
    try:
        build_report(args.out, quick=args.quick)
    except CnnkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
