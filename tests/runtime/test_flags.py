"""One flag vocabulary (docs/CLI.md): --input-size C,H,W, --batch-size, --loader-workers;
the old spellings still work for one release and print one note on stderr."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.runtime import write_pngs
from toolkit.cli import cli

SIZE_NOTE = "note: --size is now --input-size C,H,W"


def invoke(*args):
    """The CLI in-process (CliRunner); stdout and stderr apart."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_old_size_works_with_one_note_and_equals_input_size(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 3)
    old = run_cli("infer", lenet_onnx, "imgs", "-o", "old", "--size", "32,32", cwd=tmp_path)
    new = run_cli("infer", lenet_onnx, "imgs", "-o", "new", "--input-size", "1,32,32", cwd=tmp_path)
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert old.stderr.count(SIZE_NOTE) == 1 and "note: --size" not in new.stderr
    rows = [(tmp_path / d / "results.jsonl").read_text() for d in ("old", "new")]
    assert rows[0] == rows[1]


def test_input_size_channels_must_match_the_model(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 1)
    wrong = run_cli("infer", lenet_onnx, "imgs", "-o", "o", "--input-size", "3,32,32", cwd=tmp_path)
    assert_one_line_error(wrong, "--input-size 3,H,W", "1 channels")
    twice = invoke("inspect", lenet_onnx, "--input-size", "1,32,32", "--size", "32,32")
    assert twice.exit_code == 2 and "--input-size" in twice.stderr


def test_inspect_takes_input_size_and_c_1_feeds_gray(seg_onnx):
    result = invoke("inspect", seg_onnx, "--input-size", "3,40,48", "--json", "--no-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["assumptions"]["input_size"] == [3, 40, 48]
    flags = ["--mean", "0", "--std", "1", "--json", "--no-run"]
    gray = invoke("inspect", seg_onnx, "--input-size", "1,40,48", *flags)
    assert gray.exit_code == 0, gray.output
    assert json.loads(gray.stdout)["assumptions"]["input_size"] == [1, 40, 48]
    assert "--input-size" in json.loads(gray.stdout)["reasons"]["channels"]


@pytest.mark.parametrize(
    "verb, extra",
    [
        ("bench", ["--iterations", "2", "--warmup", "0", "--no-save", "--no-gflops"]),
        ("profile", ["--no-save"]),
    ],
)
def test_batch_is_now_batch_size(lenet_onnx, verb, extra):
    old = invoke(verb, lenet_onnx, "--batch", "2", "--json", *extra)
    new = invoke(verb, lenet_onnx, "--batch-size", "2", "--json", *extra)
    assert old.exit_code == new.exit_code == 0, old.output + new.output
    assert old.stderr.count("note: --batch is now --batch-size") == 1
    assert "note: --batch" not in new.stderr


def test_train_workers_is_now_loader_workers():
    old = invoke("train", "lenet", "--data", "digits", "--workers", "10000")
    new = invoke("train", "lenet", "--data", "digits", "--loader-workers", "10000")
    for result in (old, new):  # the value reaches the config, which refuses it
        assert result.exit_code == 2 and "--loader-workers must be 0.." in result.stderr
    assert old.stderr.count("note: --workers is now --loader-workers") == 1
    assert "note:" not in new.stderr
