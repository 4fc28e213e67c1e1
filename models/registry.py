"""The model registry: every builder registers itself by name with its task and input size."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from torch import nn

from toolkit.errors import CnnkitError

TASKS = ("classification", "segmentation")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about a model before building it."""

    name: str
    builder: Callable[..., nn.Module]
    task: str
    input_size: tuple[int, int, int]  # (C, H, W) at the builder's default in_channels
    description: str


_REGISTRY: dict[str, ModelInfo] = {}


def register(
    name: str, *, task: str, input_size: tuple[int, int, int], description: str
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: add a builder to the registry under `name` (a duplicate name is a bug)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")

    def decorate(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelInfo(name, builder, task, tuple(input_size), description)
        return builder

    return decorate


def unregister(name: str) -> None:
    """Remove `name` from the registry (an unknown name is a CnnkitError with suggestions)."""
    info(name)
    del _REGISTRY[name]


@contextmanager
def registered(
    name: str,
    builder: Callable[..., nn.Module],
    *,
    task: str,
    input_size: tuple[int, int, int],
    description: str,
) -> Iterator[str]:
    """Register `builder` under `name` for the duration of a `with` block (tests, plugins)."""
    register(name, task=task, input_size=input_size, description=description)(builder)
    try:
        yield name
    finally:
        unregister(name)


def names(task: str | None = None) -> list[str]:
    """Registered model names, in registration order, optionally only those of one task."""
    return [n for n, info in _REGISTRY.items() if task is None or info.task == task]


def info(name: str) -> ModelInfo:
    """The registry entry for `name`; an unknown name is a CnnkitError with suggestions."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CnnkitError(f"unknown model {name!r}{hint}; `cnnkit models` lists them")
    return _REGISTRY[name]


def default_input_size(name: str, in_channels: int | None = None) -> tuple[int, int, int]:
    """The model's default (C, H, W), with C replaced by `in_channels` when given."""
    c, h, w = info(name).input_size
    return (in_channels or c, h, w)


def build(name: str, **kwargs: object) -> nn.Module:
    """Build a registered model; unknown options are a CnnkitError naming them.

    The module carries `cnnkit_name`, `cnnkit_args`, `task` and `input_size` so that
    checkpoints and exported files can describe it without the registry.
    """
    entry = info(name)
    accepted = inspect.signature(entry.builder).parameters
    unknown = sorted(k for k in kwargs if k not in accepted)
    if unknown:
        raise CnnkitError(
            f"model {name!r} has no option {', '.join(unknown)}; it takes {', '.join(accepted)}"
        )
    try:
        model = entry.builder(**kwargs)
    except ValueError as exc:  # builders validate their options with ValueError
        raise CnnkitError(f"model {name!r}: {exc}") from None
    model.cnnkit_name = name
    model.cnnkit_args = dict(kwargs)
    model.task = entry.task
    model.input_size = default_input_size(name, kwargs.get("in_channels"))
    return model


def parameter_count(model: nn.Module) -> int:
    """Number of learnable parameters (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters())


def catalog(task: str | None = None) -> list[dict]:
    """One row per registered model: name, task, input_size, params, description.

    Models are built on the meta device, so listing the zoo allocates no weights.
    """
    import torch

    rows = []
    for name in names(task):
        entry = _REGISTRY[name]
        with torch.device("meta"):
            model = build(name)
        rows.append(
            {
                "name": name,
                "task": entry.task,
                "input_size": list(entry.input_size),
                "params": parameter_count(model),
                "description": entry.description,
            }
        )
    return rows
