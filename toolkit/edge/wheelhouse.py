"""The kit's wheels/: cnnkit's own wheel and, from `pip download`, every wheel the target needs.

The answers a kit's samples expect were computed with this machine's onnxruntime, numpy,
Pillow and simplejpeg, so those are pinned to the versions installed here: the device runs
the same kernels and decoders, and `verify` compares like with like.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path

from toolkit.edge.targets import Target, pip_target_args
from toolkit.errors import CnnkitError

# The packages whose versions decide the answers; pinned to this machine's.
PINNED = ("onnxruntime", "numpy", "pillow", "simplejpeg")


def source_checkout() -> Path:
    """The checkout cnnkit runs from (an editable install); its wheel is built from there."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "models").is_dir():
        raise CnnkitError(
            "cnnkit bundle builds cnnkit's own wheel from its source checkout, and this "
            "install has none: run it from a checkout (`pip install -e .`)"
        )
    return root


def pins() -> list[str]:
    """`name==version` for each PINNED package installed here."""
    found = []
    for name in PINNED:
        try:
            found.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def run_pip(args: list[str], what: str) -> None:
    """Run `python -m pip ARGS`; one CnnkitError line with pip's own reason when it fails."""
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if "ERROR" in line), lines[-1] if lines else "")
        raise CnnkitError(f"{what} failed: {reason.strip()}")


def own_wheel(wheels: Path) -> Path:
    """Build cnnkit's wheel (no dependencies, no network) into `wheels`; its path."""
    with tempfile.TemporaryDirectory(prefix="cnnkit-wheel-") as build:
        run_pip(
            [
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                build,
                str(source_checkout()),
            ],
            "building cnnkit's wheel",
        )
        (built,) = Path(build).glob("cnnkit-*.whl")
        return Path(built.replace(wheels / built.name))


def download(chosen: Target, requirement: str, wheels: Path) -> list[str]:
    """`pip download` every wheel `requirement` needs on `chosen` into `wheels`; their names."""
    args = ["download", "-q", "-d", str(wheels), *pip_target_args(chosen), requirement, *pins()]
    run_pip(args, f"pip download for {chosen.platform} / CPython {chosen.python}")
    return sorted(path.name for path in wheels.glob("*.whl"))
