"""ModelMeta reads and writes exactly what earlier cnnkit versions put in files."""

from __future__ import annotations

import dataclasses

import onnx
import pytest
import torch
from onnx import TensorProto, helper

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import read_metadata, write_metadata
from toolkit.train.checkpoint import load_checkpoint, new_checkpoint, save_checkpoint

# metadata_props of a LeNet exported from a digits run by cnnkit before ModelMeta existed
# (key, value) in file order, the last one added by `cnnkit quantize`.
WRITTEN_BEFORE = [
    ("cnnkit.format", '"1"'),
    ("cnnkit.task", '"classification"'),
    ("cnnkit.classes", '["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]'),
    ("cnnkit.input_size", "[1, 32, 32]"),
    ("cnnkit.mean", "[0.5]"),
    ("cnnkit.std", "[0.25]"),
    ("cnnkit.model", '"lenet"'),
    ("cnnkit.model_args", '{"num_classes": 10, "in_channels": 1}'),
    ("cnnkit.precision", '"int8"'),
]
META = ModelMeta(
    task="classification",
    classes=tuple(str(i) for i in range(10)),
    input_size=(1, 32, 32),
    mean=(0.5,),
    std=(0.25,),
    model="lenet",
    model_args={"num_classes": 10, "in_channels": 1},
    format="1",
    precision="int8",
)


def tiny_proto(props=()) -> onnx.ModelProto:
    """An identity model carrying the given metadata_props (plus one foreign prop)."""
    node = helper.make_node("Identity", ["input"], ["logits"])
    value = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 10])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])
    proto = helper.make_model(helper.make_graph([node], "tiny", [value], [out]))
    helper.set_model_props(proto, {"author": "someone else", **dict(props)})
    return proto


def test_an_onnx_file_written_before_reads_the_same():
    assert read_metadata(tiny_proto(WRITTEN_BEFORE)) == META


def test_writing_gives_the_same_bytes_as_before():
    proto = tiny_proto()
    write_metadata(proto, META)
    assert [(p.key, p.value) for p in proto.metadata_props] == [
        ("author", "someone else"),
        *WRITTEN_BEFORE,
    ]


def test_a_foreign_file_has_no_fields():
    meta = read_metadata(tiny_proto())
    assert meta.foreign and meta == ModelMeta() and meta.to_dict() == {}


def test_a_bad_value_is_named():
    props = [("cnnkit.std", "[0.5, -1]")]
    with pytest.raises(CnnkitError, match=r"cnnkit.std = \[0.5, -1\]: expected positive"):
        read_metadata(tiny_proto(props), "m.onnx")


def test_a_checkpoint_written_before_reads_the_same(tmp_path):
    """The dict train/loop.py saved before ModelMeta, key order included."""
    state = {"w": torch.zeros(2)}
    before = {
        "model": "lenet",
        "task": "classification",
        "classes": [str(i) for i in range(10)],
        "mean": [0.5],
        "std": [0.25],
        "model_args": {"num_classes": 10, "in_channels": 1},
        "input_size": [1, 32, 32],
        "state_dict": state,
        "epoch": 3,
    }
    checkpoint = load_checkpoint(save_checkpoint(before, tmp_path / "best.pt"))
    meta = ModelMeta.from_checkpoint(checkpoint)
    assert meta == dataclasses.replace(META, format=None, precision=None)
    rebuilt = new_checkpoint(meta, state, epoch=3)
    assert rebuilt == before  # the same keys and values (dict equality ignores order)


def test_replace_checks_the_new_value():
    assert META.replace(precision="fp16").precision == "fp16"
    with pytest.raises(CnnkitError, match="cnnkit.input_size"):
        META.replace(input_size=(1, 0, 32))
