"""`cnnkit eval`: flags -> toolkit.eval_torch.evaluate_models (or score_results); a table."""

from __future__ import annotations

import dataclasses
import sys

import click

from toolkit.commands.common import json_option, print_json, quiet_option
from toolkit.commands.options import (
    COUNT,
    SEED,
    build_model_options,
    group,
    input_options,
    session_options,
)
from toolkit.errors import CnnkitError

SHOWN = 20  # failures and misclassified files listed on stderr
DATA_HELP = "digits, digit-scenes, folder:PATH, voc:PATH, or a .csv/.jsonl of path,label."
SPLIT_HELP = "train, val, test, or all (folders, voc: folders and lists)."
SEED_HELP = "The seed that split the data (train --seed)."
OWN_FLAGS = ("batch_size", "label_map", "out", "plot", "quiet")


def eval_group():
    """infer's session and input flags plus --batch-size, --label-map, --out, --plot,
    --quiet -> EvalOptions."""

    def build(**values):
        from toolkit.evaluate import EvalOptions

        own = {name: values.pop(name) for name in OWN_FLAGS}
        return EvalOptions(predictor=build_model_options(**values), **own)

    return group(
        "settings",
        build,
        [
            *session_options(graph_opt=True),
            *input_options(resize=False),
            click.option(
                "--batch-size", "-b", type=COUNT, default=32, show_default=True, help="Batch size."
            ),
            click.option(
                "--label-map",
                type=click.Path(),
                help="Data class -> model class: lines DATA=MODEL, or a JSON object.",
            ),
            click.option(
                "--out", "-o", type=click.Path(), help="Folder for eval.json, misclassified.jsonl."
            ),
            click.option(
                "--plot", type=click.Path(), help="Confusion matrix figure (.png, .svg or .pdf)."
            ),
            quiet_option,
        ],
    )


@click.command("eval")
@click.argument("models", nargs=-1)
@click.option("--data", "source", required=True, help=DATA_HELP)
@click.option("--split", default="test", show_default=True, help=SPLIT_HELP)
@click.option("--seed", type=SEED, default=0, show_default=True, help=SEED_HELP)
@click.option("--results", type=click.Path(), help="Score this results.jsonl instead of models.")
@eval_group()
@json_option
def eval_cmd(models, source, split, seed, results, settings, as_json):
    """Accuracy of models on labelled data: top-1/top-5, per-class P/R/F1 and
    the confusion matrix (segmentation: mIoU, per-class IoU, pixel accuracy).

    MODELS are .onnx files (fp32, fp16, INT8), run folders or .pt
    checkpoints (these run on torch); several are scored on the same
    images, with deltas against the first and their agreement. Images are
    read and resized as `train` reads them, so a run scores what train
    reported for the same --split and --seed. The data's classes are
    matched to the model's by name; a class the model lacks stops the run
    (--label-map FILE maps names). Unreadable images are listed and count
    as wrong (exit code 1). Foreign models take infer's flags.

    \b
    Examples:
      cnnkit eval runs/lenet5 runs/lenet5/model.onnx runs/lenet5/model.int8.onnx --data digits
      cnnkit eval model.onnx --data folder:photos/ --split all --plot confusion.png --out ev/
      cnnkit eval runs/fcn8s/model.onnx --data digit-scenes --json
      cnnkit eval resnet18.onnx --data folder:test/ --split all --label-map names.txt
      cnnkit eval --results preds/results.jsonl --data folder:photos/ --split all
    """
    from toolkit.evaluate import EvalData

    data = EvalData(source, split, seed)
    settings = dataclasses.replace(settings, quiet=settings.quiet or as_json)
    if results:
        if models:
            raise CnnkitError("--results: scores rows already written; give no MODEL with it")
        from toolkit.evaluate import score_results

        report = score_results(results, data, settings)
    else:
        from toolkit.eval_torch import evaluate_models

        report = evaluate_models(models, data, settings)
    if as_json:
        print_json(report.to_dict())
    else:
        print_report(report)
    if any(score.unreadable for score in report.models):
        sys.exit(1)


def print_report(report) -> None:
    """The table, the worst-confused pairs, agreement, failures and written files."""
    from toolkit.evaluate.text import report_lines

    for line in report_lines(report):
        click.echo(line)
    failed = report.models[0].unreadable
    for failure in failed[:SHOWN]:
        click.echo(f"failed: {failure['path']}: {failure['error']}", err=True)
    if len(failed) > SHOWN:
        click.echo(f"... and {len(failed) - SHOWN} more (eval --json lists them)", err=True)
