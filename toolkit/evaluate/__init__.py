"""Accuracy on labelled data, torch-free: `evaluate(models, data, options) -> EvalReport`.

metrics (confusion, top-k, P/R/F1, IoU), mapping (classes by name), data (the split
as training reads it), sides (ONNX via Predictor), scoring (one model over one split),
pipeline (several models side by side), results (rows infer already wrote), outputs and
plot (what --out and --plot write). Checkpoints run through toolkit.eval_torch.
"""

from toolkit.evaluate.data import EvalData
from toolkit.evaluate.pipeline import EvalOptions, evaluate
from toolkit.evaluate.report import EvalReport, ModelScore
from toolkit.evaluate.results import score_results

__all__ = ["EvalData", "EvalOptions", "EvalReport", "ModelScore", "evaluate", "score_results"]
