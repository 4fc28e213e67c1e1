"""ModelMeta: what a model needs to be preprocessed and labelled, as one typed value (torch-free).

The same fields travel in a checkpoint (plain values under their own keys), in an ONNX
file (`metadata_props`, keys `cnnkit.<field>`, values JSON-encoded) and in a run's
config.json. Every field may be absent (None): a foreign ONNX file carries none of them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.errors import CnnkitError

META_PREFIX = "cnnkit."
META_KEYS = ("format", "task", "classes", "input_size", "mean", "std", "model", "model_args")
# written by quantize/convert and `export --embed-preprocess` after the contract's keys
EXTRA_KEYS = ("precision", "self_contained")
META_FORMAT = "1"
CHECKPOINT_KEYS = ("model", "model_args", "task", "classes", "input_size", "mean", "std")
MAX_COUNT = 1_000_000  # classes, channels, pixels per side: anything above is a damaged file
MAX_META_PIXELS = 2**31  # H*W of a declared input size; infer applies its --max-pixels too
COUNT_ARGS = ("num_classes", "in_channels")  # builder options that size the model


@dataclass(frozen=True)
class ModelMeta:
    """The cnnkit metadata of a model; None marks a field the source does not carry."""

    task: str | None = None
    classes: tuple[str, ...] | None = None
    input_size: tuple[int, int, int] | None = None  # (C, H, W)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    model: str | None = None  # registry name, or a label for a module built elsewhere
    model_args: dict | None = None  # the builder's options
    format: str | None = None  # "1" in every file cnnkit writes
    precision: str | None = None  # "int8" | "fp16" for quantized or converted files
    self_contained: bool | None = None  # True: uint8 NHWC pixels in, pre/post in the graph

    @property
    def foreign(self) -> bool:
        """True when no cnnkit field is present (a file cnnkit did not write)."""
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))

    def replace(self, **changes) -> ModelMeta:
        """A copy with some fields changed (checked like any other)."""
        return ModelMeta.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict:
        """The present fields as plain JSON values (lists, not tuples), in the contract's order."""
        values = {}
        for key in (*META_KEYS, *EXTRA_KEYS):
            value = getattr(self, key)
            if value is not None:
                values[key] = list(value) if isinstance(value, tuple) else value
        return values

    @classmethod
    def from_dict(cls, values: Mapping, where: str = "metadata") -> ModelMeta:
        """Checked ModelMeta from plain values; unknown keys are ignored, bad ones refused."""
        known = {k: values[k] for k in (*META_KEYS, *EXTRA_KEYS) if values.get(k) is not None}
        known = {k: list(v) if isinstance(v, tuple) else v for k, v in known.items()}
        check_metadata(known, where)
        for key in ("classes", "input_size", "mean", "std"):
            if key in known:
                known[key] = tuple(known[key])
        if "model_args" in known:
            known["model_args"] = dict(known["model_args"])
        return cls(**known)

    def to_props(self) -> dict[str, str]:
        """`metadata_props` entries: `cnnkit.<field>` -> JSON text, format "1" first."""
        values = self.to_dict()
        values = {"format": META_FORMAT, **{k: v for k, v in values.items() if k != "format"}}
        return {META_PREFIX + k: json.dumps(v, allow_nan=False) for k, v in values.items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str], where: str = "metadata") -> ModelMeta:
        """ModelMeta from `metadata_props` (or a session's custom metadata map), checked."""
        values = {}
        for key, text in props.items():
            if key.startswith(META_PREFIX):
                try:
                    values[key[len(META_PREFIX) :]] = json.loads(text)
                except json.JSONDecodeError:
                    raise CnnkitError(f"metadata {key} is not valid JSON") from None
        check_metadata(values, where)  # also the keys this version does not know
        return cls.from_dict(values, where)

    def completed(self, defaults: ModelMeta) -> ModelMeta:
        """This metadata, with the fields it lacks taken from `defaults`."""
        return ModelMeta.from_dict({**defaults.to_dict(), **self.to_dict()})

    @classmethod
    def from_spec(cls, spec) -> ModelMeta:
        """The fields a runtime ModelSpec decides: task, classes, input size, mean, std."""
        return cls.from_dict(
            {
                "task": spec.task,
                "classes": list(spec.classes or []),
                "input_size": [spec.channels, *spec.size],
                "mean": list(spec.mean),
                "std": list(spec.std),
            }
        )

    def checkpoint_fields(self) -> dict:
        """The fields a checkpoint stores under its own keys (plain values)."""
        values = self.to_dict()
        return {k: values[k] for k in CHECKPOINT_KEYS if k in values}

    @classmethod
    def from_checkpoint(cls, checkpoint: Mapping, where: str = "checkpoint") -> ModelMeta:
        """The metadata fields of a loaded checkpoint dict (its format tag is not ours)."""
        values = {k: checkpoint[k] for k in CHECKPOINT_KEYS if k in checkpoint}
        return cls.from_dict(check_metadata(values, where), where)


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value) -> bool:
    """A positive int no larger than MAX_COUNT (not a bool, not a float like 1e10)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT


def metadata_problem(key: str, value) -> str | None:
    """What is wrong with one cnnkit.* value, or None when it has the contract's shape."""
    if key in ("task", "model", "format", "precision"):
        return None if isinstance(value, str) else "expected a string"
    if key == "self_contained":
        return None if isinstance(value, bool) else "expected true or false"
    if key == "classes":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "expected a list of class names"
    if key == "input_size":
        ok = isinstance(value, (list, tuple)) and len(value) == 3 and all(map(is_count, value))
        if ok and value[1] * value[2] > MAX_META_PIXELS:
            return f"over {MAX_META_PIXELS:,} pixels per image"
        return None if ok else "expected [C, H, W], three positive integers"
    if key in ("mean", "std"):
        ok = isinstance(value, list) and value and all(is_number(v) for v in value)
        if ok and key == "std" and min(value) <= 0:
            return "expected positive numbers"
        return None if ok else "expected a list of finite numbers"
    if key == "model_args":
        if not isinstance(value, dict):
            return "expected an object of builder options"
        bad = [k for k in COUNT_ARGS if k in value and not is_count(value[k])]
        return f"{bad[0]} must be a positive integer (at most {MAX_COUNT:,})" if bad else None
    return None


def check_metadata(meta: Mapping, where: str = "metadata") -> Mapping:
    """`meta`, after checking each known key's type; a CnnkitError naming the bad one."""
    for key, value in meta.items():
        problem = metadata_problem(key, value)
        if problem is None and key == "model_args":
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                problem = "holds NaN, infinity or values JSON cannot hold"
        if problem:
            shown = json.dumps(value, default=repr)[:60]
            raise CnnkitError(f"{where}: cnnkit.{key} = {shown}: {problem}")
    return meta
