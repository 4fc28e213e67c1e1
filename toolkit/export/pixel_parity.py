"""Parity of a self-contained file with `cnnkit infer` on the plain one, measured on images.

The same Pillow-decoded uint8 pixels go (a) through cnnkit's runtime and the plain file,
exactly as `cnnkit infer` runs them, and (b) straight into the self-contained file with
bare onnxruntime. Labels (or mask pixels) must agree on every image at the model's size;
with an in-graph Resize, fed each image at its own size, on at least 99.5%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.export.embed import PIXELS, Wrapping
from toolkit.progress import note

AT_MODEL_SIZE, RESIZED = 1.0, 0.995  # the agreement each kind of file must reach
MAX_IMAGES = 256
MAX_SEGMENTATION_IMAGES = 32  # each has H x W pixels to compare
SYNTHETIC = 32  # images made up when there are neither run data nor --calib-dir


@dataclass(frozen=True)
class PixelSamples:
    """uint8 (H, W, C) images, each at its own size, and where they came from."""

    images: list[np.ndarray]
    origin: str


@dataclass
class PixelParity:
    """How often the two files agree, and by how much their probabilities differ."""

    samples: int
    origin: str
    agreement: float  # labels (classification) or mask pixels (segmentation) that agree
    required: float
    max_abs_prob: float | None  # classification: max |probs - infer's softmax|
    ok: bool
    forced: bool = False

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def pixel_parity(plain: Path, contained: Path, wrapping: Wrapping, samples: PixelSamples, flags):
    """Run both files on `samples`; the agreement and the rule it is judged by."""
    import onnxruntime as ort

    from toolkit.runtime import Predictor
    from toolkit.runtime.options import PredictorOptions, SessionOptions

    options = PredictorOptions(session=SessionOptions(device="cpu"), spec=flags)
    predictor = Predictor(plain, options, quiet=True)
    session = ort.InferenceSession(str(contained), providers=["CPUExecutionProvider"])
    agree, total, worst = 0, 0, 0.0
    for image in samples.images:
        pixels = image if wrapping.resize else model_sized(image, wrapping.size)
        got = session.run(None, {PIXELS: pixels[None]})
        decoded = predictor.decode(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        scores = predictor.infer([decoded])
        if wrapping.task == "segmentation":
            expected = infer_mask(predictor, scores, decoded)
            agree += int((got[0][0] == expected).sum())
            total += expected.size
        else:
            probs = softmax(scores) if wrapping.reading == "logits" else scores
            agree += int(got[1][0] == int(np.argmax(probs[0])))
            total += 1
            worst = max(worst, float(np.abs(got[0][0] - probs[0]).max()))
    required = RESIZED if wrapping.resize else AT_MODEL_SIZE
    agreement = agree / max(total, 1)
    return PixelParity(
        samples=len(samples.images),
        origin=samples.origin,
        agreement=agreement,
        required=required,
        max_abs_prob=None if wrapping.task == "segmentation" else worst,
        ok=agreement >= required,
    )


def infer_mask(predictor, scores: np.ndarray, decoded) -> np.ndarray:
    """The mask `cnnkit infer` writes for one image (at the image's own size)."""
    from toolkit.runtime.masks import to_original
    from toolkit.runtime.postprocess import argmax_masks

    return to_original(argmax_masks(scores)[0], decoded.geometry)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of [N, K] (or [N, K, 1, 1]) scores, in float64 as the runtime does."""
    from toolkit.runtime.postprocess import class_scores
    from toolkit.runtime.postprocess import softmax as runtime_softmax

    return runtime_softmax(class_scores(scores))


def model_sized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An image Pillow-resized (bilinear) to the model's (H, W), as the runtime resizes."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    plane = image[:, :, 0] if image.shape[2] == 1 else image
    resized = np.asarray(Image.fromarray(plane).resize((width, height), Image.Resampling.BILINEAR))
    return resized[:, :, None] if resized.ndim == 2 else resized


def judged(parity: PixelParity, force: bool, out: Path) -> PixelParity:
    """The parity, or one line and exit 2 when it falls short (unless --force)."""
    if parity.ok:
        return parity
    what = f"{parity.agreement:.2%} agreement with `cnnkit infer` on {parity.origin}"
    if not force:
        raise CnnkitError(
            f"self-contained file reaches only {what} (needs {parity.required:.1%}); "
            f"{out} not written (--force keeps it anyway)"
        )
    note(f"note: self-contained file reaches only {what}; written (--force)")
    parity.forced = True
    return parity


# --- the images ----------------------------------------------------------------------
def image_limit(task: str) -> int:
    """How many images parity runs on: fewer for segmentation, where each has many pixels."""
    return MAX_SEGMENTATION_IMAGES if task == "segmentation" else MAX_IMAGES


def folder_images(folder: str | Path, channels: int, limit: int = MAX_IMAGES) -> PixelSamples:
    """The readable images of --calib-dir, decoded as the runtime decodes them."""
    from toolkit.export.calibration import image_files
    from toolkit.runtime.preprocess import ImageError, open_image, to_model_mode

    images = []
    for path in image_files(folder)[:limit]:
        try:
            images.append(hwc(np.asarray(to_model_mode(open_image(path), channels))))
        except ImageError:
            continue
    if not images:
        raise CnnkitError(f"--calib-dir {folder}: no readable images in it")
    return PixelSamples(images, f"{folder} ({len(images)} images)")


def split_images(data: str, meta, seed: int, resize: bool, limit: int = MAX_IMAGES) -> PixelSamples:
    """The run's validation split at the model's size; with `resize`, each image is also
    Pillow-resized to two other sizes first (smaller, and larger and odd) so the graph's
    Resize has work to do."""
    from toolkit.data import split_arrays

    images, _, _ = split_arrays(data, "val", meta.input_size, seed)
    order = np.random.default_rng(seed).permutation(len(images))[:limit]
    chosen = [hwc(np.asarray(images[i])) for i in order]
    origin = f"{data} val split ({len(chosen)} images"
    if resize:
        _, h, w = meta.input_size
        sizes = [(max(1, h * 3 // 4), max(1, w * 3 // 4)), (h * 3 // 2 + 1, w * 3 // 2 + 3)]
        chosen = [model_sized(image, size) for image in chosen for size in sizes]
        origin += f", each resized to {' and '.join(f'{a}x{b}' for a, b in sizes)}"
    return PixelSamples(chosen, origin + ")")


def synthetic_images(channels: int, size: tuple[int, int], resize: bool) -> PixelSamples:
    """Seeded smooth noise images (at the model's size, or at assorted sizes with resize)."""
    rng = np.random.default_rng(0)
    images = []
    for _ in range(SYNTHETIC):
        h, w = size if not resize else (int(rng.integers(16, 2 * size[0])),
                                        int(rng.integers(16, 2 * size[1])))  # fmt: skip
        coarse = rng.integers(0, 256, (max(1, h // 4), max(1, w // 4), 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
        images.append(hwc(np.asarray(image.convert("L" if channels == 1 else "RGB"))))
    return PixelSamples(images, f"{SYNTHETIC} synthetic images (no run data, no --calib-dir)")


def hwc(array: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 as (H, W, C)."""
    return np.ascontiguousarray(array[:, :, None] if array.ndim == 2 else array, dtype=np.uint8)
