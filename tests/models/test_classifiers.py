"""The classification zoo: parameter counts, forward passes, activations, options."""

from __future__ import annotations

import pytest
import torch

from toolkit import models
from toolkit.errors import CnnkitError

CLASSIFIERS = models.names("classification")
# The smallest square input each family accepts comfortably (see models.check_input).
SMALL = {"alexnet": 67, "zfnet": 64, "lenet5": 32, "lenet": 32}


def meta_params(name: str, **kwargs) -> int:
    """Parameter count of a model built on the meta device (no weights allocated)."""
    with torch.device("meta"):
        return models.parameter_count(models.build(name, **kwargs))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
        ("vgg11", 132_863_336),
        ("vgg13", 133_047_848),
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
    ],
)
def test_parameter_counts_match_torchvision(name, expected):
    assert meta_params(name, num_classes=1000, in_channels=3) == expected


def test_lenet5_has_the_classic_parameter_count():
    assert meta_params("lenet5", num_classes=10, in_channels=1) == 61_706


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_forward_at_a_small_size(name):
    c = models.info(name).input_size[0]
    size = SMALL.get(name, 32)
    model = models.build(name, num_classes=7).eval()
    with torch.no_grad():
        logits = model(torch.randn(2, c, size, size))
    assert logits.shape == (2, 7)
    assert torch.isfinite(logits).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_forward_at_the_default_size(name):
    model = models.build(name).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, *models.info(name).input_size))
    assert logits.shape == (1, 10 if name.startswith("lenet") else 1000)


@pytest.mark.parametrize("act", models.ACTIVATIONS)
def test_every_activation_trains_a_step(act):
    model = models.build("lenet", num_classes=3, activation=act).train()
    loss = model(torch.randn(4, 1, 32, 32)).logsumexp(1).mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("act", models.ACTIVATIONS)
@pytest.mark.parametrize("name", ["alexnet", "vgg11_bn", "googlenet", "resnet18", "resnet50"])
def test_every_activation_fits_every_family(name, act):
    # On the meta device a forward still checks every shape (prelu/maxout channel counts).
    with torch.device("meta"):
        model = models.build(name, num_classes=3, activation=act).train()
        out = model(torch.empty(2, 3, 96, 96))
    logits = out[0] if isinstance(out, tuple) else out
    assert logits.shape == (2, 3)


@pytest.mark.parametrize("act", ["prelu", "maxout"])
def test_learned_activations_add_parameters_per_channel(act):
    assert meta_params("vgg11", activation=act) > meta_params("vgg11")


def test_in_channels_changes_the_first_layer():
    model = models.build("resnet18", in_channels=1, num_classes=4).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 32, 32)).shape == (1, 4)
    assert model.input_size == (1, 224, 224)


def test_googlenet_returns_aux_logits_only_in_training():
    model = models.build("googlenet", num_classes=5)
    x = torch.randn(2, 3, 32, 32)
    model.train()
    out = model(x)
    assert isinstance(out, tuple) and len(out) == 3
    assert all(o.shape == (2, 5) for o in out)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 5)


def test_googlenet_without_aux_heads_returns_a_tensor_in_training():
    model = models.build("googlenet", num_classes=5, aux_logits=False).train()
    assert isinstance(model(torch.randn(2, 3, 32, 32)), torch.Tensor)
    assert meta_params("googlenet", aux_logits=False) < meta_params("googlenet")


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "googlenet", "resnet18"])
def test_forward_features_then_head_is_forward(name):
    model = models.build(name, num_classes=3).eval()
    x = torch.randn(1, 3, SMALL.get(name, 32), SMALL.get(name, 32))
    with torch.no_grad():
        assert torch.equal(model.forward_head(model.forward_features(x)), model(x))


def test_unknown_model_suggests_close_names():
    with pytest.raises(CnnkitError, match=r"unknown model 'resnet19'.*resnet18"):
        models.build("resnet19")


def test_unknown_option_is_named():
    with pytest.raises(CnnkitError, match="has no option upsample"):
        models.build("vgg11", upsample="bilinear")


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"activation": "swish"}, "unknown activation 'swish'"),
        ({"num_classes": 0}, "num_classes must be a positive integer"),
        ({"in_channels": -1}, "in_channels must be a positive integer"),
        ({"dropout": 1.5}, "dropout must be in"),
    ],
)
def test_bad_option_values_are_cnnkit_errors(kwargs, needle):
    with pytest.raises(CnnkitError, match=needle):
        models.build("alexnet", **kwargs)


def test_registered_adds_a_model_for_a_block_only():
    fields = {"task": "classification", "input_size": (1, 8, 8), "description": "test only"}
    with models.registered("tiny-test", lambda *, num_classes=2: torch.nn.Flatten(), **fields):
        assert "tiny-test" in models.names()
        assert models.build("tiny-test").cnnkit_name == "tiny-test"
    assert "tiny-test" not in models.names()
    with pytest.raises(CnnkitError, match="unknown model 'tiny-test'"):
        models.unregister("tiny-test")


def test_every_resnet_depth_is_an_explicit_documented_builder():
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        builder = models.info(name).builder
        assert builder.__name__ == name and builder.__doc__.startswith(f"ResNet-{name[6:]}")
