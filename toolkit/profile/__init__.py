"""Profiling: parameters, MACs/FLOPs, shapes, receptive field and memory of any ONNX model.

The graph side (everything imported here) is torch-free, so an edge box with
`cnnkit[runtime]` can profile a model; `toolkit.profile.torch_side` profiles an nn.Module.
"""

from toolkit.profile.profiler import profile_onnx
from toolkit.profile.report import Layer, Profile, Totals, render
from toolkit.profile.target import profile_target

__all__ = ["Layer", "Profile", "Totals", "profile_onnx", "profile_target", "render"]
