"""Any nn.Module to ONNX: `export_module` and `cnnkit export package.module:factory`;
zoo names with --weights."""

from __future__ import annotations

import json
import sys
import textwrap

import onnx
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

from tests.helpers.cli import run_cli
from tests.helpers.weights import torchvision_dict, trainable_dict
from toolkit.cli import cli
from toolkit.errors import CnnkitError
from toolkit.export import export_module, export_onnx
from toolkit.export.source import IMAGENET_MEAN, resolve_source
from toolkit.onnxfile import read_metadata

COLOURS = ["red", "green", "blue"]


class ColourNet(nn.Module):
    """A user's own network: a 1x1 conv that sees colours, a pool, a linear classifier."""

    def __init__(self):
        super().__init__()
        self.mix = nn.Conv2d(3, 4, 1)
        self.classify = nn.Linear(4, 3)
        with torch.no_grad():  # channel c -> feature c -> class c: the image's main colour
            self.mix.weight.zero_()
            self.mix.bias.zero_()
            for c in range(3):
                self.mix.weight[c, c] = 1.0
            self.classify.weight.copy_(torch.eye(3, 4) * 4)
            self.classify.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(torch.relu(self.mix(x)).mean(dim=(2, 3)))


def write_colours(folder, size=(20, 14)):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rgb in zip(COLOURS, [(220, 20, 20), (20, 220, 20), (20, 20, 220)], strict=True):
        Image.new("RGB", size, rgb).save(folder / f"{name}.png")
    return folder


def test_export_module_has_parity_metadata_and_a_dynamic_batch_and_infer_labels_it(tmp_path):
    out = tmp_path / "colours.onnx"
    meta = {"classes": COLOURS, "mean": [0.0] * 3, "std": [1.0] * 3, "model": "ColourNet"}
    report = export_module(ColourNet(), (3, 16, 16), out, meta=meta, quiet=True)
    assert report.parity_ok and len(report.parity) == 2
    proto = onnx.load(str(out))
    assert read_metadata(proto).classes == tuple(COLOURS)
    assert read_metadata(proto).input_size == (3, 16, 16)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    write_colours(tmp_path / "images")
    result = run_cli("infer", out, "images", "-o", "labels", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "labels" / "results.jsonl").open()]
    assert {row["path"].split("/")[-1]: row["label"] for row in rows} == {
        f"{name}.png": name for name in COLOURS
    }


MODULE = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.mix = nn.Conv2d(3, 4, 1)
        self.classify = nn.Linear(4, 3)

    def forward(self, x):
        return self.classify(torch.relu(self.mix(x)).mean(dim=(2, 3)))


def build():
    return Net()


def needs(width):
    return Net()
"""


def test_cli_exports_a_factory_with_its_own_weights(tmp_path):
    (tmp_path / "usernet.py").write_text(textwrap.dedent(MODULE))
    torch.save(ColourNet().state_dict(), tmp_path / "usernet.pt")  # the same names
    result = run_cli(
        "export", "usernet:build", "--weights", "usernet.pt", "--input-size", "3,16,16",
        "--classes", ",".join(COLOURS), "--mean", "0,0,0", "--std", "1,1,1", "-o", "user.onnx",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parity_ok"]
    assert read_metadata(onnx.load(str(tmp_path / "user.onnx"))).model == "usernet:build"
    write_colours(tmp_path / "images")
    result = run_cli("infer", "user.onnx", "images/blue.png", "-o", "labels", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "labels" / "results.jsonl").read_text())["label"] == "blue"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["usernet:nothing", "--input-size", "3,8,8"], "usernet has no nothing"),
        (["usernet:build"], "give --input-size C,H,W"),
        (["nosuchmodule:build", "--input-size", "3,8,8"], "cannot import nosuchmodule"),
        (["usernet:build", "--num-classes", "4"], "--num-classes do not apply to a module"),
        (
            ["usernet:build", "--input-size", "3,8,8", "--weights", "x.pt"],
            "--weights x.pt: no such",
        ),
        (["usernet:needs", "--input-size", "3,8,8"], "calling needs() failed (TypeError"),
        (["usernet:torch", "--input-size", "3,8,8"], "torch is not a class or function"),
    ],
)
def test_module_mistakes_are_one_line(tmp_path, monkeypatch, args, needle):
    (tmp_path / "usernet.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the import adds the current folder
    monkeypatch.delitem(sys.modules, "usernet", raising=False)
    result = CliRunner().invoke(cli, ["export", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and needle in result.stderr, result.stderr


def test_zoo_weights_load_torchvision_files_with_imagenet_statistics(tmp_path):
    torch.save({"model": torchvision_dict("resnet18")}, tmp_path / "r18.pth")
    src = resolve_source("resnet18", weights=tmp_path / "r18.pth", input_size=(3, 32, 32))
    assert src.meta.mean == tuple(IMAGENET_MEAN) and len(src.meta.classes) == 1000
    assert torch.equal(src.model.fc.weight, torchvision_dict("resnet18")["fc.weight"])
    with pytest.raises(CnnkitError, match="cannot load torchvision weights into alexnet"):
        resolve_source("alexnet", weights=tmp_path / "r18.pth")


def test_weights_do_not_apply_to_a_checkpoint(tmp_path, lenet_run):
    with pytest.raises(CnnkitError, match="--weights only apply to zoo names"):
        resolve_source(lenet_run, weights=tmp_path / "x.pth")


@pytest.mark.slow
def test_export_resnet18_from_torchvision_weights_keeps_parity(tmp_path):
    torch.save(trainable_dict("resnet18"), tmp_path / "r18.pth")
    report = export_onnx(
        "resnet18",
        tmp_path / "r18.onnx",
        weights=tmp_path / "r18.pth",
        input_size=(3, 32, 32),
        quiet=True,
    )
    assert report.parity_ok
