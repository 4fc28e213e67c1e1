"""Profiling: parameters, MACs/FLOPs, shapes, receptive field and memory of any ONNX model.

The graph side (everything imported here) is torch-free, so an edge box with
`cnnkit[runtime]` can profile a model; `toolkit.profile.torch_side` profiles an nn.Module,
and `toolkit.profiling.profile_target` resolves a run folder, checkpoint or zoo name.
"""

from toolkit.profile.profiler import profile_onnx
from toolkit.profile.summary import Layer, Profile, Totals, render

__all__ = ["Layer", "Profile", "Totals", "profile_onnx", "render"]
