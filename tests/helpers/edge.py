"""Test helpers for tests/edge/: small torch-free models a kit can carry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from tests.helpers.runtime import COLOUR_CLASSES, colour_segmenter, make_model, plain_meta, save


def colour_classifier(path: Path) -> Path:
    """A cnnkit classifier on 3x16x16 images: the mean colour times a fixed mix -> 3 logits."""
    mix = np.array([[9.0, -2.0, 1.0], [-1.0, 8.0, 2.0], [3.0, 1.0, 7.0]], dtype=np.float32)
    proto = make_model(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        ],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(mix, "w")],
    )
    return save(proto, path, plain_meta("classification", COLOUR_CLASSES, [3, 16, 16], "mix"))


def colour_segmentation(path: Path) -> Path:
    """A cnnkit segmentation model labelling each pixel by its strongest channel."""
    meta = plain_meta("segmentation", COLOUR_CLASSES, [3, 16, 16], "colour")
    return save(colour_segmenter(), path, meta)


def wheelless_kit(kit: Path, models: list[Path]) -> Path:
    """A kit as `bundle` writes it, less wheels/ and install.sh (no download): for verify."""
    from toolkit.edge.bundle import BundleOptions, write_models
    from toolkit.edge.kitinfo import KitInfo
    from toolkit.edge.manifest import write_manifest
    from toolkit.runtime.predictor import Predictor

    kit.mkdir()
    predictors = {path.stem: Predictor(path, device="cpu", quiet=True) for path in models}
    write_models(kit, models, predictors, BundleOptions())
    names = [f"models/{path.stem}.onnx" for path in models]
    KitInfo("linux-x86_64", "3.11", None, ["runtime"], names, "0.1.0", "1.32.0").write(kit)
    write_manifest(kit)
    return kit
