"""The torch-free runtime: onnxruntime sessions, preprocessing, the batch runner, Ray.

from toolkit.runtime import Predictor, run_inference
Predictor("model.onnx").predict(["cat.png"])
run_inference("model.onnx", ["images/"], "preds/", batch_size=8)
"""

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import ModelSpec, load_image
from toolkit.runtime.runner import InferenceSummary, run_inference
from toolkit.runtime.session import SessionHandle, open_session

__all__ = [
    "InferenceSummary",
    "ModelSpec",
    "Predictor",
    "SessionHandle",
    "load_image",
    "open_session",
    "run_inference",
]
