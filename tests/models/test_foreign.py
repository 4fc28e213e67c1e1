"""torchvision/timm weights into the zoo: names and shapes from torchvision's own listing."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.weights import LISTING, torchvision_dict
from toolkit import models
from toolkit.errors import CnnkitError
from toolkit.models.foreign import load_foreign, table_for, to_cnnkit, to_torchvision


def by_order(name: str, model_dict: dict) -> dict[str, str]:
    """cnnkit name -> torchvision name by position: the zoo keeps torchvision's order.

    An independent check of the tables: torchvision's listing without VGG-bn's conv
    biases, zipped with cnnkit's state dict order.
    """
    theirs = list(LISTING[name])
    if name.endswith("_bn"):
        shapes = LISTING[name]
        theirs = [k for k in theirs if not (k.endswith(".bias") and _is_conv(shapes, k))]
    ours = list(model_dict)
    assert len(theirs) == len(ours)
    return dict(zip(ours, theirs, strict=True))


def _is_conv(shapes: dict, bias: str) -> bool:
    return len(shapes[bias.removesuffix(".bias") + ".weight"]) == 4


def test_resnet18_every_tensor_lands_where_torchvision_order_says():
    model = models.build("resnet18")
    source = torchvision_dict("resnet18")
    report = load_foreign(model, source, "test")
    assert report.loaded == len(model.state_dict()) == len(source)
    assert report.convention == "torchvision" and not report.head_reset
    for ours, theirs in by_order("resnet18", model.state_dict()).items():
        assert torch.equal(model.state_dict()[ours], source[theirs]), (ours, theirs)
    assert torch.equal(model.stem[0][0].weight, source["conv1.weight"])
    shortcut = source["layer4.0.downsample.1.running_var"]
    assert torch.equal(model.layer4[0].downsample[1].running_var, shortcut)


def test_vgg16_bn_folds_the_conv_bias_into_the_running_mean():
    model = models.build("vgg16_bn")
    source = torchvision_dict("vgg16_bn")
    report = load_foreign(model, source, "test")
    assert report.folded == 13
    own = model.state_dict()
    for ours, theirs in by_order("vgg16_bn", own).items():
        expected = source[theirs]
        if theirs.endswith("running_mean"):  # features.{k+1}.running_mean, conv at k
            layer = int(theirs.split(".")[1]) - 1
            expected = expected - source[f"features.{layer}.bias"]
        assert torch.equal(own[ours], expected), (ours, theirs)


def test_vgg_bn_fold_is_exact_in_eval_mode():
    """BN(conv(x) + b) with mean m == BN(conv(x)) with mean m - b, checked on one block."""
    source = torchvision_dict("vgg11_bn")
    conv = torch.nn.Conv2d(3, 64, 3, padding=1)
    bn = torch.nn.BatchNorm2d(64)
    conv.weight.data, conv.bias.data = source["features.0.weight"], source["features.0.bias"]
    prefix = "features.1."
    bn.load_state_dict({k[len(prefix) :]: v for k, v in source.items() if k.startswith(prefix)})
    model = models.build("vgg11_bn").eval()
    load_foreign(model, source, "test")
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        reference = bn.eval()(conv(x))
        ours = model.features[0][1](model.features[0][0](x))
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg11", "vgg16_bn"])
def test_round_trip_cnnkit_torchvision_cnnkit_is_the_identity(name):
    torch.manual_seed(0)
    model = models.build(name)
    for module in model.modules():  # nonzero running means, so a wrong fold would show
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
    own = model.state_dict()
    back = to_cnnkit(name, to_torchvision(name, own))
    assert list(back) == list(own) or set(back) == set(own)
    for key, value in own.items():
        assert torch.equal(back[key], value), key


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "vgg11", "vgg16_bn"])
def test_torchvision_names_and_shapes_match_the_listing(name):
    with torch.device("meta"):
        model = models.build(name)
    names = to_torchvision(name, model.state_dict())
    assert list(names) == list(LISTING[name])
    for key, value in names.items():
        assert list(value.shape) == LISTING[name][key], key


def test_another_num_classes_keeps_the_backbone_and_resets_the_head():
    model = models.build("resnet18", num_classes=3)
    before = model.fc.weight.detach().clone()
    source = torchvision_dict("resnet18")
    report = load_foreign(model, source, "test")
    assert report.head_reset == ["fc.weight", "fc.bias"] and report.head_shape == (1000, 512)
    assert torch.equal(model.fc.weight, before)
    assert torch.equal(model.layer1[0].conv1[0].weight, source["layer1.0.conv1.weight"])
    assert "reinitialised" in report.summary() and "1000 classes" in report.summary()


def test_first_misfit_is_named():
    source = torchvision_dict("resnet18")
    source["layer3.1.conv2.weight"] = torch.zeros(256, 256, 1, 1)
    with pytest.raises(CnnkitError, match=r"layer3\.1\.conv2\.weight has shape \[256, 256, 1, 1\]"):
        load_foreign(models.build("resnet18"), source, "f.pth")


def test_a_deeper_file_is_refused():
    with pytest.raises(CnnkitError, match="resnet18 does not have .first: layer1.2"):
        load_foreign(models.build("resnet18"), torchvision_dict("resnet34"), "f.pth")


def test_timm_deep_stem_is_refused():
    source = {"conv1.0.weight": torch.zeros(32, 3, 3, 3)}
    with pytest.raises(CnnkitError, match="deep 3x3 stem"):
        load_foreign(models.build("resnet18"), source, "f.pth")


@pytest.mark.parametrize("name", ["alexnet", "googlenet"])
def test_models_that_differ_from_torchvision_say_why(name):
    with pytest.raises(CnnkitError, match="cannot load torchvision weights into " + name):
        table_for(name)


def test_fcn_takes_the_backbone_of_a_classifier_file():
    model = models.build("fcn32s", backbone="resnet18", num_classes=4)
    source = torchvision_dict("resnet18")
    report = load_foreign(model, source, "test")
    assert report.unused == ["fc.bias", "fc.weight"]
    assert torch.equal(model.backbone.layer2[0].conv1[0].weight, source["layer2.0.conv1.weight"])


def torchvision_vgg11_bn() -> torch.nn.Module:
    """torchvision's VGG-11-bn layout, written out: conv (with bias), BN, ReLU; pools; FC."""
    layers, channels = [], 3
    for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
            continue
        layers += [torch.nn.Conv2d(channels, v, 3, padding=1), torch.nn.BatchNorm2d(v)]
        layers.append(torch.nn.ReLU(inplace=True))
        channels = v
    net = torch.nn.Module()
    net.features = torch.nn.Sequential(*layers)
    net.classifier = torch.nn.Sequential(
        torch.nn.Linear(512 * 7 * 7, 4096),
        torch.nn.ReLU(True),
        torch.nn.Dropout(),
        torch.nn.Linear(4096, 4096),
        torch.nn.ReLU(True),
        torch.nn.Dropout(),
        torch.nn.Linear(4096, 1000),
    )
    pool = torch.nn.AdaptiveAvgPool2d(7)
    net.forward = lambda x: net.classifier(torch.flatten(pool(net.features(x)), 1))
    return net


@pytest.mark.slow
def test_vgg11_bn_from_torchvision_layout_gives_the_same_logits():
    """End to end: a torchvision-layout network (names checked against the listing) and
    cnnkit's vgg11_bn with its weights agree in eval mode, the conv biases folded."""
    torch.manual_seed(0)
    reference = torchvision_vgg11_bn()
    shapes = [(k, list(v.shape)) for k, v in reference.state_dict().items()]
    assert shapes == list(LISTING["vgg11_bn"].items())
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-0.2, 0.2)
        if isinstance(module, torch.nn.Conv2d):
            module.bias.data.uniform_(-0.5, 0.5)
    model = models.build("vgg11_bn").eval()
    assert load_foreign(model, reference.state_dict(), "test").folded == 8
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x), rtol=1e-4, atol=1e-6)
