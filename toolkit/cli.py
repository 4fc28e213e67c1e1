"""The cnnkit command line. Each verb lives in toolkit/commands/<stage>.py and only parses
flags, calls one library function and prints; this file assembles them and turns every
CnnkitError into one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import sys

import click

from toolkit.commands import COMMANDS
from toolkit.errors import CnnkitError

RESUME_HINT = {
    "infer": "rerun the same command with --resume to continue",
    "train": "continue with `cnnkit train --resume RUN_FOLDER`",
}


def os_error_line(exc: OSError) -> str:
    """A faulty environment (disk full, permissions, a folder where a file should be)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f"{os.fsdecode(exc.filename)}: " if exc.filename else ""
    return f"{where}{reason}; files written before are kept as they were"


class CnnkitGroup(click.Group):
    """A click group that turns CnnkitError (and environment faults) into one line, exit 2.

    Ctrl-C exits 130 (the shell's code for SIGINT) with how to continue the work.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except OSError as exc:
            click.echo(f"error: {os_error_line(exc)}", err=True)
            ctx.exit(2)
        except MemoryError:
            click.echo("error: out of memory (lower --batch-size or the input size)", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            hint = RESUME_HINT.get(ctx.invoked_subcommand or "", "run it again")
            click.echo(f"error: interrupted; what was written is kept: {hint}", err=True)
            ctx.exit(130)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # pipeline order, not alphabetical


@click.group(
    cls=CnnkitGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--version", is_flag=True, help="Print cnnkit's version and its environment.")
@click.option("--json", "as_json", is_flag=True, help="With --version: print it as JSON.")
@click.pass_context
def cli(ctx: click.Context, version: bool, as_json: bool):
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
      cnnkit --version            # versions and providers, for a bug report

    Verbs marked [train] need torch: pip install 'cnnkit[train]'. The others run on
    the torch-free runtime extra.
    """
    if version:
        print_version(as_json)
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def print_version(as_json: bool) -> None:
    """`cnnkit --version`: one line per component, or JSON."""
    from toolkit.environment import environment, environment_lines

    env = environment()
    click.echo(json.dumps(env, indent=2) if as_json else "\n".join(environment_lines(env)))


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cnnkit")


if __name__ == "__main__":
    sys.exit(main())
