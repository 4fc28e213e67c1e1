"""Writing ONNX files atomically: a temp file in the target folder, then os.replace."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.safeio import publish as publish_file
from toolkit.safeio import staging_folder


def check_output_path(out: str | Path) -> Path:
    """An output path whose folder exists and that is not itself a folder."""
    out = Path(out)
    if out.is_dir():
        raise CnnkitError(f"output {out} is a folder; give a file name like {out}/model.onnx")
    if not out.parent.is_dir():
        raise CnnkitError(f"output folder {out.parent} does not exist (for {out})")
    return out


def save_onnx(proto, path: Path, external_data: bool = False) -> None:
    """Save `proto` to `path`; with external_data the weights go to `<path name>.data` beside it."""
    import onnx

    onnx.save_model(
        proto,
        str(path),
        save_as_external_data=external_data,
        all_tensors_to_one_file=True,
        location=f"{path.name}.data" if external_data else None,
    )


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a path in a private temp folder beside `out`; the caller publishes or it vanishes.

    Files staged there under `out.name` (and `out.name + ".data"`) are moved into place only
    by `publish`; on any error the temp folder is removed, so nothing half-written remains.
    """
    folder = staging_folder(out.parent, f".{out.name}.")
    try:
        yield folder / out.name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish(staged_path: Path, out: Path) -> None:
    """Move a staged model (and its external data file, if any) into place atomically."""
    data = staged_path.with_name(staged_path.name + ".data")
    if data.exists():
        publish_file(data, out.with_name(out.name + ".data"))
    publish_file(staged_path, out)


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A temp folder under the system temp dir, removed after; dead runs' leftovers go first."""
    folder = staging_folder(Path(tempfile.gettempdir()), prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
