"""Foreign weights for the zoo: torchvision's (and timm's) state-dict names, by explicit tables.

cnnkit's ResNets and VGGs have torchvision's tensors in torchvision's order under other
names (`ConvNormAct` puts conv and norm in one block: `layer1.0.conv1.0.weight` is
torchvision's `layer1.0.conv1.weight`, `layer1.0.conv1.1.*` its `layer1.0.bn1.*`). Each
family gets a table of (torchvision name, cnnkit name) pairs built from the same numbers
that build the model, so a table can never drift from the architecture it describes.

VGG-bn: torchvision's convolutions before BatchNorm carry a bias, ours do not. The bias is
folded into the BatchNorm running mean (mean - bias), which is exact: in eval mode
BN(conv + b) with mean m equals BN(conv) with mean m - b, and in training the batch mean
absorbs any per-channel constant anyway. Going back, the bias is written as zeros.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.models.registry import info
from toolkit.models.resnet import DEPTHS, Bottleneck
from toolkit.models.vgg import CFGS, POOL

CLASSIFIERS = ("fc.", "classifier.")  # what an FCN's backbone leaves out
BN_TENSORS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")

# Zoo models that have a torchvision counterpart of another shape: why they cannot load.
REFUSED = {
    "alexnet": "cnnkit's AlexNet is the paper's (96-256-384-384-256 channels, LRN, 227x227); "
    "torchvision's is the one-GPU variant (64-192-384-256-256, no LRN): no tensor fits",
    "zfnet": "torchvision has no ZFNet",
    "googlenet": "torchvision's GoogLeNet has a 3x3 conv in the 5x5 branch (a known slip) and "
    "BatchNorm eps 1e-3; cnnkit's follows the paper (5x5), so inception*.branch3.1 cannot fit",
    "lenet5": "torchvision has no LeNet",
    "lenet": "torchvision has no LeNet",
}
# timm names that mean a structure cnnkit does not build (ResNet-D/-T deep stem, avg-down).
TIMM_VARIANTS = {
    "conv1.0.weight": "a deep 3x3 stem (timm's ResNet-D/-S/-T: conv1.0, conv1.1, ...)",
    "layer2.0.downsample.1.weight": "an average-pool shortcut (timm's avg_down, downsample.1 "
    "is a conv)",
}


@dataclass(frozen=True)
class Table:
    """How one zoo model's tensors are named by torchvision: pairs, folded biases, the head."""

    pairs: list[tuple[str, str]]  # (torchvision name, cnnkit name)
    folds: list[tuple[str, str]] = field(default_factory=list)  # (conv bias, cnnkit BN mean)
    head: tuple[str, ...] = ()  # cnnkit names of the last classifier layer


def _norm(src: str, dst: str) -> list[tuple[str, str]]:
    return [(f"{src}.{t}", f"{dst}.{t}") for t in BN_TENSORS]


def resnet_table(depth: str) -> Table:
    """ResNet-18..152 (timm's plain ResNets use the same names as torchvision's)."""
    block, layers = DEPTHS[depth]
    convs = 3 if block is Bottleneck else 2
    pairs = [("conv1.weight", "stem.0.0.weight"), *_norm("bn1", "stem.0.1")]
    for stage, blocks in enumerate(layers, 1):
        for b in range(blocks):
            at = f"layer{stage}.{b}"
            for k in range(1, convs + 1):
                pairs.append((f"{at}.conv{k}.weight", f"{at}.conv{k}.0.weight"))
                pairs += _norm(f"{at}.bn{k}", f"{at}.conv{k}.1")
            if b == 0 and (stage > 1 or block is Bottleneck):  # the projection shortcut
                pairs.append((f"{at}.downsample.0.weight", f"{at}.downsample.0.weight"))
                pairs += _norm(f"{at}.downsample.1", f"{at}.downsample.1")
    pairs += [("fc.weight", "fc.weight"), ("fc.bias", "fc.bias")]
    return Table(pairs, head=("fc.weight", "fc.bias"))


def vgg_table(depth: str, batch_norm: bool) -> Table:
    """VGG-11..19, plain or _bn: torchvision counts conv, (bn,) relu and pool as layers."""
    pairs, folds = [], []
    theirs = ours = 0
    for v in CFGS[depth]:
        if v == POOL:
            theirs, ours = theirs + 1, ours + 1
            continue
        pairs.append((f"features.{theirs}.weight", f"features.{ours}.0.weight"))
        if batch_norm:
            pairs += _norm(f"features.{theirs + 1}", f"features.{ours}.1")
            folds.append((f"features.{theirs}.bias", f"features.{ours}.1.running_mean"))
        else:
            pairs.append((f"features.{theirs}.bias", f"features.{ours}.0.bias"))
        theirs, ours = theirs + (3 if batch_norm else 2), ours + 1
    for i in (0, 3, 6):  # Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear in both
        pairs += [(f"classifier.{i}.weight", f"classifier.{i}.weight")]
        pairs += [(f"classifier.{i}.bias", f"classifier.{i}.bias")]
    return Table(pairs, folds, head=("classifier.6.weight", "classifier.6.bias"))


def table_for(name: str) -> Table:
    """The torchvision table of a zoo classifier; a CnnkitError saying why when there is none."""
    if name in DEPTHS:
        return resnet_table(name)
    depth = name.removesuffix("_bn")
    if depth in CFGS:
        return vgg_table(depth, name.endswith("_bn"))
    info(name)  # unknown names: the registry's error with suggestions
    reason = REFUSED.get(name, f"{name} has no torchvision counterpart")
    raise CnnkitError(f"cannot load torchvision weights into {name}: {reason}")


def fcn_backbone(model: nn.Module) -> str:
    """The classifier an FCN's backbone was built from (its `backbone` option or default)."""
    name = getattr(model, "cnnkit_name", "")
    args = getattr(model, "cnnkit_args", {})
    default = inspect.signature(info(name).builder).parameters["backbone"].default
    return args.get("backbone", default)


def to_cnnkit(name: str, state_dict: dict) -> dict:
    """A torchvision-named state dict of zoo model `name` under cnnkit's names (no checks)."""
    table = table_for(name)
    out = {dst: state_dict[src] for src, dst in table.pairs if src in state_dict}
    for bias, mean in table.folds:
        if bias in state_dict and mean in out:
            out[mean] = out[mean] - state_dict[bias]
    return out


def to_torchvision(name: str, state_dict: dict) -> dict:
    """A cnnkit state dict of zoo model `name` under torchvision's names (VGG-bn bias = 0)."""
    table = table_for(name)
    out = {src: state_dict[dst] for src, dst in table.pairs if dst in state_dict}
    for bias, mean in table.folds:
        out[bias] = torch.zeros_like(state_dict[mean])
    return dict(sorted(out.items(), key=lambda kv: _order(table)[kv[0]]))


def _order(table: Table) -> dict[str, int]:
    """torchvision's own key order: each conv bias right after its weight."""
    order, rank = {}, 0
    weights = {bias.removesuffix(".bias") + ".weight": bias for bias, _ in table.folds}
    for src, _ in table.pairs:
        order[src], rank = rank, rank + 1
        if src in weights:
            order[weights[src]], rank = rank, rank + 1
    return order


@dataclass
class ForeignLoad:
    """What `load_foreign` took from a torchvision/timm state dict."""

    convention: str  # "torchvision" | "cnnkit"
    loaded: int
    head_reset: list[str] = field(default_factory=list)
    head_shape: tuple[int, ...] = ()  # the file's head weight shape when it was reset
    folded: int = 0  # VGG-bn conv biases folded into BatchNorm running means
    unused: list[str] = field(default_factory=list)  # file tensors the model has no use for

    def summary(self) -> str:
        """One human line: how much was loaded and what was reinitialised or folded."""
        parts = [f"loaded {self.loaded} tensors ({self.convention} names)"]
        if self.folded:
            parts.append(f"folded {self.folded} conv biases into BatchNorm running means")
        if self.head_reset:
            classes = self.head_shape[0] if self.head_shape else "?"
            parts.append(
                f"head {', '.join(self.head_reset)} reinitialised (the file has {classes} "
                "classes); the backbone is kept"
            )
        if self.unused:
            parts.append(f"ignored {len(self.unused)} classifier tensors an FCN has no use for")
        return "; ".join(parts)


def load_foreign(model: nn.Module, state_dict: dict, label: str) -> ForeignLoad:
    """Load torchvision/timm weights (or a bare cnnkit state dict) into a zoo model.

    Every tensor is shape-checked; the first that does not fit is one CnnkitError line.
    A head of another size is left at its initialisation and reported.
    """
    own = model.state_dict()
    if set(state_dict) == set(own):
        _check_shapes(own, state_dict, {k: k for k in own}, (), label)
        model.load_state_dict(_as_own_dtypes(state_dict, own))
        return ForeignLoad("cnnkit", len(own))
    name = getattr(model, "cnnkit_name", type(model).__name__)
    prefix, tv_name = "", name
    if info(name).task == "segmentation":
        prefix, tv_name = "backbone.", fcn_backbone(model)
        if tv_name in CFGS and getattr(model, "cnnkit_args", {}).get("dilation") == 8:
            raise CnnkitError(
                f"{label}: an FCN with a VGG backbone and dilation=8 drops the 4th pool, so "
                "its convs no longer sit where torchvision's do; use dilation 16 or none"
            )
    table = table_for(tv_name)
    _refuse_timm_variants(state_dict, label)
    classifier = {src for src, dst in table.pairs if prefix and dst.startswith(CLASSIFIERS)}
    mapping = {prefix + dst: src for src, dst in table.pairs if src not in classifier}
    missing = [dst for dst in mapping if dst not in own]
    if missing:  # a bug in a table, or a model built with other options
        raise CnnkitError(f"{label}: {name} has no {missing[0]}; its layout differs")
    head = tuple(prefix + h for h in table.head if prefix + h in mapping)
    reset = _check_shapes(own, state_dict, mapping, head, label)
    unused = sorted(set(state_dict) - set(mapping.values()) - {b for b, _ in table.folds})
    if set(unused) - classifier:
        extra = sorted(set(unused) - classifier)
        raise CnnkitError(
            f"{label}: {len(extra)} tensor(s) that {tv_name} does not have (first: {extra[0]}); "
            "weights of another model or depth?"
        )
    converted = to_cnnkit(tv_name, state_dict)
    update = {k: converted[k[len(prefix) :]] for k in mapping if k not in reset}
    model.load_state_dict(_as_own_dtypes(update, own), strict=False)
    folded = sum(1 for bias, mean in table.folds if prefix + mean in update)
    head_shape = tuple(state_dict[mapping[reset[0]]].shape) if reset else ()
    return ForeignLoad("torchvision", len(update), reset, head_shape, folded, unused)


def _refuse_timm_variants(state_dict: dict, label: str) -> None:
    for key, what in TIMM_VARIANTS.items():
        if key in state_dict and state_dict[key].dim() == 4:
            raise CnnkitError(f"{label}: {key} means {what}; cnnkit's ResNet has a 7x7 stem")


def _check_shapes(
    own: dict, state_dict: dict, mapping: dict[str, str], head: tuple[str, ...], label: str
) -> list[str]:
    """Names of head tensors to reinitialise; a CnnkitError for the first other misfit."""
    reset = []
    for dst, src in mapping.items():
        if src not in state_dict:
            raise CnnkitError(f"{label}: has no tensor {src} (cnnkit's {dst})")
        if not isinstance(state_dict[src], torch.Tensor):
            raise CnnkitError(f"{label}: {src} is not a tensor")
        theirs, ours = tuple(state_dict[src].shape), tuple(own[dst].shape)
        if theirs == ours:
            continue
        if dst in head:
            reset.append(dst)
            continue
        first_conv = dst.endswith("stem.0.0.weight")
        hint = " (a different --input-size channel count?)" if first_conv else ""
        raise CnnkitError(
            f"{label}: {src} has shape {list(theirs)}, cnnkit's {dst} needs {list(ours)}{hint}"
        )
    if reset and len(reset) != len(head):
        reset = list(head)  # weight and bias go together
    return reset


def _as_own_dtypes(update: dict, own: dict) -> dict:
    """File tensors cast to the model's dtypes (fp16 files load into fp32 models)."""
    return {k: v.to(own[k].dtype) for k, v in update.items()}
