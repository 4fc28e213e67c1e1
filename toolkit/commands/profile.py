"""`cnnkit profile`: flags -> toolkit.profiling.profile_target."""

from __future__ import annotations

import click

from toolkit.commands.common import (
    InputSizeParam,
    input_sizes,
    json_option,
    print_json,
    quiet_option,
)
from toolkit.commands.options import COUNT, batch_size_group
from toolkit.tables import table_console


@click.command("profile")
@click.argument("target")
@click.option(
    "--input-size",
    type=InputSizeParam(),
    multiple=True,
    help="C,H,W for dynamic dims or a zoo name; NAME=C,H,W per input of a multi-input model.",
)
@batch_size_group(sweep=False, help="Batch size (default 1).")
@click.option("--top", type=COUNT, help="Show only the N heaviest layers (MACs).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write all layers here.")
@click.option("--no-save", is_flag=True, help="Don't write profile.json into a run folder.")
@json_option
@quiet_option
def profile_cmd(target, input_size, batch_size, top, csv_path, no_save, as_json, quiet):
    """Parameters, MACs/FLOPs, shapes, receptive field and memory of every layer.

    TARGET is an .onnx file (any, torch-free), a run folder (its model.onnx, or its
    checkpoint exported on the fly; profile.json is written beside it), a .pt checkpoint
    or a zoo name. MACs are multiply-accumulates: torchvision's "1.81 GFLOPS" for
    ResNet-18 is MACs.

    \b
    Examples:
      cnnkit profile runs/resnet18/model.onnx --top 10
      cnnkit profile foreign.onnx --input-size 3,224,224 --batch-size 8 --json
      cnnkit profile alexnet --input-size 3,64,64     # every feature map, or why it collapses
      cnnkit profile runs/lenet5 --csv lenet5.csv
      cnnkit profile two_inputs.onnx --input-size image=3,64,64 --input-size meta=4
    """
    from toolkit.profile import render
    from toolkit.profiling import profile_target

    profile = profile_target(
        target,
        input_size=input_sizes(input_size),
        batch=batch_size,
        csv=csv_path,
        save=not no_save,
        quiet=quiet,
    )
    if as_json:
        print_json(profile.to_dict(top=top))
        return
    table_console(terminal_min=120).print(render(profile, top=top))
    for warning in profile.warnings:
        click.echo(f"warning: {warning}", err=True)
