"""A real `cnnkit serve` process on a free 127.0.0.1 port, and the files it serves.

The server is the installed console script started from a tmp folder outside the
checkout; it binds port 0 and announces the port it got on stderr.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from tests.helpers.runtime import make_model, plain_meta, save
from tests.helpers.serve import running
from tests.runtime.conftest import foreign_onnx, lenet_onnx, seg_onnx

__all__ = ["foreign_onnx", "lenet_onnx", "seg_onnx"]  # fixtures shared with tests/runtime


@pytest.fixture
def serve(tmp_path):
    """Start servers as context managers from a tmp folder outside the checkout."""

    def start(*args):
        return running(*args, cwd=tmp_path)

    return start


@pytest.fixture(scope="session")
def digits_pngs(tmp_path_factory) -> list[Path]:
    """The digits test split as 8x8 PNG files (the runtime resizes them itself)."""
    from toolkit.data import split_arrays

    images, _, _ = split_arrays("digits", "test", (1, 8, 8), 0)
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{i:04d}.png"
        Image.fromarray(image[:, :, 0], "L").save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def fails_on_batches_onnx(tmp_path_factory) -> Path:
    """A classifier that runs one input at a time: Reshape to [1, 48] fails for a batch of 2."""
    shape = numpy_helper.from_array(np.array([1, 48], dtype=np.int64), "shape")
    weight = numpy_helper.from_array(np.ones((48, 3), dtype=np.float32), "w")
    proto = make_model(
        [
            helper.make_node("Reshape", ["input", "shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        ],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [shape, weight],
    )
    meta = plain_meta("classification", ["a", "b", "c"], [3, 4, 4], "one-at-a-time")
    return save(proto, tmp_path_factory.mktemp("models") / "single.onnx", meta)
