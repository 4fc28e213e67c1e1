"""ResNet (He et al., 2015), torchvision's v1.5 layout: one class, two block types."""

from __future__ import annotations

import torch
from torch import nn

from toolkit.models.layers import ConvNormAct, activation, check_common
from toolkit.models.registry import register


class BasicBlock(nn.Module):
    """Two 3x3 convs plus the shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
        act: str = "relu",
    ):
        super().__init__()
        self.conv1 = ConvNormAct(in_planes, planes, 3, stride, dilation=dilation, act=act)
        self.conv2 = ConvNormAct(planes, planes, 3, dilation=dilation, act=None)
        self.downsample = downsample
        self.act = activation(act, planes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch plus the (downsampled) input, then the activation."""
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(self.conv2(self.conv1(x)) + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, as in v1.5), 1x1 expand, plus the shortcut."""

    expansion = 4

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
        act: str = "relu",
    ):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = ConvNormAct(in_planes, planes, 1, act=act)
        self.conv2 = ConvNormAct(planes, planes, 3, stride, dilation=dilation, act=act)
        self.conv3 = ConvNormAct(planes, out, 1, act=None)
        self.downsample = downsample
        self.act = activation(act, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch plus the (downsampled) input, then the activation."""
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(self.conv3(self.conv2(self.conv1(x))) + identity)


Block = type[BasicBlock] | type[Bottleneck]
DEPTHS: dict[str, tuple[Block, list[int]]] = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
    "resnet101": (Bottleneck, [3, 4, 23, 3]),
    "resnet152": (Bottleneck, [3, 8, 36, 3]),
}


class ResNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of blocks, global pool, FC."""

    # Fine-tuning: the convolutional trunk, and the layer a new num_classes replaces.
    TRUNK = ("stem", "layer1", "layer2", "layer3", "layer4")
    HEAD = ("fc",)

    def __init__(
        self,
        block: Block,
        layers: list[int],
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        activation_name: str = "relu",
        # Segmentation backbones trade the stride of the last stages for dilation, so the
        # maps stay at 1/8 or 1/16 of the input while the receptive field still grows.
        replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
    ):
        super().__init__()
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation needs 3 booleans (layer2..layer4)")
        self.act = activation_name
        self.in_planes, self.dilation, self.output_stride = 64, 1, 4
        self.stage_strides: list[int] = []
        self.stem = nn.Sequential(
            ConvNormAct(in_channels, 64, 7, 2, act=activation_name), nn.MaxPool2d(3, 2, 1)
        )
        dilate = replace_stride_with_dilation
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, dilate[2])
        self.stage_channels = [64 * block.expansion * 2**i for i in range(4)]
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(
        self, block: Block, planes: int, blocks: int, stride: int = 1, dilate: bool = False
    ) -> nn.Sequential:
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        self.output_stride *= stride
        self.stage_strides.append(self.output_stride)
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.in_planes != out:
            downsample = ConvNormAct(self.in_planes, out, 1, stride, act=None)  # projection
        first = block(self.in_planes, planes, stride, downsample, previous_dilation, self.act)
        rest = [block(out, planes, dilation=self.dilation, act=self.act) for _ in range(1, blocks)]
        self.in_planes = out
        return nn.Sequential(first, *rest)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and the four stages."""
        x = self.layer2(self.layer1(self.stem(x)))
        return self.layer4(self.layer3(x))

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pool and classify."""
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes]: forward_features, then forward_head."""
        return self.forward_head(self.forward_features(x))


def resnet(
    depth: str,
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
    replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False),
) -> ResNet:
    """A validated ResNet of the given depth name (resnet18 ... resnet152)."""
    check_common(num_classes, in_channels, activation)
    block, layers = DEPTHS[depth]
    return ResNet(
        block,
        layers,
        num_classes=num_classes,
        in_channels=in_channels,
        activation_name=activation,
        replace_stride_with_dilation=tuple(replace_stride_with_dilation),
    )


def _entry(depth: str) -> dict:
    """The registry fields every ResNet depth shares, with its one-line description."""
    block, layers = DEPTHS[depth]
    what = f"ResNet-{depth[6:]}: {block.__name__} x {layers}, 1x1 projection shortcuts"
    return {"task": "classification", "input_size": (3, 224, 224), "description": what}


@register("resnet18", **_entry("resnet18"))
def resnet18(*, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu") -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2]."""
    return resnet(
        "resnet18", num_classes=num_classes, in_channels=in_channels, activation=activation
    )


@register("resnet34", **_entry("resnet34"))
def resnet34(*, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu") -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3]."""
    return resnet(
        "resnet34", num_classes=num_classes, in_channels=in_channels, activation=activation
    )


@register("resnet50", **_entry("resnet50"))
def resnet50(*, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu") -> ResNet:
    """ResNet-50: Bottleneck x [3, 4, 6, 3]."""
    return resnet(
        "resnet50", num_classes=num_classes, in_channels=in_channels, activation=activation
    )


@register("resnet101", **_entry("resnet101"))
def resnet101(*, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu") -> ResNet:
    """ResNet-101: Bottleneck x [3, 4, 23, 3]."""
    return resnet(
        "resnet101", num_classes=num_classes, in_channels=in_channels, activation=activation
    )


@register("resnet152", **_entry("resnet152"))
def resnet152(*, num_classes: int = 1000, in_channels: int = 3, activation: str = "relu") -> ResNet:
    """ResNet-152: Bottleneck x [3, 8, 36, 3]."""
    return resnet(
        "resnet152", num_classes=num_classes, in_channels=in_channels, activation=activation
    )
