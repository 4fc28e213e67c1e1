"""`cnnkit compare`: the zoo side by side at each model's default input.

Parameters, MACs and receptive field from toolkit.profile, ONNX file size, and the ORT
p50 latency at batch 1: why architectures evolved the way they did, by measurement.
A study over the library: it exports the zoo (toolkit.export, torch, imported lazily so
`cnnkit --help` stays fast) and times each file with the bench engine; then the table
and the figure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from toolkit.bench.sweep import BenchConfig, check_config, sweep
from toolkit.bench.text import ms
from toolkit.errors import CnnkitError
from toolkit.onnxfile import model_bytes
from toolkit.plotting import check_plot_path, pyplot, save
from toolkit.progress import note, progress_bar
from toolkit.tables import table_console

if TYPE_CHECKING:
    from toolkit.profile.summary import Profile

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
        onnx_bytes=model_bytes(path),
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
        plot_compare(rows, plot)
    return rows


def compare_table(rows: Sequence[CompareRow]) -> Table:
    """One row per zoo model at its default input, batch 1."""
    table = Table(title="cnnkit compare (default input, batch 1)")
    columns = ("model", "task", "input", "params", "ONNX params", "MMACs", "RF px", "ONNX MB")
    for column in (*columns, "p50 ms"):
        table.add_column(column, justify="left" if column in ("model", "task") else "right")
    for row in rows:
        table.add_row(
            row.model,
            row.task,
            "x".join(map(str, row.input_size)),
            f"{row.params:,}",
            f"{row.onnx_params:,}",
            f"{row.macs / 1e6:,.1f}",
            "-" if row.receptive_field is None else f"{row.receptive_field:g}",
            f"{row.onnx_bytes / 1e6:.1f}",
            ms(row.p50_ms),
        )
    return table


def print_compare(rows: Sequence[CompareRow], console: Console | None = None) -> None:
    """Print the compare table."""
    console = console or table_console()
    console.print(compare_table(rows))


def plot_compare(rows: Sequence[CompareRow], path: str | Path) -> Path:
    """Write a figure: p50 latency against GMACs (log-log, labelled) and parameters."""
    plt = pyplot()
    path = check_plot_path(path)
    figure, (cost, size) = plt.subplots(1, 2, figsize=(13, 5))
    for row in rows:
        cost.scatter(row.macs / 1e9, row.p50_ms)
        cost.annotate(row.model, (row.macs / 1e9, row.p50_ms), fontsize="small")
    cost.set(xscale="log", yscale="log", xlabel="GMACs", ylabel="p50 ms (batch 1)")
    cost.set_title("latency vs compute")
    cost.grid(alpha=0.3)
    names = [row.model for row in rows]
    size.barh(names, [row.params / 1e6 for row in rows])
    size.set(xlabel="parameters (M)", title="parameters")
    return save(figure, path)
