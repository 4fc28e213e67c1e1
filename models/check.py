"""Will an input size survive a model? Walk its convs and pools on the meta device."""

from __future__ import annotations

import copy

import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.models.registry import build

SIZED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
LARGEST = 8192


class _Collapsed(Exception):
    """Raised from a pre-hook when a layer's output map would be empty."""

    def __init__(self, layer: str, module: nn.Module, size: tuple[int, int]):
        super().__init__(layer)
        self.layer, self.module, self.size = layer, module, size


def _pair(v) -> tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def output_length(n: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool) -> int:
    """(N + 2P - D*(F-1) - 1) / S + 1, rounded as PyTorch does for ceil_mode and floor."""
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= n + padding:  # the last window may not start in the padding
        out -= 1
    return out


def output_size(module: nn.Module, size: tuple[int, int]) -> tuple[int, int]:
    """The (H, W) a Conv2d, MaxPool2d or AvgPool2d makes of an (H, W) map."""
    if isinstance(module, nn.Conv2d) and isinstance(module.padding, str):
        if module.padding == "same":
            return size
        padding = (0, 0)
    else:
        padding = _pair(module.padding)
    kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
    dilation = _pair(getattr(module, "dilation", 1))
    ceil = getattr(module, "ceil_mode", False)
    return tuple(
        output_length(size[i], kernel[i], stride[i], padding[i], dilation[i], ceil) for i in (0, 1)
    )


def describe(module: nn.Module) -> str:
    """'MaxPool2d 3x3/2' style label of a sized layer."""
    kh, kw = _pair(module.kernel_size)
    sh, _ = _pair(module.stride or module.kernel_size)
    return f"{type(module).__name__} {kh}x{kw}/{sh}"


def _meta_copy(model_or_name: nn.Module | str) -> tuple[nn.Module, str]:
    """An eval-mode copy of the model on the meta device, and the name to report."""
    if isinstance(model_or_name, str):
        with torch.device("meta"):
            return build(model_or_name).eval(), model_or_name
    model = model_or_name
    name = getattr(model, "cnnkit_name", type(model).__name__)
    if hasattr(model, "cnnkit_name"):  # rebuilding is cheaper than copying the weights
        with torch.device("meta"):
            return build(model.cnnkit_name, **model.cnnkit_args).eval(), name
    return copy.deepcopy(model).to("meta").eval(), name


def _first_conv(model: nn.Module) -> nn.Conv2d | None:
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def _run(model: nn.Module, size: tuple[int, int, int]) -> _Collapsed | tuple[int, ...]:
    """Forward a meta tensor of `size`; the first collapse, or the output shape."""

    def hook(name: str):
        def pre_hook(module: nn.Module, args: tuple) -> None:
            out = output_size(module, tuple(args[0].shape[-2:]))
            if min(out) < 1:
                raise _Collapsed(name, module, (max(out[0], 0), max(out[1], 0)))

        return pre_hook

    handles = [
        m.register_forward_pre_hook(hook(n))
        for n, m in model.named_modules()
        if isinstance(m, SIZED)
    ]
    try:
        with torch.no_grad():
            out = model(torch.empty(1, *size, device="meta"))
        return tuple(out.shape[1:])
    except _Collapsed as collapsed:
        return collapsed
    finally:
        for handle in handles:
            handle.remove()


def smallest_input(model: nn.Module, channels: int) -> int:
    """The smallest square side that passes every layer (binary search, sizes are monotone)."""
    hi = 1
    while isinstance(_run(model, (channels, hi, hi)), _Collapsed):
        if hi >= LARGEST:
            raise CnnkitError(f"no input up to {LARGEST}x{LARGEST} passes this model")
        hi *= 2
    lo = hi // 2  # fails (or 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if isinstance(_run(model, (channels, mid, mid)), _Collapsed):
            lo = mid
        else:
            hi = mid
    return hi


def check_input(model_or_name: nn.Module | str, size: tuple[int, int, int]) -> tuple[int, ...]:
    """Raise CnnkitError if a (C, H, W) input does not fit; else return the output shape."""
    model, name = _meta_copy(model_or_name)
    c, h, w = size
    first = _first_conv(model)
    if first is not None and first.in_channels != c:
        raise CnnkitError(
            f"input {c}x{h}x{w} has {c} channel(s) but {name} expects {first.in_channels}"
        )
    result = _run(model, (c, h, w))
    if not isinstance(result, _Collapsed):
        return result
    side = smallest_input(model, c)
    oh, ow = result.size
    raise CnnkitError(
        f"input {c}x{h}x{w} is too small for {name}: after {result.layer} "
        f"({describe(result.module)}) the map is {oh}x{ow}; smallest input is {c}x{side}x{side}"
    )
