"""`cnnkit infer`: flags -> toolkit.runtime.run_inference (torch-free)."""

from __future__ import annotations

import sys

import click

from toolkit.commands.common import (
    SizeParam,
    interpretation_options,
    json_option,
    parse_feeds,
    parse_floats,
    print_json,
    quiet_option,
)


@click.command("infer")
@click.argument("model", type=click.Path())
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(), help="Folder for results.jsonl.")
@click.option("--batch-size", "-b", type=int, default=8, show_default=True, help="Batch size.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--provider", help="Any other onnxruntime execution provider, by name.")
@click.option("--allow-fallback", is_flag=True, help="Run on CPU when --device is missing.")
@click.option("--threads", type=int, help="onnxruntime intra-op threads (default: all cores).")
@click.option(
    "--graph-opt",
    type=click.Choice(["disable", "basic", "extended", "all"]),
    default="all",
    show_default=True,
    help="onnxruntime graph optimisation level.",
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    help="Decode threads, or auto: sized with --threads to the usable cores (ray: actors, 2).",
)
@click.option(
    "--decode",
    type=click.Choice(["fast", "full"]),
    default="fast",
    show_default=True,
    help="fast: JPEGs at reduced DCT scale (never below the input size); full: exact pixels.",
)
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
@interpretation_options
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    help="Refuse larger images (default Pillow's 89.5M).",
)
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
    graph_opt,
    workers,
    decode,
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
    layout,
    reading,
    output,
    feeds,
    max_pixels,
    as_json,
    quiet,
):
    """Run an ONNX model over images: OUT/results.jsonl, masks for segmentation.

    INPUTS are files, folders (recursive), globs, .txt lists of paths or .npy
    arrays. A bad input (unreadable, over --max-pixels, an array holding NaN
    or inf) gets an error row and the run goes on; exit code 1 when any
    input failed. Cnnkit models carry their preprocessing; for foreign
    ones the layout (NCHW/NHWC), dtype, size, mean/std and how outputs are
    read are decided from the file and announced in one note line
    (`cnnkit inspect` says why); --size/--mean/--std/--labels/--gray/
    --layout/--outputs/--output override, --feed gives other inputs.

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

    summary = run_inference(
        model,
        inputs,
        out,
        batch_size=batch_size,
        device=device,
        provider=provider,
        threads=threads,
        allow_fallback=allow_fallback,
        graph_optimization=graph_opt,
        workers=workers if engine == "local" else None,
        decode=decode,
        topk=topk,
        resume=resume,
        overlay=overlay,
        csv=write_csv,
        engine=engine,
        ray_address=address,
        ray_workers=ray_actors(workers),
        size=size,
        mean=parse_floats(mean, "--mean"),
        std=parse_floats(std, "--std"),
        labels=labels,
        gray=gray,
        resize=resize,
        layout=layout,
        outputs=reading,
        output=output,
        feeds=parse_feeds(feeds),
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
            f" {summary.provider} ({summary.engine}, session {summary.setup_s:.2f} s)"
            f"{split_text(summary.split)} | {summary.results}"
        )
    if summary.failed:
        sys.exit(1)


def ray_actors(workers: str) -> int:
    """--workers for the Ray engine: a count of actors (auto: 2)."""
    if workers == "auto":
        return 2
    if not workers.isdigit():
        from toolkit.errors import CnnkitError

        raise CnnkitError(f"--workers {workers!r}: expected a positive integer or auto")
    return int(workers)


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
