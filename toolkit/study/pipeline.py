"""`make bench`: every comparison measured in one run, written to REPORT.md and report.json.

    python -m toolkit.study --out bench          # the real numbers, 3-5 minutes
    python -m toolkit.study --out /tmp/b --quick # tiny models and counts, seconds

Order: how busy the machine is (load, usable cores: a warning when other work competes),
onnxruntime's own Conv/MatMul peak, train a ResNet-18 briefly on digits (fit vs a bare
loop), export and quantize it (int8 vs fp32 with top-1 agreement, then layer by layer
with `cnnkit diff`), ResNet-18 at 224 through onnxruntime and torch eager, the runner
from PNG files and from 12 MP JPEGs against raw session.run, scaled vs full JPEG decoding
(LeNet-5 top-1 agreement), `cnnkit serve` under load against raw session.run, serve's
CPU when idle and at 5 requests/s (spinning on/off) and the arena's peak RSS, achieved
GFLOP/s against the peak, and a fresh torch-free runtime process against a fresh torch
process.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from toolkit.bench.machine import announce, describe_machine, machine_state
from toolkit.bench.peak import measure_peak
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runfolder import RunFolder
from toolkit.study import comparisons, decode_cases
from toolkit.study.cold_start import cold_starts
from toolkit.study.edge_speed import edge_sections
from toolkit.study.idle_power import idle_power
from toolkit.study.int8_layers import draw, int8_layerwise
from toolkit.study.markdown import render_markdown
from toolkit.study.plan import QUICK, StudyPlan
from toolkit.study.prepare import export, random_checkpoint
from toolkit.study.results import StudyReport, StudySections
from toolkit.study.serve_speed import serve_vs_raw
from toolkit.study.train_speed import training_speed


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


def measure_all(plan: StudyPlan, work: Path, steps: Steps) -> StudySections:
    """Run every comparison in order; each section's plain numbers."""
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
    digits_onnx = export(run_dir, RunFolder(run_dir).onnx, parity=plan.parity)
    int8 = comparisons.int8_vs_fp32(plan.digits_model, digits_onnx, plan.digits_input, plan)
    steps("int8 vs fp32 layer by layer (cnnkit diff --layerwise)")
    int8_file = digits_onnx.with_name(int8.int8_file)
    layers = int8_layerwise(digits_onnx, int8_file, plan.diff_samples)
    if plan.eager_model:
        steps(f"{plan.eager_model} {plan.eager_input}: onnxruntime vs torch eager")
        checkpoint = random_checkpoint(plan.eager_model, plan.eager_input, work / "eager")
        eager_onnx = export(checkpoint, RunFolder(work / "eager").onnx, parity=False)
        eager_size = plan.eager_input
    else:
        steps(f"{plan.digits_model}: onnxruntime vs torch eager")
        checkpoint, eager_onnx, eager_size = RunFolder(run_dir).best, digits_onnx, plan.digits_input
    eager_model = plan.eager_model or plan.digits_model
    eager = comparisons.ort_vs_eager(eager_model, eager_onnx, checkpoint, plan)
    steps("runner end to end from PNG files vs raw session.run")
    runner = comparisons.runner_vs_raw(eager_onnx, eager_size, plan, work)
    steps("cnnkit serve vs raw session.run; LeNet-5 batching vs --max-batch 1")
    serving = serve_vs_raw(eager_onnx, eager_size, plan, work)
    steps("low power: serve idle and at 5 req/s, spinning on/off; arena peak RSS")
    low_power = idle_power(eager_onnx, eager_size, plan, work)
    steps(f"runner on {plan.photos} JPEGs of {plan.photo_size[0]}x{plan.photo_size[1]}")
    photos = decode_cases.photos_vs_raw(eager_onnx, plan, work)
    steps("scaled vs full JPEG decoding: LeNet-5 top-1 on 12 MP digits")
    agreement = decode_cases.decode_agreement(plan, work)
    eager_label = f"{eager_model} {'x'.join(map(str, eager_size))}"
    digits_label = f"{plan.digits_model} {'x'.join(map(str, plan.digits_input))} (digits)"
    fp32_digits = [e for e in int8.entries if e["model"] == str(digits_onnx)]
    # int8 kernels are not bound by the float32 peak, so only fp32 files are compared to it.
    groups = {eager_label: eager.entries, digits_label: fp32_digits}
    achieved = comparisons.achieved_vs_peak(groups, peak)
    steps("fresh runtime process vs fresh torch process")
    image = comparisons.write_pngs(work / "one", plan.digits_input, 1)[0]
    processes = cold_starts(
        digits_onnx,
        RunFolder(run_dir).best,
        image,
        threads=plan.threads,
        repeats=plan.process_repeats,
    )
    steps("edge files: self-contained vs Python preprocessing; cold start .onnx / .ort")
    lenet = lenet_onnx(plan, digits_onnx, work)
    edge = edge_sections(plan, work, (eager_onnx, eager_label), (lenet, "lenet5 1x32x32"))
    return StudySections(
        ort_vs_eager=eager,
        int8_vs_fp32=int8,
        int8_layers={"model": plan.digits_model, "int8_file": int8.int8_file, "diff": layers},
        runner_vs_raw={"model": eager_model, **runner},
        serve_vs_raw={"model": eager_model, **serving},
        idle_power={"model": eager_model, "input_size": list(eager_size), **low_power},
        photos_vs_raw={"model": eager_model, **photos},
        decode_agreement=agreement,
        achieved_vs_peak=achieved,
        processes={"model": plan.digits_model, **processes},
        training=speed.to_dict(),
        edge=edge,
    )


def lenet_onnx(plan: StudyPlan, digits_onnx: Path, work: Path) -> Path:
    """LeNet-5 for the edge section: the digits model when it is one, else seeded weights."""
    if plan.digits_model in ("lenet", "lenet5"):
        return digits_onnx
    checkpoint = random_checkpoint("lenet5", (1, 32, 32), work / "lenet5")
    return export(checkpoint, RunFolder(work / "lenet5").onnx, parity=False)


def build_report(
    out: str | Path, quick: bool = False, plan: StudyPlan | None = None
) -> StudyReport:
    """Measure everything and write OUT/report.json and OUT/REPORT.md; the report."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CnnkitError(f"--out {out}: is a file, expected a folder")
    plan = plan or (QUICK if quick else StudyPlan())
    machine = describe_machine()  # before timing: load average and usable cores
    announce(machine["state"])
    steps = Steps(total=12)
    with tempfile.TemporaryDirectory(prefix="cnnkit-bench-") as work:
        sections = measure_all(plan, Path(work), steps)
    machine["state_after"] = machine_state()
    out.mkdir(parents=True, exist_ok=True)
    sections.int8_layers["png"] = draw(sections.int8_layers, out)
    report = StudyReport(quick, machine, plan, steps.seconds, sections)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    (out / "REPORT.md").write_text(render_markdown(report))
    note(f"wrote {out / 'REPORT.md'} and {out / 'report.json'} in {steps.seconds:.0f} s")
    return report
