"""Building blocks every model shares: the activation factory and conv-norm-act."""

from __future__ import annotations

import torch
from torch import nn


class Maxout(nn.Module):
    """Channel-wise maxout: y = max_k(a_k * x + b_k), learned per channel (shape-preserving).

    Goodfellow et al.'s maxout takes the max over k affine pieces; restricting each piece
    to a per-channel affine map keeps the layer's width, so it drops into any network
    where an elementwise activation would. Piece 0 starts as the identity, piece 1 as
    0.25x, so at initialisation it is a leaky ReLU.
    """

    def __init__(self, channels: int, pieces: int = 2):
        super().__init__()
        if pieces < 2:
            raise ValueError("maxout needs at least 2 pieces")
        scale = torch.zeros(pieces, channels)
        scale[0] = 1.0
        scale[1:] = 0.25
        self.scale = nn.Parameter(scale)
        self.shift = nn.Parameter(torch.zeros(pieces, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The channel-wise maximum over the k affine pieces."""
        view = (1, -1) + (1,) * (x.dim() - 2)
        out = x * self.scale[0].view(view) + self.shift[0].view(view)
        for k in range(1, self.scale.shape[0]):
            out = torch.maximum(out, x * self.scale[k].view(view) + self.shift[k].view(view))
        return out


# name -> (class, keyword options); prelu and maxout also take the channel count.
ACTIVATION_CLASSES: dict[str, tuple[type[nn.Module], dict]] = {
    "relu": (nn.ReLU, {"inplace": True}),
    "leaky_relu": (nn.LeakyReLU, {"negative_slope": 0.1, "inplace": True}),
    "rrelu": (nn.RReLU, {}),
    "prelu": (nn.PReLU, {}),
    "elu": (nn.ELU, {"inplace": True}),
    "tanh": (nn.Tanh, {}),
    "sigmoid": (nn.Sigmoid, {}),
    "maxout": (Maxout, {}),
}
PER_CHANNEL = {"prelu": 1, "maxout": None}  # learn one value per channel; the default count
ACTIVATIONS = tuple(ACTIVATION_CLASSES)


def activation(name: str, channels: int | None = None) -> nn.Module:
    """The activation module called `name`; prelu and maxout learn one value per channel."""
    if name not in ACTIVATION_CLASSES:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    cls, options = ACTIVATION_CLASSES[name]
    if name not in PER_CHANNEL:
        return cls(**options)
    count = channels or PER_CHANNEL[name]
    if count is None:
        raise ValueError(f"{name} needs the channel count")
    return cls(count, **options)


def check_activation(name: str) -> str:
    """Validate an activation name early, before any layer is built."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return name


class ConvNormAct(nn.Sequential):
    """Conv2d, optional BatchNorm2d, activation: the block most of the zoo is made of."""

    def __init__(  # noqa: PLR0913 - nn.Conv2d's own arguments
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        groups: int = 1,
        norm: bool = True,
        act: str | None = "relu",
    ):
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias=not norm,
            )
        ]
        if norm:
            layers.append(nn.BatchNorm2d(out_channels))
        if act is not None:
            layers.append(activation(act, out_channels))
        super().__init__(*layers)


def check_common(num_classes: int, in_channels: int, activation_name: str) -> None:
    """Validate the options every builder takes, with ValueError for the registry to report."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not isinstance(in_channels, int) or in_channels < 1:
        raise ValueError(f"in_channels must be a positive integer, got {in_channels!r}")
    check_activation(activation_name)


def check_dropout(p: float) -> float:
    """Validate a dropout probability."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {p!r}")
    return p
