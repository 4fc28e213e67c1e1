"""`cnnkit diff`: two models on the same inputs, output by output and layer by layer.

Two ONNX files are compared with onnxruntime alone (torch-free); a run folder or .pt
checkpoint side needs torch and is imported only then.
"""

from toolkit.diff.compare import DiffOptions, DiffReport, diff_models
from toolkit.diff.sides import SideSpec
from toolkit.runtime.tensorstats import Tolerance

__all__ = ["DiffOptions", "DiffReport", "SideSpec", "Tolerance", "diff_models"]
