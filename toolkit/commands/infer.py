"""`cnnkit infer`: flags -> toolkit.runtime.run_inference (torch-free)."""

from __future__ import annotations

import sys

import click

from toolkit.commands.common import json_option, print_json, quiet_option
from toolkit.commands.options import job_group, predictor_group


@click.command("infer")
@click.argument("model", type=click.Path())
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(), help="Folder for results.jsonl.")
@job_group()
@predictor_group(graph_opt=True)
@json_option
@quiet_option
def infer_cmd(model, inputs, out, job, options, as_json, quiet):
    """Run an ONNX model over images: OUT/results.jsonl, masks for segmentation.

    INPUTS are files, folders (recursive), globs, .txt lists of paths or .npy
    arrays. A bad input (unreadable, over --max-pixels, an array holding NaN
    or inf) gets an error row and the run goes on; exit code 1 when any
    input failed. Cnnkit models carry their preprocessing; for foreign
    ones the layout (NCHW/NHWC), dtype, size, mean/std and how outputs are
    read are decided from the file and announced in one note line
    (`cnnkit inspect` says why); --input-size, --mean, --std, --labels,
    --gray, --layout, --outputs and --output override; --feed gives other
    inputs (docs/CLI.md lists every flag).

    One run at a time per OUT (a second gets exit 2); Ctrl-C exits 130,
    continue with --resume. results.jsonl is strict JSON in UTF-8; file-name
    bytes that are not UTF-8 are written as \\udc80..\\udcff escapes, so
    os.fsencode(row["path"]) is the exact name (docs/reliability.md).

    \b
    Examples:
      cnnkit infer runs/lenet5/model.onnx digits/ --out preds/
      cnnkit infer model.onnx 'photos/**/*.jpg' --out preds/ --csv --topk 3
      cnnkit infer runs/fcn8s/model.onnx scenes/ --out masks/ --overlay
      cnnkit infer model.onnx list.txt --out preds/ --resume
      cnnkit infer model.onnx images/ --out preds/ --engine ray --workers 4
      cnnkit infer keras.onnx images/ --out preds/ --outputs probs --layout NHWC
      cnnkit infer two_inputs.onnx images/ --out preds/ --feed meta=meta.npy
      cnnkit infer resnet18.onnx photos/ --out preds/ --workers auto --decode full
    """
    from toolkit.runtime import run_inference

    summary = run_inference(model, inputs, out, options, job, quiet=quiet or as_json)
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
            f" {summary.provider} ({summary.engine}, session {summary.setup_s:.2f} s)"
            f"{split_text(summary.split)} | {summary.results}"
        )
    if summary.failed:
        sys.exit(1)


def split_text(split: dict | None) -> str:
    """' | decode 12.3 ms/image (2 workers, fast), inference 140.0 ms/batch ...' or ''."""
    if not split or split["decode_ms_per_image"] is None:
        return ""
    threads = split["threads"] if split["threads"] is not None else "default"
    return (
        f" | decode {split['decode_ms_per_image']:.1f} ms/image ({split['workers']} workers,"
        f" {split['decode']}), inference {split['infer_ms_per_batch']:.1f} ms/batch"
        f" ({threads} threads), model idle {split['idle_s']:.2f} s"
        f" ({split['idle_share']:.0%})"
    )
