"""AlexNet (Krizhevsky et al., 2012) and ZFNet (Zeiler & Fergus, 2013): one class, two stems.

The paper's two-GPU split (grouped conv2/4/5) is not reproduced: it was a memory
workaround, and the dense layers are what every later reimplementation trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from toolkit.models.layers import ConvNormAct, activation, check_common, check_dropout
from toolkit.models.registry import register


@dataclass(frozen=True)
class ConvSpec:
    """One convolution of the stem: output channels, kernel, stride, padding."""

    out: int
    kernel: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Stem:
    """What distinguishes AlexNet from ZFNet: the first two convolutions and their pools."""

    conv1: ConvSpec
    conv2: ConvSpec
    pool_padding: int


# On 227x227 the AlexNet stem gives 55 -> 27 -> 13; ZFNet's on 224x224 gives 110 -> 55 -> 26 -> 13.
ALEXNET = Stem(ConvSpec(96, 11, 4, 0), ConvSpec(256, 5, 1, 2), pool_padding=0)
ZFNET = Stem(ConvSpec(96, 7, 2, 1), ConvSpec(256, 5, 2, 0), pool_padding=1)


class AlexNet(nn.Module):
    """Conv-LRN-pool twice, three 3x3 convs, overlapping 3x3/2 pooling, two 4096 FC layers."""

    TRUNK = ("features",)  # fine-tuning: the trunk, and the layer a new num_classes replaces
    HEAD = ("classifier.6",)

    def __init__(
        self,
        stem: Stem,
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        activation_name: str = "relu",
        dropout: float = 0.5,
    ):
        super().__init__()
        act = activation_name

        def conv(cin: int, spec: ConvSpec) -> ConvNormAct:
            return ConvNormAct(
                cin, spec.out, spec.kernel, spec.stride, spec.padding, norm=False, act=act
            )

        def lrn() -> nn.LocalResponseNorm:
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)  # the paper's constants

        c1, c2 = stem.conv1, stem.conv2
        self.features = nn.Sequential(
            conv(in_channels, c1),
            lrn(),
            nn.MaxPool2d(3, 2, stem.pool_padding),
            conv(c1.out, c2),
            lrn(),
            nn.MaxPool2d(3, 2, stem.pool_padding),
            conv(c2.out, ConvSpec(384, 3, 1, 1)),
            conv(384, ConvSpec(384, 3, 1, 1)),
            conv(384, ConvSpec(256, 3, 1, 1)),
            nn.MaxPool2d(3, 2),
        )
        # 6x6 at the default size; the adaptive pool lets other sizes reach the FC layers.
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(256 * 6 * 6, 4096),
            activation(act, 4096),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            activation(act, 4096),
            nn.Linear(4096, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Pool to 6x6 and classify."""
        return self.classifier(torch.flatten(self.avgpool(x), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes]: forward_features, then forward_head."""
        return self.forward_head(self.forward_features(x))


def _build(stem: Stem, num_classes: int, in_channels: int, activation: str, dropout: float):
    check_common(num_classes, in_channels, activation)
    return AlexNet(
        stem,
        num_classes=num_classes,
        in_channels=in_channels,
        activation_name=activation,
        dropout=check_dropout(dropout),
    )


@register(
    "alexnet",
    task="classification",
    input_size=(3, 227, 227),
    description="AlexNet: 11x11/4 stem, LRN, overlapping pooling, two 4096 FC layers",
)
def alexnet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
    dropout: float = 0.5,
) -> AlexNet:
    """AlexNet as in the paper (ungrouped), on 227x227."""
    return _build(ALEXNET, num_classes, in_channels, activation, dropout)


@register(
    "zfnet",
    task="classification",
    input_size=(3, 224, 224),
    description="ZFNet: AlexNet with a 7x7/2 first layer and a stride-2 second layer",
)
def zfnet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
    dropout: float = 0.5,
) -> AlexNet:
    """ZFNet: AlexNet's body behind a finer 7x7/2 stem, on 224x224."""
    return _build(ZFNET, num_classes, in_channels, activation, dropout)
