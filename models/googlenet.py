"""GoogLeNet / Inception v1 (Szegedy et al., 2014), built from a branch spec table."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from toolkit.models.layers import ConvNormAct, activation, check_common, check_dropout
from toolkit.models.registry import register

# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), from the paper's Table 1.
# The 5x5 branch is a real 5x5 (torchvision's 3x3 there is a known slip).
INCEPTION_V1: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(3, 2, ceil_mode=True)


class Inception(nn.Module):
    """Four parallel branches (1x1; 1x1-3x3; 1x1-5x5; pool-1x1) concatenated on channels."""

    def __init__(self, in_channels: int, spec: tuple[int, ...], conv: partial):
        super().__init__()
        c1, r3, c3, r5, c5, pp = spec
        self.branch1 = conv(in_channels, c1, 1)
        self.branch2 = nn.Sequential(conv(in_channels, r3, 1), conv(r3, c3, 3))
        self.branch3 = nn.Sequential(conv(in_channels, r5, 1), conv(r5, c5, 5))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv(in_channels, pp, 1)
        )
        self.out_channels = c1 + c3 + c5 + pp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The four branches concatenated along channels."""
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


class AuxHead(nn.Module):
    """Training-only side classifier: pool to 4x4, 1x1 conv 128, FC 1024, dropout 0.7, FC."""

    def __init__(self, in_channels: int, num_classes: int, conv: partial, act: str):
        super().__init__()
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),  # the paper's 5x5/3 average pool on a 14x14 map
            conv(in_channels, 128, 1),
            nn.Flatten(1),
            nn.Linear(128 * 4 * 4, 1024),
            activation(act, 1024),
            nn.Dropout(0.7),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Auxiliary logits [N, num_classes]."""
        return self.head(x)


class GoogLeNet(nn.Module):
    """Stem, inception stages 3-5 with pooling between, global average pool, dropout, FC.

    In training mode with aux heads, `forward` returns `(logits, aux1, aux2)`; otherwise
    the logits alone, so the aux heads never reach an eval graph or an ONNX export.
    """

    # Fine-tuning: the trunk, and the layers a new num_classes replaces (aux heads too).
    TRUNK = ("stem", "inception3", "inception4a", "inception4bcd", "inception4e", "inception5")
    HEAD = ("fc", "aux1", "aux2")

    def __init__(
        self,
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        activation_name: str = "relu",
        dropout: float = 0.4,
        aux_logits: bool = True,
        batch_norm: bool = True,
    ):
        super().__init__()
        conv = partial(ConvNormAct, norm=batch_norm, act=activation_name)

        width = 192  # channels out of the stem; each stage() call moves it on

        def stage(*names: str) -> list[Inception]:
            nonlocal width
            blocks = []
            for name in names:
                blocks.append(Inception(width, INCEPTION_V1[name], conv))
                width = blocks[-1].out_channels
            return blocks

        self.stem = nn.Sequential(
            conv(in_channels, 64, 7, 2), _pool(), conv(64, 64, 1), conv(64, 192, 3), _pool()
        )
        self.inception3 = nn.Sequential(*stage("3a", "3b"), _pool())
        self.inception4a = stage("4a")[0]
        aux1_width = width
        self.inception4bcd = nn.Sequential(*stage("4b", "4c", "4d"))
        aux2_width = width
        self.inception4e = nn.Sequential(*stage("4e"), _pool())
        self.inception5 = nn.Sequential(*stage("5a", "5b"))
        self.aux1 = self.aux2 = None
        if aux_logits:
            self.aux1 = AuxHead(aux1_width, num_classes, conv, activation_name)
            self.aux2 = AuxHead(aux2_width, num_classes, conv, activation_name)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width, num_classes)

    def _trunk(self, x: torch.Tensor):
        with_aux = self.training and self.aux1 is not None
        x = self.inception4a(self.inception3(self.stem(x)))
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4bcd(x)
        aux2 = self.aux2(x) if with_aux else None
        return self.inception5(self.inception4e(x)), aux1, aux2

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and inception stages (never the aux heads)."""
        return self._trunk(x)[0]

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pool, dropout, classify."""
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Logits; in training with aux heads, the tuple (logits, aux1, aux2)."""
        x, aux1, aux2 = self._trunk(x)
        logits = self.forward_head(x)
        if aux1 is None:
            return logits
        return logits, aux1, aux2


@register(
    "googlenet",
    task="classification",
    input_size=(3, 224, 224),
    description="GoogLeNet / Inception v1: 9 inception blocks, 1x1 reductions, aux heads",
)
def googlenet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
    dropout: float = 0.4,
    aux_logits: bool = True,
    batch_norm: bool = True,
) -> GoogLeNet:
    """Inception v1; batch norm after each conv by default (the paper had none, and LRN)."""
    check_common(num_classes, in_channels, activation)
    return GoogLeNet(
        num_classes=num_classes,
        in_channels=in_channels,
        activation_name=activation,
        dropout=check_dropout(dropout),
        aux_logits=bool(aux_logits),
        batch_norm=bool(batch_norm),
    )
