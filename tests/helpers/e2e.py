"""Test helpers for tests/e2e/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
from PIL import Image

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


def write_digit_pngs(folder, count: int = 12) -> None:
    """Digits test images as 8x8 gray PNGs, the way a user would hand them to infer."""
    from sklearn.datasets import load_digits

    folder.mkdir()
    digits = load_digits()
    for i in range(count):
        pixels = (digits.images[i] * (255 / 16)).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:02d}_{digits.target[i]}.png")


def run_chain(tmp_path, bin_dir) -> None:
    """train -> export -> quantize -> profile -> infer -> bench with `bin_dir`'s cnnkit."""

    def cli(*args, cwd):
        return cnnkit(*args, cwd=cwd, bin_dir=bin_dir)

    run = tmp_path / "runs" / "lenet5-e2e"
    train = ok(
        cli(
            "train", "lenet5", "--data", "digits", "--epochs", "2", "--limit", "256",
            "--name", "lenet5-e2e", "--quiet", "--json", cwd=tmp_path,
        )
    )  # fmt: skip
    assert json.loads(train.stdout) and (run / "best.pt").is_file()
    ok(cli("export", run, "--quiet", cwd=tmp_path))
    assert (run / "model.onnx").is_file()
    ok(cli("quantize", run / "model.onnx", "--samples", "64", "--force", "-q", cwd=tmp_path))
    assert (run / "model.int8.onnx").is_file()
    profile = json.loads(ok(cli("profile", run / "model.onnx", "--json", cwd=tmp_path)).stdout)
    assert profile["totals"]["params"] > 60_000
    write_digit_pngs(tmp_path / "pngs")
    infer = ok(cli("infer", run / "model.onnx", "pngs", "--out", "preds", "-q", cwd=tmp_path))
    rows = [json.loads(line) for line in (tmp_path / "preds/results.jsonl").open()]
    assert len(rows) == 12 and all(row["status"] == "ok" for row in rows), infer.stderr
    bench = ok(
        cli(
            "bench", run / "model.onnx", run / "model.int8.onnx", "--iterations", "3",
            "--warmup", "1", "--threads", "1", "--no-save", "--json", cwd=tmp_path,
        )
    )  # fmt: skip
    assert len(json.loads(bench.stdout)) >= 2
