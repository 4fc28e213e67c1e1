"""The kit's samples/: a few inputs per model and the rows this machine gives for them.

Given no images, a model gets seeded synthetic ones at its input size. A sample proves
something only when its answer cannot flip within the tolerance, so for a classifier only
images whose top-1 beats the top-2 by many tolerances are kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.edge.kitinfo import SAMPLES
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.inputs import image_files
from toolkit.runtime.predictor import Predictor

SAMPLES_PER_MODEL = 4
CANDIDATES = 64  # synthetic images tried per model to find stable ones
MARGIN = 20  # tolerances between a kept sample's top-1 and top-2 probabilities


def relative_key(kit: Path, path: Path) -> str:
    """The key a sample's row carries: its path inside the kit, POSIX style."""
    return path.relative_to(kit).as_posix()


def sample_rows(predictor: Predictor, kit: Path, paths: list[Path]) -> list[dict]:
    """Rows for kit samples, keyed by their path inside the kit (masks are not kept)."""
    keys = [relative_key(kit, path) for path in paths]
    decoded = [predictor.try_decode(path) for path in paths]
    return predictor.rows(keys, decoded, save_mask=lambda *_: None)


def synthetic_image(predictor: Predictor, seed: int) -> Image.Image:
    """Seeded smooth noise at the model's input size, gray or RGB as the model reads."""
    height, width = predictor.spec.size
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, height // 4), max(2, width // 4), 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.BILINEAR)
    return image.convert("L") if predictor.spec.channels == 1 else image


def margin(row: dict) -> float:
    """How far a classification row's top-1 probability is above its top-2 one."""
    probs = [entry["prob"] for entry in row.get("topk") or []]
    return probs[0] - probs[1] if len(probs) > 1 else 1.0


def stable(row: dict, tolerance: float) -> bool:
    """A row whose label cannot flip within the tolerance (segmentation rows always are)."""
    if row["status"] != "ok":
        return False
    return "topk" not in row or margin(row) > MARGIN * tolerance


def synthetic_samples(predictor: Predictor, kit: Path, folder: Path, tolerance: float) -> list:
    """Write SAMPLES_PER_MODEL synthetic PNGs into `folder`, stable ones first; their rows.

    A model whose answers are all close (a nearly uniform classifier, such as an untrained
    one) gets its widest-margin candidates instead, announced."""
    kept, spare = [], []
    for seed in range(CANDIDATES):
        path = folder / f"synthetic-{seed:02d}.png"
        synthetic_image(predictor, seed).save(path)
        (row,) = sample_rows(predictor, kit, [path])
        if stable(row, tolerance):
            kept.append((row, path))
        elif row["status"] == "ok":
            spare.append((row, path))
        if len(kept) == SAMPLES_PER_MODEL:
            break
    spare.sort(key=lambda item: -margin(item[0]))
    fill = spare[: SAMPLES_PER_MODEL - len(kept)]
    for _, path in spare[len(fill) :]:
        path.unlink()
    if fill:
        note(
            f"note: {folder.name}: {len(fill)} of its samples have a top-1 probability within "
            f"{MARGIN} tolerances of the top-2 (no synthetic image gave a clear answer)"
        )
    return [row for row, _ in sorted(kept + fill, key=lambda item: item[1])]


def given_samples(predictor: Predictor, kit: Path, folder: Path, images: Path) -> list[dict]:
    """Copy the image files under `images` (a folder) into `folder`; their rows."""
    sources = image_files(images)
    if not sources:
        raise CnnkitError(f"--samples {images}: no image files there")
    copies = [
        Path(shutil.copyfile(source, folder / f"{i:03d}-{source.name}"))
        for i, source in enumerate(sources)
    ]
    return sample_rows(predictor, kit, copies)


def model_samples(
    predictor: Predictor, kit: Path, name: str, images: Path | None, tolerance: float
) -> list[dict]:
    """samples/<name>/ for one model (the given images, else synthetic ones); its rows."""
    folder = kit / SAMPLES / name
    folder.mkdir(parents=True)
    if images is not None:
        return given_samples(predictor, kit, folder, images)
    return synthetic_samples(predictor, kit, folder, tolerance)
