"""`cnnkit export` and `cnnkit quantize`: flags -> toolkit.export."""

from __future__ import annotations

import click

from toolkit.commands.common import (
    SizeParam,
    json_option,
    parse_floats,
    parse_model_args,
    print_json,
    quiet_option,
)
from toolkit.errors import CnnkitError
from toolkit.extras import needs_extra


@needs_extra("train")
@click.command("export")
@click.argument("source")
@click.option("--out", "-o", type=click.Path(), help="Output .onnx (default: beside the run).")
@click.option("--num-classes", type=click.IntRange(min=1), help="Zoo names: output classes.")
@click.option("--in-channels", type=click.IntRange(min=1), help="Zoo names: input channels.")
@click.option("--input-size", type=SizeParam(), help="Zoo names, modules: example input C,H,W.")
@click.option("--model-arg", multiple=True, help="Zoo names: builder option KEY=VALUE.")
@click.option(
    "--weights",
    type=click.Path(),
    help="Zoo names: torchvision/timm .pth or cnnkit .pt; modules: their own state dict.",
)
@click.option(
    "--task",
    type=click.Choice(["classification", "segmentation"]),
    help="Modules: what the logits mean (default classification).",
)
@click.option(
    "--mean", help="Zoo names, modules: per-channel mean (default 0.5; ImageNet's with --weights)."
)
@click.option("--std", help="Zoo names, modules: per-channel std (default 0.5; ImageNet's).")
@click.option("--classes", help="Zoo names, modules: comma-separated class names (0..K-1).")
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
    weights,
    task,
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
    """Export a run folder, a .pt checkpoint, a zoo name or your own module to ONNX, verified.

    The file has cnnkit metadata (classes, input size, mean/std), a dynamic batch axis
    (and H, W for segmentation), and matches torch on random inputs within --atol/--rtol;
    otherwise nothing is written. Zoo names get seeded random weights, or --weights (a
    torchvision/timm state dict), and are written to NAME.onnx in the current folder.
    SOURCE may also be package.module:factory: a function returning an nn.Module, or an
    nn.Module class taking no arguments, importable from the current folder.

    \b
    Examples:
      cnnkit export runs/lenet5                      # -> runs/lenet5/model.onnx
      cnnkit export runs/lenet5/last.pt -o lenet5.onnx --simplify
      cnnkit export resnet18 --num-classes 10 --input-size 3,64,64
      cnnkit export fcn8s --model-arg backbone=resnet18 --model-arg upsample=bilinear
      cnnkit export resnet50 --weights ~/.cache/torch/hub/checkpoints/resnet50-11ad3fa6.pth
      cnnkit export mynet:build --input-size 3,32,32 --classes cat,dog --weights mynet.pt
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
        weights=weights,
        task=task,
    )
    if as_json:
        print_json(report.to_dict())
        return
    from rich.console import Console

    from toolkit.export.render import export_summary, parity_table

    if report.parity:
        Console().print(parity_table(report))
    click.echo(export_summary(report))


@click.command("quantize")
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
@click.option(
    "--calib-dir",
    type=click.Path(),
    help="Images to calibrate on (a held-out quarter is compared on, unless --eval-dir).",
)
@click.option("--eval-dir", type=click.Path(), help="Other images to compare fp32 and INT8 on.")
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
@click.option(
    "--auto",
    is_flag=True,
    help="Static mode: keep the layers INT8 breaks in float, one at a time, until "
    "--min-agreement is reached (and refuse when that mix is not faster than fp32).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="--auto: batch size its latencies are measured at.",
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="--auto: most tensors to keep in float.",
)
@click.option("--explain", is_flag=True, help="On a refusal: the five worst layers and the fix.")
@json_option
@quiet_option
def quantize_cmd(
    model,
    out,
    mode,
    calibration,
    samples,
    calib_dir,
    eval_dir,
    data,
    split,
    min_agreement,
    force,
    auto,
    batch_size,
    max_steps,
    explain,
    as_json,
    quiet,
):
    """Quantize an exported model to INT8 (static or dynamic) or FP16, verified.

    Calibrates on the run's training data (or --calib-dir images), then compares fp32 and
    quantized on the validation split: accuracy or mIoU, agreement, size, batch-1 latency.
    Without run data, --calib-dir is split (the counts are printed) or --eval-dir images
    are compared on: agreement is never measured on an image calibrated on. Preprocessing
    comes from the file's own metadata wherever it lies (`cnnkit inspect` shows it).
    Nothing is written when agreement is below --min-agreement, unless --force.

    \b
    Examples:
      cnnkit quantize runs/lenet5/model.onnx          # -> runs/lenet5/model.int8.onnx
      cnnkit quantize runs/resnet18/model.onnx --calibration entropy --samples 512
      cnnkit quantize foreign.onnx --calib-dir images/ --mode fp16
      cnnkit quantize copied/model.onnx --calib-dir calib/ --eval-dir holdout/
      cnnkit quantize runs/lenet5/model.onnx --auto --min-agreement 0.99
      cnnkit quantize runs/lenet5/model.onnx --min-agreement 0.99 --explain
    """
    from toolkit.export import quantize_onnx
    from toolkit.export.auto import AutoOptions, AutoRefused, QuantizeRefused, quantize_auto

    if auto and mode != "static":
        raise CnnkitError(f"--auto keeps layers of a static INT8 model in float; not --mode {mode}")
    try:
        if auto:
            options = AutoOptions(min_agreement, batch_size, max_steps, quiet)
            report = quantize_auto(
                model,
                out,
                calibration=calibration,
                samples=samples,
                calib_dir=calib_dir,
                eval_dir=eval_dir,
                data=data,
                split=split,
                options=options,
                force=force,
            )
        else:
            report = quantize_onnx(
                model,
                out,
                mode=mode,
                calibration=calibration,
                samples=samples,
                calib_dir=calib_dir,
                eval_dir=eval_dir,
                data=data,
                split=split,
                min_agreement=min_agreement,
                force=force,
                quiet=quiet,
                explain=explain,
            )
    except AutoRefused as refused:
        from rich.console import Console

        from toolkit.export.render import auto_table

        Console(stderr=True).print(auto_table(refused.auto))
        raise
    except QuantizeRefused as refused:
        from toolkit.export.render import explain_lines

        for line in explain_lines(refused):
            click.echo(line, err=True)
        raise
    if as_json:
        print_json(report.to_dict())
        return
    from rich.console import Console

    from toolkit.export.render import auto_table, quantize_table

    if report.auto:
        Console().print(auto_table(report.auto))
    Console().print(quantize_table(report))
    click.echo(f"wrote {report.path}")
