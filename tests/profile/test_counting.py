"""Counting rules on small hand-written graphs: MACs, FLOPs, parameters, buffers, warnings."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from tests.helpers.cli import invoke
from tests.helpers.profile import image_input, make_model, output, tensor
from toolkit.profile import profile_onnx


def layer(profile, name):
    return next(ly for ly in profile.layers if ly.name == name)


def test_conv_macs_follow_groups_dilation_and_stride():
    nodes = [
        helper.make_node(
            "Conv", ["input", "w1", "b1"], ["c1"], name="strided", strides=[2, 2], pads=[1] * 4
        ),
        helper.make_node("Conv", ["c1", "w2"], ["c2"], name="grouped", group=4, pads=[1] * 4),
        helper.make_node("Conv", ["c2", "w3"], ["logits"], name="dilated", dilations=[2, 2]),
    ]
    inits = [tensor("w1", (16, 3, 3, 3)), tensor("b1", (16,)), tensor("w2", (16, 4, 3, 3))]
    inits.append(tensor("w3", (8, 16, 3, 3)))
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")], inits))

    assert layer(profile, "strided").output_shape == [1, 16, 16, 16]
    assert layer(profile, "strided").macs == 16 * 16 * 16 * 3 * 3 * 3
    assert layer(profile, "strided").params == 16 * 3 * 9 + 16
    assert layer(profile, "grouped").macs == 16 * 16 * 16 * 4 * 9  # C_in / groups = 4
    assert layer(profile, "dilated").output_shape == [1, 8, 12, 12]  # effective kernel 5
    assert layer(profile, "dilated").macs == 8 * 12 * 12 * 16 * 9
    assert profile.totals.flops == 2 * profile.totals.macs
    assert profile.totals.macs == sum(ly.macs for ly in profile.layers)


def test_gemm_matmul_and_conv_transpose_macs():
    nodes = [
        helper.make_node("ConvTranspose", ["input", "wt"], ["up"], name="up", strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["up"], ["pooled"], name="gap"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flat"),
        helper.make_node("Gemm", ["flat", "fc", "fc_b"], ["hidden"], name="fc", transB=1),
        helper.make_node("MatMul", ["hidden", "proj"], ["logits"], name="proj"),
    ]
    inits = [tensor("wt", (3, 8, 2, 2)), tensor("fc", (20, 8)), tensor("fc_b", (20,))]
    inits.append(tensor("proj", (20, 5)))
    model = make_model(nodes, [image_input(shape=("N", 3, 8, 8))], [output("logits")], inits)
    profile = profile_onnx(model, batch=2)

    assert layer(profile, "up").output_shape == [2, 8, 16, 16]
    assert layer(profile, "up").macs == 2 * 3 * 8 * 8 * 8 * 2 * 2  # input elements x C_out x k
    assert layer(profile, "gap").flops == 2 * 8 * 16 * 16  # one per input element
    assert layer(profile, "fc").macs == 2 * 20 * 8
    assert layer(profile, "proj").macs == 2 * 5 * 20
    assert profile.batch == 2


def test_batchnorm_stats_are_buffers_and_shape_constants_are_not_params():
    nodes = [
        helper.make_node("BatchNormalization", ["input", "g", "b", "m", "v"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["flat"], name="reshape"),
        helper.make_node("Mul", ["flat", "half"], ["logits"], name="half"),
    ]
    inits = [tensor(n, (3,)) for n in ("g", "b", "m")] + [tensor("v", (3,), 1.0)]
    inits += [helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1]), tensor("half", (), 0.5)]
    model = make_model(nodes, [image_input(shape=(1, 3, 4, 4))], [output("logits")], inits)
    profile = profile_onnx(model)

    assert profile.totals.params == 6  # BN scale and shift
    assert profile.totals.buffers == 6  # running mean and var
    assert layer(profile, "bn").flops == 3 * 4 * 4
    assert layer(profile, "reshape").params == 0 and layer(profile, "half").params == 0
    assert layer(profile, "reshape").output_shape == [1, 48]


def test_shared_weight_is_counted_once_and_flagged():
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["a"], name="first", pads=[1] * 4),
        helper.make_node("Conv", ["a", "w_alias", "b"], ["logits"], name="second", pads=[1] * 4),
        helper.make_node("Identity", ["w"], ["w_alias"], name="alias"),
    ]
    nodes = [nodes[2], nodes[0], nodes[1]]
    inits = [tensor("w", (3, 3, 3, 3)), tensor("b", (3,))]
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")], inits))

    assert layer(profile, "first").params == layer(profile, "second").params == 84
    assert profile.totals.params == 84
    assert layer(profile, "first").shared and layer(profile, "second").shared
    assert any("'w'" in w and "shared" in w for w in profile.warnings)
    assert all(ly.name != "alias" for ly in profile.layers)  # constant plumbing is folded


def test_profile_explains_the_star_and_warns_once_on_stderr(tmp_path):
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["a"], name="first", pads=[1] * 4),
        helper.make_node("Conv", ["a", "w", "b"], ["c"], name="second", pads=[1] * 4),
        helper.make_node("Conv", ["c", "w", "b"], ["logits"], name="third", pads=[1] * 4),
    ]
    inits = [tensor("w", (3, 3, 3, 3)), tensor("b", (3,))]
    path = tmp_path / "shared.onnx"
    onnx.save(make_model(nodes, [image_input()], [output("logits")], inits), path)
    result = invoke("profile", path, "--no-save")
    assert result.returncode == 0, result.stderr
    assert "Conv *" in result.stdout
    assert "* uses a tensor that other layers use too" in result.stdout
    assert "warning" not in result.stdout
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: 2 tensors are shared (layers marked *)")


def test_unknown_op_is_listed_as_uncounted_never_silently_zero():
    nodes = [
        helper.make_node("Relu", ["input"], ["r"], name="relu"),
        helper.make_node("Hardmax", ["r"], ["logits"], name="mystery", axis=1),
    ]
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")]))

    assert profile.uncounted == ["Hardmax"]
    assert not layer(profile, "mystery").counted
    assert any("uncounted" in w and "Hardmax" in w for w in profile.warnings)
    assert profile.to_dict()["uncounted"] == ["Hardmax"]


def test_pooling_counts_one_flop_per_window_element():
    nodes = [helper.make_node("MaxPool", ["input"], ["logits"], name="pool", kernel_shape=[3, 3])]
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")]))

    assert layer(profile, "pool").output_shape == [1, 3, 30, 30]
    assert layer(profile, "pool").flops == 3 * 30 * 30 * 9
    assert layer(profile, "pool").macs == 0
