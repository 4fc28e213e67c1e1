"""`cnnkit inspect`: flags -> toolkit.runtime.inspection (torch-free)."""

from __future__ import annotations

import click

from toolkit.commands.common import (
    SizeParam,
    interpretation_options,
    json_option,
    parse_feeds,
    parse_floats,
    print_json,
)


@click.command("inspect")
@click.argument("model", type=click.Path())
@click.option("--size", type=SizeParam(2), help="H,W input size (override).")
@click.option("--mean", help="Per-channel mean in 0..1 (override).")
@click.option("--std", help="Per-channel std in 0..1 (override).")
@click.option("--labels", type=click.Path(), help="Text file of class names, one per line.")
@click.option("--gray", is_flag=True, help="Feed 1-channel gray images.")
@interpretation_options
@click.option("--no-run", is_flag=True, help="Read the file only; no test run.")
@json_option
def inspect_cmd(
    model, size, mean, std, labels, gray, layout, reading, output, feeds, no_run, as_json
):
    """What an ONNX file holds, and what infer / bench / quantize will assume about it.

    Inputs and outputs (names, dtypes, shapes, dynamic axes), IR version, opsets,
    producer, size with external data, cnnkit metadata; then the layout, dtype,
    channels, size, mean/std, output and how it is read, and labels, each with its
    reason. A test run on one synthetic image (as infer does) settles what the file
    leaves open, unless --no-run. The same flags as infer override each assumption.

    \b
    Examples:
      cnnkit inspect runs/lenet5/model.onnx
      cnnkit inspect keras_model.onnx --json
      cnnkit inspect two_inputs.onnx --feed meta=meta.npy
      cnnkit inspect squeezenet.onnx --outputs probs --labels synset.txt
    """
    from toolkit.runtime.inspection import inspect_model, render
    from toolkit.runtime.preprocess import SpecFlags

    flags = SpecFlags(
        size=size,
        mean=parse_floats(mean, "--mean"),
        std=parse_floats(std, "--std"),
        labels=labels,
        gray=gray,
        layout=layout,
        outputs=reading,
        output=output,
        feeds=parse_feeds(feeds),
    )
    interp = inspect_model(model, flags, run=not no_run)
    if as_json:
        print_json(interp.to_dict())
    else:
        click.echo(render(interp))
