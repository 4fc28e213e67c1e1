"""Samples for the quantizer: a run's data split or a folder of images, preprocessed as trained.

Torch-free unless a run's data is used (toolkit.data is the torch side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from toolkit.errors import CnnkitError
from toolkit.extras import require_extra
from toolkit.meta import ModelMeta
from toolkit.progress import note
from toolkit.runfolder import RunFolder


@dataclass
class Samples:
    """Model-ready float32 NCHW inputs, their targets when known, and where they came from."""

    x: np.ndarray
    targets: np.ndarray | None
    origin: str  # e.g. "digits train split" or "calib/ (40 images)"


def run_data(model_path: Path, data: str | None) -> tuple[str | None, int]:
    """The data source and seed of the run folder holding `model_path` (--data wins)."""
    config_path = RunFolder(model_path.parent).config
    config = {}
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text())
        except json.JSONDecodeError:
            raise CnnkitError(f"{config_path}: not valid JSON") from None
    return data or config.get("data"), int(config.get("seed", 0))


def split_samples(
    data: str, split: str, meta: ModelMeta, seed: int, limit: int | None = None
) -> Samples:
    """`limit` seeded-random samples of one split of a cnnkit data source, normalised per meta."""
    require_extra("train", f"reading the data source {data!r} (use --calib-dir images instead)")
    from toolkit.data import split_arrays

    images, targets, _ = split_arrays(data, split, meta.input_size, seed)
    order = np.random.default_rng(seed).permutation(len(images))[:limit]
    chosen = np.asarray(images)[order]
    x = pixel_batch(chosen) if meta.self_contained else normalize_batch(chosen, meta.mean, meta.std)
    return Samples(x, np.asarray(targets)[order], f"{data} {split} split")


def normalize_batch(images: np.ndarray, mean, std) -> np.ndarray:
    """uint8 NHWC (or NHW) -> float32 NCHW: pixel / 255, then (x - mean) / std per channel."""
    if images.ndim == 3:
        images = images[..., None]
    x = images.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def pixel_batch(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC (or NHW) as a self-contained file takes it: uint8 NHWC, untouched."""
    return np.ascontiguousarray(images[..., None] if images.ndim == 3 else images, np.uint8)


def image_files(folder: str | Path, flag: str = "--calib-dir") -> list[Path]:
    """Image files under `folder`, as infer finds them; CnnkitError if there is no folder."""
    from toolkit.runtime import inputs

    folder = Path(folder)
    if not folder.is_dir():
        raise CnnkitError(f"{flag} {folder}: no such folder")
    return inputs.image_files(folder)


def file_samples(files: list[Path], reading, origin: str, flag: str = "--calib-dir") -> Samples:
    """Image files preprocessed with the runtime's code into the model's layout."""
    from toolkit.runtime.preprocess import ImageError, load_image

    arrays, skipped = [], []
    for path in files:
        try:
            arrays.append(load_image(path, reading.spec))
        except ImageError as exc:
            skipped.append(exc.path)
    if skipped:
        note(f"{flag}: skipped {len(skipped)} unreadable files: {', '.join(skipped[:3])}")
    if not arrays:
        raise CnnkitError(f"{flag} {origin}: no readable images in it")
    return Samples(reading.batch(arrays), None, f"{origin} ({len(arrays)} images)")


def folder_samples(folder: str | Path, reading, limit: int | None = None) -> Samples:
    """Up to `limit` images of `folder` (sorted, recursive), preprocessed as `reading` says."""
    files = image_files(folder)[:limit]
    return file_samples(files, reading, str(folder))


def held_out(folder: str | Path, reading, limit: int, seed: int = 0) -> tuple[Samples, Samples]:
    """(calibration, comparison) from one folder: a seeded quarter is held out, never both."""
    files = image_files(folder)
    if len(files) < 2:
        raise CnnkitError(
            f"--calib-dir {folder}: {len(files)} image(s); need at least 2 to calibrate on some "
            "and compare on others (or give --eval-dir)"
        )
    order = np.random.default_rng(seed).permutation(len(files))
    count = max(1, round(len(files) / 4))
    evaluation = [files[i] for i in sorted(order[:count])]
    calibration = [files[i] for i in sorted(order[count:])][:limit]
    return (
        file_samples(calibration, reading, f"{folder} calibration part"),
        file_samples(evaluation, reading, f"{folder} held-out part"),
    )


def input_reading(source: Path):
    """How images go into the model (the Use.QUANTIZE plan); one line when quantize cannot."""
    from toolkit.runtime.interpret import Use, plan_for

    return plan_for(source, Use.QUANTIZE)


def gather_samples(source: Path, meta: ModelMeta, options) -> tuple:
    """(calibration samples, evaluation samples, completed metadata, the input reading)
    for a QuantizeOptions: its data/split, calib_dir, eval_dir, samples and quiet."""
    calib_dir, eval_dir, samples = options.calib_dir, options.eval_dir, options.samples
    data, split, quiet = options.data, options.split, options.quiet
    reading = input_reading(source)
    spec = reading.spec
    if reading.note_line():
        note(reading.note_line())
    full = meta.completed(ModelMeta.from_spec(spec))  # the file's own metadata wins
    data, seed = run_data(source, data)
    known = bool(data) and not meta.foreign  # the run's data, preprocessed by the file's meta
    if eval_dir and not calib_dir:
        raise CnnkitError("--eval-dir compares on images; give --calib-dir to calibrate on too")
    if calib_dir:
        if eval_dir:
            calib = folder_samples(calib_dir, reading, samples)
            evaluation = folder_samples(eval_dir, reading)
        elif known:
            calib = folder_samples(calib_dir, reading, samples)
            evaluation = split_samples(data, split, full, seed)
        else:
            calib, evaluation = held_out(calib_dir, reading, samples, seed)
        if not quiet:
            note(f"calibrating on {len(calib.x)} images ({calib.origin}), "
                 f"comparing on {len(evaluation.x)} others ({evaluation.origin})")  # fmt: skip
        return calib, evaluation, full, reading
    if known:
        calib = split_samples(data, "train", full, seed, samples)
        return calib, split_samples(data, split, full, seed), full, reading
    what = "it carries cnnkit metadata but" if not meta.foreign else "no cnnkit metadata, and"
    raise CnnkitError(
        f"{source}: no samples to calibrate and compare with: {what} no run config.json with "
        "`data` lies beside it; pass --data SOURCE (e.g. digits) or --calib-dir IMAGES"
    )


class BatchReader(CalibrationDataReader):
    """An onnxruntime CalibrationDataReader over an array, a few samples per batch."""

    def __init__(self, input_name: str, x: np.ndarray, batch: int = 16, exact: bool = False):
        self.input_name, self.x, self.batch = input_name, x, batch
        self.exact = exact  # a fixed-batch model: only full batches (a short last one is left)
        self.start = 0

    def get_next(self) -> dict | None:  # type: ignore[override]
        """The next batch as {input name: array}, None when done."""
        if self.start >= len(self.x) or (self.exact and self.start + self.batch > len(self.x)):
            return None
        chunk = self.x[self.start : self.start + self.batch]
        self.start += self.batch
        return {self.input_name: chunk}

    def rewind(self) -> None:
        """Start over (entropy/percentile calibration may read twice)."""
        self.start = 0
