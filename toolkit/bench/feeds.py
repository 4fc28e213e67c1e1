"""Benchmark feeds, prepared before the clock: random tensors of the declared shape, or
real images through the runtime's preprocessing (`--data DIR`).

(Not toolkit.runtime.inputs, which finds the image files `cnnkit infer` reads.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.progress import note

MAX_FEED_GIB = 8  # one benchmark input tensor (float32) at most

if TYPE_CHECKING:
    from toolkit.runtime.interpret import Interpretation
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
            f"--batch-size {batch}: {where} has a fixed batch dimension of {fixed}; "
            f"use --batch-size {fixed}"
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
    size_gib = float(np.prod(shape, dtype=np.float64)) * 4 / 2**30
    if size_gib > MAX_FEED_GIB:  # numpy would try (and fail, or swap) to allocate it
        raise CnnkitError(
            f"--batch-size {batch}: an input of shape {list(shape)} needs {size_gib:,.1f} GiB; "
            f"the limit is {MAX_FEED_GIB} GiB per input"
        )
    return tuple(shape)


def image_input_name(handle: SessionHandle) -> str:
    """The input that takes images: the first of rank 4, else the first."""
    specs = handle.session.get_inputs()
    ranked = [spec for spec in specs if len(spec.shape) == 4]
    return (ranked or specs)[0].name


def plan_inputs(
    handle: SessionHandle, batch: int, input_size: Sequence[int] | dict | None = None
) -> list[InputPlan]:
    """Concrete shapes for every input, the image input first; cnnkit metadata gives the
    image size unless --input-size; `input_size` may name each input ({name: dims})."""
    from toolkit.runtime.decide import input_sizes

    image = image_input_name(handle)
    specs = handle.session.get_inputs()
    declared = next(s.shape for s in specs if s.name == image)
    dims = [d if isinstance(d, int) else None for d in declared]
    sizes = input_sizes(input_size, [s.name for s in specs], image, handle.meta, dims)
    plans = []
    for spec in sorted(specs, key=lambda s: s.name != image):
        if spec.type not in ORT_DTYPES:
            raise CnnkitError(f"{model_label(handle)}: input {spec.name!r} has type {spec.type}")
        where = f"{model_label(handle)} input {spec.name!r}"
        if len(specs) > 1:
            where += " (name it: --input-size NAME=dims)"
        shape = concrete_shape(spec.shape, batch, sizes.get(spec.name), where)
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
    if handle.meta.foreign:
        shapes = ", ".join(f"{p.name} {list(p.shape)}" for p in plans)
        note(f"note: {model_label(handle)} has no cnnkit metadata; random inputs: {shapes}")


def list_images(folder: str | Path) -> list[Path]:
    """Image files under a folder, as the runtime finds them; CnnkitError if there are none."""
    from toolkit.runtime.inputs import image_files

    folder = Path(folder)
    if not folder.is_dir():
        raise CnnkitError(f"--data {folder}: no such folder")
    files = image_files(folder)
    if not files:
        raise CnnkitError(f"--data {folder}: no image files Pillow can read")
    return files


def batch_files(files: Sequence[Path], batch: int) -> list[Path]:
    """`batch` files, cycling through the folder when it holds fewer images."""
    return [files[i % len(files)] for i in range(batch)]


def image_reading(handle: SessionHandle, image: InputPlan, announce: bool = True) -> Interpretation:
    """How the runtime feeds images to the planned image input (the Use.BENCH plan, at the
    planned size and in the layout plan_inputs read it in); a note if anything was assumed."""
    from toolkit.runtime.decide import guess_layout
    from toolkit.runtime.interpret import Use, plan_for
    from toolkit.runtime.preprocess import SpecFlags

    declared = next(s.shape for s in handle.session.get_inputs() if s.name == image.name)
    flags = SpecFlags()
    if len(declared) == 4:  # else the plan names what is wrong with the input
        layout = guess_layout(declared)[0]
        dims = image.shape[1:]
        height, width = (dims[1], dims[2]) if layout == "NCHW" else (dims[0], dims[1])
        channels = dims[0] if layout == "NCHW" else dims[2]
        flags = SpecFlags(size=(height, width), gray=channels == 1, layout=layout)
    try:
        reading = plan_for(handle.path, Use.BENCH, flags)
    except CnnkitError as exc:
        raise CnnkitError(f"--data: {exc}") from None
    if announce and reading.note_line():
        note(reading.note_line())
    return reading


def image_batch(interp: Interpretation, files: Sequence[Path]) -> np.ndarray:
    """Decode and preprocess files into one batch in the model's layout and dtype."""
    from toolkit.runtime.preprocess import load_image

    return interp.batch(load_image(path, interp.spec) for path in files)
