"""FCN-32s/16s/8s: output size for any input, every upsample mode and dilation, options."""

from __future__ import annotations

import pytest
import torch

from toolkit import models
from toolkit.errors import CnnkitError

ODD = [(61, 47), (33, 35)]
# Every valid (backbone, upsample) pair; unpool needs a VGG backbone's max-pool switches.
MODES = [
    ("vgg16", "bilinear"),
    ("vgg16", "transposed"),
    ("vgg16", "unpool"),
    ("resnet18", "bilinear"),
    ("resnet18", "transposed"),
]


def segment(name: str, size: tuple[int, int], batch: int = 1, **kwargs) -> torch.Tensor:
    """Run a freshly built FCN in eval mode on a random input of `size`."""
    model = models.build(name, num_classes=5, **kwargs).eval()
    with torch.no_grad():
        return model(torch.randn(batch, 3, *size))


@pytest.mark.parametrize("name", ["fcn32s", "fcn16s", "fcn8s"])
@pytest.mark.parametrize("backbone, upsample", MODES)
def test_output_has_the_input_size_for_odd_inputs(name, backbone, upsample):
    for size in ODD:
        assert segment(name, size, backbone=backbone, upsample=upsample).shape == (1, 5, *size)


@pytest.mark.parametrize("dilation", [8, 16])
@pytest.mark.parametrize("backbone, upsample", MODES)
def test_dilation_keeps_the_output_size(backbone, upsample, dilation):
    out = segment("fcn8s", (61, 47), backbone=backbone, upsample=upsample, dilation=dilation)
    assert out.shape == (1, 5, 61, 47)


@pytest.mark.parametrize(
    "dilation, strides", [(None, (8, 16, 32)), (16, (8, 16, 16)), (8, (8, 8, 8))]
)
@pytest.mark.parametrize("backbone", ["vgg16", "resnet18"])
def test_dilation_sets_the_output_stride(backbone, dilation, strides):
    with torch.device("meta"):
        model = models.build("fcn8s", backbone=backbone, dilation=dilation)
    assert tuple(model.backbone.strides.values()) == strides


@pytest.mark.parametrize("backbone", ["vgg16_bn", "resnet34", "resnet50"])
def test_other_backbones(backbone):
    assert segment("fcn16s", (35, 33), backbone=backbone).shape == (1, 5, 35, 33)


def test_default_input_and_classes_match_digit_scenes():
    assert models.info("fcn8s").input_size == (3, 64, 64)
    out = segment("fcn8s", (64, 64), batch=2)
    assert out.shape == (2, 5, 64, 64)
    with torch.device("meta"):
        assert models.build("fcn8s").score["c5"].out_channels == 11


def test_transposed_upsampling_starts_as_bilinear():
    bilinear = models.build("fcn32s", backbone="resnet18", num_classes=3).eval()
    transposed = models.build("fcn32s", backbone="resnet18", num_classes=3, upsample="transposed")
    transposed.load_state_dict(bilinear.state_dict(), strict=False)
    transposed.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        a, b = bilinear(x), transposed(x)
    # Away from the borders (where padding differs) both are bilinear interpolation.
    assert torch.allclose(a[..., 16:-16, 16:-16], b[..., 16:-16, 16:-16], atol=1e-4)


def test_unpool_puts_scores_where_the_encoder_pooled():
    model = models.build("fcn32s", upsample="unpool", num_classes=2).eval()
    assert sum(isinstance(m, torch.nn.MaxUnpool2d) for m in model.modules()) == 1
    assert len(model.ups[-1].fill) == 5  # five 2x2 pools undone, one at a time


def test_fcn_trains_a_step_with_every_upsample_mode():
    for upsample in ("bilinear", "transposed", "unpool"):
        model = models.build("fcn8s", num_classes=3, upsample=upsample).train()
        x, target = torch.randn(2, 3, 33, 35), torch.randint(0, 3, (2, 33, 35))
        loss = torch.nn.functional.cross_entropy(model(x), target)
        loss.backward()
        assert torch.isfinite(loss)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"backbone": "resnet18", "upsample": "unpool"}, "needs a VGG backbone"),
        ({"backbone": "mobilenet"}, "unknown backbone 'mobilenet'"),
        ({"upsample": "nearest"}, "unknown upsample 'nearest'"),
        ({"dilation": 4}, "dilation must be None, 8 or 16"),
    ],
)
def test_bad_options_are_cnnkit_errors(kwargs, needle):
    with pytest.raises(CnnkitError, match=needle):
        models.build("fcn8s", **kwargs)
