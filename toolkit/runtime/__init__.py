"""The torch-free runtime: onnxruntime sessions, preprocessing, the batch runner, Ray.

from toolkit.runtime import Predictor, PredictorOptions, run_inference
Predictor("model.onnx").predict(["cat.png"])
Predictor("model.onnx", PredictorOptions.of(device="cpu", topk=3))
run_inference("model.onnx", ["images/"], "preds/", batch_size=8)
"""

from toolkit.runtime.options import PredictorOptions, SessionOptions
from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import ModelSpec, SpecFlags, load_image
from toolkit.runtime.runner import InferenceJob, InferenceSummary, run_inference
from toolkit.runtime.session import SessionHandle, open_session

__all__ = [
    "InferenceJob",
    "InferenceSummary",
    "ModelSpec",
    "Predictor",
    "PredictorOptions",
    "SessionHandle",
    "SessionOptions",
    "SpecFlags",
    "load_image",
    "open_session",
    "run_inference",
]
