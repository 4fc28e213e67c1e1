"""`cnnkit bundle`: everything an offline edge box needs to install, check and run models.

The kit is built in a staging folder beside KIT/ and moved into place whole, so an
interrupted bundle never leaves a kit that looks complete. Steps: refuse a target with no
wheels (before any download), open every model here, build cnnkit's wheel, download the
target's wheels, copy the models, make samples and their expected rows, write kit.json
and install.sh, and last MANIFEST.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from toolkit import __version__
from toolkit.edge.installer import install_script
from toolkit.edge.kitinfo import EXPECTED, INSTALL_SH, MODELS, TOLERANCE, WHEELS, KitInfo
from toolkit.edge.manifest import write_manifest
from toolkit.edge.samples import model_samples
from toolkit.edge.targets import Target, kit_glibc, target
from toolkit.edge.wheelhouse import download, own_wheel
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.predictor import Predictor
from toolkit.safeio import folder_mode, json_line, refuse_link, staging_folder, write_atomic

EXTRAS = ("runtime", "serve")


@dataclass(frozen=True)
class BundleOptions:
    """--platform, --python, --with, --samples: what the kit targets and carries."""

    platform: str = "linux-aarch64"
    python: str = "3.11"
    extras: tuple[str, ...] = ("runtime",)  # --with serve adds the server's extra
    samples: Path | None = None  # a folder of images; None: synthetic ones
    tolerance: float = TOLERANCE


@dataclass(frozen=True)
class Kit:
    """What `bundle` made: the folder, its description and its contents, for the summary."""

    path: Path
    info: KitInfo
    wheels: list[str]
    samples: int


def checked_models(models: list) -> list[Path]:
    """The MODEL arguments as paths: existing .onnx files with distinct names."""
    paths = [Path(model) for model in models]
    if not paths:
        raise CnnkitError("MODEL: name at least one .onnx file")
    for path in paths:
        if path.suffix.lower() != ".onnx" or not path.is_file():
            raise CnnkitError(f"{path}: not an .onnx file (export one with `cnnkit export`)")
    names = [path.stem for path in paths]
    if len(set(names)) != len(names):
        raise CnnkitError(f"MODEL: two models share a file name ({names}); rename one")
    return paths


def checked_extras(extras: tuple[str, ...]) -> tuple[str, ...]:
    """--with values: the runtime extra always, then serve when asked."""
    for extra in extras:
        if extra not in EXTRAS:
            raise CnnkitError(f"--with {extra!r}: expected serve")
    return tuple(e for e in EXTRAS if e == "runtime" or e in extras)


def checked_out(out: Path) -> None:
    """KIT/ must not exist yet (or be an empty folder): a kit is never merged into another."""
    refuse_link(out, "kit")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CnnkitError(f"-o {out}: already exists and is not empty; choose a new folder")


def bundle(models: list, out: str | Path, options: BundleOptions = BundleOptions()) -> Kit:
    """Build KIT/ for `options`' device from .onnx files (see the module docstring)."""
    chosen = target(options.platform, options.python)
    extras = checked_extras(options.extras)
    paths = checked_models(models)
    out = Path(out)
    checked_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(out.parent, f".{out.name}.partial-")
    try:
        kit = fill_kit(staging, chosen, extras, paths, options)
        staging.chmod(folder_mode())  # mkdtemp's 0700 would keep others from reading the kit
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Kit(out, kit.info, kit.wheels, kit.samples)


def fill_kit(kit: Path, chosen: Target, extras, paths: list[Path], options) -> Kit:
    """Write every part of a kit into the folder `kit`."""
    predictors = {path.stem: Predictor(path, device="cpu", quiet=True) for path in paths}
    wheel, names = write_wheels(kit, chosen, extras)
    rows = write_models(kit, paths, predictors, options)
    glibc = kit_glibc(names)
    info = KitInfo(
        platform=chosen.platform,
        python=chosen.python,
        glibc=".".join(map(str, glibc)) if glibc else None,
        extras=list(extras),
        models=[f"{MODELS}/{path.stem}.onnx" for path in paths],
        cnnkit=__version__,
        onnxruntime=ort.__version__,
        tolerance=options.tolerance,
    )
    info.write(kit)
    write_atomic(kit / INSTALL_SH, install_script(info, wheel.name))
    (kit / INSTALL_SH).chmod(0o755)
    write_manifest(kit)
    return Kit(kit, info, names, len(rows))


def write_wheels(kit: Path, chosen: Target, extras) -> tuple[Path, list[str]]:
    """KIT/wheels/: cnnkit's own wheel and every wheel it needs on `chosen`."""
    wheels = kit / WHEELS
    wheels.mkdir()
    note("bundle: building cnnkit's wheel")
    wheel = own_wheel(wheels)
    note(f"bundle: downloading wheels for {chosen.platform}, CPython {chosen.python}")
    return wheel, download(chosen, f"{wheel}[{','.join(extras)}]", wheels)


def write_models(kit: Path, paths: list[Path], predictors: dict, options) -> list[dict]:
    """KIT/models/ and KIT/samples/ with expected.jsonl, computed here; the expected rows."""
    (kit / MODELS).mkdir()
    for path in paths:
        shutil.copyfile(path, kit / MODELS / f"{path.stem}.onnx")
    note("bundle: computing the samples' expected rows here")
    rows = expected_rows(kit, predictors, options)
    write_atomic(kit / EXPECTED, "".join(json_line(row) for row in rows))
    return rows


def expected_rows(kit: Path, predictors: dict[str, Predictor], options) -> list[dict]:
    """Each model's sample rows, each tagged with the model's path in the kit."""
    rows = []
    for name, predictor in predictors.items():
        found = model_samples(predictor, kit, name, options.samples, options.tolerance)
        rows += [{"model": f"{MODELS}/{name}.onnx", **row} for row in found]
    return rows
