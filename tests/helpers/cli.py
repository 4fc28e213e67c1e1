"""Test helpers shared by every test (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]  # the checkout

CNNKIT = Path(sys.executable).parent / "cnnkit"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env=None):
    """Run the installed `cnnkit ARGS` and return the CompletedProcess (text, captured)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [str(CNNKIT), *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


NO_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is not allowed here")
sys.meta_path.insert(0, NoTorch())
"""


def run_without_torch(code: str, cwd: Path | None = None, timeout: float = 120):
    """Run Python `code` in a fresh interpreter where `import torch` raises (the edge install)."""
    return subprocess.run(
        [sys.executable, "-c", NO_TORCH + textwrap.dedent(code)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def invoke(*args: str, cwd: Path | None = None) -> SimpleNamespace:
    """Run the CLI in-process (click's CliRunner); the result reads like run_cli's.

    The same CnnkitGroup error handling as the console script, without starting an
    interpreter: for one-line-error checks and CLI runs whose process adds nothing. Each
    verb keeps at least one run_cli test (tests/e2e, the bad-input suite's "!" cases).
    An exception that escaped the CLI is appended to stderr, as the console script prints it.
    """
    from toolkit import cli

    here = Path.cwd()
    os.chdir(cwd or here)
    try:
        result = CliRunner().invoke(cli.cli, [str(a) for a in args])
    finally:
        os.chdir(here)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=stderr)


def assert_one_line_error(result, *needles: str) -> None:
    """Bad input: exit 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) >= 1
    error_lines = [ln for ln in lines if ln.lower().startswith("error")]
    assert len(error_lines) == 1, result.stderr
    for needle in needles:
        assert needle.lower() in error_lines[0].lower(), (needle, error_lines[0])
