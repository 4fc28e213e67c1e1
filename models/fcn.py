"""FCN-32s/16s/8s (Long et al., 2015): a classifier's trunk, 1x1 score heads, skip fusion.

The backbone is one of the zoo's classifiers without its head, tapped at the ends of
its last three stages (`c3`, `c4`, `c5`: strides 8, 16, 32, or less with `dilation`).
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from toolkit.models.layers import check_common
from toolkit.models.registry import register
from toolkit.models.resnet import ResNet, resnet
from toolkit.models.vgg import CFGS, VGG

UPSAMPLE = ("bilinear", "transposed", "unpool")
DILATION = (None, 8, 16)
TAPS = ("c3", "c4", "c5")
# A pooling switch: the argmax indices of one pool and the map it pooled (for its size).
Switch = tuple[torch.Tensor, torch.Tensor]


class VGGBackbone(nn.Module):
    """A VGG's `features`, tapped at the ends of stages 3-5; optionally keeps pool switches."""

    def __init__(self, vgg: VGG, switches: bool = False):
        super().__init__()
        self.features = vgg.features
        self.taps = dict(zip(vgg.stage_ends[2:], TAPS, strict=True))
        self.channels = dict(zip(TAPS, vgg.stage_channels[2:], strict=True))
        self.strides = dict(zip(TAPS, vgg.stage_strides[2:], strict=True))
        for layer in self.features:
            if isinstance(layer, nn.MaxPool2d):
                layer.return_indices = switches

    def forward(self, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], list[Switch]]:
        """The c3, c4, c5 feature maps and, when kept, the switch of every pool."""
        feats, switches = {}, []
        for i, layer in enumerate(self.features):
            if isinstance(layer, nn.MaxPool2d) and layer.return_indices:
                pooled, indices = layer(x)
                switches.append((strongest_switch(pooled, indices), x))
                x = pooled
            else:
                x = layer(x)
            if i + 1 in self.taps:
                feats[self.taps[i + 1]] = x
        return feats, switches


class ResNetBackbone(nn.Module):
    """A ResNet's stem and four stages; `c3`..`c5` are the outputs of layer2..layer4."""

    def __init__(self, net: ResNet):
        super().__init__()
        self.stem, self.layer1, self.layer2 = net.stem, net.layer1, net.layer2
        self.layer3, self.layer4 = net.layer3, net.layer4
        self.channels = dict(zip(TAPS, net.stage_channels[1:], strict=True))
        self.strides = dict(zip(TAPS, net.stage_strides[1:], strict=True))

    def forward(self, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], list[Switch]]:
        """The c3, c4, c5 feature maps (no switches: ResNet's one pool keeps no indices)."""
        c3 = self.layer2(self.layer1(self.stem(x)))
        c4 = self.layer3(c3)
        return {"c3": c3, "c4": c4, "c5": self.layer4(c4)}, []


def strongest_switch(pooled: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Per pooling window, the switch of the channel that pooled the largest value.

    Score maps have as many channels as classes, not as the encoder; one switch per
    window, taken from the encoder's own indices, lets any channel count be unpooled.
    """
    strongest = pooled.argmax(1, keepdim=True)
    return indices.gather(1, strongest)


def bilinear_kernel(channels: int, size: int) -> torch.Tensor:
    """ConvTranspose2d weight that upsamples each channel bilinearly (FCN's initialisation)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float32)
    filt1d = 1 - (og - center).abs() / factor
    weight = torch.zeros(channels, channels, size, size)
    weight[range(channels), range(channels)] = filt1d[:, None] * filt1d[None, :]
    return weight


class KeepSize(nn.Module):
    """The upsampling step between two maps of the same stride (after dilation)."""

    pools = 0

    def forward(self, x: torch.Tensor, like: torch.Tensor, switches: list[Switch]) -> torch.Tensor:
        """`x` as it is: it already has the size of `like`."""
        return x


class BilinearUp(nn.Module):
    """Resize to the target map's size with F.interpolate."""

    pools = 0

    def forward(self, x: torch.Tensor, like: torch.Tensor, switches: list[Switch]) -> torch.Tensor:
        """`x` resized bilinearly to the height and width of `like`."""
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class TransposedUp(nn.Module):
    """A learned ConvTranspose2d, initialised to bilinear, cropped to the target's size."""

    pools = 0

    def __init__(self, channels: int, factor: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(
            channels, channels, 2 * factor, factor, factor // 2, bias=False
        )
        with torch.no_grad():
            self.up.weight.copy_(bilinear_kernel(channels, 2 * factor))

    def forward(self, x: torch.Tensor, like: torch.Tensor, switches: list[Switch]) -> torch.Tensor:
        """`x` upsampled by the learned transposed conv, cropped to the size of `like`."""
        # Floor-mode pools can leave the map a pixel short of like/factor: one replicated
        # row and column make the output at least as large, then crop to the exact size.
        x = self.up(F.pad(x, (0, 1, 0, 1), mode="replicate"))
        return x[:, :, : like.shape[-2], : like.shape[-1]]


class UnpoolUp(nn.Module):
    """Undo `pools` 2x2 max pools with MaxUnpool2d and the encoder's switches.

    Each unpooled map is sparse (one value per 2x2 window); a 3x3 conv, initialised to
    a per-class box filter, fills it in before the next step.
    """

    def __init__(self, channels: int, pools: int):
        super().__init__()
        self.pools = pools
        self.unpool = nn.MaxUnpool2d(2, 2)
        self.fill = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(pools))
        with torch.no_grad():
            for conv in self.fill:
                conv.weight.zero_()
                conv.weight[range(channels), range(channels)] = 1.0
                conv.bias.zero_()

    def forward(self, x: torch.Tensor, like: torch.Tensor, switches: list[Switch]) -> torch.Tensor:
        """`x` unpooled through the recorded switches, deepest first, each followed by a conv."""
        for (indices, before), fill in zip(reversed(switches), self.fill, strict=True):
            indices = indices.expand(-1, x.shape[1], -1, -1)
            x = fill(self.unpool(x, indices, output_size=before.shape[-2:]))
        return x


def make_up(mode: str, channels: int, factor: int) -> nn.Module:
    """The upsampling step for `mode` between strides `factor` apart."""
    if factor == 1:
        return KeepSize()
    if mode == "bilinear":
        return BilinearUp()
    if mode == "transposed":
        return TransposedUp(channels, factor)
    return UnpoolUp(channels, int(math.log2(factor)))


class FCN(nn.Module):
    """Score the deepest map, then upsample and add the skips' scores, then to input size."""

    TRUNK = ("backbone",)  # fine-tuning: the pretrained part, and what is new
    HEAD = ("score", "ups")

    def __init__(self, backbone: nn.Module, skips: tuple[str, ...], num_classes: int, mode: str):
        super().__init__()
        self.backbone = backbone
        self.skips = skips
        chain = ("c5", *skips)
        self.score = nn.ModuleDict(
            {n: nn.Conv2d(backbone.channels[n], num_classes, 1) for n in chain}
        )
        strides = [backbone.strides[n] for n in chain] + [1]
        self.ups = nn.ModuleList(
            make_up(mode, num_classes, hi // lo) for hi, lo in pairwise(strides)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel logits [N, K, H, W] at the input size: score c5, add skips, upsample."""
        feats, switches = self.backbone(x)
        y = self.score["c5"](feats["c5"])
        targets = [feats[n] for n in self.skips] + [x]
        for i, (up, like) in enumerate(zip(self.ups, targets, strict=True)):
            cut = len(switches) - up.pools
            y = up(y, like, switches[cut:])
            switches = switches[:cut]
            if i < len(self.skips):
                y = y + self.score[self.skips[i]](like)
        return y


def _vgg(depth: str, batch_norm: bool):
    def build(in_channels: int, activation: str, output_stride: int, switches: bool):
        net = VGG(
            CFGS[depth],
            num_classes=0,
            in_channels=in_channels,
            activation_name=activation,
            batch_norm=batch_norm,
            output_stride=output_stride,
        )
        return VGGBackbone(net, switches)

    return build


def _resnet(depth: str):
    def build(in_channels: int, activation: str, output_stride: int, switches: bool):
        dilate = {32: (False, False, False), 16: (False, False, True), 8: (False, True, True)}
        net = resnet(
            depth,
            num_classes=1,
            in_channels=in_channels,
            activation=activation,
            replace_stride_with_dilation=dilate[output_stride],
        )
        return ResNetBackbone(net)

    return build


BACKBONES = {
    "vgg16": _vgg("vgg16", False),
    "vgg16_bn": _vgg("vgg16", True),
    "resnet18": _resnet("resnet18"),
    "resnet34": _resnet("resnet34"),
    "resnet50": _resnet("resnet50"),
}


def fcn(
    skips: tuple[str, ...],
    *,
    num_classes: int,
    in_channels: int,
    activation: str,
    backbone: str,
    upsample: str,
    dilation: int | None,
) -> FCN:
    """A validated FCN with the given skips (() = 32s, ("c4",) = 16s, ("c4", "c3") = 8s)."""
    check_common(num_classes, in_channels, activation)
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
    if upsample not in UPSAMPLE:
        raise ValueError(f"unknown upsample {upsample!r}; choose from {', '.join(UPSAMPLE)}")
    if upsample == "unpool" and not backbone.startswith("vgg"):
        raise ValueError(
            f"upsample 'unpool' needs a VGG backbone (its max-pool switches), not {backbone!r}"
        )
    if dilation not in DILATION:
        raise ValueError(f"dilation must be None, 8 or 16 (the output stride), got {dilation!r}")
    body = BACKBONES[backbone](in_channels, activation, dilation or 32, upsample == "unpool")
    return FCN(body, skips, num_classes, upsample)


def _entry(name: str, what: str) -> dict:
    """The registry fields every FCN shares, with its one-line description."""
    what = f"{name.upper()[:3]}-{name[3:]}: {what}; backbone, upsample, dilation options"
    return {"task": "segmentation", "input_size": (3, 64, 64), "description": what}


@register("fcn32s", **_entry("fcn32s", "scores the stride-32 map only"))
def fcn32s(
    *,
    num_classes: int = 11,
    in_channels: int = 3,
    activation: str = "relu",
    backbone: str = "vgg16",
    upsample: str = "bilinear",
    dilation: int | None = None,
) -> FCN:
    """FCN32S: scores the stride-32 map only."""
    return fcn(
        (),
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        backbone=backbone,
        upsample=upsample,
        dilation=dilation,
    )


@register("fcn16s", **_entry("fcn16s", "fuses the stride-16 skip"))
def fcn16s(
    *,
    num_classes: int = 11,
    in_channels: int = 3,
    activation: str = "relu",
    backbone: str = "vgg16",
    upsample: str = "bilinear",
    dilation: int | None = None,
) -> FCN:
    """FCN16S: fuses the stride-16 skip."""
    return fcn(
        ("c4",),
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        backbone=backbone,
        upsample=upsample,
        dilation=dilation,
    )


@register("fcn8s", **_entry("fcn8s", "fuses the stride-16 and stride-8 skips"))
def fcn8s(
    *,
    num_classes: int = 11,
    in_channels: int = 3,
    activation: str = "relu",
    backbone: str = "vgg16",
    upsample: str = "bilinear",
    dilation: int | None = None,
) -> FCN:
    """FCN8S: fuses the stride-16 and stride-8 skips."""
    return fcn(
        ("c4", "c3"),
        num_classes=num_classes,
        in_channels=in_channels,
        activation=activation,
        backbone=backbone,
        upsample=upsample,
        dilation=dilation,
    )
