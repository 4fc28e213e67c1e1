"""Resolve what the user asked to profile (.onnx, run folder, .pt, zoo name) into a Profile.

Only the non-ONNX branches need torch (they export through toolkit.export first), and they
import it lazily, so profiling an .onnx file stays torch-free. This sits above toolkit.export,
which toolkit.profile (the graph side, below export) must not import.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import CnnkitError
from toolkit.extras import require_extra
from toolkit.profile.profiler import profile_onnx
from toolkit.profile.summary import Profile
from toolkit.progress import note
from toolkit.runfolder import RunFolder

if TYPE_CHECKING:
    from collections.abc import Sequence


def profile_target(
    target: str | Path,
    *,
    input_size: tuple[int, int, int] | dict[str, tuple[int, ...]] | None = None,
    batch: int = 1,
    csv: str | Path | None = None,
    save: bool = True,
    quiet: bool = False,
) -> Profile:
    """Profile a .onnx file, run folder, .pt checkpoint or zoo name (with --input-size).

    A run folder's profile is also written to `<run>/profile.json` (announced on stderr)
    unless `save` is False; `csv` writes one row per layer to that file.
    """
    if batch < 1:
        raise CnnkitError(f"--batch-size must be a positive integer, got {batch}")
    if csv and not Path(csv).parent.is_dir():
        raise CnnkitError(f"--csv {csv}: folder {Path(csv).parent} does not exist")
    path = Path(target)
    if not path.exists() and (path.suffix or len(path.parts) > 1):
        raise CnnkitError(f"{target}: no such file or folder")
    if isinstance(input_size, dict) and (
        path.is_dir() or path.suffix == ".pt" or not path.exists()
    ):
        raise CnnkitError(f"--input-size NAME=...: named inputs are for .onnx files, not {target}")
    if path.is_dir():
        profile = profile_run(path, input_size, batch, quiet)
        if save:
            note(f"wrote {profile.write_json(RunFolder(path).profile)}")
    elif path.suffix == ".onnx" or (path.is_file() and path.suffix != ".pt"):
        profile = profile_onnx(path, input_size=input_size, batch=batch)
    elif path.suffix == ".pt":
        profile = profile_exported(path, None, input_size, batch, quiet)
    else:
        profile = profile_zoo(str(target), input_size, batch, quiet)
    if csv:
        note(f"wrote {profile.write_csv(csv)}")
    return profile


def profile_run(
    run_dir: Path, input_size: Sequence[int] | None, batch: int, quiet: bool
) -> Profile:
    """A run folder: its model.onnx when exported, else its checkpoint exported on the fly."""
    onnx_path = RunFolder(run_dir).onnx
    if onnx_path.is_file():
        return profile_onnx(onnx_path, input_size=input_size, batch=batch)
    note(f"{run_dir}: no model.onnx yet; exporting its checkpoint to a temporary file")
    return profile_exported(run_dir, None, input_size, batch, quiet)


def profile_zoo(name: str, input_size: Sequence[int] | None, batch: int, quiet: bool) -> Profile:
    """A zoo name: check the input size layer by layer, export random weights, profile."""
    require_extra("train", f"profiling the zoo name {name!r}")
    from toolkit import models

    models.info(name)  # unknown names: a clear error before any export work
    if input_size is not None:
        models.check_input(name, tuple(input_size))  # names the layer where a map collapses
    return profile_exported(name, input_size, input_size, batch, quiet)


def profile_exported(
    source: str | Path,
    export_size: Sequence[int] | None,
    input_size: Sequence[int] | None,
    batch: int,
    quiet: bool,
) -> Profile:
    """Export `source` (run folder, .pt, zoo name) to a temporary .onnx and profile it."""
    require_extra("train", f"profiling {source} (exported on the fly)")
    from toolkit.export import export_onnx

    with tempfile.TemporaryDirectory(prefix="cnnkit-profile-") as tmp:
        report = export_onnx(
            source, out=Path(tmp) / "model.onnx", input_size=export_size, parity=False, quiet=quiet
        )
        return profile_onnx(report.path, input_size=input_size, batch=batch)
