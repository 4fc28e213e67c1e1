"""What a diff feeds both sides: images of a folder, a split of the run's data, or noise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.extras import missing_modules
from toolkit.meta import ModelMeta
from toolkit.progress import note
from toolkit.runfolder import RunFolder


@dataclass
class DiffInputs:
    """Model-ready float32 NCHW inputs, targets when known, and where they came from."""

    x: np.ndarray
    targets: np.ndarray | None
    origin: str


@dataclass(frozen=True)
class NchwReading:
    """How the calibration reader preprocesses images: the spec, in cnnkit's NCHW layout."""

    spec: object
    layout: str = "NCHW"

    def batch(self, arrays) -> np.ndarray:
        """The preprocessed (C, H, W) arrays stacked as they are (NCHW)."""
        return np.stack(list(arrays))


def side_meta(side) -> ModelMeta:
    """The cnnkit metadata of a side (checkpoint or ONNX metadata; no fields if foreign)."""
    return getattr(side, "meta", None) or ModelMeta()


def run_folder(side) -> Path:
    """The folder whose config.json describes the side's run."""
    path = Path(side.spec.source)
    return path if path.is_dir() else path.parent


def diff_inputs(side_a, side_b, options) -> DiffInputs:
    """--inputs DIR, else --data (or the run's data source), else seeded random inputs."""
    from toolkit.export.calibration import file_samples, image_files, run_data, split_samples

    meta_a, meta_b = side_meta(side_a), side_meta(side_b)
    meta = meta_a if meta_b.foreign else meta_b
    spec = _spec(meta, side_a, side_b)
    full = ModelMeta.from_spec(spec)
    if options.inputs:
        files = image_files(options.inputs, "--inputs")[: options.samples]
        samples = file_samples(files, NchwReading(spec), str(options.inputs), "--inputs")
        return DiffInputs(samples.x, None, samples.origin)
    data, seed = options.data, options.seed
    if data is None:
        for side in (side_b, side_a):
            data, seed = run_data(RunFolder(run_folder(side)).config, None)
            if data:
                break
    if data and not meta.foreign:
        if options.data is None and missing_modules("train"):
            note(f"note: reading the run's data ({data}) needs cnnkit[train]; see --inputs")
        else:  # an explicit --data without torch stops here with one line
            samples = split_samples(data, options.split, full, seed, options.samples)
            return DiffInputs(samples.x, samples.targets, samples.origin)
    shape = (options.samples, spec.channels, *spec.size)
    x = np.random.default_rng(options.seed).standard_normal(shape, dtype=np.float32)
    origin = f"{options.samples} random normal inputs (seed {options.seed})"
    if not options.quiet:
        note(f"note: no --inputs or --data; comparing on {origin}")
    return DiffInputs(x, None, origin)


def _spec(meta: ModelMeta, side_a, side_b):
    """The preprocessing: an ONNX side's plan, else the checkpoint's metadata."""
    from toolkit.runtime.preprocess import ModelSpec

    onnx_side = next((s for s in (side_b, side_a) if hasattr(s, "plan")), None)
    if onnx_side is not None:
        return onnx_side.plan.spec
    channels, height, width = meta.input_size
    return ModelSpec(
        task=meta.task,
        channels=int(channels),
        size=(int(height), int(width)),
        mean=meta.mean,
        std=meta.std,
        classes=meta.classes or None,
    )
