"""Test helpers for tests/diff/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch

SCALED_CHANNEL = 2
FACTOR = 1000.0


def break_for_int8(model: torch.nn.Module) -> torch.nn.Module:
    """One conv1 channel x1000 and conv2's weights for it /1000: the same function in float.

    ReLU and max-pool commute with a positive scale, so the logits do not change, but the
    per-tensor activation range of conv1's output grows a thousandfold and INT8 rounds
    every other channel of it to zero.
    """
    conv1, conv2 = model.features[0], model.features[3]
    with torch.no_grad():
        conv1.weight[SCALED_CHANNEL] *= FACTOR
        conv1.bias[SCALED_CHANNEL] *= FACTOR
        conv2.weight[:, SCALED_CHANNEL] /= FACTOR
    return model


def first_conv_block_output(path: Path) -> str:
    """The tensor the exporter named for the output of conv1's ReLU (features.1)."""
    proto = onnx.load(str(path))
    first_conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    relu = next(n for n in proto.graph.node if first_conv.output[0] in n.input)
    return relu.output[0]
