"""Test helpers for tests/e2e/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from tests.helpers.cli import ROOT

BIN = Path(sys.executable).parent


def cnnkit(*args, cwd: Path, bin_dir: Path = BIN, timeout: float = 600):
    """Run the `cnnkit` console script of `bin_dir` in `cwd` (never the checkout)."""
    assert ROOT not in Path(cwd).resolve().parents and Path(cwd).resolve() != ROOT
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [str(bin_dir / "cnnkit"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )


def ok(result) -> subprocess.CompletedProcess:
    """Assert exit 0 and hand the result back."""
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-3000:])
    return result


def build_wheel(out: Path) -> Path:
    """`pip wheel` the checkout (no dependencies) into `out`; the .whl path."""
    ok(
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    )
    (wheel,) = out.glob("cnnkit-*.whl")
    return wheel


def fresh_venv(folder: Path, *requirements: str) -> Path:
    """A new virtual environment with `requirements` pip-installed; its bin folder."""
    venv.create(folder, with_pip=True)
    bin_dir = folder / "bin"
    ok(
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", *requirements],
            capture_output=True,
            text=True,
            timeout=900,
        )
    )
    return bin_dir
