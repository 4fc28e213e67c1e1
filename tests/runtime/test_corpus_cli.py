"""The corpus through the installed `cnnkit` console script, run from a folder outside the
checkout: inspect / infer / profile / bench on foreign files, one-line refusals, no
half-made output folders."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error
from tests.helpers.e2e import cnnkit as console_script
from tests.helpers.runtime import write_images
from tests.runtime import corpus


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A working folder outside the checkout holding the corpus and a few images."""
    folder = tmp_path_factory.mktemp("cli-corpus")
    corpus.build(folder)
    write_images(folder / "images", (16, 16), count=4)
    return folder


def cnnkit(work: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed console script in `work`."""
    return console_script(*args, cwd=work, timeout=300)


def test_inspect_json_and_text(work):
    result = cnnkit(work, "inspect", "nhwc.onnx", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["assumptions"]["layout"] == "NHWC" and data["assumptions"]["channels"] == 3
    assert data["inputs"][0]["dynamic_axes"] == [0] and data["opsets"] == {"ai.onnx": 17}
    text = cnnkit(work, "inspect", "softmax.onnx").stdout
    assert "probs: the graph ends in Softmax" in text
    external = json.loads(cnnkit(work, "inspect", "external.onnx", "--json").stdout)
    assert external["file_bytes"] > (work / "external.onnx").stat().st_size


def test_infer_reads_probabilities_once_and_notes_its_assumptions(work):
    result = cnnkit(work, "infer", "softmax.onnx", "images", "--out", "probs-out")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "read as probs" in notes[0]
    rows = [json.loads(x) for x in (work / "probs-out" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows)


def test_two_inputs_need_feed_and_leave_no_folder(work):
    result = cnnkit(work, "infer", "two_inputs.onnx", "images", "--out", "two-out")
    assert_one_line_error(result, "2 inputs", "image", "meta", "--feed")
    assert not (work / "two-out").exists()
    fed = cnnkit(work, "infer", "two_inputs.onnx", "images", "--out", "two-out",
                 "--feed", "meta=meta.npy")  # fmt: skip
    assert fed.returncode == 0, fed.stderr


def test_profile_and_bench_take_named_input_sizes(work):
    result = cnnkit(work, "profile", "two_inputs.onnx", "--input-size", "image=3,16,16",
                    "--input-size", "meta=4", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["inputs"] == {"image": [1, 3, 16, 16], "meta": [1, 4]}
    result = cnnkit(work, "bench", "dynamic_hw.onnx", "--input-size", "3,32,32",
                    "--iterations", "2", "--warmup", "1", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["input_shape"] == [1, 3, 32, 32]
    wrong = cnnkit(work, "profile", "two_inputs.onnx", "--input-size", "nope=4")
    assert_one_line_error(wrong, "nope", "no such input")


def test_quantize_refuses_what_it_cannot_take_in_one_line(work):
    result = cnnkit(work, "quantize", "uint8_input.onnx", "--calib-dir", "images")
    assert_one_line_error(result, "uint8", "float32")
    result = cnnkit(work, "quantize", "two_inputs.onnx", "--calib-dir", "images")
    assert_one_line_error(result, "single-input")
