"""Which model class each data class is: matched by name, or through --label-map FILE.

A test set's classes (folder names, a list's labels, digit-scenes' names) are looked up
among the model's class names. A data class the model does not know stops the run with
one line naming it: a silent index-for-index match would print a wrong accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError


def read_label_map(path: str | Path) -> dict[str, str]:
    """--label-map FILE: a JSON object {data class: model class} or lines DATA=MODEL."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CnnkitError(f"--label-map {path}: cannot read it ({exc})") from None
    if text.lstrip().startswith("{"):
        try:
            pairs = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CnnkitError(f"--label-map {path}: not valid JSON ({exc})") from None
        if not all(isinstance(v, str) for v in pairs.values()):
            raise CnnkitError(f"--label-map {path}: values must be model class names (strings)")
        return dict(pairs)
    pairs = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        data, sep, model = line.partition("=")
        if not sep or not data.strip() or not model.strip():
            raise CnnkitError(f"--label-map {path}:{number}: expected DATA_CLASS=MODEL_CLASS")
        pairs[data.strip()] = model.strip()
    return pairs


def model_names(classes, count: int | None) -> list[str]:
    """The model's class names; "0".."K-1" for a file that names none."""
    if classes:
        return list(classes)
    if count is None:
        raise CnnkitError("the model names no classes and its output does not fix K; give --labels")
    return [str(k) for k in range(count)]


def class_mapping(
    data_classes: list[str],
    model_classes: list[str],
    label_map: dict[str, str] | None = None,
    model: str = "the model",
) -> np.ndarray:
    """Model index of every data class (by name, through `label_map`); CnnkitError on a gap."""
    label_map = label_map or {}
    index = {name: k for k, name in enumerate(model_classes)}
    wanted = [label_map.get(name, name) for name in data_classes]
    missing = [
        name for name, target in zip(data_classes, wanted, strict=True) if target not in index
    ]
    if missing:
        shown, known = listed(missing), listed(model_classes)
        raise CnnkitError(
            f"{model}: {len(missing)} of the data's {len(data_classes)} classes are not among its "
            f"{len(model_classes)} classes ({shown}; it has {known}); match them with "
            "--label-map FILE (lines DATA_CLASS=MODEL_CLASS) or give the model --labels"
        )
    unused = set(label_map) - set(data_classes)
    if unused:
        raise CnnkitError(
            f"--label-map: names {sorted(unused)[0]!r}, which is not a class of the data"
        )
    return np.asarray([index[target] for target in wanted], np.int64)


def listed(names: list[str], count: int = 5) -> str:
    """The first `count` names quoted, with ', ...' when there are more."""
    return ", ".join(repr(n) for n in names[:count]) + (", ..." if len(names) > count else "")


def remap(targets: np.ndarray, mapping: np.ndarray, ignore: int = 255) -> np.ndarray:
    """Data class indices -> model class indices (label-map pixels of `ignore` stay)."""
    targets = np.asarray(targets)
    if targets.dtype == np.uint8:  # label maps: a 256-entry lookup table keeps 255
        table = np.full(256, ignore, np.int64)
        table[: len(mapping)] = mapping
        return table[targets]
    return mapping[targets]
