"""The cnnkit command line. Each verb lives in toolkit/commands/<stage>.py and only parses
flags, calls one library function and prints; this file assembles them and turns every
CnnkitError into one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

import click

from toolkit import __version__
from toolkit.commands import COMMANDS
from toolkit.errors import CnnkitError


class CnnkitGroup(click.Group):
    """A click group that turns CnnkitError into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # pipeline order, not alphabetical


@click.group(cls=CnnkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnnkit")
def cli():
    """cnnkit: classic CNNs from PyTorch to the edge.

    \b
    train -> export -> quantize -> profile -> infer -> bench
    \b
    Examples:
      cnnkit models
      cnnkit train lenet5 --data digits --epochs 30
      cnnkit export runs/lenet5-digits && cnnkit quantize runs/lenet5-digits/model.onnx
      cnnkit profile runs/lenet5-digits/model.onnx
      cnnkit infer runs/lenet5-digits/model.onnx images/ --out preds/
      cnnkit bench runs/lenet5-digits/model.onnx runs/lenet5-digits/model.int8.onnx
      cnnkit demo
    """


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cnnkit")


if __name__ == "__main__":
    sys.exit(main())
