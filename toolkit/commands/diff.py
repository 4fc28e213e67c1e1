"""`cnnkit diff`: flags -> toolkit.diff.diff_models."""

from __future__ import annotations

import click

from toolkit.commands.common import json_option, print_json, quiet_option
from toolkit.errors import CnnkitError

QUANTIZED_MIN_SQNR = 10.0  # dB: the default floor when one side is a QDQ file


def pair(text: str | None, flag: str, default: str) -> tuple[str, str]:
    """'x' -> (x, x); 'x,y' -> (x, y); None -> defaults."""
    if text is None:
        return default, default
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise CnnkitError(f"{flag} {text!r}: expected one value or two (for A,B), e.g. disable,all")


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--inputs", type=click.Path(), help="Folder of images to compare on.")
@click.option("--data", help="Data source to compare on (needs torch), e.g. digits.")
@click.option("--split", default="test", show_default=True, help="Split of --data.")
@click.option(
    "--samples", type=click.IntRange(min=1), default=64, show_default=True, help="Inputs compared."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Inputs per run; memory is bounded by it, not by --samples.",
)
@click.option("--device", help="cpu | cuda[:N], or A,B for two values (ONNX sides).")
@click.option("--graph-opt", help="disable|basic|extended|all, or A,B (default all).")
@click.option("--atol", type=float, help="Absolute tolerance (default 1e-4; off vs QDQ).")
@click.option("--rtol", type=float, help="Relative tolerance (default 1e-3; off vs QDQ).")
@click.option(
    "--check-error-stat",
    type=click.Choice(["elemwise", "max", "mean", "median"]),
    default="elemwise",
    show_default=True,
    help="Which error statistic the tolerances apply to (Polygraphy's rule).",
)
@click.option("--min-sqnr", type=float, help="Also fail tensors below this SQNR in dB.")
@click.option("--layerwise", is_flag=True, help="Compare every intermediate tensor too.")
@click.option("--plot", type=click.Path(), help="With --layerwise: PNG of SQNR per layer.")
@click.option("--validate", is_flag=True, help="Show NaN/Inf counts per output.")
@json_option
@quiet_option
def diff_cmd(
    a, b, inputs, data, split, samples, batch_size, device, graph_opt, atol, rtol,
    check_error_stat, min_sqnr, layerwise, plot, validate, as_json, quiet,
):  # fmt: skip
    """Run A and B on the same inputs and compare them, output by output (B is the reference).

    A and B: a run folder or .pt checkpoint (torch eager), or an .onnx file (onnxruntime;
    the same file twice under two --graph-opt levels or --device values). Reports max
    abs/rel error, mean abs, cosine, SQNR and top-1 (or pixel) agreement, and applies
    Polygraphy's rule. Against a QDQ file the default rule is a 10 dB worst-channel SQNR
    floor instead. Exit code 1 when an output is out of tolerance.

    \b
    Examples:
      cnnkit diff runs/lenet/model.onnx runs/lenet --layerwise
      cnnkit diff runs/lenet/model.int8.onnx runs/lenet/model.onnx --layerwise --plot sqnr.png
      cnnkit diff model.onnx model.onnx --graph-opt disable,all --inputs images/
      cnnkit diff a.onnx b.onnx --atol 1e-3 --rtol 1e-2 --check-error-stat median --json
    """
    from toolkit.diff import DiffOptions, SideSpec, Tolerance, diff_models
    from toolkit.diff.sides import quantized_source

    if plot and not layerwise:
        raise CnnkitError("--plot draws SQNR per layer: add --layerwise")
    if plot:
        from toolkit.extras import require_extra

        require_extra("plot", "diff --plot")
    dev_a, dev_b = pair(device, "--device", "cpu")
    opt_a, opt_b = pair(graph_opt, "--graph-opt", "all")
    side_a, side_b = SideSpec(a, dev_a, opt_a), SideSpec(b, dev_b, opt_b)
    if atol is None and rtol is None and (quantized_source(a) or quantized_source(b)):
        tolerance = Tolerance(None, None, check_error_stat, min_sqnr or QUANTIZED_MIN_SQNR)
    else:
        tolerance = Tolerance(
            1e-4 if atol is None else atol,
            1e-3 if rtol is None else rtol,
            check_error_stat,
            min_sqnr,
        )
    options = DiffOptions(
        inputs=inputs,
        data=data,
        split=split,
        samples=samples,
        batch_size=batch_size,
        tolerance=tolerance,
        layerwise=layerwise,
        plot=plot,
        quiet=quiet,
    )
    report = diff_models(side_a, side_b, options)
    if as_json:
        print_json(report.to_dict())
    else:
        from rich.console import Console

        from toolkit.diff.render import closing_lines, layers_table, outputs_table, weights_table

        console = Console()
        console.print(outputs_table(report, validate))
        if report.layers:
            console.print(layers_table(report))
        if report.weights:
            console.print(weights_table(report))
        for line in closing_lines(report):
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)
