"""`cnnkit demo`: the whole pipeline -> toolkit.demo.run_demo."""

from __future__ import annotations

import click

from toolkit.commands.common import quiet_option
from toolkit.commands.options import SEED
from toolkit.extras import needs_extra


@needs_extra("train")
@click.command("demo")
@click.option(
    "--out",
    default="runs/demo",
    show_default=True,
    type=click.Path(),
    help="Folder for everything the demo writes (runs/demo-2... if it exists).",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed for data and training.")
@click.option("--quick", is_flag=True, help="Tiny epochs and sample counts: checks the plumbing.")
@quiet_option
def demo_cmd(out, seed, quick, quiet):
    """Run the whole pipeline on built-in data and write REPORT.md.

    Trains LeNet-5 on digits and an FCN-8s on digit-scenes, exports both (parity),
    quantizes to INT8 (agreement), profiles, benchmarks fp32 / INT8 / torch eager,
    and labels the test split from PNG files (plus broken files) with `infer`.

    \b
    Examples:
      cnnkit demo
      cnnkit demo --seed 1 --out runs/demo-seed1
      cnnkit demo --quick
    """
    from pathlib import Path

    from toolkit.demo import DemoConfig, run_demo

    result = run_demo(DemoConfig(out=Path(out), seed=seed, quick=quick, quiet=quiet))
    click.echo(f"demo finished in {result.seconds / 60:.1f} min: {result.files['report']}")
