"""`Predictor`: an ONNX file, its preprocessing and its output rows, in one object.

Both engines (the local pipelined runner and the Ray actors) predict through it, so their
rows are the same by construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.decode import check_decode_mode, decode_path
from toolkit.runtime.guards import (
    NON_FINITE,
    check_array,
    check_spec,
    finite_outputs,
    pixel_limit,
    require_regular,
)
from toolkit.runtime.inputs import InputItem
from toolkit.runtime.interpret import NUMPY_DTYPES, Plan, Use, plan_for, settle
from toolkit.runtime.masks import to_original
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.postprocess import (
    argmax_masks,
    classification_rows,
    error_row,
    label_masks,
    segmentation_row,
)
from toolkit.runtime.preprocess import (
    Decoded,
    Geometry,
    ImageBytes,
    ImageError,
    prepare,
    prepare_array,
)
from toolkit.runtime.session import (
    LOAD_ERRORS,
    SessionHandle,
    check_request,
    open_session,
    run_batch,
)

# save_mask(key, mask at original size, decoded) -> what the row's "mask" holds
MaskSink = Callable[[str, np.ndarray, Decoded], object]


class Predictor:
    """Predict with an ONNX file: `Predictor("model.onnx").predict(["a.png", "b.png"])`.

    Options come as one PredictorOptions, or as its fields by keyword
    (`Predictor("model.onnx", device="cpu", topk=3)`); keywords apply on top of `options`.

    How images go in and outputs are read is the Use.INFER plan (`plan_inference`: cnnkit
    metadata, else the graph, else flags); one test run on a synthetic image settles what
    the file leaves open and proves the model runs before any caller writes anything.
    """

    def __init__(
        self,
        model: str | Path,
        options: PredictorOptions | None = None,
        *,
        quiet: bool = False,
        **keywords,
    ):
        """`keywords` are PredictorOptions fields by name (device, size, topk, ...)."""
        options = (options or PredictorOptions()).updated(**keywords)
        self.options = options
        plan = plan_inference(model, options)
        handle = open_session(model, options.session, quiet=quiet)
        self.handle: SessionHandle = dataclasses.replace(
            handle, input_name=plan.image.name, input_shape=list(plan.image.shape)
        )
        self.interpretation: Plan = plan
        self.constants = load_constants(plan)
        self.topk = options.topk
        self.max_pixels = max_pixels = options.max_pixels
        self.decode_mode = options.decode  # "full": the exact, bit-for-bit path
        if max_pixels and max_pixels > (Image.MAX_IMAGE_PIXELS or 0):
            Image.MAX_IMAGE_PIXELS = max_pixels  # else Pillow's own guard refuses first
        self.interpretation = settle(plan, self.infer([self.test_input()]))
        announced = self.interpretation.note_line()
        if announced and not quiet:
            note(announced)

    @property
    def spec(self):
        """The ModelSpec: preprocessing and class names."""
        return self.interpretation.spec

    @property
    def provider(self) -> str:
        """The execution provider that runs the model."""
        return self.handle.providers[0]

    def test_input(self) -> Decoded:
        """A seeded noise image through the real preprocessing (zeros for 2/4+ channels)."""
        height, width = self.spec.size
        if self.spec.channels in (1, 3):
            pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
            return prepare(Image.fromarray(pixels), self.spec)
        full = (0, 0, width, height)
        zeros = np.zeros((self.spec.channels, height, width), dtype=np.float32)
        return Decoded(zeros, Geometry((width, height), full, full))

    def decode(self, source, keep_image: bool = False) -> Decoded:
        """Preprocess a path, InputItem, ImageBytes, PIL image or array; ImageError if it can't."""
        layout = self.interpretation.layout
        if isinstance(source, np.ndarray):
            check_array(source, pixel_limit(self.max_pixels), "array")
            return prepare_array(source, self.spec, layout=layout)
        if isinstance(source, Image.Image):
            return prepare(source, self.spec, keep_image)
        if isinstance(source, ImageBytes):
            return decode_path(source, self.spec, max_pixels=self.max_pixels, mode=self.decode_mode)
        path = source.path if isinstance(source, InputItem) else Path(source)
        require_regular(path, source.key if isinstance(source, InputItem) else str(path))
        if isinstance(source, InputItem) and source.path.suffix.lower() == ".npy":
            array = load_npy_item(source)
            check_array(array, pixel_limit(self.max_pixels), source.key)
            return prepare_array(array, self.spec, source.key, layout)
        mode = self.decode_mode
        return decode_path(
            path, self.spec, max_pixels=self.max_pixels, mode=mode, keep_image=keep_image
        )

    def try_decode(self, source, keep_image: bool = False) -> Decoded | ImageError:
        """`decode`, with a per-input failure returned instead of raised."""
        try:
            return self.decode(source, keep_image)
        except ImageError as exc:
            return exc

    def model_batch(self, decoded: list[Decoded]) -> np.ndarray:
        """Preprocessed (C, H, W) inputs stacked into the model's layout and dtype."""
        return self.interpretation.batch(d.array for d in decoded)

    def infer(self, decoded: list[Decoded]) -> np.ndarray:
        """Run the model on preprocessed inputs, one batch; the output that is read."""
        batch = self.model_batch(decoded)
        try:
            return run_batch(
                self.handle, batch, output=self.interpretation.output, constants=self.constants
            )
        except LOAD_ERRORS as exc:
            first = str(exc).strip().splitlines()[0]
            raise CnnkitError(
                f"{self.handle.path}: onnxruntime failed on a batch of shape {list(batch.shape)}"
                f" (check --input-size/--gray/--layout): {first}"
            ) from None

    def rows(self, keys: list[str], decoded: list, save_mask: MaskSink | None = None) -> list:
        """Result rows in input order for decoded inputs (ImageError entries become errors)."""
        good = [i for i, d in enumerate(decoded) if isinstance(d, Decoded)]
        task = self.spec.task
        reasons = [getattr(d, "reason", str(d)) for d in decoded]
        rows = [error_row(k, r, task) for k, r in zip(keys, reasons, strict=True)]
        if not good:
            return rows
        inputs = [decoded[i] for i in good]
        found = self.output_rows([keys[i] for i in good], inputs, self.infer(inputs), save_mask)
        for i, row in zip(good, found, strict=True):
            rows[i] = row
        return rows

    def output_rows(
        self, keys: list[str], decoded: list[Decoded], output: np.ndarray, save_mask=None
    ) -> list:
        """The rows of decoded inputs from the model's output for them (`infer`'s result);
        an input whose output is not finite gets an error row."""
        task = self.spec.task
        finite = finite_outputs(output)
        rows = [
            None if ok else error_row(key, NON_FINITE, task)
            for key, ok in zip(keys, finite, strict=True)
        ]
        good, output = [i for i, ok in enumerate(finite) if ok], output[finite]
        if not good:
            return rows
        reading = self.interpretation.reading
        if reading.startswith("segmentation"):
            masks = (
                argmax_masks(output) if reading == "segmentation-scores" else label_masks(output)
            )
            for i, mask in zip(good, masks, strict=True):
                full = to_original(mask, decoded[i].geometry)
                ref = save_mask(keys[i], full, decoded[i]) if save_mask else full
                rows[i] = segmentation_row(
                    keys[i], full, self.spec, self.class_count(output, mask), ref
                )
        else:
            good_keys = [keys[i] for i in good]
            found = classification_rows(good_keys, output, self.spec, self.topk, reading)
            for i, row in zip(good, found, strict=True):
                rows[i] = row
        return rows

    def class_count(self, output: np.ndarray, mask: np.ndarray) -> int:
        """Classes listed in a segmentation row: K of the scores, else the names or the mask."""
        if self.interpretation.reading == "segmentation-scores":
            return int(output.shape[1])
        if self.spec.classes:
            return len(self.spec.classes)
        return int(mask.max()) + 1 if mask.size else 1

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


def plan_inference(model: str | Path, options: PredictorOptions) -> Plan:
    """The checked plan of an inference, before any session opens: the flags and the file
    (Use.INFER) and that --device/--provider/--threads can run here (the engines' pre-flight)."""
    if options.topk < 1:
        raise CnnkitError(f"--topk {options.topk}: must be at least 1")
    plan = plan_for(model, Use.INFER, options.spec)
    check_spec(plan.spec, options.max_pixels, Path(model))
    check_decode_mode(options.decode)
    check_request(options.session)
    return plan


def load_constants(interp: Plan) -> dict[str, np.ndarray]:
    """The --feed arrays, checked against their inputs' shapes and cast to their dtypes."""
    constants = {}
    for name, path in interp.constants:
        info = interp.input_info(name)
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CnnkitError(f"--feed {name}={path}: cannot read it ({exc})") from None
        declared = tuple(info.shape)
        per_sample = declared[1:]
        if tuple(array.shape) == per_sample:
            array = array[None]  # one sample, repeated to every batch
        elif (
            len(array.shape) != len(declared)
            or tuple(array.shape[1:]) != per_sample
            or (isinstance(declared[0], int) and array.shape[0] not in (1, declared[0]))
        ):
            raise CnnkitError(
                f"--feed {name}={path}: shape {list(array.shape)} does not fit input "
                f"{info.describe()} (give {list(per_sample)} or [1, ...])"
            )
        dtype = NUMPY_DTYPES.get(info.dtype) or np.dtype(info.dtype)
        constants[name] = np.ascontiguousarray(array, dtype=dtype)
    return constants


def load_npy_item(item: InputItem) -> np.ndarray:
    """One array of an .npy file; ImageError when the file changed or cannot be read."""
    try:
        array = np.load(item.path, mmap_mode="r", allow_pickle=False)
        if not isinstance(array, np.ndarray):  # an .npz archive
            raise ValueError("not a single .npy array")
        return array if item.index is None else array[item.index]
    except (OSError, ValueError, IndexError, EOFError) as exc:
        raise ImageError(item.key, f"cannot read the array: {exc}") from None


def input_key(source, position: int) -> str:
    """How a row names an input given to `predict`."""
    if isinstance(source, InputItem):
        return source.key
    if isinstance(source, (str, Path)):
        return str(source)
    return f"<input {position}>"
