"""interpret: cnnkit metadata, flags and the graph decide how a file is fed and read."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.helpers.runtime import colour_segmenter, make_model, save
from toolkit.errors import CnnkitError
from toolkit.runtime.interpret import Use, interpret, plan_for, settle
from toolkit.runtime.preprocess import SpecFlags


def pooled(path, shape, classes: int = 2, meta=None, elem=TensorProto.FLOAT):
    """GlobalAveragePool + Flatten: an [N, C] output from an input of `shape`."""
    proto = make_model(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["logits"]),
        ],
        [helper.make_tensor_value_info("input", elem, shape)],
        [helper.make_tensor_value_info("logits", elem, ["N", classes])],
        [],
    )
    return save(proto, path, meta)


def test_metadata_wins_and_nothing_is_announced(tmp_path):
    meta = {"task": "classification", "input_size": [1, 28, 28], "mean": [0.1], "std": [0.3],
            "classes": ["a"]}  # fmt: skip
    interp = interpret(pooled(tmp_path / "m.onnx", ["N", 1, 28, 28], 1, meta))
    spec = interp.spec
    assert (spec.channels, spec.size, spec.mean, spec.classes) == (1, (28, 28), (0.1,), ("a",))
    assert interp.assumed == () and interp.note_line() is None
    assert interp.reasons["size"] == "28x28 (cnnkit metadata)"


def test_flags_override_and_are_not_assumptions(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\n\n")
    flags = SpecFlags(size=(20, 30), mean=(0.5,), std=(0.5,), labels=labels, layout="nchw")
    interp = interpret(pooled(tmp_path / "m.onnx", [1, 3, "h", "w"]), flags)
    assert interp.spec.size == (20, 30) and interp.spec.mean == (0.5, 0.5, 0.5)
    assert interp.spec.classes == ("cat", "dog") and interp.spec.label(5) == "5"
    assert set(interp.assumed) == {"reading", "resize"}  # what no flag here says


def test_foreign_defaults_are_announced_in_one_line(tmp_path):
    interp = interpret(pooled(tmp_path / "m.onnx", [2, 3, 16, 16]))
    assert interp.spec.size == (16, 16) and interp.spec.mean == (0.485, 0.456, 0.406)
    line = interp.note_line()
    assert "\n" not in line and "3x16x16" in line and "--labels" in line and "--mean" in line
    gray = interpret(tmp_path / "m.onnx", SpecFlags(gray=True))
    assert gray.spec.channels == 1


def test_dynamic_channels_and_segmentation(tmp_path):
    save(colour_segmenter(), tmp_path / "seg.onnx")
    interp = interpret(tmp_path / "seg.onnx")
    assert (interp.reading, interp.spec.task, interp.spec.size) == (
        "segmentation-scores", "segmentation", (224, 224))  # fmt: skip
    assert "size" in interp.assumed


def test_a_test_run_settles_probabilities_and_1x1_maps(tmp_path):
    interp = interpret(pooled(tmp_path / "m.onnx", ["N", 3, 8, 8], 3))
    probs = np.array([[0.2, 0.3, 0.5]], np.float32)
    assert settle(interp, probs).reading == "probs"
    assert settle(interp, np.array([[2.0, -1.0, 0.5]], np.float32)).reading == "logits"
    forced = interpret(tmp_path / "m.onnx", SpecFlags(outputs="logits"))
    assert settle(forced, probs).reading == "logits"  # a flag is never second-guessed


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (SpecFlags(mean=(0.1, 0.2)), "--mean has 2 values"),
        (SpecFlags(std=(0.0,)), "--std values must be positive"),
        (SpecFlags(resize="squash"), "--resize"),
        (SpecFlags(layout="NCWH"), "--layout"),
        (SpecFlags(outputs="odds"), "--outputs"),
        (SpecFlags(output="nope"), "--output nope"),
        (SpecFlags(feeds=(("nope", "x.npy"),)), "--feed nope"),
        (SpecFlags(size=(8, 9)), "fixed H of 16"),
        (SpecFlags(labels="nowhere.txt"), "--labels nowhere.txt: cannot read it"),
    ],
)
def test_bad_flags_name_the_flag_for_every_use(tmp_path, flags, message):
    path = pooled(tmp_path / "m.onnx", [1, 3, 16, 16])
    for use in Use:
        with pytest.raises(CnnkitError, match=message):
            plan_for(path, use, flags)


def test_labels_must_name_every_class(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nemu\n")
    path = pooled(tmp_path / "m.onnx", [1, 3, 16, 16], classes=2)
    with pytest.raises(CnnkitError, match="has 3 names, the model has 2 classes"):
        plan_for(path, Use.INFER, SpecFlags(labels=labels))


def test_unreadable_inputs_are_problems_not_crashes(tmp_path):
    rank2 = make_model(
        [helper.make_node("Identity", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
        [],
    )
    onnx.save(rank2, str(tmp_path / "r.onnx"))
    interp = interpret(tmp_path / "r.onnx")
    assert not interp.runnable and "rank 2" in interp.to_dict()["problems"][0]
    assert plan_for(tmp_path / "r.onnx", Use.INSPECT).image_input == "x"  # inspect lists it
    for use in (Use.INFER, Use.BENCH, Use.DIFF, Use.QUANTIZE):
        with pytest.raises(CnnkitError, match="r.onnx: input x float32 \\[N,8\\] has rank 2"):
            plan_for(tmp_path / "r.onnx", use)


def two_input_model(path):
    """An image input plus a second float input `scale` [N, 1], summed into the logits."""
    proto = make_model(
        [
            helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("Add", ["flat", "scale"], ["logits"]),
        ],
        [
            helper.make_tensor_value_info("scale", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 8, 8]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [],
    )
    return save(proto, path)


def test_each_use_has_its_rules(tmp_path):
    path = two_input_model(tmp_path / "two.onnx")
    bench = plan_for(path, Use.BENCH)  # the other input is fed random numbers
    assert bench.image.name == "image" and bench.use is Use.BENCH
    with pytest.raises(CnnkitError, match="--feed scale=x.npy"):
        plan_for(path, Use.INFER)
    np.save(tmp_path / "scale.npy", np.ones((1, 1), np.float32))
    fed = plan_for(path, Use.INFER, SpecFlags(feeds={"scale": str(tmp_path / "scale.npy")}))
    assert fed.image.name == "image" and fed.constants == (("scale", str(tmp_path / "scale.npy")),)
    for use in (Use.DIFF, Use.QUANTIZE):
        with pytest.raises(CnnkitError, match=f"{use.value} takes single-input models"):
            plan_for(path, use)
    uint8 = pooled(tmp_path / "u8.onnx", ["N", 3, 8, 8], elem=TensorProto.UINT8)
    assert plan_for(uint8, Use.INFER).spec.raw
    with pytest.raises(CnnkitError, match="input 'input' is uint8; quantize takes float32"):
        plan_for(uint8, Use.QUANTIZE)


def test_named_input_sizes_keep_the_metadata_size_of_the_image_input():
    from toolkit.meta import ModelMeta
    from toolkit.runtime.decide import input_sizes

    meta, dims, names = ModelMeta(input_size=(1, 32, 32)), ("N", 1, "H", "W"), ["input", "aux"]
    assert input_sizes({"aux": (4,)}, names, "input", meta, dims) == {
        "aux": (4,),
        "input": (1, 32, 32),
    }
    assert input_sizes({"aux": (4,)}, names, "input", ModelMeta(), dims) == {"aux": (4,)}
    assert input_sizes((1, 16, 16), names, "input", meta, dims) == {"input": (1, 16, 16)}


def test_a_layout_the_shape_contradicts_is_named_not_a_size_it_implies(tmp_path):
    path = pooled(tmp_path / "m.onnx", [1, 3, 64, 64])
    with pytest.raises(CnnkitError) as refused:
        plan_for(path, Use.INFER, SpecFlags(layout="NHWC"))
    message = str(refused.value)
    assert "--layout NHWC: input" in message and "so it is NCHW" in message
    assert "--input-size" not in message  # a flag the user never gave


def test_the_resize_mode_is_a_decision_with_a_hint_for_imagenet_classifiers(tmp_path):
    plain = interpret(pooled(tmp_path / "small.onnx", ["N", 3, 32, 32]))
    assert plain.reasons["resize"].startswith("stretch") and "resize" in plain.assumed
    assert "(stretch)" in plain.note_line() and "--resize" in plain.note_line()
    imagenet = interpret(pooled(tmp_path / "in1k.onnx", ["N", 3, 224, 224], classes=1000))
    assert "try --resize center-crop" in imagenet.reasons["resize"]
    given = interpret(tmp_path / "in1k.onnx", SpecFlags(resize="center-crop"))
    assert given.reasons["resize"] == "center-crop (--resize)" and "resize" not in given.assumed
    meta = {"task": "classification", "input_size": [3, 32, 32], "mean": [0.5] * 3,
            "std": [0.5] * 3, "classes": ["a", "b"]}  # fmt: skip
    own = interpret(pooled(tmp_path / "own.onnx", ["N", 3, 32, 32], 2, meta))
    assert own.reasons["resize"] == "stretch to HxW (as cnnkit trains)" and own.note_line() is None
