"""`evaluate(models, data, options) -> EvalReport`: every model on the same labelled split.

Named steps: open each model, load the split at its input size (once per size), match
classes by name, run and count, then deltas and agreement against the first model, then
what --out and --plot ask for. bench --matrix, quantize and demo read accuracy from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.evaluate import metrics
from toolkit.evaluate.data import EvalData, Split, load_split
from toolkit.evaluate.mapping import class_mapping, read_label_map
from toolkit.evaluate.report import EvalReport, add_deltas
from toolkit.evaluate.scoring import Outcome, run_side
from toolkit.evaluate.sides import ModelSide, open_onnx_side
from toolkit.plotting import check_plot_path
from toolkit.runtime.options import PredictorOptions


@dataclass(frozen=True)
class EvalOptions:
    """How eval runs the models and what it writes besides the report."""

    predictor: PredictorOptions = field(default_factory=PredictorOptions)  # infer's flags
    batch_size: int = 32
    label_map: str | None = None  # FILE: data class -> model class
    out: str | None = None  # folder: eval.json, misclassified.jsonl
    plot: str | None = None  # confusion matrix figure
    quiet: bool = False


def evaluate(
    models: Sequence[str | Path | ModelSide],
    data: EvalData | str,
    options: EvalOptions | None = None,
) -> EvalReport:
    """Score every model on the same labelled split; the first is the reference for deltas."""
    options = options or EvalOptions()
    data = data if isinstance(data, EvalData) else EvalData(str(data))
    check_options(models, options)
    label_map = read_label_map(options.label_map) if options.label_map else None
    splits: dict[tuple, Split] = {}
    outcomes = []
    for model in models:
        side = model if not isinstance(model, (str, Path)) else open_side(model, options)
        size = tuple(side.input_size)
        if size not in splits:
            splits[size] = load_split(data, size)
        outcomes.append(score_side(side, splits[size], label_map, options))
    report = EvalReport(
        data=data.source,
        split=data.split,
        task=outcomes[0].score.task,
        models=[o.score for o in outcomes],
        agreement=agreements(outcomes),
        misclassified=[row for o in outcomes for row in o.misclassified],
    )
    return finish(report, options)


def finish(report: EvalReport, options: EvalOptions) -> EvalReport:
    """Deltas against the first model, then what --out and --plot ask for."""
    add_deltas(report.models)
    if options.out or options.plot:
        from toolkit.evaluate.outputs import write_outputs

        report.written = write_outputs(report, options.out, options.plot)
    return report


def check_options(models, options: EvalOptions) -> None:
    """Refuse bad options before any model runs."""
    if not models:
        raise CnnkitError("give at least one MODEL to evaluate")
    if options.batch_size < 1:
        raise CnnkitError(f"--batch-size {options.batch_size}: must be at least 1")
    if options.plot:
        check_plot_path(options.plot)
    if options.out and Path(options.out).exists() and not Path(options.out).is_dir():
        raise CnnkitError(f"--out {options.out}: is a file, expected a folder")


def open_side(model: str | Path, options: EvalOptions) -> ModelSide:
    """An ONNX side for a path (run folders and checkpoints: toolkit.eval_torch)."""
    return open_onnx_side(model, options.predictor, options.quiet)


def score_side(side: ModelSide, split: Split, label_map, options: EvalOptions) -> Outcome:
    """Match the data's classes to the model's, then run and count."""
    if side.task != split.task:
        raise CnnkitError(f"{side.name}: a {side.task} model; the data is for {split.task}")
    mapping = class_mapping(split.classes, side.classes, label_map, side.name)
    return run_side(side, split, mapping, options.batch_size, options.quiet)


def agreements(outcomes: list[Outcome]) -> list[dict]:
    """Share of equal predictions (by class name) between the first model and each other."""
    if len(outcomes) < 2:
        return []
    first = named(outcomes[0])
    found = []
    for other in outcomes[1:]:
        theirs = named(other)
        if theirs.shape != first.shape:  # different input sizes: pixels do not line up
            continue
        found.append(
            {
                "a": outcomes[0].score.model,
                "b": other.score.model,
                "agreement": metrics.agreement(first, theirs),
            }
        )
    return found


def named(outcome: Outcome) -> np.ndarray:
    """Every prediction of a model as a class name."""
    classes = np.asarray(outcome.score.classes + ["?"], dtype=object)
    if not outcome.predictions:
        return np.zeros(0, dtype=object)
    pred = np.concatenate(outcome.predictions)
    pred = np.where((pred >= 0) & (pred < len(classes) - 1), pred, len(classes) - 1)
    return classes[pred]
