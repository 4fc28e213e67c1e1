"""Diff fixtures: the fitted LeNet run, and a copy built to break naive INT8."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from tests.export.conftest import fitted_lenet, write_pngs, write_run
from toolkit.export import export_onnx

SCALED_CHANNEL = 2
FACTOR = 1000.0


def break_for_int8(model: torch.nn.Module) -> torch.nn.Module:
    """One conv1 channel x1000 and conv2's weights for it /1000: the same function in float.

    ReLU and max-pool commute with a positive scale, so the logits do not change, but the
    per-tensor activation range of conv1's output grows a thousandfold and INT8 rounds
    every other channel of it to zero.
    """
    conv1, conv2 = model.features[0], model.features[3]
    with torch.no_grad():
        conv1.weight[SCALED_CHANNEL] *= FACTOR
        conv1.bias[SCALED_CHANNEL] *= FACTOR
        conv2.weight[:, SCALED_CHANNEL] /= FACTOR
    return model


def first_conv_block_output(path: Path) -> str:
    """The tensor the exporter named for the output of conv1's ReLU (features.1)."""
    proto = onnx.load(str(path))
    first_conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    relu = next(n for n in proto.graph.node if first_conv.output[0] in n.input)
    return relu.output[0]


@pytest.fixture(scope="session")
def good_run(tmp_path_factory) -> Path:
    """The fitted LeNet's run folder, exported (model.onnx beside best.pt)."""
    run = write_run(tmp_path_factory.mktemp("good") / "lenet", fitted_lenet())
    export_onnx(run, quiet=True)
    return run


@pytest.fixture(scope="session")
def broken_run(tmp_path_factory) -> Path:
    """The LeNet with one channel scaled x1000 (and undone in the next conv), exported."""
    run = write_run(tmp_path_factory.mktemp("broken") / "lenet", break_for_int8(fitted_lenet()))
    export_onnx(run, quiet=True)
    return run


@pytest.fixture(scope="session")
def gray_pngs(tmp_path_factory) -> Path:
    """Six gray digit PNGs for --inputs."""
    return write_pngs(tmp_path_factory.mktemp("pngs"), channels=1, count=6)
