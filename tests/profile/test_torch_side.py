"""Torch side: forward hooks and FlopCounterMode agree with each other and with the ONNX graph."""

from __future__ import annotations

import pytest

from tests.helpers.profile import export, small_size, trained_like
from toolkit import models
from toolkit.profile import profile_onnx
from toolkit.profile.torch_side import profile_module
from toolkit.profiling import profile_target


def test_resnet18_matches_the_published_figures(resnet18_onnx):
    path, model = resnet18_onnx
    torch_side = profile_module(model, (3, 224, 224))

    assert torch_side.totals.macs == 1_814_073_344  # torchvision's "1.81 GFLOPS"
    assert torch_side.flop_counter_macs == torch_side.totals.macs
    assert torch_side.totals.params == 11_689_512
    graph_side = profile_onnx(path)
    assert graph_side.totals.macs == torch_side.totals.macs
    # the exporter folds each BatchNorm (2C params) into the conv before it (+C bias)
    assert graph_side.totals.params == torch_side.params_bn_folded == 11_689_512 - 4_800


def test_leaf_rows_carry_shapes_params_and_macs():
    model = models.build("lenet5")
    profile = profile_module(model, (1, 32, 32), batch=2)

    assert profile.totals.params == 61_706
    c1 = profile.layers[0]
    assert (c1.name, c1.op, c1.output_shape) == ("features.0", "Conv2d", [2, 6, 28, 28])
    assert c1.params == 6 * 25 + 6 and c1.macs == 2 * 6 * 28 * 28 * 25
    assert profile.to_dict()["source"] == "torch"


def check_torch_equals_graph(name: str, folder, **options) -> None:
    """Export `name` at a small size; MACs equal exactly, params once BN folding is counted."""
    size = small_size(name)
    model = trained_like(models.build(name, **options))
    torch_side = profile_module(model, size)
    graph_side = profile_onnx(export(model, size, folder / f"{name}.onnx"))

    assert torch_side.flop_counter_macs == torch_side.totals.macs, name
    assert graph_side.totals.macs == torch_side.totals.macs, name
    assert graph_side.totals.params == torch_side.params_bn_folded, name
    assert not graph_side.uncounted, (name, graph_side.uncounted)


def test_a_zoo_name_profiles_like_its_module():
    graph_side = profile_target("lenet5", input_size=(1, 32, 32), quiet=True)  # toolkit.export
    torch_side = profile_module(models.build("lenet5"), (1, 32, 32))

    assert graph_side.model == "lenet5"
    assert graph_side.totals.macs == torch_side.totals.macs == torch_side.flop_counter_macs
    assert graph_side.totals.params == torch_side.params_bn_folded == torch_side.totals.params
    assert not graph_side.uncounted


def test_fcn8s_torch_side_equals_graph_side(tmp_path):
    check_torch_equals_graph("fcn8s", tmp_path)  # bilinear upsampling, crops and skip merges


@pytest.mark.slow
@pytest.mark.parametrize("name", models.names())
def test_torch_side_equals_graph_side_for_every_zoo_model(name, tmp_path):
    check_torch_equals_graph(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "options", [{"upsample": "transposed"}, {"upsample": "unpool"}, {"backbone": "resnet18"}]
)
def test_fcn_variants_torch_side_equals_graph_side(options, tmp_path):
    check_torch_equals_graph("fcn8s", tmp_path, **options)
