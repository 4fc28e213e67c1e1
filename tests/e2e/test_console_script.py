"""The README's promise as a user meets it: the installed `cnnkit` console script, run from
a folder outside the checkout, through train -> export -> quantize -> profile -> infer ->
bench. In-process calls and pytest's sys.path hid a `make demo` that failed on every
fresh clone (a `models` package of onnxruntime shadowed ours); these tests would not."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.helpers.e2e import BIN, cnnkit, ok
from tests.helpers.e2e import cnnkit as run_cnnkit


def write_digit_pngs(folder, count: int = 12) -> None:
    """Digits test images as 8x8 gray PNGs, the way a user would hand them to infer."""
    from sklearn.datasets import load_digits

    folder.mkdir()
    digits = load_digits()
    for i in range(count):
        pixels = (digits.images[i] * (255 / 16)).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:02d}_{digits.target[i]}.png")


def test_whole_chain_from_outside_the_checkout(tmp_path):
    """Every stage through the console script, each reading what the one before wrote."""
    run_chain(tmp_path, BIN)


def run_chain(tmp_path, bin_dir) -> None:
    """train -> export -> quantize -> profile -> infer -> bench with `bin_dir`'s cnnkit."""

    def cnnkit(*args, cwd):
        return run_cnnkit(*args, cwd=cwd, bin_dir=bin_dir)

    run = tmp_path / "runs" / "lenet5-e2e"
    train = ok(
        cnnkit(
            "train", "lenet5", "--data", "digits", "--epochs", "2", "--limit", "256",
            "--name", "lenet5-e2e", "--quiet", "--json", cwd=tmp_path,
        )
    )  # fmt: skip
    assert json.loads(train.stdout) and (run / "best.pt").is_file()
    ok(cnnkit("export", run, "--quiet", cwd=tmp_path))
    assert (run / "model.onnx").is_file()
    ok(cnnkit("quantize", run / "model.onnx", "--samples", "64", "--force", "-q", cwd=tmp_path))
    assert (run / "model.int8.onnx").is_file()
    profile = json.loads(ok(cnnkit("profile", run / "model.onnx", "--json", cwd=tmp_path)).stdout)
    assert profile["totals"]["params"] > 60_000
    write_digit_pngs(tmp_path / "pngs")
    infer = ok(cnnkit("infer", run / "model.onnx", "pngs", "--out", "preds", "-q", cwd=tmp_path))
    rows = [json.loads(line) for line in (tmp_path / "preds/results.jsonl").open()]
    assert len(rows) == 12 and all(row["status"] == "ok" for row in rows), infer.stderr
    bench = ok(
        cnnkit(
            "bench", run / "model.onnx", run / "model.int8.onnx", "--iterations", "3",
            "--warmup", "1", "--threads", "1", "--no-save", "--json", cwd=tmp_path,
        )
    )  # fmt: skip
    assert len(json.loads(bench.stdout)) >= 2


def test_zoo_builds_and_exports_after_onnxruntime_transformers(tmp_path):
    """onnxruntime.transformers puts a `models` package on sys.path; ours must not care."""
    code = """
import onnxruntime.quantization, onnxruntime.transformers
from toolkit import models
from toolkit.export import export_onnx
assert models.info("lenet5").task == "classification"
report = export_onnx("lenet5", out="m.onnx", quiet=True)
print(report.path)
"""
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "m.onnx").is_file()


def test_version_names_the_environment(tmp_path):
    """`cnnkit --version`: one line per component; --json the same as a dict."""
    text = ok(cnnkit("--version", cwd=tmp_path)).stdout
    assert text.splitlines()[0].startswith("cnnkit ")
    assert "CPUExecutionProvider" in text and "torch " in text
    env = json.loads(ok(cnnkit("--version", "--json", cwd=tmp_path)).stdout)
    assert (
        env["python"]
        and env["onnxruntime"]
        and "CPUExecutionProvider" in env["onnxruntime_providers"]
    )
