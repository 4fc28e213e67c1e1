"""`cnnkit train`: flags -> TrainConfig -> toolkit.train.fit."""

from __future__ import annotations

import click

from toolkit.commands.common import (
    SizeParam,
    json_option,
    parse_model_args,
    print_json,
    quiet_option,
)
from toolkit.commands.options import (
    COUNT,
    COUNT0,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    pick,
    renamed,
)
from toolkit.errors import CnnkitError
from toolkit.extras import needs_extra


@needs_extra("train")
@click.command("train")
@click.argument("model", required=False)
@click.option(
    "--data", help="digits | digit-scenes[:SIZE] | folder:PATH | voc:PATH (default digits)."
)
@click.option("--epochs", type=COUNT, help="Epochs (default 30 classification, 10 segmentation).")
@click.option("--batch-size", type=COUNT, help="Samples per batch per process (default 64).")
@click.option(
    "--lr", type=POSITIVE, help="Peak learning rate (default sgd 0.05, adam 1e-3, adamw 2e-3)."
)
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), help="Default adamw.")
@click.option(
    "--schedule",
    type=click.Choice(["cosine", "step", "onecycle", "none"]),
    help="LR schedule (default cosine).",
)
@click.option("--warmup", type=NON_NEGATIVE, help="Linear warmup, in epochs (default 0).")
@click.option("--momentum", type=FRACTION, help="SGD momentum (default 0.9).")
@click.option("--nesterov", is_flag=True, default=None, help="SGD with Nesterov momentum.")
@click.option("--weight-decay", type=NON_NEGATIVE, help="Default sgd 5e-4, adam 0, adamw 0.01.")
@click.option("--label-smoothing", type=FRACTION, help="Cross-entropy label smoothing (default 0).")
@click.option(
    "--clip-grad", type=NON_NEGATIVE, help="Clip the global gradient norm to this (default off)."
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
    "--seed", type=SEED, help="Seed for the split, init, shuffle and augmentation (default 0)."
)
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N.")
@click.option(
    "--loader-workers",
    "workers",
    type=COUNT0,
    help="DataLoader worker processes (default 0).",
)
@renamed("--workers", "--loader-workers", "old_workers", type=COUNT0)
@click.option("--threads", type=COUNT, help="Torch CPU threads (default: all cores).")
@click.option(
    "--limit", type=COUNT, help="Use only the first N samples of each split (quick runs)."
)
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
    "--init-from",
    type=click.Path(),
    help="Start from a run folder, a .pt checkpoint, torchvision/timm weights (.pth), or "
    "published weights by name: torchvision:resnet18 (downloaded once, cached).",
)
@click.option(
    "--freeze",
    type=click.Choice(["none", "features", "backbone"]),
    help="Stop the conv trunk (features) or all but the head (backbone). Default none.",
)
@click.option(
    "--backbone-lr-scale",
    type=POSITIVE,
    help="Learning-rate factor for every layer but the head, e.g. 0.1 (default 1).",
)
@click.option("--classes", help="voc data: comma-separated class names (else labelmap.txt).")
@json_option
@quiet_option
def train_cmd(model, model_args, device, workers, old_workers, as_json, quiet, **options):
    """Train a zoo model and write runs/NAME/ (config, checkpoints, metrics, curves).

    \b
    Examples:
      cnnkit train lenet5 --data digits --epochs 30
      cnnkit train fcn8s --data digit-scenes --model-arg backbone=resnet18 \\
          --epochs 6 --batch-size 32
      cnnkit train resnet18 --data folder:photos/ --input-size 3,64,64 --hflip
      cnnkit train resnet18 --data folder:photos/ --init-from torchvision:resnet18 \\
          --freeze backbone --epochs 5
      cnnkit train fcn8s --data voc:cvat_export/ --model-arg backbone=resnet18 \\
          --init-from resnet18-f37072fd.pth --backbone-lr-scale 0.1
      cnnkit train --resume runs/lenet5-digits --epochs 40
      torchrun --nproc-per-node 2 cli.py train lenet --data digits
    """
    from toolkit.runfolder import RunFolder
    from toolkit.train import TrainConfig, fit
    from toolkit.train.rundir import read_json

    renames = {"warmup": "warmup_epochs", "classes": "class_names"}
    given = {renames.get(k, k): v for k, v in options.items() if v is not None}
    if "class_names" in given:
        given["class_names"] = [c.strip() for c in given["class_names"].split(",") if c.strip()]
    if model is None and not given.get("resume"):
        raise CnnkitError("give a MODEL to train (see `cnnkit models`) or --resume RUN_FOLDER")
    if model is not None:
        given["model"] = model
    workers = pick(workers, old_workers, "--loader-workers") or 0
    config = TrainConfig(
        **given, model_args=parse_model_args(model_args), device=device, workers=workers
    )
    run_dir = fit(config, quiet=quiet)
    if as_json:
        print_json(read_json(RunFolder(run_dir).results))
    else:
        click.echo(str(run_dir))
