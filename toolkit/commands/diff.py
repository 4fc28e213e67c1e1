"""`cnnkit diff`: flags -> toolkit.diff.diff_models."""

from __future__ import annotations

import click

from toolkit.commands.common import json_option, print_json, quiet_option
from toolkit.commands.options import COUNT, FINITE, NON_NEGATIVE, group
from toolkit.errors import CnnkitError
from toolkit.tables import table_console

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


def sides_group():
    """--device and --graph-opt, one value or A,B -> ((device A, level A), (device B, level B))."""

    def build(*, device, graph_opt):
        devices, levels = pair(device, "--device", "cpu"), pair(graph_opt, "--graph-opt", "all")
        return tuple(zip(devices, levels, strict=True))

    return group(
        "sides",
        build,
        [
            click.option("--device", help="cpu | cuda[:N], or A,B for two values (ONNX sides)."),
            click.option("--graph-opt", help="disable|basic|extended|all, or A,B (default all)."),
        ],
    )


def comparison_group():
    """What is compared and by which rule -> DiffOptions (tolerance still to settle)."""

    def build(*, atol, rtol, check_error_stat, min_sqnr, **values):
        from toolkit.diff import DiffOptions, Tolerance

        return DiffOptions(tolerance=Tolerance(atol, rtol, check_error_stat, min_sqnr), **values)

    return group(
        "options",
        build,
        [
            click.option("--inputs", type=click.Path(), help="Folder of images to compare on."),
            click.option("--data", help="Data source to compare on (needs torch), e.g. digits."),
            click.option("--split", default="test", show_default=True, help="Split of --data."),
            click.option(
                "--samples",
                type=COUNT,
                default=64,
                show_default=True,
                help="Inputs compared.",
            ),
            click.option(
                "--batch-size",
                type=COUNT,
                default=16,
                show_default=True,
                help="Inputs per run; memory is bounded by it, not by --samples.",
            ),
            click.option(
                "--atol", type=NON_NEGATIVE, help="Absolute tolerance (default 1e-4; off vs QDQ)."
            ),
            click.option(
                "--rtol", type=NON_NEGATIVE, help="Relative tolerance (default 1e-3; off vs QDQ)."
            ),
            click.option(
                "--check-error-stat",
                type=click.Choice(["elemwise", "max", "mean", "median"]),
                default="elemwise",
                show_default=True,
                help="Which error statistic the tolerances apply to (Polygraphy's rule).",
            ),
            click.option(
                "--min-sqnr", type=FINITE, help="Also fail tensors below this SQNR in dB."
            ),
            click.option(
                "--layerwise", is_flag=True, help="Compare every intermediate tensor too."
            ),
            click.option(
                "--plot", type=click.Path(), help="With --layerwise: PNG of SQNR per layer."
            ),
        ],
    )


def settled(tolerance, a: str, b: str):
    """The tolerance with its defaults: Polygraphy's atol/rtol, or an SQNR floor vs a QDQ file."""
    from toolkit.diff import Tolerance
    from toolkit.diff.sides import quantized_source

    if (
        tolerance.atol is None
        and tolerance.rtol is None
        and (quantized_source(a) or quantized_source(b))
    ):
        floor = tolerance.min_sqnr or QUANTIZED_MIN_SQNR
        return Tolerance(None, None, tolerance.check_error_stat, floor)
    return Tolerance(
        1e-4 if tolerance.atol is None else tolerance.atol,
        1e-3 if tolerance.rtol is None else tolerance.rtol,
        tolerance.check_error_stat,
        tolerance.min_sqnr,
    )


@click.command("diff")
@click.argument("a")
@click.argument("b")
@comparison_group()
@sides_group()
@click.option("--validate", is_flag=True, help="Show NaN/Inf counts per output.")
@json_option
@quiet_option
def diff_cmd(a, b, options, sides, validate, as_json, quiet):
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
    from dataclasses import replace

    from toolkit.diff import SideSpec, diff_models

    if options.plot and not options.layerwise:
        raise CnnkitError("--plot draws SQNR per layer: add --layerwise")
    if options.plot:
        from toolkit.extras import require_extra

        require_extra("plot", "diff --plot")
    (dev_a, opt_a), (dev_b, opt_b) = sides
    side_a, side_b = SideSpec(a, dev_a, opt_a), SideSpec(b, dev_b, opt_b)
    options = replace(options, tolerance=settled(options.tolerance, a, b), quiet=quiet)
    report = diff_models(side_a, side_b, options)
    if as_json:
        print_json(report.to_dict())
    else:
        from toolkit.diff.render import closing_lines, layers_table, outputs_table, weights_table

        console = table_console()
        console.print(outputs_table(report, validate))
        if report.layers:
            console.print(layers_table(report))
        if report.weights:
            console.print(weights_table(report))
        for line in closing_lines(report):
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)
