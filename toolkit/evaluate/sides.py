"""The models eval scores, behind one small interface: an ONNX file on onnxruntime here
(torch-free, through `Predictor`, so infer's flags and provider rules apply unchanged);
a run folder or checkpoint on torch in toolkit.eval_torch.

A side takes uint8 images (N, H, W, C) at its input size and returns what the model
computes: class scores [N, K], segmentation scores [N, K, H, W] or label maps [N, H, W].
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.evaluate.mapping import model_names
from toolkit.onnxfile import load_onnx
from toolkit.runtime.options import PredictorOptions

ONNX_SUFFIXES = (".onnx", ".ort")


class ModelSide(Protocol):
    """What eval needs of a model, whatever runs it."""

    name: str  # as the user named it
    provider: str  # what runs it: an onnxruntime provider, or torch-cpu
    precision: str  # fp32 | fp16 | int8
    task: str  # classification | segmentation
    classes: list[str]  # its class names in output order ("0".."K-1" when it names none)
    input_size: tuple[int, int, int]  # (C, H, W) of the images it takes

    def scores(self, images: np.ndarray) -> np.ndarray:
        """The model's output for uint8 images (N, H, W, C)."""


def is_onnx(model: str | Path) -> bool:
    """True for an .onnx or .ort file name (anything else is a run folder or checkpoint)."""
    return Path(model).suffix.lower() in ONNX_SUFFIXES


class OnnxSide:
    """An ONNX file through `Predictor`: infer's preprocessing, session and provider rules."""

    def __init__(self, model: str | Path, options: PredictorOptions, quiet: bool = False):
        from toolkit.runtime.predictor import Predictor

        self.name = str(model)
        self.predictor = Predictor(model, options, quiet=quiet)
        interp = self.predictor.interpretation
        spec = self.predictor.spec
        self.provider = self.predictor.provider
        self.task = spec.task
        self.classes = model_names(spec.classes, output_classes(interp.output_info().shape))
        self.input_size = (spec.channels, *spec.size)
        self.precision = interp.metadata.precision or graph_precision(model, interp.input_dtype)

    def scores(self, images: np.ndarray) -> np.ndarray:
        """Preprocess as infer does and run one batch; the output infer reads."""
        return self.predictor.infer([self.predictor.decode(image) for image in images])


def output_classes(shape) -> int | None:
    """K of an output [N, K] or [N, K, H, W] when the file fixes it."""
    k = shape[1] if len(shape) > 1 else None
    return k if isinstance(k, int) and len(shape) in (2, 4) else None


def graph_precision(model: str | Path, input_dtype: str) -> str:
    """int8 for a graph with QuantizeLinear nodes, fp16 for a float16 input, else fp32."""
    if input_dtype == "float16":
        return "fp16"
    if Path(model).suffix.lower() != ".onnx":
        return "fp32"
    proto = load_onnx(model, load_external_data=False)
    quantized = any(node.op_type == "QuantizeLinear" for node in proto.graph.node)
    return "int8" if quantized else "fp32"


def open_onnx_side(model: str | Path, options: PredictorOptions, quiet: bool) -> OnnxSide:
    """An OnnxSide; CnnkitError for anything that is not an .onnx/.ort file."""
    if not is_onnx(model):
        raise CnnkitError(
            f"{model}: not an .onnx/.ort file; run folders and checkpoints need the torch "
            "side (pip install 'cnnkit[train]', then cnnkit eval)"
        )
    return OnnxSide(model, options, quiet)
