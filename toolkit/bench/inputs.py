"""Benchmark inputs, prepared before the clock: random tensors of the declared shape, or
real images through the runtime's preprocessing (`--data DIR`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.progress import note

if TYPE_CHECKING:
    from toolkit.runtime.preprocess import ModelSpec
    from toolkit.runtime.session import SessionHandle

ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


@dataclass(frozen=True)
class InputPlan:
    """One model input: its name, the concrete shape to feed, and its dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: type


def model_label(handle: SessionHandle) -> str:
    """A short name for a model in messages: its file name."""
    return Path(handle.path).name


def concrete_shape(
    declared: Sequence, batch: int, size: Sequence[int] | None, where: str
) -> tuple[int, ...]:
    """Fill a declared shape: axis 0 is the batch, dynamic axes come from `size` (C,H,W)."""
    if not declared:
        raise CnnkitError(f"{where}: scalar inputs cannot be benchmarked")
    fixed = declared[0]
    if isinstance(fixed, int) and fixed > 0 and fixed != batch:
        raise CnnkitError(
            f"--batch {batch}: {where} has a fixed batch dimension of {fixed}; use --batch {fixed}"
        )
    rest = list(declared[1:])
    if size is not None and len(size) != len(rest):
        raise CnnkitError(
            f"--input-size {','.join(map(str, size))}: {where} takes {len(rest)} dims after "
            f"the batch (declared {list(declared)})"
        )
    shape = [batch]
    for axis, dim in enumerate(rest):
        wanted = size[axis] if size is not None else None
        if isinstance(dim, int) and dim > 0:
            if wanted is not None and wanted != dim:
                raise CnnkitError(
                    f"--input-size {','.join(map(str, size))}: {where} has a fixed shape "
                    f"{list(declared)}"
                )
            shape.append(dim)
        elif wanted is not None:
            shape.append(int(wanted))
        else:
            raise CnnkitError(
                f"{where} has dynamic dims {list(declared)}; pass --input-size to fix them"
            )
    return tuple(shape)


def plan_inputs(
    handle: SessionHandle, batch: int, input_size: Sequence[int] | None = None
) -> list[InputPlan]:
    """Concrete shapes for every input; cnnkit metadata gives the size unless --input-size."""
    size = input_size or handle.meta.get("input_size")
    plans = []
    for spec in handle.session.get_inputs():
        if spec.type not in ORT_DTYPES:
            raise CnnkitError(f"{model_label(handle)}: input {spec.name!r} has type {spec.type}")
        where = f"{model_label(handle)} input {spec.name!r}"
        # Only the image input (the first) takes --input-size; others must be fully fixed.
        own_size = size if spec.name == handle.input_name else None
        shape = concrete_shape(spec.shape, batch, own_size, where)
        plans.append(InputPlan(spec.name, shape, ORT_DTYPES[spec.type]))
    return plans


def random_inputs(plans: Sequence[InputPlan], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random tensors: standard normal floats (what normalised pixels look like)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for plan in plans:
        if np.issubdtype(plan.dtype, np.floating):
            feeds[plan.name] = rng.standard_normal(plan.shape).astype(plan.dtype)
        elif plan.dtype is np.bool_:
            feeds[plan.name] = rng.integers(0, 2, plan.shape).astype(np.bool_)
        else:
            feeds[plan.name] = rng.integers(0, 10, plan.shape).astype(plan.dtype)
    return feeds


def announce_foreign(handle: SessionHandle, plans: Sequence[InputPlan]) -> None:
    """Tell the user that a model without cnnkit metadata gets random inputs."""
    if not handle.meta:
        shapes = ", ".join(f"{p.name} {list(p.shape)}" for p in plans)
        note(f"note: {model_label(handle)} has no cnnkit metadata; random inputs: {shapes}")


def list_images(folder: str | Path) -> list[Path]:
    """Image files under a folder, as the runtime finds them; CnnkitError if there are none."""
    from toolkit.runtime.inputs import folder_files, image_extensions

    folder = Path(folder)
    if not folder.is_dir():
        raise CnnkitError(f"--data {folder}: no such folder")
    extensions = image_extensions()
    files = [p for p in folder_files(folder, extensions) if p.suffix.lower() in extensions]
    if not files:
        raise CnnkitError(f"--data {folder}: no image files Pillow can read")
    return files


def batch_files(files: Sequence[Path], batch: int) -> list[Path]:
    """`batch` files, cycling through the folder when it holds fewer images."""
    return [files[i % len(files)] for i in range(batch)]


def image_spec(handle: SessionHandle, size: Sequence[int], announce: bool = True) -> ModelSpec:
    """The runtime's ModelSpec for a session at concrete (C, H, W); defaults announced."""
    from toolkit.runtime.preprocess import SpecFlags, describe_defaults, model_spec, require_nchw

    require_nchw(handle.input_shape, f"--data with {model_label(handle)}")
    channels, height, width = size
    flags = SpecFlags(size=(height, width), gray=channels == 1)
    output_rank = len(handle.session.get_outputs()[0].shape)
    spec = model_spec(handle.meta, handle.input_shape, output_rank, flags)
    if announce and not handle.meta:
        message = describe_defaults(spec, flags)
        if message:
            note(message)
    return spec


def image_batch(spec: ModelSpec, files: Sequence[Path]) -> np.ndarray:
    """Decode and preprocess files into one float32 NCHW batch (the runtime's rules)."""
    from toolkit.runtime.preprocess import load_image

    return np.stack([load_image(path, spec) for path in files])
