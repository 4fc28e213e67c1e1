"""Nothing lost, nothing corrupted: odd file names, two runs on one folder, non-finite numbers.

Each case reproduces a fault that once lost rows, wrote invalid JSON or let two runs write
the same results; results.jsonl is always read back as strict JSON in UTF-8.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from tests.helpers.bad_input import one_line, snapshot, strict_rows
from tests.helpers.cli import invoke, run_cli
from toolkit.meta import ModelMeta
from toolkit.onnxfile import write_metadata
from toolkit.safeio import FolderLock

BAD_NAME = b"img_15_\xff.png"  # not valid UTF-8


def digit_pngs(folder: Path, count: int) -> list[Path]:
    """`count` small gray PNGs named img_00.png ..."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:02d}.png"
        Image.fromarray(np.full((8, 8), i * 10, np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.mark.skipif(os.name != "posix", reason="byte file names are a POSIX matter")
def test_a_name_that_is_not_utf8_gets_its_row_and_round_trips(world, tmp_path):
    """20 PNGs and one named with a \\xff byte: 21 rows, strict UTF-8 JSON, --resume adds none."""
    folder = tmp_path / "in"
    digit_pngs(folder, 20)
    bad = os.path.join(os.fsencode(folder), BAD_NAME)
    shutil.copy(folder / "img_00.png", bad)
    out = tmp_path / "out"
    result = run_cli("infer", world.onnx, folder, "--out", out, "-b", "4", "--csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = strict_rows(out / "results.jsonl", expected=21)
    assert all(row["status"] == "ok" for row in rows)
    odd = [row for row in rows if "\udcff" in row["path"]]
    assert len(odd) == 1 and os.fsencode(odd[0]["path"]) == bad  # the exact bytes come back
    assert b"\\udcff" in (out / "results.jsonl").read_bytes()  # the documented escape
    assert "img_15_\\xff.png" in (out / "results.csv").read_text(encoding="utf-8")
    again = run_cli("infer", world.onnx, folder, "--out", out, "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "21 from before" in again.stdout
    assert strict_rows(out / "results.jsonl") == rows


def test_a_second_infer_on_a_locked_out_is_refused(world, tmp_path):
    """While a run holds --out, a second one exits 2 with one line and writes nothing."""
    out = tmp_path / "out"
    out.mkdir()
    with FolderLock(out):
        result = invoke("infer", world.onnx, world.good, "--out", out)
        one_line(result, str(out), "another cnnkit run")
        assert not (out / "results.jsonl").exists()
    assert invoke("infer", world.onnx, world.good, "--out", out).returncode == 0
    strict_rows(out / "results.jsonl", expected=1)


def test_a_second_train_on_a_locked_run_folder_is_refused(world, tmp_path):
    """train --exist-ok (or --resume) on a folder another run holds: one line, untouched."""
    run = tmp_path / "runs" / "held"
    shutil.copytree(world.run, run)
    before = snapshot(run)
    with FolderLock(run):
        result = invoke(
            "train", "lenet", "--runs-dir", tmp_path / "runs", "--name", "held", "--exist-ok",
            "--limit", "16", "--epochs", "1",
        )  # fmt: skip
        one_line(result, "held", "another cnnkit run")
        one_line(invoke("train", "--resume", run, "--epochs", "3"), "another cnnkit run")
    assert snapshot(run) == before


def nan_model(path: Path) -> Path:
    """A 1x4x4 classifier whose weights are NaN: every output is NaN."""
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "nan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 4, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        initializer=[numpy_helper.from_array(np.full((16, 3), np.nan, np.float32), "w")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    meta = {"task": "classification", "classes": ["a", "b", "c"], "input_size": [1, 4, 4]}
    extra = {"mean": [0.0], "std": [1.0], "model": "nan", "model_args": {}}
    write_metadata(proto, ModelMeta.from_dict({**meta, **extra}))
    onnx.save(proto, str(path))
    return path


@pytest.mark.parametrize(
    "flags",
    [("--std", "1e-40"), ("--mean", "1e39"), ("--nan-model",), ("--huge-npy",)],
    ids=["std-tiny", "mean-huge", "nan-model", "float64-1e300"],
)
def test_non_finite_outputs_are_error_rows(world, tmp_path, flags):
    """A NaN or inf anywhere on the way is that input's error row; results.jsonl stays JSON."""
    model, inputs = world.onnx, [str(world.good)]
    if flags == ("--nan-model",):
        model, flags = nan_model(tmp_path / "nan.onnx"), ()
    if flags == ("--huge-npy",):
        huge = tmp_path / "huge.npy"
        np.save(huge, np.full((1, 32, 32), 1e300, np.float64))
        inputs, flags = [str(huge)], ()
    result = invoke("infer", model, *inputs, "--out", tmp_path / "out", *flags)
    assert result.returncode == 1, result.stderr
    assert "Warning" not in result.stderr  # no numpy overflow chatter on top of the row
    rows = strict_rows(tmp_path / "out" / "results.jsonl", expected=1)
    assert rows[0]["status"] == "error" and rows[0]["score"] is None
    assert "NaN or infinite" in rows[0]["error"]


def test_export_refuses_non_finite_metadata(world, tmp_path):
    """export from a checkpoint whose mean is NaN: one line, no model written."""
    out = tmp_path / "x.onnx"
    one_line(invoke("export", world.pt_mean_nan, "-o", out), "cnnkit.mean", "finite")
    assert not out.exists() and not list(tmp_path.iterdir())
