"""`cnnkit bundle`, `cnnkit verify`, `cnnkit doctor`: flags -> toolkit.edge (torch-free)."""

from __future__ import annotations

import sys

import click

from toolkit.commands.common import json_option, print_json
from toolkit.commands.options import FRACTION, group


def bundle_group():
    """--platform, --python, --with, --samples, --tolerance -> BundleOptions."""

    def build(*, platform, python, extras, samples, tolerance):
        from pathlib import Path

        from toolkit.edge.bundle import BundleOptions

        return BundleOptions(
            platform=platform,
            python=python,
            extras=tuple(extras),
            samples=Path(samples) if samples else None,
            tolerance=tolerance,
        )

    return group(
        "options",
        build,
        [
            click.option(
                "--platform",
                default="linux-aarch64",
                show_default=True,
                help="The device: linux-aarch64 or linux-x86_64.",
            ),
            click.option(
                "--python",
                default="3.11",
                show_default=True,
                help="The device's python3 version (3.11 to 3.14).",
            ),
            click.option(
                "--with",
                "extras",
                multiple=True,
                type=click.Choice(["serve"]),
                help="Also carry the server's extra (cnnkit serve).",
            ),
            click.option(
                "--samples",
                type=click.Path(exists=True, file_okay=False),
                help="A folder of images to verify with (default: synthetic ones).",
            ),
            click.option(
                "--tolerance",
                type=FRACTION,
                default=1e-3,
                show_default=True,
                help="The most a probability may differ on the device.",
            ),
        ],
    )


@click.command("bundle")
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--out", required=True, type=click.Path(), help="The kit folder to create.")
@bundle_group()
def bundle_cmd(models, out, options):
    """An offline install kit for an edge box: wheels, models, samples, install.sh.

    KIT/ holds every wheel the device needs for its platform and Python (pip download,
    the full manylinux tag list), cnnkit's own wheel, the models, a few samples with the
    rows this machine gives for them (samples/expected.jsonl), MANIFEST (sha256 of every
    file) and install.sh: an offline venv install, then `cnnkit doctor`, then
    `cnnkit verify KIT/`. Nothing in the kit reaches a network. The device needs the
    kit's glibc (kit.json) or newer, and python3 with venv.

    \b
    Examples:
      cnnkit bundle runs/lenet5-digits/model.onnx -o kit/
      cnnkit bundle model.onnx model.int8.onnx --platform linux-x86_64 --python 3.12 -o kit/
      cnnkit bundle model.onnx --with serve --samples camera/ -o kit/
      # on the device:  sh kit/install.sh
    """
    from toolkit.edge.bundle import bundle

    kit = bundle(models, out, options)
    info = kit.info
    click.echo(
        f"{kit.path}: {len(info.models)} model(s), {kit.samples} samples, {len(kit.wheels)} "
        f"wheels for {info.platform} / CPython {info.python} (glibc >= {info.glibc or 'any'})"
    )
    click.echo(f"on the device: sh {kit.path}/install.sh")


@click.command("verify")
@click.argument("kit", type=click.Path())
@click.option(
    "--tolerance", type=FRACTION, help="The most a probability may differ (default: the kit's)."
)
@json_option
def verify_cmd(kit, tolerance, as_json):
    """Check a kit's files against MANIFEST and re-run its samples: the build machine's rows?

    Every sample must give the label samples/expected.jsonl holds, with every top-k
    probability within the tolerance (kit.json; 1e-3 by default). A changed, missing or
    added file fails, named. Exit 0: passed; 1: some check failed (listed).

    \b
    Examples:
      cnnkit verify kit/
      cnnkit verify kit/ --json
    """
    from toolkit.edge.verify import verify_kit

    result = verify_kit(kit, tolerance)
    if as_json:
        print_json(result.to_dict())
    else:
        for problem in result.problems:
            click.echo(f"FAILED {problem}")
        verdict = "passed" if result.passed else f"FAILED ({len(result.problems)} problem(s))"
        click.echo(
            f"verify {verdict}: {result.samples} samples, largest difference "
            f"{result.worst:.2g} (tolerance {result.tolerance:g})"
        )
    sys.exit(0 if result.passed else 1)


@click.command("doctor")
@json_option
def doctor_cmd(as_json):
    """Is this machine fit to run models: OS, CPU, cores, memory, onnxruntime, advice.

    Reports the instruction sets that decide speed (x86: AVX2, AVX-512, VNNI, BF16, AMX;
    ARM: NEON, dotprod, i8mm, SVE, bf16), the cores this process may use (affinity and
    cgroup quota), and every onnxruntime provider both listed and opening a tiny session
    (onnxruntime quietly falls back to the CPU otherwise). Exit 1 when something is broken.

    \b
    Examples:
      cnnkit doctor
      cnnkit doctor --json
    """
    from toolkit.edge.doctor import diagnose, render

    report = diagnose()
    if as_json:
        print_json(report)
    else:
        click.echo(render(report))
    sys.exit(1 if report["problems"] else 0)
