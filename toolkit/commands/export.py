"""`cnnkit export` and `cnnkit quantize`: flags -> toolkit.export."""

from __future__ import annotations

import click

from toolkit.commands.common import json_option, print_json
from toolkit.commands.export_options import export_group, quantize_group
from toolkit.extras import needs_extra
from toolkit.tables import table_console


@needs_extra("train")
@click.command("export")
@click.argument("source")
@click.option(
    "--out", "-o", type=click.Path(), help="Output .onnx or .ort (default: beside the run)."
)
@export_group()
@json_option
def export_cmd(source, out, options, as_json):
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

    \b
    For edge devices (docs/edge.md): --embed-preprocess writes a self-contained file that
    any onnxruntime runs on raw uint8 pixels, checked against `cnnkit infer` on images;
    --format ort writes onnxruntime's ORT format and the operator configs of a minimal
    build. SOURCE may then also be an .onnx file.
      cnnkit export runs/lenet5 --embed-preprocess   # -> runs/lenet5/model.self-contained.onnx
      cnnkit export resnet18.onnx --embed-preprocess --resize --calib-dir photos/
      cnnkit export foreign.onnx --embed-preprocess --mean 0.5 --std 0.25 --input-size 1,28,28
      cnnkit export runs/lenet5/model.onnx --format ort --target-platform arm
      cnnkit export runs/lenet5 --embed-preprocess --format ort -o lenet5.ort
    """
    if options.edge.given:
        _export_edge(source, out, options, as_json)
        return
    from toolkit.export import export_onnx

    report = export_onnx(source, out, options)
    if as_json:
        print_json(report.to_dict())
        return
    from toolkit.export.render import export_summary, parity_table

    if report.parity:
        table_console().print(parity_table(report))
    click.echo(export_summary(report))


def _export_edge(source, out, options, as_json) -> None:
    """export --embed-preprocess / --format ort: the library call and its report."""
    from toolkit.export import export_edge

    report = export_edge(source, out, options)
    if as_json:
        print_json(report.to_dict())
        return
    from toolkit.export.render import edge_lines

    for line in edge_lines(report):
        click.echo(line)


@click.command("quantize")
@click.argument("model", type=click.Path())
@click.option("--out", "-o", type=click.Path(), help="Output (default MODEL.int8/.fp16.onnx).")
@quantize_group()
@json_option
def quantize_cmd(model, out, options, as_json):
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
    from toolkit.export.auto import AutoRefused, QuantizeRefused

    try:
        report = quantize_onnx(model, out, options)
    except AutoRefused as refused:
        from toolkit.export.render import auto_table

        table_console(stderr=True).print(auto_table(refused.auto))
        raise
    except QuantizeRefused as refused:
        from toolkit.export.render import explain_lines

        for line in explain_lines(refused):
            click.echo(line, err=True)
        raise
    if as_json:
        print_json(report.to_dict())
        return
    from toolkit.export.render import auto_table, quantize_table

    if report.auto:
        table_console().print(auto_table(report.auto))
    table_console().print(quantize_table(report))
    for caveat in report.caveats:
        click.echo(f"warning: {caveat}", err=True)
    click.echo(f"wrote {report.path}")
