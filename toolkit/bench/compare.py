"""`cnnkit compare`: the zoo side by side at each model's default input.

Parameters, MACs and receptive field from toolkit.profile, ONNX file size, and the ORT
p50 latency at batch 1: why architectures evolved the way they did, by measurement.
Exporting needs torch (toolkit.export, imported lazily); measuring does not.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.bench.sweep import BenchConfig, check_config, sweep
from toolkit.errors import CnnkitError
from toolkit.progress import note, progress_bar

if TYPE_CHECKING:
    from toolkit.profile.report import Profile

# One model per family, cheapest VGG: about 3 minutes on 2 cores (VGG-16/19 exports alone
# take a minute each; ask for them with --models).
DEFAULT_MODELS = ("lenet5", "alexnet", "vgg11", "googlenet", "resnet18", "resnet50", "fcn8s")


@dataclass(frozen=True)
class CompareRow:
    """One zoo model measured at its default input size."""

    model: str
    task: str
    input_size: list[int]
    params: int  # the PyTorch module's (as `cnnkit models` lists them)
    onnx_params: int  # what is deployed: BatchNorm folded, GoogLeNet's aux heads dropped
    macs: int
    flops: int
    receptive_field: float | None  # largest field of a layer before global pooling, pixels
    onnx_bytes: int
    p50_ms: float
    throughput_ips: float

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def resolve_names(names: Sequence[str] | None) -> list[str]:
    """The models to compare: given names (checked), 'all', or the default set."""
    from toolkit import models

    if not names:
        return list(DEFAULT_MODELS)
    if list(names) == ["all"]:
        return models.names()
    for name in names:
        models.info(name)  # unknown names: a CnnkitError with suggestions
    return list(dict.fromkeys(names))


def exported(name: str, folder: Path, quiet: bool) -> Path:
    """The model's ONNX file in `folder`, exported (random weights) unless already there."""
    path = folder / f"{name}.onnx"
    if path.is_file():
        note(f"reusing {path}")
        return path
    from toolkit.export import export_onnx

    # Parity is the export stage's job; random weights need no second check here.
    return export_onnx(name, out=path, parity=False, quiet=True).path


def largest_field(profile: Profile) -> float | None:
    """The largest receptive field of a layer that still sees a window, not the whole map."""
    fields = [
        max(layer.receptive_field)
        for layer in profile.layers
        if layer.receptive_field and not layer.whole_input
    ]
    return max(fields) if fields else None


def onnx_bytes(path: Path) -> int:
    """Size of the model file plus any external-data files beside it."""
    extra = path.parent / (path.name + ".data")
    return path.stat().st_size + (extra.stat().st_size if extra.is_file() else 0)


def torch_params(name: str) -> int:
    """Parameters of the zoo model at its defaults, built on the meta device (no weights)."""
    import torch

    from toolkit import models

    with torch.device("meta"):
        return models.parameter_count(models.build(name))


def measure_row(name: str, path: Path, config: BenchConfig) -> CompareRow:
    """Profile and time one exported model at batch 1."""
    from toolkit import models
    from toolkit.profile import profile_onnx

    profile = profile_onnx(path, batch=1)
    (entry,) = sweep([path], config)
    return CompareRow(
        model=name,
        task=models.info(name).task,
        input_size=list(profile.input_size),
        params=torch_params(name),
        onnx_params=profile.totals.params,
        macs=profile.totals.macs,
        flops=profile.totals.flops,
        receptive_field=largest_field(profile),
        onnx_bytes=onnx_bytes(path),
        p50_ms=entry.stats.p50_ms,
        throughput_ips=entry.throughput_ips,
    )


def compare_models(
    names: Sequence[str] | None = None,
    *,
    iterations: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    cache: str | Path | None = None,
    plot: str | Path | None = None,
    quiet: bool = False,
) -> list[CompareRow]:
    """Export (or reuse from `cache`), profile and time each model at its default input."""
    config = BenchConfig(
        batches=(1,),
        threads=(threads,) if threads is not None else BenchConfig().threads,
        warmup=warmup,
        iterations=iterations,
        gflops=False,
        quiet=True,
    )
    check_config(config)  # before the zoo (and torch) is imported
    if cache is not None and Path(cache).is_file():
        raise CnnkitError(f"--cache {cache}: is a file, expected a folder")
    if plot is not None:
        from toolkit.bench.plot import check_plot_path

        check_plot_path(plot)
    chosen = resolve_names(names)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnnkit-compare-") as scratch:
        folder = Path(cache) if cache else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with progress_bar(quiet) as bar:
            task = bar.add_task("compare", total=len(chosen), status="")
            for name in chosen:
                bar.update(task, status=name)
                rows.append(measure_row(name, exported(name, folder, quiet), config))
                bar.advance(task)
    if plot is not None:
        from toolkit.bench.plot import plot_compare

        plot_compare(rows, plot)
    return rows
