"""Receptive fields through the DAG: published ResNet-18 and VGG-16 values, merges, upsampling."""

from __future__ import annotations

from onnx import helper

from tests.helpers.profile import image_input, make_model, output, tensor, vgg16_trunk
from toolkit.profile import profile_onnx


def layer(profile, name):
    return next(ly for ly in profile.layers if ly.name == name)


def test_resnet18_last_stage_field_is_435_with_jump_32(resnet18_onnx):
    profile = profile_onnx(resnet18_onnx[0])
    last_stage = [ly for ly in profile.layers if ly.output_shape == [1, 512, 7, 7]]
    final = last_stage[-1].to_dict()

    assert (final["receptive_field"], final["jump"]) == (435, 32)
    assert profile.totals.macs == 1_814_073_344
    gemm = next(ly for ly in profile.layers if ly.op == "Gemm")
    assert gemm.whole_input  # the classifier sees the whole input


def test_vgg16_pool5_field_is_212():
    profile = profile_onnx(vgg16_trunk())
    pool5 = [ly for ly in profile.layers if ly.op == "MaxPool"][-1].to_dict()

    assert (pool5["receptive_field"], pool5["jump"]) == (212, 32)


def conv(name, src, dst, weight, **attrs):
    return helper.make_node("Conv", [src, weight], [dst], name=name, **attrs)


def test_misaligned_branches_warn_and_take_the_largest_field():
    nodes = [
        conv("wide", "input", "a", "w5", pads=[2] * 4),
        conv("shifted", "input", "b", "w3", pads=[0] * 4),  # starts one pixel later
        helper.make_node("Pad", ["b", "pads"], ["b_padded"], name="pad"),
        helper.make_node("Add", ["a", "b_padded"], ["logits"], name="merge"),
    ]
    inits = [tensor("w5", (4, 3, 5, 5)), tensor("w3", (4, 3, 3, 3))]
    inits.append(helper.make_tensor("pads", 7, [8], [0, 0, 0, 0, 0, 0, 2, 2]))
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")], inits))

    merged = layer(profile, "merge").to_dict()
    assert merged["receptive_field"] == 5
    assert layer(profile, "shifted").to_dict()["start"] == 1
    assert any("merge" in w and "misaligned" in w for w in profile.warnings)


def test_aligned_residual_branches_do_not_warn():
    nodes = [
        conv("main", "input", "a", "w3", pads=[1] * 4, strides=[2, 2]),
        conv("shortcut", "input", "b", "w1", strides=[2, 2]),
        helper.make_node("Add", ["a", "b"], ["logits"], name="merge"),
    ]
    inits = [tensor("w3", (4, 3, 3, 3)), tensor("w1", (4, 3, 1, 1))]
    profile = profile_onnx(make_model(nodes, [image_input()], [output("logits")], inits))

    assert layer(profile, "merge").to_dict()["receptive_field"] == 3
    assert not [w for w in profile.warnings if "misaligned" in w]


def test_resize_and_conv_transpose_shrink_the_jump():
    nodes = [
        conv("down", "input", "d", "w", strides=[4, 4]),
        helper.make_node("Resize", ["d", "", "scales"], ["r"], name="resize", mode="linear"),
        helper.make_node("ConvTranspose", ["d", "wt"], ["t"], name="deconv", strides=[2, 2]),
        helper.make_node("GlobalMaxPool", ["t"], ["logits"], name="gmp"),
        helper.make_node("Identity", ["r"], ["resized"], name="keep"),
    ]
    inits = [tensor("w", (4, 3, 4, 4)), tensor("wt", (4, 4, 2, 2))]
    inits.append(helper.make_tensor("scales", 1, [4], [1, 1, 2, 2]))
    outputs = [output("logits"), output("resized")]
    profile = profile_onnx(make_model(nodes, [image_input()], outputs, inits))

    assert layer(profile, "down").to_dict()["jump"] == 4
    resize = layer(profile, "resize").to_dict()
    assert (resize["jump"], resize["receptive_field"]) == (2, 8)  # linear: one more step
    deconv = layer(profile, "deconv").to_dict()
    assert (deconv["jump"], deconv["receptive_field"]) == (2, 6)
    gmp = layer(profile, "gmp")
    assert gmp.whole_input and gmp.to_dict()["receptive_field"] == 6 + 15 * 2


def test_lrn_exported_as_a_channel_pool_keeps_the_field():
    # torch exports LocalResponseNorm as reshape to 5-D, pad and pool over channels
    nodes = [
        conv("conv", "input", "c", "w"),
        helper.make_node("Reshape", ["c", "shape5"], ["c5"], name="to5d"),
        helper.make_node("Pad", ["c5", "pads"], ["padded"], name="pad"),
        helper.make_node(
            "AveragePool", ["padded"], ["pooled"], name="pool", kernel_shape=[5, 1, 1]
        ),
        helper.make_node("Squeeze", ["pooled", "one"], ["norm"], name="squeeze"),
        helper.make_node("Div", ["c", "norm"], ["logits"], name="lrn"),
    ]
    inits = [tensor("w", (4, 3, 3, 3)), helper.make_tensor("shape5", 7, [5], [1, 1, 4, 30, 30])]
    inits += [helper.make_tensor("pads", 7, [10], [0, 0, 2, 0, 0, 0, 0, 2, 0, 0])]
    inits += [helper.make_tensor("one", 7, [1], [1])]
    model = make_model(nodes, [image_input(shape=(1, 3, 32, 32))], [output("logits")], inits)
    profile = profile_onnx(model)

    for ly in profile.layers:
        assert (ly.to_dict()["receptive_field"], ly.to_dict()["jump"]) == (3, 1), ly.name
    assert not [w for w in profile.warnings if "misaligned" in w]
