"""`cnnkit demo`: the whole pipeline on built-in data, one stage function per step.

train (LeNet-5 on digits, an FCN on digit-scenes) -> export with parity -> INT8 ->
profile -> bench fp32 / INT8 / torch eager -> infer over PNG files (plus broken ones),
scored against the labels -> runs/demo/REPORT.md.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from toolkit.demo import samples
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runfolder import RunFolder
from toolkit.runtime.results import read_rows


@dataclass(frozen=True)
class Job:
    """One model the demo trains and carries through every stage."""

    name: str
    model: str
    data: str
    epochs: int
    model_args: dict = field(default_factory=dict)
    batch_size: int = 64


CLASSIFIER = Job("lenet5", "lenet5", "digits", epochs=30)
SEGMENTER = Job(
    "fcn8s",
    "fcn8s",
    "digit-scenes",
    epochs=6,
    model_args={"backbone": "resnet18", "upsample": "bilinear"},
    batch_size=32,
)


@dataclass
class DemoConfig:
    """Where the demo writes and how much it does; `quick` shrinks every stage for tests."""

    out: Path = Path("runs/demo")
    seed: int = 0
    quick: bool = False
    jobs: tuple[Job, ...] = (CLASSIFIER, SEGMENTER)
    bench_iterations: int = 100
    quiet: bool = False


@dataclass
class Stage:
    """What one stage of one job produced: a title, captured tables, plain numbers."""

    job: str
    title: str
    text: str
    numbers: dict = field(default_factory=dict)


@dataclass
class DemoResult:
    """Every stage's output and where the report is."""

    out: Path
    stages: list[Stage] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def fresh_folder(out: Path) -> Path:
    """`out`, or out-2, out-3... when it exists: an earlier demo is never clobbered."""
    candidate, n = out, 1
    while candidate.exists():
        n += 1
        candidate = out.with_name(f"{out.name}-{n}")
    if candidate != out:
        note(f"{out} exists; this demo writes to {candidate}")
    try:
        candidate.mkdir(parents=True)
    except OSError as exc:  # a file where a folder should be, or no permission
        raise CnnkitError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    return candidate


class Recorder:
    """Prints renderables to stderr as the demo goes and keeps their text for REPORT.md."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def capture(self, *renderables) -> str:
        """Render to plain text (and show it unless quiet)."""
        sink = io.StringIO() if self.quiet else None  # quiet still records for the report
        console = Console(record=True, width=160, stderr=True, file=sink)
        for item in renderables:
            console.print(item)
        return console.export_text()


def train_stage(job: Job, config: DemoConfig) -> tuple[Path, Stage]:
    """Train `job` into <out>/<job.name>/ and report its test metrics."""
    from toolkit.train import TrainConfig, fit

    note(f"[demo] training {job.model} on {job.data} ({job.epochs} epochs)")
    run_dir = fit(
        TrainConfig(
            model=job.model,
            data=job.data,
            model_args=dict(job.model_args),
            epochs=1 if config.quick else job.epochs,
            batch_size=job.batch_size,
            limit=64 if config.quick else None,
            seed=config.seed,
            name=job.name,
            runs_dir=str(config.out),
        ),
        quiet=config.quiet,
    )
    results = json.loads(RunFolder(run_dir).results.read_text())
    metric = results["main_metric"]
    text = (
        f"{job.model} on {job.data}: test {metric} {results['test'][metric]:.2%} after "
        f"{results['epochs']} epochs (best epoch {results['best_epoch']}), "
        f"{results['time_s']:.0f} s on this machine"
    )
    note(f"[demo] {text}")
    return run_dir, Stage(job.name, "train", text, {"test": results["test"], **results})


def export_stage(job: Job, run_dir: Path, config: DemoConfig, rec: Recorder) -> tuple[Path, Stage]:
    """Export the run's best checkpoint with the parity check."""
    from toolkit.export import export_onnx
    from toolkit.export.render import export_summary, parity_table

    note(f"[demo] exporting {job.name} to ONNX")
    report = export_onnx(run_dir, quiet=config.quiet)
    text = rec.capture(parity_table(report), export_summary(report))
    return report.path, Stage(job.name, "export", text, report.to_dict())


def quantize_stage(job: Job, onnx_path: Path, config: DemoConfig, rec: Recorder):
    """INT8 (static QDQ) with the fp32 side-by-side on the validation split."""
    from toolkit.export import quantize_onnx
    from toolkit.export.render import quantize_table

    note(f"[demo] quantizing {job.name} to INT8")
    report = quantize_onnx(
        onnx_path, samples=64 if config.quick else 256, force=config.quick, quiet=config.quiet
    )
    text = rec.capture(quantize_table(report))
    return report.path, Stage(job.name, "quantize", text, report.to_dict())


def profile_stage(job: Job, onnx_path: Path, config: DemoConfig, rec: Recorder) -> Stage:
    """The per-layer table with receptive field, written beside the run as profile.json."""
    from toolkit.profile.summary import render
    from toolkit.profiling import profile_target

    profile = profile_target(onnx_path.parent, quiet=config.quiet)
    text = rec.capture(render(profile, top=None if job.model.startswith("lenet") else 15))
    return Stage(job.name, "profile", text, profile.to_dict()["totals"])


def bench_stage(job: Job, paths: list[Path], run_dir: Path, config: DemoConfig, rec: Recorder):
    """fp32 vs INT8 vs torch eager at batch 1 and 8, with a latency plot."""
    from toolkit.bench import BenchConfig, run_bench
    from toolkit.bench.text import bench_table, ratio_lines
    from toolkit.bench_eager import against_torch

    note(f"[demo] benchmarking {job.name}: fp32, int8, torch eager")
    bench = BenchConfig(
        batches=(1, 8),
        threads=(2,),
        warmup=3 if config.quick else 10,
        iterations=5 if config.quick else config.bench_iterations,
        quiet=config.quiet,
    )
    plot = config.out / f"latency-{job.name}.png"
    result = run_bench(paths, bench, eager=against_torch(run_dir), plot=plot)
    text = rec.capture(bench_table(result.entries), *ratio_lines(result.entries))
    numbers = {"entries": [e.to_dict() for e in result.entries], "plot": str(plot)}
    return Stage(job.name, "bench", text, numbers)


def infer_stage(job: Job, onnx_path: Path, config: DemoConfig, rec: Recorder) -> Stage:
    """Write the test split as PNGs (plus broken files), run `infer`, score the results."""
    from toolkit.data import split_arrays
    from toolkit.runtime import run_inference

    meta_size = json.loads(RunFolder(onnx_path.parent).config.read_text())["input_size"]
    images, targets, classes = split_arrays(job.data, "test", tuple(meta_size), config.seed)
    if config.quick:
        images, targets = images[:40], targets[:40]
    folder = config.out / "images" / job.name
    paths, truth = samples.write_split_pngs(images, targets, list(classes), folder)
    broken = samples.write_broken_files(folder, paths[0])
    out_dir = config.out / f"infer-{job.name}"
    note(f"[demo] infer over {len(paths)} PNG files and {len(broken)} broken ones")
    summary = run_inference(
        onnx_path, [str(folder)], out_dir, batch_size=8, overlay=True, quiet=config.quiet
    )
    rows = read_rows(Path(summary.results))
    if len(classes) and targets.ndim == 1:
        score = samples.score_classification(rows, truth)
        headline = f"accuracy {score['accuracy']:.2%}"
    else:
        score = samples.score_segmentation(rows, truth, out_dir, len(classes))
        headline = f"mean IoU {score['miou']:.3f}, pixel accuracy {score['pixel_accuracy']:.2%}"
    failures = "\n".join(f"  {f['path']}: {f['error']}" for f in score["failures"])
    text = (
        f"{score['images']} test images through `cnnkit infer` ({summary.provider}, "
        f"{summary.images_per_s:.0f} images/s): {headline}\n"
        f"{score['failed']} broken files reported, none stopped the run:\n{failures}"
    )
    rec.capture(text)
    numbers = {**score, "out": str(out_dir), "classes": list(classes), **summary.to_dict()}
    return Stage(job.name, "infer", text, numbers)


def run_job(job: Job, config: DemoConfig, rec: Recorder) -> list[Stage]:
    """Every stage for one model."""
    run_dir, trained = train_stage(job, config)
    onnx_path, exported = export_stage(job, run_dir, config, rec)
    int8_path, quantized = quantize_stage(job, onnx_path, config, rec)
    profiled = profile_stage(job, onnx_path, config, rec)
    benched = bench_stage(job, [onnx_path, int8_path], run_dir, config, rec)
    inferred = infer_stage(job, onnx_path, config, rec)
    return [trained, exported, quantized, profiled, benched, inferred]


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the whole pipeline and write REPORT.md; returns what each stage produced."""
    from toolkit.demo.markdown import write_report

    if config.seed < 0:
        raise CnnkitError(f"--seed must be >= 0, got {config.seed}")
    started = time.perf_counter()
    config.out = fresh_folder(Path(config.out))
    rec = Recorder(config.quiet)
    result = DemoResult(config.out)
    for job in config.jobs:
        result.stages += run_job(job, config, rec)
    result.seconds = time.perf_counter() - started
    result.files = write_report(result, config)
    return result
