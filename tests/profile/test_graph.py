"""Loading and shapes: foreign files, dynamic dims, metadata, the onnxruntime fallback."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from tests.helpers.cli import run_without_torch
from tests.helpers.profile import image_input, make_model, output, tensor
from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import write_metadata
from toolkit.profile import profile_onnx


def conv_net(shape=("N", 3, "H", "W")) -> onnx.ModelProto:
    """A tiny foreign conv net: no cnnkit metadata, dynamic dims as given."""
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["c"], name="conv", pads=[1] * 4),
        helper.make_node("GlobalAveragePool", ["c"], ["logits"], name="gap"),
    ]
    return make_model(
        nodes, [image_input(shape=shape)], [output("logits")], [tensor("w", (8, 3, 3, 3))]
    )


def test_foreign_file_with_dynamic_batch_profiles(tmp_path):
    path = tmp_path / "foreign.onnx"
    onnx.save(conv_net(("batch", 3, 32, 32)), path)

    profile = profile_onnx(path, batch=4)

    assert profile.input_size == [3, 32, 32] and profile.batch == 4
    assert profile.layers[0].output_shape == [4, 8, 32, 32]
    assert profile.totals.macs == 4 * 8 * 32 * 32 * 27
    assert profile.model == "foreign.onnx"


def test_dynamic_height_and_width_need_an_input_size():
    with pytest.raises(CnnkitError, match="--input-size"):
        profile_onnx(conv_net())

    profile = profile_onnx(conv_net(), input_size=(3, 20, 24))
    assert profile.layers[0].output_shape == [1, 8, 20, 24]


def test_cnnkit_metadata_supplies_the_input_size():
    model = conv_net()
    write_metadata(model, ModelMeta(input_size=(3, 16, 16), model="tiny"))

    profile = profile_onnx(model)

    assert profile.input_size == [3, 16, 16]
    assert profile.model == "tiny"


def test_an_input_size_that_contradicts_a_fixed_input_is_refused():
    with pytest.raises(CnnkitError, match="fixed size 3x32x32"):
        profile_onnx(conv_net((1, 3, 32, 32)), input_size=(3, 64, 64))


def test_shapes_inference_cannot_know_are_measured_with_onnxruntime(capsys):
    nodes = [
        helper.make_node("Relu", ["input"], ["r"], name="relu"),
        helper.make_node("NonZero", ["r"], ["nz"], name="nonzero"),  # data-dependent shape
        helper.make_node("Cast", ["nz"], ["logits"], name="cast", to=TensorProto.FLOAT),
    ]
    model = make_model(nodes, [image_input(shape=(1, 1, 4, 4))], [output("logits")])

    profile = profile_onnx(model)

    nonzero = next(ly for ly in profile.layers if ly.name == "nonzero")
    assert nonzero.output_shape is not None and nonzero.output_shape[0] == 4  # rank of input
    assert "onnxruntime" in capsys.readouterr().err


def test_big_weights_are_not_copied_into_the_inference_skeleton():
    from toolkit.profile.graph import SMALL_CONSTANT, load_graph, skeleton

    graph = load_graph(conv_net((1, 3, 8, 8)))
    big = tensor("big", (SMALL_CONSTANT + 1,))
    graph.model.graph.initializer.append(big)

    light = skeleton(graph)

    assert "big" not in {t.name for t in light.graph.initializer}
    assert "big" in {i.name for i in light.graph.input}


def test_json_document_has_the_design_keys(resnet18_onnx):
    data = profile_onnx(resnet18_onnx[0]).to_dict(top=3)

    assert {"model", "input_size", "convention", "totals", "by_op", "layers", "warnings"} <= set(
        data
    )
    assert set(data["totals"]) >= {"params", "buffers", "macs", "flops", "activation_bytes"}
    assert len(data["layers"]) == 3
    keys = {"name", "op", "output_shape", "params", "macs", "flops", "receptive_field"}
    assert keys | {"jump", "start", "activation_bytes"} <= set(data["layers"][0])
    assert "1.81 GFLOPS" in data["convention"] and "MACs" in data["convention"]
    assert data["by_op"]["Conv"]["macs_share"] > 0.99


def test_profiling_an_onnx_file_never_imports_torch(tmp_path):
    path = tmp_path / "foreign.onnx"
    onnx.save(conv_net(("batch", 3, 32, 32)), path)
    result = run_without_torch(
        f"""
        from toolkit.profiling import profile_target
        profile = profile_target({str(path)!r}, csv={str(tmp_path / "x.csv")!r})
        assert profile.totals.macs > 0 and "torch" not in sys.modules
        """
    )

    assert result.returncode == 0, result.stderr
