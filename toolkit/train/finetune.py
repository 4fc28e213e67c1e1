"""Fine-tuning: which parameters --freeze stops, and which --backbone-lr-scale slows.

Every zoo model names its convolutional trunk (`TRUNK`) and the layers a new number of
classes replaces (`HEAD`). `--freeze features` stops the trunk; `--freeze backbone`
stops everything but the head (for ResNet the two are the same; for VGG `features`
leaves the 4096-wide FC layers training). Frozen BatchNorm layers also keep their
running statistics: they stay in eval mode while the rest trains.
"""

from __future__ import annotations

from torch import nn

from toolkit.errors import CnnkitError
from toolkit.train.config import FREEZE


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def parts(model: nn.Module) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(trunk, head) module-name prefixes of a zoo model; a CnnkitError for other modules."""
    trunk, head = getattr(model, "TRUNK", None), getattr(model, "HEAD", None)
    if trunk is None or head is None:
        raise CnnkitError(f"{type(model).__name__} does not say which layers are its trunk")
    return trunk, head


def is_head(model: nn.Module, name: str) -> bool:
    """Whether parameter `name` belongs to the layers a new num_classes replaces."""
    return _under(name, parts(model)[1])


def frozen_names(model: nn.Module, freeze: str) -> list[str]:
    """Parameter names that `--freeze FREEZE` stops."""
    if freeze not in FREEZE:
        raise CnnkitError(f"--freeze {freeze}: choose {', '.join(FREEZE)}")
    if freeze == "none":
        return []
    trunk, head = parts(model)
    names = [name for name, _ in model.named_parameters()]
    if freeze == "features":
        return [n for n in names if _under(n, trunk)]
    return [n for n in names if not _under(n, head)]


def apply_freeze(model: nn.Module, freeze: str) -> int:
    """Set requires_grad=False on the frozen parameters; how many tensors were frozen."""
    frozen = set(frozen_names(model, freeze))
    for name, param in model.named_parameters():
        if name in frozen:
            param.requires_grad_(False)
    return len(frozen)


def train_mode(wrapped: nn.Module, model: nn.Module) -> None:
    """`wrapped.train()`, then BatchNorm layers whose parameters are all frozen back to eval."""
    wrapped.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            params = list(module.parameters())
            if params and not any(p.requires_grad for p in params):
                module.eval()
