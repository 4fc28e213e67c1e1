"""The same profile from an nn.Module: forward hooks on leaf modules, cross-checked by torch.

Not imported by `toolkit.profile` (it needs torch). MACs follow the graph side's rules:
Conv = output elements x (C_in / groups) x kernel, ConvTranspose = input elements x
(C_out / groups) x kernel, Linear = output elements x in_features. The total is checked
against torch.utils.flop_counter.FlopCounterMode (which counts 2 FLOPs per MAC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from toolkit.profile.counting import CONVENTION, FLOP_RULES
from toolkit.profile.summary import Layer, Profile, Totals

if TYPE_CHECKING:
    from collections.abc import Sequence

CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass
class TorchProfile(Profile):
    """A Profile of an nn.Module plus the independent FlopCounterMode total."""

    flop_counter_macs: int = 0
    params_used: int = 0  # parameters of the modules that ran (GoogLeNet's aux heads don't)
    params_bn_folded: int = 0  # params_used once each BatchNorm after a conv is folded into it


def profile_module(model: nn.Module, input_size: Sequence[int], *, batch: int = 1) -> TorchProfile:
    """Profile `model` in eval mode on a zero input of shape (batch, *input_size)."""
    model = model.eval()
    x = torch.zeros(batch, *input_size)
    layers: list[Layer] = []
    producer: dict[int, tuple] = {}  # id(output) -> (module, output), the tensor kept alive
    folded = [0]  # net parameter change of folding each BatchNorm into the conv before it
    names = {module: name for name, module in model.named_modules()}
    used: dict[int, int] = {}  # id(parameter) -> elements, for the modules that ran

    def hook(module: nn.Module, inputs, output) -> None:
        out = output[0] if isinstance(output, tuple | list) else output
        layers.append(leaf_layer(names[module], module, inputs[0], out))
        used.update((id(p), p.numel()) for p in module.parameters(recurse=False))
        if isinstance(module, NORMS) and module.affine:
            source = producer.get(id(inputs[0]), (None,))[0]
            if isinstance(source, CONVS + TRANSPOSED):
                folded[0] -= 2 * module.num_features
                folded[0] += module.num_features if source.bias is None else 0
        producer[id(out)] = (module, out)

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    params = sum(p.numel() for p in model.parameters())
    totals = Totals(
        params=params,
        buffers=sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n),
        macs=sum(layer.macs for layer in layers),
        flops=sum(layer.flops for layer in layers),
        activation_bytes=sum(layer.activation_bytes for layer in layers),
        param_bytes=sum(p.numel() * p.element_size() for p in model.parameters()),
    )
    return TorchProfile(
        model=getattr(model, "cnnkit_name", type(model).__name__),
        input_size=list(input_size),
        batch=batch,
        convention=CONVENTION,
        flop_rules=dict(FLOP_RULES),
        layers=layers,
        totals=totals,
        source="torch",
        flop_counter_macs=counter.get_total_flops() // 2,
        params_used=sum(used.values()),
        params_bn_folded=sum(used.values()) + folded[0],
    )


def leaf_layer(name: str, module: nn.Module, x: torch.Tensor, out: object) -> Layer:
    """One row: own parameters, MACs by the graph side's rules, output shape and bytes."""
    tensor = out if isinstance(out, torch.Tensor) else None
    macs = module_macs(module, x, tensor)
    return Layer(
        name=name or type(module).__name__,
        op=type(module).__name__,
        output_shape=list(tensor.shape) if tensor is not None else None,
        params=sum(p.numel() for p in module.parameters(recurse=False)),
        buffers=sum(b.numel() for n, b in module.named_buffers(recurse=False) if "num_" not in n),
        macs=macs,
        flops=2 * macs,
        activation_bytes=tensor.numel() * tensor.element_size() if tensor is not None else 0,
        precision=str(tensor.dtype).removeprefix("torch.") if tensor is not None else "",
    )


def module_macs(module: nn.Module, x: torch.Tensor, out: torch.Tensor | None) -> int:
    """Multiply-accumulates of Conv, ConvTranspose and Linear leaves (0 for the rest)."""
    if out is None:
        return 0
    if isinstance(module, CONVS):
        return out.numel() * module.weight.shape[1] * math.prod(module.kernel_size)
    if isinstance(module, TRANSPOSED):
        return x.numel() * module.weight.shape[1] * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0
