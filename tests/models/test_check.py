"""models.check_input: the size formula, the too-small error, the channel error."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from toolkit import models
from toolkit.errors import CnnkitError
from toolkit.models.check import output_size


@pytest.mark.parametrize(
    "layer, size",
    [
        (nn.Conv2d(1, 1, 11, 4), (67, 70)),
        (nn.Conv2d(1, 1, 3, 1, 2, dilation=2), (9, 10)),
        (nn.MaxPool2d(3, 2, ceil_mode=True), (14, 15)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), (6, 7)),
        (nn.MaxPool2d(2, 2), (61, 47)),
        (nn.AvgPool2d(5, 3), (14, 17)),
    ],
)
def test_formula_agrees_with_pytorch(layer, size):
    out = layer(torch.zeros(1, 1, *size))
    assert output_size(layer, size) == tuple(out.shape[-2:])


def test_too_small_names_model_layer_size_and_smallest_input():
    with pytest.raises(CnnkitError) as err:
        models.check_input("vgg16", (3, 16, 16))
    assert str(err.value) == (
        "input 3x16x16 is too small for vgg16: after features.17 (MaxPool2d 2x2/2) "
        "the map is 0x0; smallest input is 3x32x32"
    )


def test_smallest_input_really_is_the_smallest():
    message = ""
    try:
        models.check_input("lenet5", (1, 20, 20))
    except CnnkitError as exc:
        message = str(exc)
    assert message.endswith("smallest input is 1x32x32")
    assert models.check_input("lenet5", (1, 32, 32)) == (10,)


def test_a_built_model_is_checked_without_touching_its_weights():
    model = models.build("googlenet", num_classes=4)
    assert models.check_input(model, (3, 224, 224)) == (4,)
    with pytest.raises(CnnkitError, match=r"too small for googlenet: after .*; smallest input"):
        models.check_input(model, (3, 16, 16))
    assert model.fc.weight.device.type == "cpu"


def test_only_one_side_too_small_is_reported():
    with pytest.raises(CnnkitError, match=r"the map is \d+x0"):
        models.check_input("vgg11", (3, 64, 16))


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(CnnkitError, match="input 1x64x64 has 1 channel.* but resnet18 expects 3"):
        models.check_input("resnet18", (1, 64, 64))


def test_segmentation_output_keeps_odd_sizes():
    assert models.check_input("fcn8s", (3, 61, 47)) == (11, 61, 47)
