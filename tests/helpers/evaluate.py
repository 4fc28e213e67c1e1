"""Test helpers for tests/evaluate/: expected figures from bare onnxruntime and numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

from toolkit.data import split_arrays

RUN_SEED = 1  # tests.helpers.train.train_small's --seed: it split the digits


def metadata(path: Path) -> dict:
    """The cnnkit.* metadata of an ONNX file, JSON-decoded, read with onnx alone."""
    props = onnx.load(str(path), load_external_data=False).metadata_props
    return {
        p.key.removeprefix("cnnkit."): json.loads(p.value)
        for p in props
        if p.key.startswith("cnnkit.")
    }


def bare_outputs(path: Path, batch: np.ndarray) -> np.ndarray:
    """The first output of a plain CPU onnxruntime session for one feed of its first input."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def normalised_nchw(images: np.ndarray, mean, std) -> np.ndarray:
    """uint8 NHWC -> float32 NCHW, (pixel / 255 - mean) / std."""
    x = images.astype(np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def expected_classification(path: Path, source: str, split: str, seed: int) -> dict:
    """top-1, top-5 and the confusion matrix of a cnnkit classifier, computed by hand."""
    meta = metadata(path)
    images, targets, _ = split_arrays(source, split, tuple(meta["input_size"]), seed)
    logits = bare_outputs(path, normalised_nchw(np.asarray(images), meta["mean"], meta["std"]))
    pred = logits.argmax(1)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    k = logits.shape[1]
    confusion = np.zeros((k, k), np.int64)
    for t, p in zip(targets, pred, strict=True):
        confusion[t, p] += 1
    return {
        "top1": float((pred == targets).mean()),
        "top5": float((top5 == np.asarray(targets)[:, None]).any(1).mean()),
        "confusion": confusion.tolist(),
        "pred": pred,
    }


def nhwc_linear_model(path: Path) -> Path:
    """A foreign NHWC classifier of 8x8 gray digits: Reshape -> MatMul -> Add, fitted by
    least squares on the digits train split, no cnnkit metadata."""
    from onnx import TensorProto, helper, numpy_helper

    images, targets, _ = split_arrays("digits", "train", (1, 8, 8), 0)
    x = np.asarray(images, np.float32).reshape(len(images), 64) / 255.0
    design = np.hstack([x, np.ones((len(x), 1), np.float32)])
    solution = np.linalg.lstsq(design, np.eye(10)[np.asarray(targets)], rcond=None)[0]
    weights = solution[:-1].astype(np.float32)
    bias = solution[-1].astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["pixels", "shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "W"], ["scores"]),
            helper.make_node("Add", ["scores", "b"], ["out"]),
        ],
        "nhwc_linear",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 8, 8, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 10])],
        [
            numpy_helper.from_array(np.asarray([-1, 64], np.int64), "shape"),
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(bias, "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def digit_folder(root: Path, per_class: int = 3, classes=range(10)) -> Path:
    """ROOT/<digit>/<n>.png: test-split digits as 8x8 gray PNGs, one folder per class."""
    images, targets, _ = split_arrays("digits", "test", (1, 8, 8), 0)
    for digit in classes:
        folder = root / str(digit)
        folder.mkdir(parents=True)
        chosen = np.flatnonzero(np.asarray(targets) == digit)[:per_class]
        for n, i in enumerate(chosen):
            Image.fromarray(np.asarray(images[i])[..., 0]).save(folder / f"{n}.png")
    return root


def scene_voc(root: Path, count: int = 6) -> Path:
    """ROOT/images/*.png + ROOT/masks/*.png + classes.txt: digit-scenes test scenes at 48x48
    as a VOC-style folder (every image in every split: ImageSets would pick some)."""
    from toolkit.data.scenes import CLASSES

    images, masks, _ = split_arrays("digit-scenes", "test", (1, 48, 48), 0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        Image.fromarray(np.asarray(images[i])[..., 0]).save(root / "images" / f"{i}.png")
        Image.fromarray(np.asarray(masks[i])).save(root / "masks" / f"{i}.png")
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    return root
