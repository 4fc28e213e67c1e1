"""`cnnkit inspect`: flags -> toolkit.runtime.inspection (torch-free)."""

from __future__ import annotations

import click

from toolkit.commands.common import json_option, print_json
from toolkit.commands.options import input_group


@click.command("inspect")
@click.argument("model", type=click.Path())
@input_group()
@click.option("--no-run", is_flag=True, help="Read the file only; no test run.")
@json_option
def inspect_cmd(model, spec, no_run, as_json):
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

    interp = inspect_model(model, spec, run=not no_run)
    if as_json:
        print_json(interp.to_dict())
    else:
        click.echo(render(interp))
