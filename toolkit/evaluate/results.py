"""`eval --results OUT/results.jsonl --data SOURCE`: score rows infer (or serve) wrote.

Rows are matched to the source's files by path (as infer was given them, resolved from
the current folder). A file of the split with an error row or no row at all is listed
and counted as missed; rows for other files are left out and counted in a note.
Classification compares row labels by name; segmentation reads the row's mask PNG
(model class indices, named by its class_pixels) against the label map at its size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.data.folders import voc_split
from toolkit.data.labelmap import decode_mask
from toolkit.data.sources import parse_source
from toolkit.errors import CnnkitError
from toolkit.evaluate import metrics
from toolkit.evaluate.data import EvalData, labelled_files_of
from toolkit.evaluate.mapping import class_mapping, read_label_map, remap
from toolkit.evaluate.pipeline import EvalOptions, check_options, finish
from toolkit.evaluate.report import EvalReport
from toolkit.evaluate.scoring import TOP5, Tally, summarise
from toolkit.progress import note
from toolkit.runtime.masks import IGNORE
from toolkit.runtime.preprocess import open_image
from toolkit.runtime.results import read_rows

NO_ROW = "no row in the results file"


def score_results(
    results: str | Path, data: EvalData, options: EvalOptions | None = None
) -> EvalReport:
    """An EvalReport for rows already written (one 'model': the results file)."""
    options = options or EvalOptions()
    check_options(["results"], options)
    label_map = options.label_map
    path = Path(results)
    if not path.is_file():
        raise CnnkitError(f"--results {path}: no such file")
    rows = {resolved(row["path"]): row for row in read_rows(path)}
    if not rows:
        raise CnnkitError(f"--results {path}: holds no rows")
    if data.task == "segmentation":
        tally, samples, unreadable, used = mask_tally(rows, path.parent, data, label_map)
        misclassified = []
    else:
        tally, samples, unreadable, used, misclassified = label_tally(rows, data, label_map)
    if len(rows) > used:
        note(f"note: {path}: {len(rows) - used} row(s) name files outside --data; left out")
    score = summarise(
        tally, samples, model=str(path), provider="results", precision="-", unreadable=unreadable
    )
    report = EvalReport(data.source, data.split, data.task, [score], misclassified=misclassified)
    return finish(report, options)


def resolved(key: str) -> str:
    """A row's or file's path, absolute, as a matching key."""
    return str(Path(key).expanduser().resolve())


def label_tally(rows: dict[str, dict], data: EvalData, label_map: str | None):
    """(Tally, samples, unreadable, rows used, misclassified) for classification rows."""
    files, targets, classes = labelled_files_of(data)
    pairs = read_label_map(label_map) if label_map else {}
    predicted = {row["label"] for row in rows.values() if row.get("status") == "ok"}
    named = [pairs.get(name, name) for name in classes]
    vocabulary = named + sorted(predicted - set(named) - {None})
    mapping = class_mapping(classes, vocabulary, pairs, "--results")
    index = {name: k for k, name in enumerate(vocabulary)}
    tally = Tally(vocabulary, "classification")
    unreadable, misclassified, used = [], [], 0
    top5_known = len(vocabulary) > TOP5
    for file, target in zip(files, remap(targets, mapping), strict=True):
        row = rows.get(resolved(str(file)))
        used += row is not None
        if row is None or row.get("status") != "ok":
            unreadable.append({"path": str(file), "error": row["error"] if row else NO_ROW})
            tally.missed[target] += 1
            continue
        pred = index[row["label"]]
        tally.confusion[target, pred] += 1
        topk = [entry["label"] for entry in row.get("topk") or []]
        top5_known = top5_known and len(topk) >= TOP5
        tally.top5_hits += vocabulary[target] in topk[:TOP5]
        if pred != target:
            wrong = {"label": vocabulary[target], "predicted": row["label"]}
            misclassified.append({"model": "results", "path": row["path"], **wrong})
    tally.top5_known = top5_known
    return tally, len(files), unreadable, used, misclassified


def mask_tally(rows: dict[str, dict], folder: Path, data: EvalData, label_map: str | None):
    """(Tally, samples, unreadable, rows used) for segmentation rows of a voc: source."""
    parsed = parse_source(data.source)
    if parsed.kind != "voc":
        raise CnnkitError(f"--data {data.source}: segmentation rows are scored against voc:PATH")
    pairs, labels, classes = voc_split(parsed.path, data.split, data.seed)
    first = next(
        (r for r in rows.values() if r.get("status") == "ok" and "class_pixels" in r), None
    )
    if first is None:
        raise CnnkitError("--results: no ok segmentation row (with mask and class_pixels)")
    names = read_label_map(label_map) if label_map else {}
    mapping = class_mapping(classes, list(first["class_pixels"]), names, "--results")
    tally = Tally(list(first["class_pixels"]), "segmentation")
    unreadable, used = [], 0
    for image_path, mask_path in pairs:
        row = rows.get(resolved(str(image_path)))
        used += row is not None
        target = remap(np.asarray(decode_mask(open_image(mask_path), labels, mask_path)), mapping)
        if row is None or row.get("status") != "ok":
            unreadable.append({"path": str(image_path), "error": row["error"] if row else NO_ROW})
            kept = target[target != IGNORE].ravel()
            tally.missed += np.bincount(kept, minlength=len(tally.classes))[: len(tally.classes)]
            continue
        pred = read_mask(folder / row["mask"])
        if pred.shape != target.shape:
            raise CnnkitError(f"{folder / row['mask']}: mask size differs from {mask_path}'s")
        tally.confusion += metrics.confusion_matrix(pred, target, len(tally.classes))
    return tally, len(pairs), unreadable, used


def read_mask(path: Path) -> np.ndarray:
    """A mask PNG's class indices."""
    try:
        with Image.open(path) as image:
            return np.asarray(image)
    except OSError as exc:
        raise CnnkitError(f"{path}: cannot read the mask ({exc})") from None
