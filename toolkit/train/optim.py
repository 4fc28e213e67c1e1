"""Optimisers (sgd, adam, adamw) and per-step learning-rate schedules with warmup."""

from __future__ import annotations

import math

import torch
from torch import nn

from toolkit.train.config import TrainConfig


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimiser; no weight decay on biases and norm weights (1-D tensors).

    With --backbone-lr-scale, every layer but the head learns at lr x scale.
    """
    from toolkit.train.finetune import is_head

    scale = config.backbone_lr_scale
    groups = []
    for decay in (True, False):
        for head in (False, True) if scale != 1.0 else (None,):
            params = [
                p
                for n, p in model.named_parameters()
                if p.requires_grad
                and (p.dim() > 1) == decay
                and (head is None or is_head(model, n) == head)
            ]
            lr = config.lr * (scale if head is False else 1.0)
            groups.append(
                {"params": params, "weight_decay": config.weight_decay if decay else 0.0, "lr": lr}
            )
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.AdamW(groups, lr=config.lr)


class LRFactor:
    """lr multiplier at a given optimizer step: linear warmup, then the schedule's shape."""

    def __init__(self, config: TrainConfig, steps_per_epoch: int):
        self.schedule = config.schedule
        self.total = max(1, config.epochs * steps_per_epoch)
        self.warmup = int(round(config.warmup_epochs * steps_per_epoch))
        if self.schedule == "onecycle" and not self.warmup:
            self.warmup = int(0.3 * self.total)  # onecycle: rise for 30% of the run
        self.steps_per_epoch, self.step_size, self.gamma = (
            steps_per_epoch,
            config.step_size,
            config.gamma,
        )

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            start = 0.04 if self.schedule == "onecycle" else 0.0
            return start + (1 - start) * (step + 1) / self.warmup
        if self.schedule == "step":
            return self.gamma ** (step // (self.step_size * self.steps_per_epoch))
        if self.schedule in ("cosine", "onecycle"):
            progress = (step - self.warmup) / max(1, self.total - self.warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return 1.0


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR stepped once per batch (its state_dict is plain numbers)."""
    factor = LRFactor(config, steps_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: factor(step))
