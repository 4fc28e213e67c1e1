"""`cnnkit bench` as one call: sweep, optional torch eager, ratios, GFLOP/s, peak,
bench.json beside run folders, and the plot.

(Not toolkit.runtime.runner, which runs `cnnkit infer` over many images.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.bench.machine import announce, describe_machine
from toolkit.bench.peak import PeakResult, measure_peak
from toolkit.bench.sweep import BenchConfig, BenchEntry, add_ratios, sweep
from toolkit.errors import CnnkitError
from toolkit.onnxfile import check_onnx_path
from toolkit.plotting import check_plot_path
from toolkit.progress import note
from toolkit.runfolder import RunFolder
from toolkit.safeio import write_json

# A second side timed on the first model's exact inputs ({batch: array}), after the ORT
# sweep: `--against-torch` passes toolkit.bench_eager.against_torch(checkpoint). Given as a
# callable so that this torch-free package never imports the torch side.
EagerSide = Callable[[BenchConfig, dict], list[BenchEntry]]


@dataclass
class BenchResult:
    """Everything one `cnnkit bench` call measured."""

    entries: list[BenchEntry]
    peak: PeakResult | None
    machine: dict
    saved: list[Path] = field(default_factory=list)
    plot: Path | None = None

    def json_value(self) -> dict | list[dict]:
        """What bench --json prints: the entries as a list; with --peak alone, the peak."""
        if not self.entries:
            return {"peak_gflops": self.peak.gflops if self.peak else None, **self.peak_dict()}
        return [entry.to_dict() for entry in self.entries]

    def peak_dict(self) -> dict:
        """The peak measurement and the machine, for output without entries."""
        return {"peak": self.peak.to_dict() if self.peak else None, "machine": self.machine}


def flops_per_image(path: str | Path, size: Sequence[int] | dict) -> float | None:
    """FLOPs of one image through the model from toolkit.profile; None (announced) if unknown.

    `size` is C,H,W, or {input name: dims after the batch} as the model takes them."""
    from toolkit.profile.profiler import profile_onnx  # the graph side only: no torch

    try:
        profile = profile_onnx(path, input_size=size, batch=1)
    except CnnkitError as exc:
        note(f"note: no GFLOP/s for {path}: the profiler cannot count it ({exc})")
        return None
    return float(profile.totals.flops)


def add_gflops(entries: list[BenchEntry], reference: str | Path) -> None:
    """Achieved GFLOP/s per entry: profiled FLOPs x batch / p50 (eager uses `reference`)."""
    cache: dict[tuple, float | None] = {}
    for entry in entries:
        path = reference if entry.mode == "torch-eager" else entry.model
        if entry.mode != "torch-eager" and entry.input_shapes:
            size = {name: tuple(shape[1:]) for name, shape in entry.input_shapes.items()}
        else:
            size = tuple(entry.input_shape[1:])
        key = (str(path), str(size))
        if key not in cache:
            cache[key] = flops_per_image(path, size)
        flops = cache[key]
        if flops:
            entry.gflops = flops * entry.batch / (entry.stats.p50_ms / 1e3) / 1e9


def run_folder(model_path: Path) -> Path | None:
    """The run folder a model file sits in (it has config.json or a checkpoint), else None."""
    folder = Path(model_path).resolve().parent
    return folder if RunFolder(folder).is_run() else None


def save_beside_runs(entries: list[BenchEntry]) -> list[Path]:
    """Write bench.json into each run folder holding a benchmarked model; announce each."""
    by_folder: dict[Path, list[dict]] = {}
    for entry in entries:
        folder = run_folder(Path(entry.model)) if entry.mode != "torch-eager" else None
        if folder is not None:
            by_folder.setdefault(folder, []).append(entry.to_dict())
    saved = []
    for folder, rows in by_folder.items():
        path = RunFolder(folder).bench
        write_json(path, rows)  # atomic: a link planted at bench.json is replaced
        note(f"wrote {path}")
        saved.append(path)
    return saved


def model_file(path: str | Path) -> Path:
    """A model path as given, or a run folder's model.onnx (announced)."""
    path = Path(path)
    if path.is_dir() and RunFolder(path).onnx.is_file():
        note(f"benchmarking {RunFolder(path).onnx}")
        return RunFolder(path).onnx
    return path


def run_bench(
    paths: Sequence[str | Path],
    config: BenchConfig | None = None,
    *,
    eager: EagerSide | None = None,
    peak: bool = False,
    plot: str | Path | None = None,
    save: bool = True,
) -> BenchResult:
    """Benchmark ONNX files side by side (and torch eager, the peak, a plot) in one call."""
    config = config or BenchConfig()
    paths = [model_file(path) for path in paths]
    if not paths and not peak:
        raise CnnkitError("give at least one MODEL.onnx (or --peak alone)")
    if eager is not None and config.end_to_end:
        raise CnnkitError("--against-torch compares session.run; drop --end-to-end")
    twice = sorted({str(p) for p in paths if list(map(str, paths)).count(str(p)) > 1})
    if twice:
        raise CnnkitError(f"{twice[0]}: given twice; each model is benchmarked once")
    for path in paths:
        check_onnx_path(path)  # every file is checked before anything is measured
    if plot is not None:
        check_plot_path(plot)
    machine = describe_machine()  # before timing: how busy the machine is, usable cores
    if config.warn:
        announce(machine["state"])
    first_inputs: dict = {}
    entries = sweep(list(paths), config, first_inputs) if paths else []
    if eager is not None and entries:
        entries += eager(config, first_inputs)
    add_ratios(entries)
    if config.gflops and entries:
        add_gflops(entries, paths[0])
    for entry in entries:
        entry.machine_state = machine["state"]
    # The ceiling is measured with the same kernels and the most threads asked for.
    ceiling = measure_peak(threads=max(config.threads)) if peak else None
    result = BenchResult(entries, ceiling, machine)
    for entry in entries if result.peak else ():
        entry.peak_gflops = result.peak.gflops
    if save:
        result.saved = save_beside_runs(entries)
    if plot is not None and entries:
        from toolkit.bench.plot import plot_bench

        result.plot = plot_bench(entries, plot)
    return result
