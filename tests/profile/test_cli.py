"""End to end: `cnnkit profile` in a subprocess, and profile_target on zoo names and checkpoints."""

from __future__ import annotations

import csv
import json
import shutil

import onnx
import pytest

from tests.helpers.cli import assert_one_line_error, invoke, run_cli
from tests.helpers.profile import image_input, make_model, output, tensor, vgg16_trunk
from toolkit.errors import CnnkitError
from toolkit.profiling import profile_target


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "vgg16_trunk.onnx"
    onnx.save(vgg16_trunk(), path)
    return path


def test_json_on_stdout_with_top_layers(vgg_file):
    result = run_cli("profile", vgg_file, "--json", "--top", "3", "--batch", "2")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["layers"]) == 3 and all(ly["op"] == "Conv" for ly in data["layers"])
    assert data["input_size"] == [3, 224, 224] and data["batch"] == 2
    assert data["totals"]["macs"] == sum(ly["macs"] for ly in profile_layers(vgg_file, 2))


def profile_layers(path, batch):
    return profile_target(path, batch=batch).to_dict()["layers"]


def test_table_and_csv(vgg_file, tmp_path):
    out = tmp_path / "layers.csv"
    result = run_cli("profile", vgg_file, "--csv", out)

    assert result.returncode == 0, result.stderr
    assert "1.81 GFLOPS" in result.stdout and "by op type" in result.stdout
    assert "1x4x7x7" in result.stdout  # every feature map is shown
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13 + 13 + 5 + 1 and rows[-2]["op"] == "MaxPool"
    assert rows[-2]["receptive_field"] == "212" and rows[-2]["output_shape"] == "1x4x7x7"


def test_run_folder_writes_profile_json_beside_the_model(vgg_file, tmp_path):
    run = tmp_path / "runs" / "vgg"
    run.mkdir(parents=True)
    shutil.copy(vgg_file, run / "model.onnx")

    result = run_cli("profile", run, "--quiet")

    assert result.returncode == 0, result.stderr
    saved = run / "profile.json"
    assert str(saved) in result.stderr
    assert json.loads(saved.read_text())["totals"]["macs"] > 0


def truncated(src, tmp_path):
    data = src.read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    return path


def not_onnx(src, tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("these are my notes, not a model\n")
    return path


def escaping_external_data(src, tmp_path):
    from onnx.external_data_helper import set_external_data

    nodes = [onnx.helper.make_node("Conv", ["input", "w"], ["logits"], name="conv")]
    model = make_model(nodes, [image_input()], [output("logits")], [tensor("w", (4, 3, 3, 3))])
    set_external_data(model.graph.initializer[0], location="../outside.bin")
    model.graph.initializer[0].ClearField("raw_data")
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(b"\0" * 432)
    onnx.save(model, folder / "model.onnx")
    return folder / "model.onnx"


@pytest.mark.parametrize(
    ("make", "needle"),
    [(not_onnx, "not an ONNX"), (truncated, "not an ONNX"), (escaping_external_data, "outside")],
)
def test_bad_files_are_one_clear_line(make, needle, vgg_file, tmp_path):
    result = invoke("profile", make(vgg_file, tmp_path))

    assert_one_line_error(result, needle)


def test_a_collapsing_input_size_names_the_layer():
    result = invoke("profile", "alexnet", "--input-size", "3,64,64")

    assert_one_line_error(result, "too small for alexnet", "smallest input")


def test_checkpoint_without_onnx_is_exported_on_the_fly(tmp_path):
    from toolkit import models
    from toolkit.train.checkpoint import save_checkpoint

    run = tmp_path / "lenet"
    run.mkdir()
    model = models.build("lenet5")
    checkpoint = {
        "model": "lenet5",
        "model_args": {},
        "task": "classification",
        "classes": [str(i) for i in range(10)],
        "input_size": [1, 32, 32],
        "mean": [0.5],
        "std": [0.25],
        "state_dict": model.state_dict(),
    }
    save_checkpoint(checkpoint, run / "best.pt")

    profile = profile_target(run / "best.pt", quiet=True)

    assert profile.totals.params == 61_706 and profile.input_size == [1, 32, 32]
    with pytest.raises(CnnkitError, match="fixed size"):
        profile_target(run / "best.pt", input_size=(1, 64, 64), quiet=True)


def test_a_missing_path_is_one_clear_line(tmp_path):
    assert_one_line_error(invoke("profile", tmp_path / "runs" / "gone"), "no such file")
