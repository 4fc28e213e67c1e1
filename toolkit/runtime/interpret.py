"""What an ONNX file takes and returns, decided once from the file itself, with reasons.

cnnkit's own exports carry their preprocessing in metadata; files made elsewhere
(torchvision, timm, Keras/tf2onnx, hand-built) only have their graph. `interpret` reads the
file once and settles which input takes images and in which layout and dtype, the size,
mean and std, which output is read and how (logits, probabilities, segmentation scores or
a label map) and the class names -- each with the reason `cnnkit inspect` prints and that
infer / bench / quantize announce in one note line. Every decision has a flag that
overrides it (SpecFlags).

Whether a verb can use the file is one call: `plan_for(path, Use.INFER, flags)`, i.e.
`interpret(path, flags).require(Use.INFER)`. Deciding never raises: a flag that does not fit
and a file that cannot be fed are both `Problem`s; `require` checks them against the verb's
rules (RULES, one table) and returns a `Plan` (the checked Interpretation, naming the image
input) or raises the first breach as one CnnkitError.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import is_ort, load_onnx, model_bytes, read_metadata
from toolkit.runtime.decide import (
    Decider,
    Problem,
    TensorInfo,
    chw_to_layout,
    guess_layout,
    tensor_info,
)
from toolkit.runtime.ortfile import ort_facts
from toolkit.runtime.preprocess import ModelSpec, SpecFlags

__all__ = [
    "Interpretation",
    "Plan",
    "Problem",
    "TensorInfo",
    "Use",
    "chw_to_layout",
    "guess_layout",
    "interpret",
    "plan_for",
    "settle",
]
NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "uint8": np.uint8}
# Ops that only reshape or copy: a Softmax before them still makes the output probabilities.
PASS_THROUGH = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Cast", "Transpose"}


class Use(Enum):
    """What a verb does with the file; RULES says what it requires of it."""

    INSPECT = "inspect"  # the facts and the problems, listed
    INFER = "infer"  # images in, rows out: infer (both engines), serve, eval
    BENCH = "bench"  # bench --data: images into the image input, other inputs random
    DIFF = "diff"  # images (or noise) into the one input, every output compared
    QUANTIZE = "quantize"  # calibration images into the one float32 input


# Each verb's rules, checked in order; the first breach is the error. "flags": every flag
# fits the file; "image": an input takes images; "feeds": every other input has --feed;
# "output": an output reads as classes or a mask; "single-input", "float32": as named.
RULES: dict[Use, tuple[str, ...]] = {
    Use.INSPECT: ("flags",),
    Use.INFER: ("flags", "image", "feeds", "output"),
    Use.BENCH: ("flags", "image"),
    Use.DIFF: ("flags", "single-input", "image"),
    Use.QUANTIZE: ("flags", "single-input", "image", "feeds", "output", "float32"),
}


@dataclass(frozen=True)
class Interpretation:
    """The file's facts and what infer / bench / quantize assume about it, with reasons."""

    path: str
    file_bytes: int  # the .onnx file plus its external data files
    ir_version: int
    opsets: dict[str, int]
    producer: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    metadata: ModelMeta  # the cnnkit.* metadata; every field None for a foreign file
    spec: ModelSpec  # preprocessing and labels
    image_input: str | None
    layout: str  # "NCHW" | "NHWC"
    input_dtype: str
    output: str
    reading: str  # "logits" | "probs" | "segmentation-scores" | "segmentation-labels"
    constants: tuple[tuple[str, str], ...] = ()  # (other input, .npy file feeding it)
    reasons: dict[str, str] = field(default_factory=dict)
    assumed: tuple[str, ...] = ()  # reasons keys decided without metadata or a flag
    problems: tuple[Problem, ...] = ()  # flags that do not fit, what the file lacks

    @property
    def runnable(self) -> bool:
        """True when infer can feed images to the model."""
        return self.breach(Use.INFER) is None

    def breach(self, use: Use) -> str | None:
        """The error line for the first of `use`'s rules this file and flags break, or None."""
        for rule in RULES[use]:
            message = rule_breach(self, rule, use)
            if message is not None:
                return message if rule == "flags" else f"{self.path}: {message}"
        return None

    def require(self, use: Use) -> Plan:
        """The plan for `use`: this interpretation, checked against its rules (else CnnkitError)."""
        message = self.breach(use)
        if message is not None:
            raise CnnkitError(message)
        decided = {f.name: getattr(self, f.name) for f in dataclasses.fields(Interpretation)}
        return Plan(**decided, use=use)

    def input_info(self, name: str | None = None) -> TensorInfo:
        """The TensorInfo of `name` (default: the image input)."""
        name = name or self.image_input
        return next(t for t in self.inputs if t.name == name)

    def output_info(self) -> TensorInfo:
        """The TensorInfo of the output that is read."""
        return next(t for t in self.outputs if t.name == self.output)

    def batch(self, arrays) -> np.ndarray:
        """Preprocessed (C, H, W) arrays stacked into the model's layout and dtype."""
        batch = np.stack(list(arrays))
        if self.layout == "NHWC":
            batch = batch.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(batch, dtype=NUMPY_DTYPES[self.input_dtype])

    def summary(self) -> str:
        """One line: what is assumed about inputs and outputs (the verbs' note)."""
        s = self.spec
        pixels = "raw 0..255 pixels" if s.raw else f"mean {list(s.mean)} std {list(s.std)}"
        labels = f"{len(s.classes)} labels" if s.classes else "class indices as labels"
        return (
            f"input {self.image_input!r} {self.layout} {self.input_dtype} "
            f"{s.channels}x{s.size[0]}x{s.size[1]} ({s.resize}), {pixels}; "
            f"output {self.output!r} read as {self.reading}; {labels}"
        )

    def note_line(self) -> str | None:
        """The note infer/bench/quantize print when something was assumed, else None."""
        if not self.assumed:
            return None
        flags = sorted({FLAG_OF[key] for key in self.assumed})
        source = "no cnnkit metadata" if self.metadata.foreign else "partly assumed"
        name = Path(self.path).name
        return f"note: {name}: {source}; {self.summary()} (override: {', '.join(flags)})"

    def to_dict(self) -> dict:
        """inspect --json."""
        s = self.spec
        return {
            "model": self.path,
            "file_bytes": self.file_bytes,
            "ir_version": self.ir_version,
            "opsets": self.opsets,
            "producer": self.producer,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "metadata": self.metadata.to_dict(),
            "assumptions": {
                "image_input": self.image_input,
                "layout": self.layout,
                "dtype": self.input_dtype,
                "channels": s.channels,
                "input_size": [s.channels, *s.size],
                "normalisation": "raw" if s.raw else "mean-std",
                "mean": list(s.mean),
                "std": list(s.std),
                "task": s.task,
                "output": self.output,
                "reading": self.reading,
                "labels": list(s.classes) if s.classes else None,
                "constants": dict(self.constants),
            },
            "reasons": self.reasons,
            "assumed": list(self.assumed),
            "runnable": self.runnable,
            "problems": [p.message for p in self.problems if p.rule != "flags"],
        }


@dataclass(frozen=True)
class Plan(Interpretation):
    """An Interpretation checked for one Use: for every use but INSPECT it has an image input."""

    use: Use = Use.INSPECT

    @property
    def image(self) -> TensorInfo:
        """The input images go into."""
        return self.input_info()


def rule_breach(interp: Interpretation, rule: str, use: Use) -> str | None:
    """What breaks `rule` (a RULES entry) for this file, or None."""
    if rule == "single-input" and len(interp.inputs) > 1:
        names = ", ".join(t.name for t in interp.inputs)
        return f"{use.value} takes single-input models; this one has {names}"
    # a self-contained file takes uint8 pixels; quantize keeps its wrapper nodes in float
    if rule == "float32" and interp.input_dtype != "float32" and not interp.metadata.self_contained:
        image, dtype = interp.image_input, interp.input_dtype
        return f"input {image!r} is {dtype}; {use.value} takes float32 models"
    return next((p.message for p in interp.problems if p.rule == rule), None)


FLAG_OF = {
    "layout": "--layout",
    "dtype": "--layout",
    "channels": "--gray",
    "size": "--input-size",
    "mean_std": "--mean/--std",
    "output": "--output",
    "reading": "--outputs",
    "labels": "--labels",
    "resize": "--resize",
}


def plan_for(path: str | Path, use: Use, flags: SpecFlags | None = None) -> Plan:
    """The checked plan for a verb's use of a file: what it feeds and reads (or CnnkitError)."""
    return interpret(path, flags).require(use)


def interpret(path: str | Path, flags: SpecFlags | None = None) -> Interpretation:
    """Read an ONNX file once and decide how images go in and results come out (never raises
    for flags: they and the file's gaps are `problems`, checked by `require`)."""
    flags = flags or SpecFlags()
    path = Path(path)
    facts, ending_of = ort_file_facts(path) if is_ort(path) else onnx_file_facts(path)
    meta, inputs, outputs = facts["metadata"], facts["inputs"], facts["outputs"]
    decider = Decider(meta, flags)
    image = decider.image_input(inputs)
    name = decider.chosen_output(outputs)
    out = decider.output(outputs, name, ending_of(name))
    if image is not None and out is not None:
        decider.labels(out)
    decider.decide_resize(out)
    spec = decider.spec()
    return Interpretation(
        **facts,
        spec=spec,
        image_input=image.name if image else None,
        layout=decider.layout,
        input_dtype=image.dtype if image else "float32",
        output=out.name if out else "",
        reading=decider.reading,
        constants=tuple(decider.constants),
        reasons=decider.reasons,
        assumed=tuple(decider.assumed),
        problems=tuple(decider.problems),
    )


def onnx_file_facts(path: Path) -> tuple[dict, Callable]:
    """An .onnx file's facts (Interpretation fields) and the op ending each output."""
    proto = load_onnx(path, load_external_data=False)
    initializers = {t.name for t in proto.graph.initializer}
    facts = dict(
        path=str(path),
        file_bytes=model_bytes(path, proto),
        ir_version=int(proto.ir_version),
        opsets={(o.domain or "ai.onnx"): int(o.version) for o in proto.opset_import},
        producer=" ".join(p for p in (proto.producer_name, proto.producer_version) if p),
        inputs=tuple(tensor_info(i) for i in proto.graph.input if i.name not in initializers),
        outputs=tuple(tensor_info(o) for o in proto.graph.output),
        metadata=read_metadata(proto, path),
    )
    return facts, functools.partial(ending_op, proto)


def ort_file_facts(path: Path) -> tuple[dict, Callable]:
    """An .ort file's facts as onnxruntime reports them (no graph: the ending op is unknown)."""
    found = ort_facts(path)
    facts = dict(
        path=str(path),
        file_bytes=path.stat().st_size,
        ir_version=0,
        opsets={},
        producer=found.producer,
        inputs=found.inputs,
        outputs=found.outputs,
        metadata=found.metadata,
    )
    return facts, lambda output_name: None


def ending_op(proto, output_name: str | None) -> str | None:
    """The op producing an output, looking through reshapes and casts (Softmax stays visible)."""
    producer = {out: node for node in proto.graph.node for out in node.output}
    node = producer.get(output_name)
    while node is not None and node.op_type in PASS_THROUGH and node.input:
        node = producer.get(node.input[0])
    return node.op_type if node is not None else None


def settle(interp: Interpretation, output: np.ndarray) -> Interpretation:
    """Refine an interpretation with one real output (shapes and values the file left open)."""
    changes, reasons = {}, dict(interp.reasons)
    spec = interp.spec
    if interp.reading in ("logits", "probs") and output.ndim == 4 and output.shape[2:] != (1, 1):
        changes["reading"] = "segmentation-scores"
        reasons["reading"] = "segmentation-scores: the output came back [N,K,H,W]"
        spec = dataclasses.replace(spec, task="segmentation")
    elif (
        interp.reading == "segmentation-scores" and output.ndim == 4 and output.shape[2:] == (1, 1)
    ):
        changes["reading"] = "logits"
        reasons["reading"] = "logits: the output came back [N,K,1,1]; softmax applied"
        spec = dataclasses.replace(spec, task="classification")
    if changes.get("reading", interp.reading) == "logits" and "reading" in interp.assumed:
        scores = output.reshape(output.shape[0], -1).astype(np.float64)
        if (
            output.ndim in (2, 4)
            and (scores >= 0).all()
            and np.allclose(scores.sum(1), 1, atol=1e-4)
        ):
            changes["reading"] = "probs"
            reasons["reading"] = "probs: a test run's rows are non-negative and sum to 1"
    if not changes:
        return interp
    return dataclasses.replace(interp, spec=spec, reasons=reasons, **changes)
