"""VGG (Simonyan & Zisserman, 2014): one class builds every depth from a cfg list."""

from __future__ import annotations

import torch
from torch import nn

from toolkit.models.layers import ConvNormAct, activation, check_common, check_dropout
from toolkit.models.registry import register

POOL = "M"
CFGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M"]
    + [512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
    + [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
OUTPUT_STRIDES = (8, 16, 32)


class VGG(nn.Module):
    """torchvision's layout: `features`, AdaptiveAvgPool2d(7), classifier 4096-4096-classes.

    Convolutions are ConvNormAct blocks; with batch norm they drop the (redundant) conv
    bias, so the _bn variants have slightly fewer parameters than torchvision's.
    `num_classes=0` builds no classifier (timm's convention), for use as a backbone.
    """

    TRUNK = ("features",)  # fine-tuning: the trunk, and the layer a new num_classes replaces
    HEAD = ("classifier.6",)

    def __init__(
        self,
        cfg: list[int | str],
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        activation_name: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.5,
        output_stride: int = 32,
    ):
        super().__init__()
        if output_stride not in OUTPUT_STRIDES:
            raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride}")
        self._make_features(cfg, in_channels, activation_name, batch_norm, output_stride)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        if num_classes == 0:
            self.classifier = nn.Identity()
            return
        width = self.stage_channels[-1] * 7 * 7
        self.classifier = nn.Sequential(
            nn.Linear(width, 4096),
            activation(activation_name, 4096),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            activation(activation_name, 4096),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def _make_features(
        self, cfg: list[int | str], channels: int, act: str, batch_norm: bool, output_stride: int
    ) -> None:
        """Build `features` and record where each stage ends, its channels and its stride.

        A pool that would take the stride past `output_stride` is dropped and the convs
        after it are dilated instead, so the map keeps its resolution (DeepLab's trick).
        """
        layers: list[nn.Module] = []
        self.stage_ends: list[int] = []  # features[:end] computes the stage's output
        self.stage_channels: list[int] = []
        self.stage_strides: list[int] = []
        stride, dilation = 1, 1
        for v in cfg:
            if v == POOL:
                if stride < output_stride:
                    layers.append(nn.MaxPool2d(2, 2))
                    stride *= 2
                else:
                    dilation *= 2
                self.stage_ends.append(len(layers))
                self.stage_channels.append(channels)
                self.stage_strides.append(stride)
            else:
                layers.append(
                    ConvNormAct(channels, v, 3, dilation=dilation, norm=batch_norm, act=act)
                )
                channels = v
        self.features = nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Pool to 7x7 and classify."""
        return self.classifier(torch.flatten(self.avgpool(x), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes]: forward_features, then forward_head."""
        return self.forward_head(self.forward_features(x))


def vgg(
    depth: str,
    batch_norm: bool,
    *,
    num_classes: int,
    in_channels: int,
    activation: str,
    dropout: float,
) -> VGG:
    """A validated VGG of the given cfg name, as the registered builders make it."""
    check_common(num_classes, in_channels, activation)
    return VGG(
        CFGS[depth],
        num_classes=num_classes,
        in_channels=in_channels,
        activation_name=activation,
        batch_norm=batch_norm,
        dropout=check_dropout(dropout),
    )


def _entry(depth: str, batch_norm: bool) -> dict:
    """The registry fields every VGG shares, with its one-line description."""
    convs = sum(1 for v in CFGS[depth] if v != POOL)
    bn = " with batch norm" if batch_norm else ""
    what = f"VGG-{convs + 3}{bn}: {convs} 3x3 convs in 5 stages, two 4096 FC layers"
    return {"task": "classification", "input_size": (3, 224, 224), "description": what}


@register("vgg11", **_entry("vgg11", False))
def vgg11(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-11."""
    return vgg(
        "vgg11",
        False,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg11_bn", **_entry("vgg11", True))
def vgg11_bn(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-11 with batch norm."""
    return vgg(
        "vgg11",
        True,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg13", **_entry("vgg13", False))
def vgg13(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-13."""
    return vgg(
        "vgg13",
        False,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg13_bn", **_entry("vgg13", True))
def vgg13_bn(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-13 with batch norm."""
    return vgg(
        "vgg13",
        True,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg16", **_entry("vgg16", False))
def vgg16(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-16."""
    return vgg(
        "vgg16",
        False,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg16_bn", **_entry("vgg16", True))
def vgg16_bn(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-16 with batch norm."""
    return vgg(
        "vgg16",
        True,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg19", **_entry("vgg19", False))
def vgg19(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-19."""
    return vgg(
        "vgg19",
        False,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )


@register("vgg19_bn", **_entry("vgg19", True))
def vgg19_bn(
    *, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu", dropout: float = 0.5
) -> VGG:
    """VGG-19 with batch norm."""
    return vgg(
        "vgg19",
        True,
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        dropout=dropout,
    )
