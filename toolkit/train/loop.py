"""The fit loop, readable top to bottom: data, model, optimiser, then per epoch train,
validate, diagnose, checkpoint, log; at the end the best weights meet the test split."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import Progress
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from toolkit import models
from toolkit.data import parse_source, split_arrays
from toolkit.data.dataset import (
    ArrayDataset,
    BatchKeySampler,
    build_dataset,
    dataset_stats,
    default_augment,
)
from toolkit.data.images import IGNORE
from toolkit.data.transforms import Augment
from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.progress import note, progress_bar
from toolkit.runfolder import RunFolder
from toolkit.train import distributed, finetune, guardrails, prepare, rundir
from toolkit.train.checkpoint import (
    load_checkpoint,
    load_weights,
    new_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from toolkit.train.config import TrainConfig
from toolkit.train.console import epoch_line, final_line, start_line
from toolkit.train.curves import plot_curves
from toolkit.train.diagnostics import GradStats, warnings_for, watch_dead_units
from toolkit.train.metrics import MAIN_METRIC, Meter
from toolkit.train.optim import build_optimizer, build_scheduler


class TrainingDiverged(CnnkitError):
    """The loss became NaN or infinite; training stopped, the last good checkpoint is kept."""


@dataclass
class Training:
    """What every epoch works on: the model (and its DDP wrapper), optimiser, schedule, run."""

    config: TrainConfig
    ctx: distributed.Context
    model: nn.Module
    wrapped: nn.Module  # the model itself, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    task: str
    classes: list[str]
    run_dir: Path


def fit(config: TrainConfig, *, quiet: bool = False) -> Path:
    """Train as `config` says and return the run folder (one process or under torchrun)."""
    ctx = distributed.setup(config.device)
    try:
        with ExitStack() as locks:
            return run(config, ctx, quiet, locks)
    finally:
        ctx.close()


def run(config: TrainConfig, ctx: distributed.Context, quiet: bool, locks) -> Path:
    """The whole run on this rank (rank 0 holds the run folder's lock in `locks`)."""
    started = time.perf_counter()
    source = parse_source(config.data)
    resumed = None
    if config.resume:
        config, run_dir, resumed = prepare.resumed_run(config)
    else:
        config = prepare.new_run(config, source)
        run_dir = rundir.choose_run_dir(
            config.runs_dir, config.name, config.model, config.data, config.exist_ok
        )
    if config.threads:
        torch.set_num_threads(config.threads)
    ctx.barrier()  # every rank has chosen the same folder before rank 0 creates it
    if ctx.is_main:
        locks.enter_context(rundir.locked(run_dir))
    seed_everything(config.seed)
    task, size = parse_source(config.data).task, tuple(config.input_size)
    splits, mean, std = load_splits(config, size)
    classes = splits["train"].classes
    model_args = {"num_classes": len(classes), "in_channels": size[0], **config.model_args}
    model = models.build(config.model, **model_args)
    models.check_input(model, size)
    init_report = prepare.init_from(model, config.init_from) if config.init_from else None
    finetune.apply_freeze(model, config.freeze)
    data_warnings = guardrails.announce(splits, config.batch_size, quiet) if ctx.is_main else []
    model.to(ctx.device)
    meta = ModelMeta.from_dict(
        {
            "task": task,
            "classes": classes,
            "mean": mean,
            "std": std,
            "model": config.model,
            "model_args": model_args,
            "input_size": list(size),
        },
        "train",
    )
    if ctx.is_main and resumed is None:
        rundir.prepare(run_dir)
        extra = {"world_size": ctx.world, "init_report": init_report, "torch": torch.__version__}
        extra["data_warnings"] = data_warnings
        resolved = {**config.to_dict(), **meta.to_dict(), **extra}
        rundir.write_json(RunFolder(run_dir).config, resolved)
    ctx.barrier()

    train_loader = make_loader(splits["train"], config, ctx, train=True)
    val_loader = make_loader(splits["val"], config, ctx, train=False)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, len(train_loader))
    metric = MAIN_METRIC[task]
    start_epoch, best = 0, {"epoch": 0, "value": -1.0}
    best_state = None
    if resumed is not None:
        start_epoch, best = resume_state(resumed, model, optimizer, scheduler)
        if start_epoch >= config.epochs:  # nothing to train: keep results.json as it is
            raise CnnkitError(
                f"--resume {run_dir}: the run already finished its {start_epoch} epochs; "
                "pass --epochs N (more) to train longer"
            )
        best_state = load_checkpoint(run_dir, prefer=RunFolder.BEST)["state_dict"]
        if ctx.is_main:
            rundir.keep_metrics_until(run_dir, start_epoch)
            note(f"resuming {run_dir} after epoch {start_epoch} of {config.epochs}")
    training = Training(
        config, ctx, model, wrap_ddp(model, ctx), optimizer, scheduler, task, classes, run_dir
    )
    show = ctx.is_main and not quiet
    if show:
        note(start_line(config, splits, ctx, run_dir, model))

    try:
        with progress_bar(quiet or not ctx.is_main) as bar:
            for epoch in range(start_epoch + 1, config.epochs + 1):
                row = run_epoch(training, epoch, (train_loader, val_loader), bar)
                val_metrics = row["val"]
                improved = val_metrics[metric] >= best["value"]  # a tie goes to the later epoch
                if improved:
                    best = {"epoch": epoch, "value": val_metrics[metric]}
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if ctx.is_main:
                    checkpoint = new_checkpoint(
                        meta,
                        model.state_dict(),
                        optimizer=optimizer.state_dict(),
                        scheduler=scheduler.state_dict(),
                        epoch=epoch,
                        metrics=without_confusion(val_metrics),
                        rng=rng_state(),
                        best=best,
                        config=config.to_dict(),
                    )
                    rundir.append_metrics(run_dir, row)
                    if improved:
                        save_checkpoint(checkpoint, RunFolder(run_dir).best)
                    save_checkpoint(checkpoint, RunFolder(run_dir).last)
                if show:
                    note(epoch_line(row, metric, config.epochs))
                for warning in warnings_for(row["diagnostics"]["grad_norm"]) if show else []:
                    note(f"warning: epoch {epoch}: {warning}")
    finally:  # curves of the finished epochs, also when the loss diverged
        if ctx.is_main and rundir.read_metrics(run_dir):
            plot_curves(rundir.read_metrics(run_dir), metric, RunFolder(run_dir).curves)

    model.load_state_dict(best_state)
    test_loader = make_loader(splits["test"], config, ctx, train=False)
    test_metrics, _ = evaluate(model, test_loader, ctx, task, classes, watch=False)
    results = {
        "test": test_metrics,
        "main_metric": metric,
        "best_epoch": best["epoch"],
        "best_val": best["value"],
        "epochs": config.epochs,
        "time_s": time.perf_counter() - started,
        "run_dir": str(run_dir),
    }
    if ctx.is_main:
        rundir.write_json(RunFolder(run_dir).results, results)
    if show:
        note(final_line(results, metric))
    return run_dir


def load_splits(
    config: TrainConfig, size: tuple[int, int, int]
) -> tuple[dict, list[float], list[float]]:
    """train/val/test datasets normalised with the training split's mean and std."""
    names = config.class_names
    mean, std = dataset_stats(config.data, size, config.seed, names)
    splits = {
        split: build_dataset(
            config.data,
            split,
            size,
            augment=train_augment(config, size) if split == "train" else False,
            mean=mean,
            std=std,
            seed=config.seed,
            limit=config.limit,
            classes=names,
        )
        for split in ("train", "val", "test")
    }
    return splits, mean, std


def train_augment(config: TrainConfig, size: tuple[int, int, int]) -> Augment | bool:
    """The data's default augmentation with --hflip applied; False with --no-augment."""
    if not config.augment:
        return False
    _, _, classes = split_arrays(config.data, "train", size, config.seed, config.class_names)
    augment = default_augment(config.data, size, classes)
    return augment if config.hflip is None else replace(augment, hflip=config.hflip)


def run_epoch(t: Training, epoch: int, loaders: tuple[Loader, Loader], bar: Progress) -> dict:
    """Train one epoch, validate, and return the metrics.jsonl row with its diagnostics."""
    train_loader, val_loader = loaders
    started = time.perf_counter()
    train_loader.set_epoch(epoch)
    task_id = bar.add_task(f"epoch {epoch}/{t.config.epochs}", total=len(train_loader), status="")
    grads = GradStats(t.model)
    train_metrics = train_epoch(
        t,
        train_loader,
        grads,
        bar=lambda done, status: bar.update(task_id, completed=done, status=status),
        epoch=epoch,
    )
    bar.remove_task(task_id)
    val_metrics, dead = evaluate(t.model, val_loader, t.ctx, t.task, t.classes, watch=True)
    return {
        "epoch": epoch,
        "lr": t.optimizer.param_groups[0]["lr"],
        "time_s": time.perf_counter() - started,
        "train": train_metrics,
        "val": val_metrics,
        "diagnostics": {"dead_relu": dead, "grad_norm": grads.summary()},
    }


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and random (one machine, one seed: one result)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Loader(DataLoader):
    """A DataLoader over BatchKeys whose epoch can be set (shuffle + augmentation seeds)."""

    def set_epoch(self, epoch: int) -> None:
        """Reseed the shuffle and the augmentation for `epoch`."""
        self.sampler.set_epoch(epoch)


def make_loader(
    dataset: ArrayDataset, config: TrainConfig, ctx: distributed.Context, *, train: bool
) -> Loader:
    """Whole-batch loading: a shuffled DistributedSampler for training, a rank's slice for eval."""
    if train:
        order = DistributedSampler(
            dataset, num_replicas=ctx.world, rank=ctx.rank, shuffle=True, seed=config.seed
        )
        batches = BatchKeySampler(order, config.batch_size, drop_single=True)
    else:
        batches = BatchKeySampler(
            list(range(ctx.rank, len(dataset), ctx.world)), config.batch_size * 2
        )
    return Loader(
        dataset,
        batch_size=None,
        sampler=batches,
        num_workers=config.workers,
        pin_memory=ctx.device.type == "cuda",
    )


def wrap_ddp(model: nn.Module, ctx: distributed.Context) -> nn.Module:
    """DistributedDataParallel under torchrun; the model itself otherwise."""
    if ctx.world == 1:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def compute_loss(
    output: torch.Tensor | tuple[torch.Tensor, ...],
    targets: torch.Tensor,
    config: TrainConfig,
    task: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy (ignore 255 for segmentation); GoogLeNet's aux heads weigh aux_weight."""
    extra = ()
    if isinstance(output, tuple):
        output, *extra = output
    smoothing = config.label_smoothing if task == "classification" else 0.0
    loss = F.cross_entropy(output, targets, ignore_index=IGNORE, label_smoothing=smoothing)
    for aux in extra:
        loss = loss + config.aux_weight * F.cross_entropy(aux, targets, label_smoothing=smoothing)
    return loss, output


def train_epoch(
    t: Training,
    loader: Loader,
    grads: GradStats,
    *,
    bar: Callable[[int, str], None],
    epoch: int,
) -> dict:
    """One pass over the training split; stops with TrainingDiverged on a non-finite loss."""
    model, ctx, config = t.wrapped, t.ctx, t.config
    finetune.train_mode(model, t.model)
    meter = Meter(len(t.classes), t.task, ctx.device)
    seen, start = 0, time.perf_counter()
    for step, (images, targets) in enumerate(loader, 1):
        images = images.to(ctx.device, non_blocking=True)
        targets = targets.to(ctx.device, non_blocking=True)
        loss, logits = compute_loss(model(images), targets, config, t.task)
        value = ctx.all_reduce(loss.detach().clone()).item() / ctx.world
        if not np.isfinite(value):
            raise diverged(value, epoch, step, t.run_dir)
        t.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_grad > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        grads.update()
        t.optimizer.step()
        t.scheduler.step()
        meter.update(logits.detach(), targets, loss)
        seen += images.shape[0] * ctx.world
        rate = seen / max(1e-9, time.perf_counter() - start)
        accuracy = meter.running_accuracy()
        bar(step, f"loss {value:.4f}  acc {accuracy:.1%}  {rate:.0f} img/s")
    meter.all_reduce(ctx.all_reduce)
    return without_confusion(meter.summary(t.classes))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Loader,
    ctx: distributed.Context,
    task: str,
    classes: list[str],
    *,
    watch: bool,
) -> tuple[dict, dict | None]:
    """Metrics on a split (shards summed over ranks) and, with `watch`, dead ReLU units."""
    model.eval()
    meter = Meter(len(classes), task, ctx.device)
    with watch_dead_units(model) if watch else nullcontext() as dead:
        for images, targets in loader:
            images, targets = images.to(ctx.device), targets.to(ctx.device)
            logits = model(images)
            loss = F.cross_entropy(logits, targets, ignore_index=IGNORE)
            meter.update(logits, targets, loss)
    meter.all_reduce(ctx.all_reduce)
    if dead is None:
        return meter.summary(classes), None
    dead.reduce(ctx.all_reduce)
    return meter.summary(classes), dead.summary()


def resume_state(
    checkpoint: dict,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> tuple[int, dict]:
    """Load weights, optimiser, scheduler and RNG from last.pt; the epoch and best so far."""
    load_weights(model, checkpoint)
    try:
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        restore_rng(checkpoint["rng"])
        best = dict(checkpoint.get("best", {"epoch": 0, "value": -1.0}))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        raise CnnkitError(
            f"{checkpoint.get('path', 'last.pt')}: cannot resume from it: its optimizer, "
            f"scheduler or rng state is missing or damaged ({type(exc).__name__}: {exc})"
        ) from None
    return checkpoint["epoch"], best


def diverged(value: float, epoch: int, step: int, run_dir: Path) -> TrainingDiverged:
    """The error for a NaN/inf loss, naming the last good checkpoint."""
    last = RunFolder(run_dir).last
    kept = (
        f"the last good checkpoint is {last} (epoch {epoch - 1})"
        if epoch > 1
        else ("no checkpoint was written (it diverged in epoch 1)")
    )
    return TrainingDiverged(
        f"loss became {value} at epoch {epoch}, step {step}; training stopped and {kept}; "
        "try a lower --lr or --clip-grad"
    )


def without_confusion(metrics: dict) -> dict:
    """Epoch metrics for checkpoints and the training row (the confusion matrix stays in val)."""
    return {k: v for k, v in metrics.items() if k != "confusion"}
