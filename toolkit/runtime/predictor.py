"""`Predictor`: an ONNX file, its preprocessing and its output rows, in one object.

Both engines (the local pipelined runner and the Ray actors) predict through it, so their
rows are the same by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.inputs import InputItem
from toolkit.runtime.masks import to_original
from toolkit.runtime.postprocess import (
    argmax_masks,
    classification_rows,
    error_row,
    segmentation_row,
)
from toolkit.runtime.preprocess import (
    Decoded,
    ImageError,
    SpecFlags,
    describe_defaults,
    model_spec,
    open_image,
    prepare,
    prepare_array,
    require_nchw,
)
from toolkit.runtime.session import LOAD_ERRORS, SessionHandle, open_session, run_batch

# save_mask(key, mask at original size, decoded) -> what the row's "mask" holds
MaskSink = Callable[[str, np.ndarray, Decoded], object]


class Predictor:
    """Predict with an ONNX file: `Predictor("model.onnx").predict(["a.png", "b.png"])`."""

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "auto",
        provider: str | None = None,
        threads: int | None = None,
        allow_fallback: bool = False,
        graph_optimization: str = "all",
        topk: int = 5,
        size: tuple[int, int] | None = None,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
        labels: str | Path | None = None,
        gray: bool = False,
        resize: str = "stretch",
        max_pixels: int | None = None,
        quiet: bool = False,
    ):
        self.handle: SessionHandle = open_session(
            model,
            device=device,
            provider=provider,
            threads=threads,
            allow_fallback=allow_fallback,
            graph_optimization=graph_optimization,
            quiet=quiet,
        )
        flags = SpecFlags(size=size, mean=mean, std=std, labels=labels, gray=gray, resize=resize)
        require_nchw(self.handle.input_shape, self.handle.path)
        output_shape = self.handle.session.get_outputs()[0].shape
        self.spec = model_spec(self.handle.meta, self.handle.input_shape, len(output_shape), flags)
        if labels is not None:
            check_label_count(labels, self.spec, output_shape)
        announced = describe_defaults(self.spec, flags) if not self.handle.meta else None
        if announced and not quiet:
            note(announced)
        if topk < 1:
            raise CnnkitError(f"--topk {topk}: must be at least 1")
        self.topk = topk
        self.max_pixels = max_pixels
        if max_pixels and max_pixels > (Image.MAX_IMAGE_PIXELS or 0):
            Image.MAX_IMAGE_PIXELS = max_pixels  # else Pillow's own guard refuses first

    @property
    def provider(self) -> str:
        """The execution provider that runs the model."""
        return self.handle.providers[0]

    def decode(self, source, keep_image: bool = False) -> Decoded:
        """Preprocess a path, InputItem, PIL image or array; ImageError when it cannot be."""
        if isinstance(source, InputItem) and source.path.suffix.lower() == ".npy":
            return prepare_array(load_npy_item(source), self.spec, source.key)
        if isinstance(source, np.ndarray):
            return prepare_array(source, self.spec)
        if isinstance(source, Image.Image):
            return prepare(source, self.spec, keep_image)
        path = source.path if isinstance(source, InputItem) else Path(source)
        return prepare(open_image(path, self.max_pixels), self.spec, keep_image)

    def try_decode(self, source, keep_image: bool = False) -> Decoded | ImageError:
        """`decode`, with a per-input failure returned instead of raised."""
        try:
            return self.decode(source, keep_image)
        except ImageError as exc:
            return exc

    def infer(self, decoded: list[Decoded]) -> np.ndarray:
        """Run the model on preprocessed inputs, one batch."""
        batch = np.stack([d.array for d in decoded])
        try:
            return run_batch(self.handle, batch)
        except LOAD_ERRORS as exc:
            first = str(exc).strip().splitlines()[0]
            raise CnnkitError(
                f"{self.handle.path}: onnxruntime failed on a batch of shape {list(batch.shape)}"
                f" (check --size/--gray): {first}"
            ) from None

    def rows(self, keys: list[str], decoded: list, save_mask: MaskSink | None = None) -> list:
        """Result rows in input order for decoded inputs (ImageError entries become errors)."""
        good = [i for i, d in enumerate(decoded) if isinstance(d, Decoded)]
        task = self.spec.task
        reasons = [getattr(d, "reason", str(d)) for d in decoded]
        rows = [error_row(k, r, task) for k, r in zip(keys, reasons, strict=True)]
        if not good:
            return rows
        logits = self.infer([decoded[i] for i in good])
        if task == "segmentation":
            for i, mask in zip(good, argmax_masks(logits), strict=True):
                full = to_original(mask, decoded[i].geometry)
                ref = save_mask(keys[i], full, decoded[i]) if save_mask else full
                rows[i] = segmentation_row(keys[i], full, self.spec, logits.shape[1], ref)
        else:
            good_keys = [keys[i] for i in good]
            found = classification_rows(good_keys, logits, self.spec, self.topk)
            for i, row in zip(good, found, strict=True):
                rows[i] = row
        return rows

    def predict(self, inputs, batch_size: int = 16) -> list[dict]:
        """Rows (results.jsonl format) for paths, PIL images or arrays; masks come as arrays."""
        if isinstance(inputs, (str, Path, np.ndarray, Image.Image)):
            inputs = [inputs]
        inputs = list(inputs)
        rows = []
        for start in range(0, len(inputs), batch_size):
            chunk = inputs[start : start + batch_size]
            keys = [input_key(source, start + i) for i, source in enumerate(chunk)]
            rows += self.rows(keys, [self.try_decode(source) for source in chunk])
        return rows


def check_label_count(labels, spec, output_shape: list) -> None:
    """--labels must name every output class, no more, no fewer (when the model fixes K)."""
    classes = output_shape[1] if len(output_shape) > 1 else None
    if isinstance(classes, int) and len(spec.classes) != classes:
        raise CnnkitError(
            f"--labels {labels}: has {len(spec.classes)} names, the model has {classes} classes"
        )


def load_npy_item(item: InputItem) -> np.ndarray:
    """One array of an .npy file; ImageError when the file changed or cannot be read."""
    try:
        array = np.load(item.path, mmap_mode="r", allow_pickle=False)
        return np.asarray(array if item.index is None else array[item.index])
    except (OSError, ValueError, IndexError) as exc:
        raise ImageError(item.key, f"cannot read the array: {exc}") from None


def input_key(source, position: int) -> str:
    """How a row names an input given to `predict`."""
    if isinstance(source, InputItem):
        return source.key
    if isinstance(source, (str, Path)):
        return str(source)
    return f"<input {position}>"
