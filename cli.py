"""The cnnkit command line: one short function per verb that parses flags, calls the
library, and prints. Errors for users are CnnkitError: one line on stderr, exit code 2.

Heavy imports (torch, onnxruntime) happen inside the commands that need them, so
`cnnkit --help` and `cnnkit infer --help` start fast.
"""

from __future__ import annotations

import json
import sys

import click

from toolkit import __version__
from toolkit.errors import CnnkitError


class CnnkitGroup(click.Group):
    """A click group that turns CnnkitError into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


def parse_size(text: str, count: int = 3) -> tuple[int, ...]:
    """Parse 'C,H,W' (or 'H,W' with count=2) into positive ints; a CnnkitError otherwise."""
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise CnnkitError(f"size {text!r} is not {count} integers like 3,224,224") from None
    if len(values) != count or any(v <= 0 for v in values):
        raise CnnkitError(f"size {text!r} must be {count} positive integers")
    return values


class SizeParam(click.ParamType):
    """A click parameter for 'C,H,W'."""

    name = "C,H,W"

    def __init__(self, count: int = 3):
        self.count = count

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(value, self.count)
        except CnnkitError as exc:
            self.fail(str(exc), param, ctx)


def print_json(data) -> None:
    """Machine output on stdout."""
    click.echo(json.dumps(data, indent=2))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")


@click.group(cls=CnnkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnnkit")
def cli():
    """cnnkit: classic CNNs from PyTorch to the edge.

    \b
    train -> export -> quantize -> profile -> infer -> bench
    \b
    Examples:
      cnnkit models
      cnnkit train lenet5 --data digits --epochs 10
      cnnkit export runs/lenet5 && cnnkit profile runs/lenet5/model.onnx
      cnnkit infer runs/lenet5/model.onnx images/ --out preds/
    """


# ---------------------------------------------------------------- models


@cli.command("models")
@click.option("--task", type=click.Choice(["classification", "segmentation"]), help="Filter.")
@json_option
def models_cmd(task, as_json):
    """List the model zoo: name, task, default input, parameters.

    \b
    Examples:
      cnnkit models
      cnnkit models --task segmentation --json
    """
    import models

    rows = models.catalog(task)
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="cnnkit model zoo")
    for column in ("name", "task", "input", "params", "description"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for row in rows:
        size = "x".join(str(v) for v in row["input_size"])
        table.add_row(row["name"], row["task"], size, f"{row['params']:,}", row["description"])
    Console().print(table)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cnnkit")


if __name__ == "__main__":
    sys.exit(main())
