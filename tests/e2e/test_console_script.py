"""The README's promise as a user meets it: the installed `cnnkit` console script, run from
a folder outside the checkout, through train -> export -> quantize -> profile -> infer ->
bench. In-process calls and pytest's sys.path hid a `make demo` that failed on every
fresh clone (a `models` package of onnxruntime shadowed ours); these tests would not."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.e2e import BIN, cnnkit, ok, run_chain


def test_whole_chain_from_outside_the_checkout(tmp_path):
    """Every stage through the console script, each reading what the one before wrote."""
    run_chain(tmp_path, BIN)


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
