"""TrainConfig: every choice a run makes, with defaults that train sensibly."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields, replace

from toolkit.errors import CnnkitError
from toolkit.meta import check_metadata

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "onecycle", "none")
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 2e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adam": 0.0, "adamw": 0.01}
FREEZE = ("none", "features", "backbone")
DEFAULT_EPOCHS = {"classification": 30, "segmentation": 10}
MAX_THREADS = max(16, 4 * (os.cpu_count() or 1))  # thousands of torch threads hang or crash
# Each DataLoader worker is a process with its own copy of the dataset: 10,000 of them
# ran out of memory and were left orphaned.
MAX_LOADER_WORKERS = max(8, 2 * (os.cpu_count() or 1))


@dataclass
class TrainConfig:
    """A training run; None fields are resolved from the model and data by `resolve`."""

    model: str = "lenet5"
    data: str = "digits"
    model_args: dict = field(default_factory=dict)
    epochs: int | None = None  # 30 for classification, 10 for segmentation
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float | None = None  # sgd 0.05, adam 1e-3, adamw 2e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float | None = None  # sgd 5e-4, adam 0, adamw 0.01
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_size: int | None = None  # step schedule: epochs between decays (epochs // 3)
    gamma: float = 0.1
    label_smoothing: float = 0.0
    aux_weight: float = 0.3  # GoogLeNet auxiliary heads, training only
    clip_grad: float = 0.0  # max global grad norm; 0 = off
    input_size: tuple[int, int, int] | None = None  # (C, H, W); default from data + model
    augment: bool = True
    hflip: bool | None = None  # None: on for folder/voc, off for digits
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    threads: int | None = None  # torch intra-op threads; None = torch's default (all cores)
    limit: int | None = None  # use only the first N samples of each split (quick runs)
    name: str | None = None
    runs_dir: str = "runs"
    exist_ok: bool = False
    resume: str | None = None  # a run folder to continue from its last.pt
    init_from: str | None = None  # a checkpoint, run folder or torchvision/timm .pth
    freeze: str = "none"  # none | features | backbone (see toolkit.train.finetune)
    backbone_lr_scale: float = 1.0  # lr multiplier for every layer but the head
    class_names: list[str] | None = None  # --classes for voc data (else labelmap.txt, classes.txt)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        data = asdict(self)
        data["input_size"] = list(self.input_size) if self.input_size else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """The config saved in config.json (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in data.items() if k in known})
        if config.input_size is not None:
            config.input_size = tuple(config.input_size)
        return config


INT_FIELDS = ("epochs", "batch_size", "step_size", "seed", "workers", "threads", "limit")
FLOAT_FIELDS = ("lr", "momentum", "weight_decay", "warmup_epochs", "gamma", "label_smoothing")
FLOAT_FIELDS += ("aux_weight", "clip_grad")


def flag(name: str) -> str:
    """The command-line flag of a config field."""
    return {"warmup_epochs": "--warmup"}.get(name, "--" + name.replace("_", "-"))


def check_types(config: TrainConfig) -> None:
    """Integers where integers belong, finite numbers where numbers do (config.json too)."""
    for name in INT_FIELDS:
        value = getattr(config, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise CnnkitError(f"{flag(name)}: expected an integer, got {value!r}")
    for name in FLOAT_FIELDS:
        value = getattr(config, name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if value is not None and not (number and math.isfinite(value)):
            raise CnnkitError(f"{flag(name)}: expected a finite number, got {value!r}")


def check(config: TrainConfig) -> None:
    """Refuse impossible values with one line naming the flag."""
    check_types(config)
    check_metadata({"model_args": config.model_args}, "--model-arg")
    positive = {
        "--epochs": config.epochs,
        "--batch-size": config.batch_size,
        "--lr": config.lr,
        "--limit": config.limit,
    }
    for name, value in positive.items():
        if value is not None and value <= 0:
            raise CnnkitError(f"{name} must be positive, got {value}")
    if config.optimizer not in OPTIMIZERS:
        raise CnnkitError(f"--optimizer {config.optimizer}: choose {', '.join(OPTIMIZERS)}")
    if config.schedule not in SCHEDULES:
        raise CnnkitError(f"--schedule {config.schedule}: choose {', '.join(SCHEDULES)}")
    if config.threads is not None and not 0 < config.threads <= MAX_THREADS:
        raise CnnkitError(f"--threads must be 1..{MAX_THREADS}, got {config.threads}")
    if not 0 <= config.workers <= MAX_LOADER_WORKERS:
        raise CnnkitError(
            f"--loader-workers must be 0..{MAX_LOADER_WORKERS} on this machine, "
            f"got {config.workers}"
        )
    if config.freeze not in FREEZE:
        raise CnnkitError(f"--freeze {config.freeze}: choose {', '.join(FREEZE)}")
    if not 0 < config.backbone_lr_scale <= 1:
        raise CnnkitError(
            f"--backbone-lr-scale must be in (0, 1], got {config.backbone_lr_scale}; "
            "use --freeze backbone to stop those layers"
        )
    if config.warmup_epochs < 0:
        raise CnnkitError(f"--warmup must be 0 or more epochs, got {config.warmup_epochs}")
    if not 0 <= config.label_smoothing < 1:
        raise CnnkitError(f"--label-smoothing must be in [0, 1), got {config.label_smoothing}")
    if config.clip_grad < 0:
        raise CnnkitError(f"--clip-grad must be 0 (off) or positive, got {config.clip_grad}")


def resolve(config: TrainConfig, task: str, input_size: tuple[int, int, int]) -> TrainConfig:
    """Fill every None default for this model's task and the chosen input size."""
    check(config)
    epochs = config.epochs or DEFAULT_EPOCHS[task]
    return replace(
        config,
        epochs=epochs,
        lr=config.lr or DEFAULT_LR[config.optimizer],
        weight_decay=(
            DEFAULT_WEIGHT_DECAY[config.optimizer]
            if config.weight_decay is None
            else config.weight_decay
        ),
        step_size=config.step_size or max(1, epochs // 3),
        input_size=tuple(input_size),
    )
