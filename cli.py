"""The cnnkit command line: one short function per verb that parses flags, calls the
library, and prints. Errors for users are CnnkitError: one line on stderr, exit code 2.

Heavy imports (torch, onnxruntime) happen inside the commands that need them, so
`cnnkit --help` and `cnnkit infer --help` start fast.
"""

from __future__ import annotations

import json
import sys

import click

from toolkit import __version__
from toolkit.errors import CnnkitError


class CnnkitGroup(click.Group):
    """A click group that turns CnnkitError into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


def parse_size(text: str, count: int = 3) -> tuple[int, ...]:
    """Parse 'C,H,W' (or 'H,W' with count=2) into positive ints; a CnnkitError otherwise."""
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise CnnkitError(f"size {text!r} is not {count} integers like 3,224,224") from None
    if len(values) != count or any(v <= 0 for v in values):
        raise CnnkitError(f"size {text!r} must be {count} positive integers")
    return values


class SizeParam(click.ParamType):
    """A click parameter for 'C,H,W'."""

    name = "C,H,W"

    def __init__(self, count: int = 3):
        self.count = count

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(value, self.count)
        except CnnkitError as exc:
            self.fail(str(exc), param, ctx)


def print_json(data) -> None:
    """Machine output on stdout."""
    click.echo(json.dumps(data, indent=2))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")


@click.group(cls=CnnkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnnkit")
def cli():
    """cnnkit: classic CNNs from PyTorch to the edge.

    \b
    train -> export -> quantize -> profile -> infer -> bench
    \b
    Examples:
      cnnkit models
      cnnkit train lenet5 --data digits --epochs 10
      cnnkit export runs/lenet5 && cnnkit profile runs/lenet5/model.onnx
      cnnkit infer runs/lenet5/model.onnx images/ --out preds/
    """


# ---------------------------------------------------------------- models


@cli.command("models")
@click.option("--task", type=click.Choice(["classification", "segmentation"]), help="Filter.")
@json_option
def models_cmd(task, as_json):
    """List the model zoo: name, task, default input, parameters.

    \b
    Examples:
      cnnkit models
      cnnkit models --task segmentation --json
    """
    import models

    rows = models.catalog(task)
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="cnnkit model zoo")
    for column in ("name", "task", "input", "params", "description"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for row in rows:
        size = "x".join(str(v) for v in row["input_size"])
        table.add_row(row["name"], row["task"], size, f"{row['params']:,}", row["description"])
    Console().print(table)


# ---------------------------------------------------------------- train


@cli.command("train")
@click.argument("model", required=False)
@click.option(
    "--data", help="digits | digit-scenes[:SIZE] | folder:PATH | voc:PATH (default digits)."
)
@click.option("--epochs", type=int, help="Epochs (default 30 classification, 10 segmentation).")
@click.option("--batch-size", type=int, help="Samples per batch per process (default 64).")
@click.option(
    "--lr", type=float, help="Peak learning rate (default sgd 0.05, adam 1e-3, adamw 2e-3)."
)
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), help="Default adamw.")
@click.option(
    "--schedule",
    type=click.Choice(["cosine", "step", "onecycle", "none"]),
    help="LR schedule (default cosine).",
)
@click.option("--warmup", type=float, help="Linear warmup, in epochs (default 0).")
@click.option("--momentum", type=float, help="SGD momentum (default 0.9).")
@click.option("--nesterov", is_flag=True, default=None, help="SGD with Nesterov momentum.")
@click.option("--weight-decay", type=float, help="Default sgd 5e-4, adam 0, adamw 0.01.")
@click.option("--label-smoothing", type=float, help="Cross-entropy label smoothing (default 0).")
@click.option(
    "--clip-grad", type=float, help="Clip the global gradient norm to this (default off)."
)
@click.option(
    "--input-size",
    type=SizeParam(),
    help="Model input (default: the data's channels at the model's H,W).",
)
@click.option(
    "--augment/--no-augment",
    default=None,
    help="Random crop + jitter on training batches (default on).",
)
@click.option(
    "--hflip/--no-hflip",
    default=None,
    help="Random horizontal flips (default on for folder/voc only).",
)
@click.option(
    "--model-arg",
    "model_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="Builder option, repeatable: backbone=resnet18, upsample=bilinear.",
)
@click.option(
    "--seed", type=int, help="Seed for the split, init, shuffle and augmentation (default 0)."
)
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N.")
@click.option(
    "--workers", type=int, default=0, show_default=True, help="DataLoader worker processes."
)
@click.option("--threads", type=int, help="Torch CPU threads (default: all cores).")
@click.option("--limit", type=int, help="Use only the first N samples of each split (quick runs).")
@click.option("--name", help="Run folder name (default <model>-<data>, numbered when taken).")
@click.option("--project", "--runs-dir", "runs_dir", help="Parent folder of runs (default runs).")
@click.option(
    "--exist-ok", is_flag=True, default=None, help="Overwrite an existing run folder of that name."
)
@click.option(
    "--resume",
    type=click.Path(),
    help="Continue runs/NAME from its last.pt (--epochs may extend it).",
)
@click.option(
    "--init-from", type=click.Path(), help="Checkpoint or run folder to take matching weights from."
)
@json_option
@quiet_option
def train_cmd(model, model_args, device, workers, as_json, quiet, **options):
    """Train a zoo model and write runs/NAME/ (config, checkpoints, metrics, curves).

    \b
    Examples:
      cnnkit train lenet5 --data digits --epochs 30
      cnnkit train fcn8s --data digit-scenes --model-arg backbone=resnet18 \\
          --epochs 6 --batch-size 32
      cnnkit train resnet18 --data folder:photos/ --input-size 3,64,64 --hflip
      cnnkit train --resume runs/lenet5-digits --epochs 40
      torchrun --nproc-per-node 2 cli.py train lenet --data digits
    """
    from toolkit.train import TrainConfig, fit
    from toolkit.train.config import parse_model_args
    from toolkit.train.rundir import read_json

    renames = {"warmup": "warmup_epochs"}
    given = {renames.get(k, k): v for k, v in options.items() if v is not None}
    if model is None and not given.get("resume"):
        raise CnnkitError("give a MODEL to train (see `cnnkit models`) or --resume RUN_FOLDER")
    if model is not None:
        given["model"] = model
    config = TrainConfig(
        **given, model_args=parse_model_args(model_args), device=device, workers=workers
    )
    run_dir = fit(config, quiet=quiet)
    if as_json:
        print_json(read_json(run_dir / "results.json"))
    else:
        click.echo(str(run_dir))


# ---------------------------------------------------------------- export


def parse_model_args(pairs: tuple[str, ...]) -> dict:
    """KEY=VALUE pairs -> dict; values are JSON when they parse (8, true), else strings."""
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CnnkitError(f"--model-arg {pair!r}: expected KEY=VALUE, e.g. backbone=resnet18")
        try:
            args[key] = json.loads(value)
        except json.JSONDecodeError:
            args[key] = value
    return args


def parse_floats(text: str | None, flag: str) -> list[float] | None:
    """'0.5,0.5,0.5' -> [0.5, 0.5, 0.5]; None stays None."""
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CnnkitError(f"{flag} {text!r}: expected comma-separated numbers") from None


@cli.command("export")
@click.argument("source")
@click.option("--out", "-o", type=click.Path(), help="Output .onnx (default: beside the run).")
@click.option("--num-classes", type=click.IntRange(min=1), help="Zoo names: output classes.")
@click.option("--in-channels", type=click.IntRange(min=1), help="Zoo names: input channels.")
@click.option("--input-size", type=SizeParam(), help="Zoo names: example input C,H,W.")
@click.option("--model-arg", multiple=True, help="Zoo names: builder option KEY=VALUE.")
@click.option("--mean", help="Zoo names: per-channel mean for the metadata (default 0.5).")
@click.option("--std", help="Zoo names: per-channel std for the metadata (default 0.5).")
@click.option("--classes", help="Zoo names: comma-separated class names (default 0..K-1).")
@click.option("--opset", type=click.IntRange(min=7), help="ONNX opset (dynamo writes >= 18).")
@click.option("--simplify", is_flag=True, help="Simplify with onnxslim (parity re-checked).")
@click.option("--no-parity", is_flag=True, help="Skip the torch vs onnxruntime parity check.")
@click.option("--atol", type=float, default=1e-4, show_default=True, help="Parity abs tolerance.")
@click.option("--rtol", type=float, default=1e-3, show_default=True, help="Parity rel tolerance.")
@click.option("--external-data", is_flag=True, help="Weights in OUT.data beside the file.")
@json_option
@quiet_option
def export_cmd(
    source,
    out,
    num_classes,
    in_channels,
    input_size,
    model_arg,
    mean,
    std,
    classes,
    opset,
    simplify,
    no_parity,
    atol,
    rtol,
    external_data,
    as_json,
    quiet,
):
    """Export a run folder, a .pt checkpoint or a zoo name to ONNX, verified.

    The file has cnnkit metadata (classes, input size, mean/std), a dynamic batch axis
    (and H, W for segmentation), and matches torch on random inputs within --atol/--rtol;
    otherwise nothing is written. Zoo names get seeded random weights and are written to
    NAME.onnx in the current folder.

    \b
    Examples:
      cnnkit export runs/lenet5                      # -> runs/lenet5/model.onnx
      cnnkit export runs/lenet5/last.pt -o lenet5.onnx --simplify
      cnnkit export resnet18 --num-classes 10 --input-size 3,64,64
      cnnkit export fcn8s --model-arg backbone=resnet18 --model-arg upsample=bilinear
    """
    from toolkit.export import export_onnx

    report = export_onnx(
        source,
        out,
        num_classes=num_classes,
        in_channels=in_channels,
        input_size=input_size,
        model_args=parse_model_args(model_arg),
        mean=parse_floats(mean, "--mean"),
        std=parse_floats(std, "--std"),
        classes=[c.strip() for c in classes.split(",")] if classes else None,
        opset=opset,
        simplify=simplify,
        parity=not no_parity,
        atol=atol,
        rtol=rtol,
        external_data=external_data,
        quiet=quiet,
    )
    if as_json:
        print_json(report.to_dict())
        return
    from rich.console import Console

    from toolkit.export.render import export_summary, parity_table

    if report.parity:
        Console().print(parity_table(report))
    click.echo(export_summary(report))


# ---------------------------------------------------------------- quantize


@cli.command("quantize")
@click.argument("model", type=click.Path())
@click.option("--out", "-o", type=click.Path(), help="Output (default MODEL.int8/.fp16.onnx).")
@click.option(
    "--mode",
    type=click.Choice(["static", "dynamic", "fp16"]),
    default="static",
    show_default=True,
    help="static: QDQ uint8 activations, int8 per-channel weights; dynamic: for FC-heavy "
    "nets; fp16: for CUDA.",
)
@click.option(
    "--calibration",
    type=click.Choice(["minmax", "entropy", "percentile"]),
    default="minmax",
    show_default=True,
    help="Static mode: how activation ranges are calibrated.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Calibration samples.",
)
@click.option("--calib-dir", type=click.Path(), help="Images to calibrate and compare on.")
@click.option("--data", help="Data source (default: the run's config.json), e.g. digits.")
@click.option("--split", default="val", show_default=True, help="Split to compare on.")
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.98,
    show_default=True,
    help="Refuse below this top-1 agreement with fp32.",
)
@click.option("--force", is_flag=True, help="Write even below --min-agreement.")
@json_option
@quiet_option
def quantize_cmd(
    model,
    out,
    mode,
    calibration,
    samples,
    calib_dir,
    data,
    split,
    min_agreement,
    force,
    as_json,
    quiet,
):
    """Quantize an exported model to INT8 (static or dynamic) or FP16, verified.

    Calibrates on the run's training data (or --calib-dir images), then compares fp32 and
    quantized on the validation split: accuracy or mIoU, agreement, size, batch-1 latency.
    Nothing is written when agreement is below --min-agreement, unless --force.

    \b
    Examples:
      cnnkit quantize runs/lenet5/model.onnx          # -> runs/lenet5/model.int8.onnx
      cnnkit quantize runs/resnet18/model.onnx --calibration entropy --samples 512
      cnnkit quantize foreign.onnx --calib-dir images/ --mode fp16
    """
    from toolkit.export import quantize_onnx

    report = quantize_onnx(
        model,
        out,
        mode=mode,
        calibration=calibration,
        samples=samples,
        calib_dir=calib_dir,
        data=data,
        split=split,
        min_agreement=min_agreement,
        force=force,
        quiet=quiet,
    )
    if as_json:
        print_json(report.to_dict())
        return
    from rich.console import Console

    from toolkit.export.render import quantize_table

    Console().print(quantize_table(report))
    click.echo(f"wrote {report.path}")


# ---------------------------------------------------------------- infer


def float_list(text: str | None, flag: str) -> tuple[float, ...] | None:
    """'0.5,0.5,0.5' -> (0.5, 0.5, 0.5); CnnkitError for anything but numbers."""
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CnnkitError(f"{flag} {text!r}: expected numbers like 0.485,0.456,0.406") from None


@cli.command("infer")
@click.argument("model", type=click.Path())
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(), help="Folder for results.jsonl.")
@click.option("--batch-size", "-b", type=int, default=8, show_default=True, help="Batch size.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--provider", help="Any other onnxruntime execution provider, by name.")
@click.option("--allow-fallback", is_flag=True, help="Run on CPU when --device is missing.")
@click.option("--threads", type=int, help="onnxruntime intra-op threads (default: all cores).")
@click.option("--workers", type=int, help="Decode threads (local) or actors (ray; default 2).")
@click.option("--topk", type=int, default=5, show_default=True, help="Labels kept per input.")
@click.option("--resume", is_flag=True, help="Continue OUT/results.jsonl after a crash.")
@click.option("--overlay", is_flag=True, help="Segmentation: also write overlay PNGs.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write OUT/results.csv.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Run here, or on Ray Data (pip install 'cnnkit[ray]').",
)
@click.option("--address", help="Ray cluster address (default: start a local Ray).")
@click.option("--size", type=SizeParam(2), help="H,W input size (foreign models; override).")
@click.option("--mean", help="Per-channel mean in 0..1, e.g. 0.485,0.456,0.406.")
@click.option("--std", help="Per-channel std in 0..1, e.g. 0.229,0.224,0.225.")
@click.option("--labels", type=click.Path(), help="Text file of class names, one per line.")
@click.option("--gray", is_flag=True, help="Feed 1-channel gray images (foreign models).")
@click.option(
    "--resize",
    type=click.Choice(["stretch", "center-crop", "letterbox"]),
    default="stretch",
    show_default=True,
    help="How images reach the input size (center-crop: shorter side).",
)
@click.option("--max-pixels", type=int, help="Refuse larger images (default Pillow's 89.5M).")
@json_option
@quiet_option
def infer_cmd(
    model,
    inputs,
    out,
    batch_size,
    device,
    provider,
    allow_fallback,
    threads,
    workers,
    topk,
    resume,
    overlay,
    write_csv,
    engine,
    address,
    size,
    mean,
    std,
    labels,
    gray,
    resize,
    max_pixels,
    as_json,
    quiet,
):
    """Run an ONNX model over images: OUT/results.jsonl, masks for segmentation.

    INPUTS are files, folders (recursive), globs, .txt lists of paths or .npy
    arrays. A bad file gets an error row and the run goes on; exit code 1
    when any input failed. Cnnkit models carry their preprocessing; foreign
    ones take --size/--mean/--std/--labels/--gray.

    \b
    Examples:
      cnnkit infer runs/lenet5/model.onnx digits/ --out preds/
      cnnkit infer model.onnx 'photos/**/*.jpg' --out preds/ --csv --topk 3
      cnnkit infer runs/fcn8s/model.onnx scenes/ --out masks/ --overlay
      cnnkit infer model.onnx list.txt --out preds/ --resume
      cnnkit infer model.onnx images/ --out preds/ --engine ray --workers 4
    """
    from toolkit.runtime import run_inference

    summary = run_inference(
        model,
        inputs,
        out,
        batch_size=batch_size,
        device=device,
        provider=provider,
        threads=threads,
        allow_fallback=allow_fallback,
        workers=workers if engine == "local" else None,
        topk=topk,
        resume=resume,
        overlay=overlay,
        csv=write_csv,
        engine=engine,
        ray_address=address,
        ray_workers=workers or 2,
        size=size,
        mean=float_list(mean, "--mean"),
        std=float_list(std, "--std"),
        labels=labels,
        gray=gray,
        resize=resize,
        max_pixels=max_pixels,
        quiet=quiet or as_json,
    )
    if as_json:
        print_json(summary.to_dict())
    else:
        for failure in summary.failures[:20]:
            click.echo(f"failed: {failure['path']}: {failure['error']}", err=True)
        if summary.failed > 20:
            click.echo(f"... and {summary.failed - 20} more in {summary.results}", err=True)
        click.echo(
            f"{summary.count} inputs: {summary.ok} ok, {summary.failed} failed"
            f" ({summary.resumed} from before) | {summary.images_per_s:.1f} images/s on"
            f" {summary.provider} ({summary.engine}) | {summary.results}"
        )
    if summary.failed:
        sys.exit(1)


# ---------------------------------------------------------------- bench


def int_list(text: str | None, flag: str) -> tuple[int, ...] | None:
    """'1,2,4' -> (1, 2, 4); CnnkitError for anything but integers."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CnnkitError(f"{flag} {text!r}: expected integers like 1,2,4") from None


@cli.command("bench")
@click.argument("models", nargs=-1, type=click.Path())
@click.option("--batch", "batch", help="Batch sizes, e.g. 1,8,32 (default: the model's, or 1).")
@click.option("--threads", help="Intra-op thread counts, e.g. 1,2 (default: all cores).")
@click.option("--device", default="cpu", show_default=True, help="Devices, e.g. cpu,cuda.")
@click.option("--warmup", type=int, default=10, show_default=True, help="Untimed runs.")
@click.option("--iterations", type=int, help="Timed runs per configuration (default 50).")
@click.option("--duration", type=float, help="Time runs for this many seconds instead.")
@click.option("--input-size", type=SizeParam(), help="C,H,W for dynamic dims (foreign files).")
@click.option("--data", type=click.Path(), help="Folder of images: real inputs, preprocessed.")
@click.option("--end-to-end", is_flag=True, help="Clock decoding + preprocessing too (--data).")
@click.option("--against-torch", type=click.Path(), help="Checkpoint or run: torch eager too.")
@click.option("--ops", type=int, default=0, help="Profile ops; list the N heaviest nodes.")
@click.option("--peak", is_flag=True, help="Measure the machine's float32 matmul GFLOP/s.")
@click.option("--no-gflops", is_flag=True, help="Skip the FLOP count (achieved GFLOP/s).")
@click.option("--plot", type=click.Path(), help="Write latency/throughput plots (PNG).")
@click.option("--allow-fallback", is_flag=True, help="Run on CPU when --device is missing.")
@click.option("--no-save", is_flag=True, help="Do not write bench.json into run folders.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random inputs.")
@json_option
@quiet_option
def bench_cmd(
    models,
    batch,
    threads,
    device,
    warmup,
    iterations,
    duration,
    input_size,
    data,
    end_to_end,
    against_torch,
    ops,
    peak,
    no_gflops,
    plot,
    allow_fallback,
    no_save,
    seed,
    as_json,
    quiet,
):
    """Latency and throughput of ONNX models, side by side.

    The clock covers session.run only (inputs are prepared before it) unless
    --end-to-end. A first cold run, --warmup runs, then timed runs. Several
    models get their ratio to the first (fp32 vs int8). A model inside a
    run folder gets bench.json written beside it.

    \b
    Examples:
      cnnkit bench runs/lenet5/model.onnx runs/lenet5/model.int8.onnx
      cnnkit bench model.onnx --batch 1,8,32 --threads 1,2 --plot bench.png
      cnnkit bench foreign.onnx --input-size 3,224,224 --ops 10
      cnnkit bench runs/lenet5/model.onnx --against-torch runs/lenet5 --json
      cnnkit bench --peak
    """
    from toolkit.bench import BenchConfig, run_bench
    from toolkit.bench.text import print_bench

    config = BenchConfig(
        batches=int_list(batch, "--batch"),
        threads=int_list(threads, "--threads") or BenchConfig().threads,
        devices=tuple(d.strip() for d in device.split(",") if d.strip()),
        warmup=warmup,
        iterations=iterations,
        duration=duration,
        input_size=input_size,
        data=data,
        end_to_end=end_to_end,
        seed=seed,
        allow_fallback=allow_fallback,
        ops=ops,
        gflops=not no_gflops,
        quiet=quiet or as_json,
    )
    result = run_bench(
        models, config, against_torch=against_torch, peak=peak, plot=plot, save=not no_save
    )
    if as_json:
        print_json(result.to_json())
    else:
        print_bench(result)


# ---------------------------------------------------------------- compare


@cli.command("compare")
@click.option("--models", "names", help="Comma-separated zoo names, or 'all' (default: a set).")
@click.option("--iterations", type=int, default=10, show_default=True, help="Timed runs.")
@click.option("--warmup", type=int, default=2, show_default=True, help="Untimed runs.")
@click.option("--threads", type=int, help="Intra-op threads (default: all cores).")
@click.option("--cache", type=click.Path(), help="Keep exported .onnx files here; reuse them.")
@click.option("--plot", type=click.Path(), help="Write latency-vs-MACs and params plots.")
@json_option
@quiet_option
def compare_cmd(names, iterations, warmup, threads, cache, plot, as_json, quiet):
    """The zoo side by side: params, MACs, receptive field, ONNX size, ORT p50 at batch 1.

    Each model is exported with random weights at its default input and
    timed with onnxruntime. The default set is one model per family
    (lenet5, alexnet, vgg11, googlenet, resnet18, resnet50, fcn8s), a few
    minutes on 2 cores; VGG-16/19 exports take a minute each.

    \b
    Examples:
      cnnkit compare
      cnnkit compare --models lenet5,alexnet,resnet18 --json
      cnnkit compare --models all --cache zoo-onnx/ --plot zoo.png
    """
    from toolkit.bench.compare import compare_models
    from toolkit.bench.text import print_compare

    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else None
    rows = compare_models(
        chosen,
        iterations=iterations,
        warmup=warmup,
        threads=threads,
        cache=cache,
        plot=plot,
        quiet=quiet or as_json,
    )
    if as_json:
        print_json([row.to_dict() for row in rows])
    else:
        print_compare(rows)


# ---------------------------------------------------------------- profile


@cli.command("profile")
@click.argument("target")
@click.option("--input-size", type=SizeParam(), help="C,H,W for dynamic dims or a zoo name.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch.")
@click.option("--top", type=click.IntRange(min=1), help="Show only the N heaviest layers (MACs).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write all layers here.")
@click.option("--no-save", is_flag=True, help="Don't write profile.json into a run folder.")
@json_option
@quiet_option
def profile_cmd(target, input_size, batch, top, csv_path, no_save, as_json, quiet):
    """Parameters, MACs/FLOPs, shapes, receptive field and memory of every layer.

    TARGET is an .onnx file (any, torch-free), a run folder (its model.onnx, or its
    checkpoint exported on the fly; profile.json is written beside it), a .pt checkpoint
    or a zoo name. MACs are multiply-accumulates: torchvision's "1.81 GFLOPS" for
    ResNet-18 is MACs.

    \b
    Examples:
      cnnkit profile runs/resnet18/model.onnx --top 10
      cnnkit profile foreign.onnx --input-size 3,224,224 --batch 8 --json
      cnnkit profile alexnet --input-size 3,64,64     # every feature map, or why it collapses
      cnnkit profile runs/lenet5 --csv lenet5.csv
    """
    from toolkit.profile import profile_target, render

    profile = profile_target(
        target, input_size=input_size, batch=batch, csv=csv_path, save=not no_save, quiet=quiet
    )
    if as_json:
        print_json(profile.to_dict(top=top))
        return
    from rich.console import Console

    Console(width=max(Console().width, 120)).print(render(profile, top=top))


# ---------------------------------------------------------------- demo


@cli.command("demo")
@click.option(
    "--out",
    default="runs/demo",
    show_default=True,
    type=click.Path(),
    help="Folder for everything the demo writes (runs/demo-2... if it exists).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for data and training.")
@click.option("--quick", is_flag=True, help="Tiny epochs and sample counts: checks the plumbing.")
@quiet_option
def demo_cmd(out, seed, quick, quiet):
    """Run the whole pipeline on built-in data and write REPORT.md.

    Trains LeNet-5 on digits and an FCN-8s on digit-scenes, exports both (parity),
    quantizes to INT8 (agreement), profiles, benchmarks fp32 / INT8 / torch eager,
    and labels the test split from PNG files (plus broken files) with `infer`.

    \b
    Examples:
      cnnkit demo
      cnnkit demo --seed 1 --out runs/demo-seed1
      cnnkit demo --quick
    """
    from pathlib import Path

    from toolkit.demo import DemoConfig, run_demo

    result = run_demo(DemoConfig(out=Path(out), seed=seed, quick=quick, quiet=quiet))
    click.echo(f"demo finished in {result.seconds / 60:.1f} min: {result.files['report']}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cnnkit")


if __name__ == "__main__":
    sys.exit(main())
