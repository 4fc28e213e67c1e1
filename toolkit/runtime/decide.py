"""The decisions behind `interpret`, one method each, every one with its reason.

Layout from where 1 or 3 channels sit, size from the file or metadata or --input-size, the
normalisation from the dtype and metadata, the output and how it is read from its shape,
type and the op that produces it. Flags (SpecFlags) win over everything.

The Decider never raises: a flag that does not fit and a file that cannot be fed are recorded
alike as `Problem`s, and each verb's rules (interpret.RULES) decide which stop it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.runtime.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RESIZE_MODES,
    ModelSpec,
    SpecFlags,
    per_channel,
    read_labels,
)

LAYOUTS = ("NCHW", "NHWC")
OUTPUT_READINGS = ("auto", "logits", "probs")
IMAGE_DTYPES = ("float32", "float16", "uint8")
LABEL_DTYPES = ("int64", "int32", "uint8", "uint16", "int16", "int8")
DEFAULT_SIZE = (224, 224)


@dataclass(frozen=True)
class Problem:
    """Why a use of the file may fail; `rule` is the interpret.RULES entry it breaks."""

    rule: str  # "flags" | "image" | "feeds" | "output"
    message: str  # one line; a "flags" message names the flag

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TensorInfo:
    """One graph input or output: name, element type, shape (None or a name where dynamic)."""

    name: str
    dtype: str
    shape: tuple

    @property
    def dynamic_axes(self) -> list[int]:
        """Axes whose size is not fixed in the file."""
        return [i for i, d in enumerate(self.shape) if not fixed(d)]

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape),
                "dynamic_axes": self.dynamic_axes}  # fmt: skip

    def describe(self) -> str:
        """'name float32 [N,3,224,224]'."""
        dims = ",".join(str(d) if d is not None else "?" for d in self.shape)
        return f"{self.name} {self.dtype} [{dims}]"


def fixed(dim) -> bool:
    """True for a fixed (positive int) axis."""
    return isinstance(dim, int) and dim > 0


def tensor_info(value_info) -> TensorInfo:
    """TensorInfo of an onnx ValueInfoProto."""
    from onnx import helper

    tensor_type = value_info.type.tensor_type
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)).name
    except (KeyError, TypeError, ValueError):
        dtype = f"type{tensor_type.elem_type}"
    dims = []
    for dim in tensor_type.shape.dim if tensor_type.HasField("shape") else ():
        if dim.HasField("dim_value") and dim.dim_value > 0:
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or None)
    return TensorInfo(value_info.name, dtype, tuple(dims))


def guess_layout(shape, channels: int | None = None) -> tuple[str, str]:
    """("NCHW" | "NHWC", why) for a rank-4 image input: where 1 or 3 channels sit."""
    second, last = shape[1], shape[3]
    nchw = second in (1, 3) or (channels is not None and second == channels)
    if last in (1, 3) and not nchw:
        return "NHWC", f"the last axis is {last} (channels) and axis 1 is {second or 'dynamic'}"
    if nchw:
        return "NCHW", f"axis 1 is {second} (channels)"
    if fixed(last) and not fixed(second):
        return "NHWC", "the last axis is fixed and axis 1 dynamic"
    return "NCHW", "no axis looks like 1 or 3 channels; cnnkit's own convention"


def chw_to_layout(size, shape) -> tuple:
    """--input-size C,H,W reordered to the dims after the batch of a rank-4 input."""
    if len(shape) == 4 and len(size) == 3 and guess_layout(shape)[0] == "NHWC":
        return (size[1], size[2], size[0])
    return tuple(size)


def input_sizes(input_size, names: list[str], image: str, meta: ModelMeta, image_dims) -> dict:
    """The size asked of each input: --input-size NAME=dims per input, else C,H,W (or the
    metadata's) for the image input, reordered for an NHWC one (bench and profile)."""
    if isinstance(input_size, dict):
        unknown = [key for key in input_size if key not in names]
        if unknown:
            listed = ", ".join(names)
            raise CnnkitError(f"--input-size {unknown[0]}=...: no such input (inputs: {listed})")
        sizes = dict(input_size)
        if image not in sizes and meta.input_size:  # the image input keeps the metadata's
            sizes[image] = chw_to_layout(meta.input_size, image_dims)
        return sizes
    size = input_size or meta.input_size
    return {image: chw_to_layout(size, image_dims)} if size else {}


class Decider:
    """Makes the decisions of `interpret` in order, recording a reason for each."""

    def __init__(self, meta: ModelMeta, flags: SpecFlags):
        self.meta, self.flags = meta, flags
        self.reasons: dict[str, str] = {}
        self.assumed: list[str] = []
        self.problems: list[Problem] = []
        self.constants: list[tuple[str, str]] = []
        self.layout, self.reading, self.task = "NCHW", "logits", "classification"
        self.channels, self.size, self.raw = 3, DEFAULT_SIZE, False
        self.classes: tuple[str, ...] | None = None

    def problem(self, rule: str, message: str) -> None:
        """Record a Problem breaking `rule`."""
        self.problems.append(Problem(rule, message))

    def flag_value(self, read: Callable[[], object], fallback):
        """read(), or `fallback` with read's CnnkitError recorded as a flag problem."""
        try:
            return read()
        except CnnkitError as exc:
            self.problem("flags", str(exc))
            return fallback

    def decide(self, key: str, reason: str, assumed: bool) -> None:
        """Record why `key` is what it is (and whether it was assumed rather than given)."""
        self.reasons[key] = reason
        if assumed:
            self.assumed.append(key)

    # inputs -----------------------------------------------------------------------------
    def image_input(self, inputs: tuple[TensorInfo, ...]) -> TensorInfo | None:
        """The input that takes images; the others need --feed constants."""
        if not inputs:
            self.problem("image", "the model has no inputs")
            return None
        images = [t for t in inputs if len(t.shape) == 4 and t.dtype in IMAGE_DTYPES]
        image = images[0] if images else inputs[0]
        others = [t for t in inputs if t is not image]
        self.feeds(others, inputs)
        if len(image.shape) != 4:
            self.problem(
                "image",
                f"input {image.describe()} has rank {len(image.shape)}; images need a rank-4 "
                "input (NCHW or NHWC)",
            )
        elif image.dtype not in IMAGE_DTYPES:
            self.problem(
                "image",
                f"input {image.describe()}: images go into float32, float16 or uint8 inputs",
            )
        else:
            self.decide_layout(image)
            self.decide_pixels(image)
        return image

    def feeds(self, others: list[TensorInfo], inputs) -> None:
        """--feed NAME=FILE.npy for every input but the image; one line naming them if not."""
        given = dict(self.flags.feeds)
        names = {t.name for t in inputs}
        unknown = [name for name in given if name not in names]
        if unknown:
            self.problem(
                "flags",
                f"--feed {unknown[0]}=...: the model has no input {unknown[0]!r} "
                f"(inputs: {', '.join(t.name for t in inputs)})",
            )
        missing = [t for t in others if t.name not in given]
        if missing:
            listed = "; ".join(t.describe() for t in inputs)
            self.problem(
                "feeds",
                f"the model has {len(inputs)} inputs ({listed}); cnnkit feeds images to one: "
                f"give the others with --feed NAME=FILE.npy (e.g. --feed {missing[0].name}=x.npy)",
            )
        for t in others:
            if t.name in given and t.dynamic_axes not in ([], [0]):
                self.problem(
                    "feeds",
                    f"--feed {t.name}: input {t.describe()} has dynamic axes beyond the batch; "
                    "only fixed-shape inputs take constants",
                )
        self.constants = [(t.name, given[t.name]) for t in others if t.name in given]

    def decide_layout(self, image: TensorInfo) -> None:
        """NCHW or NHWC from the shape (channels 1 or 3 on one side), or --layout."""
        meta_c = (self.meta.input_size or [None])[0]
        if self.flags.layout:
            layout = self.flags.layout.upper()
            if layout not in LAYOUTS:
                self.problem("flags", f"--layout {self.flags.layout!r}: expected NCHW or NHWC")
                return
            self.layout = layout
            self.decide("layout", f"{layout} (--layout)", False)
            self.check_layout(image, layout)
            return
        self.layout, why = guess_layout(image.shape, meta_c)
        self.decide("layout", f"{self.layout}: {why}", self.meta.foreign)

    def check_layout(self, image: TensorInfo, layout: str) -> None:
        """A --layout that puts the channels on an axis the shape plainly says is not theirs."""
        channel_axis = 1 if layout == "NCHW" else 3
        other_axis = 4 - channel_axis
        on, other = image.shape[channel_axis], image.shape[other_axis]
        if fixed(on) and on not in (1, 3) and other in (1, 3):
            actual = "NCHW" if other_axis == 1 else "NHWC"
            self.problem(
                "flags",
                f"--layout {layout}: input {image.describe()} has {other} channels on axis "
                f"{other_axis}, so it is {actual}; drop --layout or give --layout {actual}",
            )

    def decide_resize(self, out: TensorInfo | None) -> None:
        """How an image reaches HxW: --resize, stretch for cnnkit's own files (as trained);
        a foreign file that looks like an ImageNet classifier is told about center-crop."""
        mode = self.flags.resize
        if mode != "stretch":
            self.decide("resize", f"{mode} (--resize)", False)
        elif not self.meta.foreign:
            self.decide("resize", "stretch to HxW (as cnnkit trains)", False)
        elif self.looks_like_imagenet(out):
            self.decide(
                "resize",
                "stretch to HxW; a 1000-class 224x224 classifier is likely torchvision-style "
                "(resize 256, center crop 224): try --resize center-crop",
                True,
            )
        else:
            self.decide("resize", "stretch to HxW (no metadata says otherwise)", True)

    def looks_like_imagenet(self, out: TensorInfo | None) -> bool:
        """1000 classes out of a 3x224x224 input."""
        classes = out.shape[-1] if out is not None and out.shape else None
        return classes == 1000 and self.channels == 3 and tuple(self.size) == (224, 224)

    def decide_pixels(self, image: TensorInfo) -> None:
        """Channels, size, dtype and normalisation of the image input."""
        f, meta = self.flags, self.meta
        dims = image.shape
        if self.layout == "NCHW":
            c_dim, h_dim, w_dim = dims[1], dims[2], dims[3]
        else:
            h_dim, w_dim, c_dim = dims[1], dims[2], dims[3]
        stored = meta.input_size
        if f.gray or f.channels == 1:
            self.channels, why, assumed = 1, "--gray" if f.gray else "--input-size", False
        elif stored:
            self.channels, why, assumed = int(stored[0]), "cnnkit metadata", False
        elif fixed(c_dim):
            self.channels, why, assumed = int(c_dim), "the channel axis", False
        else:
            self.channels, why, assumed = 3, "channel axis dynamic; RGB assumed", True
        if f.channels is not None and f.channels != self.channels:
            self.problem(
                "flags",
                f"--input-size {f.channels},H,W: input {image.describe()} takes {self.channels}"
                f" channels ({why}); give {self.channels},H,W, or 1,H,W for gray",
            )
        self.decide("channels", f"{self.channels} ({why})", assumed)
        if f.size:
            self.size, why, assumed = tuple(f.size), "--input-size", False
        elif stored:
            self.size, why, assumed = tuple(stored[1:]), "cnnkit metadata", False
        elif fixed(h_dim) and fixed(w_dim):
            self.size, why, assumed = (h_dim, w_dim), "fixed in the file", False
        else:
            why, assumed = f"H, W dynamic; {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]} assumed", True
        if len(self.size) != 2 or min(self.size) < 1:
            self.problem("flags", f"--input-size {self.size}: expected positive integers C,H,W")
            self.size = DEFAULT_SIZE
        for want, have, axis in ((self.size[0], h_dim, "H"), (self.size[1], w_dim, "W")):
            if fixed(have) and want != have:
                given = "--input-size " if why == "--input-size" else f"size ({why}) "
                self.problem(
                    "flags",
                    f"{given}{self.size[0]}x{self.size[1]}: input {image.describe()} has a "
                    f"fixed {axis} of {have}",
                )
        self.decide("size", f"{self.size[0]}x{self.size[1]} ({why})", assumed)
        self.decide("dtype", f"{image.dtype} (the input's element type)", False)
        self.raw = image.dtype == "uint8"
        if self.raw:
            if f.mean or f.std:
                self.problem(
                    "flags",
                    f"--mean/--std: input {image.name!r} takes uint8 pixels, nothing to normalise",
                )
            self.decide("mean_std", "none: uint8 input takes raw 0..255 pixels", False)
        elif f.mean and f.std:
            self.decide("mean_std", "--mean and --std", False)
        elif meta.mean and meta.std:
            self.decide("mean_std", "cnnkit metadata", False)
        else:
            default = "ImageNet's" if self.channels == 3 else "0 and 1 (pixel / 255)"
            self.decide("mean_std", f"{default} (no metadata)", True)

    # outputs ----------------------------------------------------------------------------
    def chosen_output(self, outputs: tuple[TensorInfo, ...]) -> str | None:
        """The name of the output that is read: --output, else the first."""
        if self.flags.output:
            if self.flags.output in [o.name for o in outputs]:
                return self.flags.output
            names = ", ".join(o.name for o in outputs)
            self.problem(
                "flags", f"--output {self.flags.output}: the model has no such output ({names})"
            )
        return outputs[0].name if outputs else None

    def output(
        self, outputs: tuple[TensorInfo, ...], name: str | None, ending: str | None
    ) -> TensorInfo | None:
        """The output `name` and how it is read: classification, segmentation scores or labels."""
        if name is None:
            self.problem("output", "the model has no outputs")
            return None
        out = next(o for o in outputs if o.name == name)
        if self.flags.output == name:
            self.decide("output", f"{name!r} (--output)", False)
        elif len(outputs) > 1 and self.meta.self_contained:
            self.decide("output", f"{name!r}: the first output of a self-contained file", False)
        elif len(outputs) > 1:
            self.decide("output", f"{name!r}: the first of {len(outputs)} outputs", True)
        else:
            self.decide("output", f"{name!r}: the only output", False)
        shape, integer = out.shape, out.dtype in LABEL_DTYPES
        if integer and len(shape) in (3, 4) and (len(shape) == 3 or shape[1] == 1):
            self.task, self.reading = "segmentation", "segmentation-labels"
            self.decide("reading", f"{self.reading}: an integer {len(shape)}-D output", False)
        elif len(shape) == 2 or (len(shape) == 4 and shape[2] == 1 and shape[3] == 1):
            self.task = "classification"
            self.decide_reading(out, ending)
        elif len(shape) == 4:
            self.task, self.reading = "segmentation", "segmentation-scores"
            self.decide("reading", f"{self.reading}: [N,K,H,W] output, argmax over K", False)
        else:
            self.problem(
                "output",
                f"output {out.describe()}: expected [N,K] or [N,K,1,1] class scores, "
                "[N,K,H,W] segmentation scores or an integer [N,H,W] label map (--output)",
            )
            return None
        if self.meta.task and self.task != self.meta.task:
            self.task = self.meta.task
        return out

    def decide_reading(self, out: TensorInfo, ending: str | None) -> None:
        """logits or probabilities: --outputs, else probabilities when the graph ends in Softmax."""
        asked = self.flags.outputs or "auto"
        if asked not in OUTPUT_READINGS:
            self.problem("flags", f"--outputs {asked!r}: expected one of auto, logits, probs")
            asked = "auto"
        if asked != "auto":
            self.reading = asked
            self.decide("reading", f"{asked} (--outputs)", False)
        elif ending == "Softmax":
            self.reading = "probs"
            self.decide("reading", "probs: the graph ends in Softmax", False)
        elif self.meta.self_contained:
            self.reading = "probs"
            self.decide("reading", "probs: a self-contained file's first output", False)
        else:
            self.reading = "logits"
            why = f"the graph ends in {ending}" if ending else "no Softmax at the end"
            self.decide("reading", f"logits: {why}; softmax applied", self.meta.foreign)

    def labels(self, out: TensorInfo) -> None:
        """Class names: --labels (one per class of the output), cnnkit metadata, or indices."""
        if self.flags.labels:
            self.classes = self.flag_value(lambda: read_labels(self.flags.labels), None)
            if self.classes is None:
                return
            labelled = self.reading == "segmentation-labels"  # [N,H,W]: axis 1 is H
            count = out.shape[1] if len(out.shape) > 1 and not labelled else None
            if isinstance(count, int) and len(self.classes) != count:
                self.problem(
                    "flags",
                    f"--labels {self.flags.labels}: has {len(self.classes)} names, the model has "
                    f"{count} classes",
                )
            self.decide("labels", f"{len(self.classes)} names (--labels)", False)
        elif self.meta.classes:
            self.classes = self.meta.classes
            self.decide("labels", f"{len(self.classes)} names (cnnkit metadata)", False)
        else:
            self.decide("labels", "class indices (no names in the file)", True)

    def spec(self) -> ModelSpec:
        """The ModelSpec the preprocessing and the rows use."""
        f, meta, c = self.flags, self.meta, self.channels
        if f.resize not in RESIZE_MODES:
            choices = ", ".join(RESIZE_MODES)
            self.problem("flags", f"--resize {f.resize!r}: expected one of {choices}")
        if self.raw:
            mean, std = (0.0,) * c, (1.0,) * c
        else:
            mean_default, std_default = (
                (IMAGENET_MEAN, IMAGENET_STD) if c == 3 else ((0.0,), (1.0,))
            )
            mean = self.flag_value(
                lambda: per_channel(f.mean or meta.mean or mean_default, c, "--mean"), (0.0,) * c
            )
            std = self.flag_value(
                lambda: per_channel(f.std or meta.std or std_default, c, "--std"), (1.0,) * c
            )
        return ModelSpec(
            task=self.task,
            channels=int(c),
            size=(int(self.size[0]), int(self.size[1])),
            mean=mean,
            std=std,
            classes=self.classes,
            resize=f.resize,
            raw=self.raw,
        )
