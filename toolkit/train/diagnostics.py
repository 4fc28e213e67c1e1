"""Per-epoch health checks: dead ReLU units and per-layer gradient norms."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

RELU_FAMILY = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU)
VANISHING = 1e-7  # a layer whose mean gradient norm is below this learns nothing
EXPLODING = 1e3  # a layer whose gradient norm exceeds this is blowing up


class DeadUnits:
    """Records, per ReLU-family call site, which units (channels) were ever positive."""

    def __init__(self):
        self.alive: dict[str, torch.Tensor] = {}
        self.calls: dict[str, int] = {}

    def reset_calls(self, *_args: object) -> None:
        """Forward pre-hook on the root: a module used twice per forward is two call sites."""
        self.calls.clear()

    def record(self, name: str, output: torch.Tensor) -> None:
        """Mark the units of `output` (dim 1) that are positive anywhere in the batch."""
        call = self.calls.get(name, 0)
        self.calls[name] = call + 1
        site = f"{name}#{call}" if call else name
        dims = [d for d in range(output.dim()) if d != 1]
        positive = output.detach().amax(dim=dims) > 0 if dims else output.detach() > 0
        seen = self.alive.get(site)
        self.alive[site] = positive if seen is None else seen | positive

    def reduce(self, reduce: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Combine over ranks: a unit is alive if it fired on any rank."""
        for site, flags in self.alive.items():
            counts = flags.to(torch.int32)
            reduce(counts)
            self.alive[site] = counts > 0

    def summary(self) -> dict | None:
        """Dead fraction overall and the worst layers; None when the model has no ReLU."""
        if not self.alive:
            return None
        dead = {site: int((~flags).sum()) for site, flags in self.alive.items()}
        total = sum(flags.numel() for flags in self.alive.values())
        worst = sorted(dead.items(), key=lambda item: -item[1])[:3]
        return {
            "fraction": sum(dead.values()) / max(1, total),
            "units": total,
            "worst": [{"layer": s, "dead": n} for s, n in worst if n > 0],
        }


@contextmanager
def watch_dead_units(model: nn.Module) -> Iterator[DeadUnits]:
    """Hook every ReLU-family module of `model` for the duration of the block."""
    monitor = DeadUnits()
    handles = [model.register_forward_pre_hook(monitor.reset_calls)]
    for name, module in model.named_modules():
        if isinstance(module, RELU_FAMILY):
            hook = (lambda n: lambda _m, _i, out: monitor.record(n, out))(name)
            handles.append(module.register_forward_hook(hook))
    try:
        yield monitor
    finally:
        for handle in handles:
            handle.remove()


class GradStats:
    """Per-layer gradient norms, accumulated over an epoch's optimizer steps."""

    def __init__(self, model: nn.Module):
        self.layers: list[str] = []
        self.params: list[tuple[int, nn.Parameter]] = []
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            layer = name.rsplit(".", 1)[0] if "." in name else name
            if layer not in self.layers:
                self.layers.append(layer)
            self.params.append((self.layers.index(layer), param))
        self.total = self.peak = None
        self.steps = 0

    @torch.no_grad()
    def update(self) -> None:
        """Add the current gradients (call after backward, before the optimizer step)."""
        with_grad = [(i, p.grad) for i, p in self.params if p.grad is not None]
        if not with_grad:
            return
        index = torch.tensor([i for i, _ in with_grad], device=with_grad[0][1].device)
        squares = torch.stack([torch.linalg.vector_norm(g.float()) ** 2 for _, g in with_grad])
        norms = torch.zeros(len(self.layers), device=squares.device).index_add_(0, index, squares)
        norms = norms.sqrt()
        self.total = norms if self.total is None else self.total + norms
        self.peak = norms if self.peak is None else torch.maximum(self.peak, norms)
        self.steps += 1

    def summary(self) -> dict | None:
        """min/max layer by mean norm, plus vanishing and exploding layers."""
        if not self.steps:
            return None
        mean = (self.total / self.steps).tolist()
        peak = self.peak.tolist()
        order = sorted(range(len(mean)), key=lambda i: mean[i])
        low, high = order[0], order[-1]
        finite = [v == v and v != float("inf") for v in peak]
        return {
            "min": {"layer": self.layers[low], "norm": mean[low]},
            "max": {"layer": self.layers[high], "norm": mean[high]},
            "vanishing": [self.layers[i] for i in range(len(mean)) if mean[i] < VANISHING],
            "exploding": [
                self.layers[i] for i in range(len(peak)) if not finite[i] or peak[i] > EXPLODING
            ],
        }


def warnings_for(grads: dict | None) -> list[str]:
    """Human warnings for vanishing or exploding gradients."""
    if not grads:
        return []
    found = []
    if grads["vanishing"]:
        found.append(
            f"vanishing gradients (< {VANISHING:g}) in {len(grads['vanishing'])} layer(s): "
            + ", ".join(grads["vanishing"][:3])
        )
    if grads["exploding"]:
        found.append(
            f"exploding gradients (> {EXPLODING:g}) in {len(grads['exploding'])} layer(s): "
            + ", ".join(grads["exploding"][:3])
        )
    return found
