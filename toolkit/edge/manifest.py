"""KIT/MANIFEST: the sha256 of every file of a kit, in `sha256sum` format.

The format is coreutils' own, so install.sh checks the kit with `sha256sum -c` before any
Python runs, and `cnnkit verify` checks the same file afterwards. Both name a file that
changed, went missing or was slipped in (an extra wheel in wheels/ would be installed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.safeio import write_atomic

MANIFEST = "MANIFEST"
# install.sh's default virtual environment lives in the kit; it is not part of it.
VENV = "venv"


def sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kit_files(kit: Path) -> list[str]:
    """Every file of the kit as a relative POSIX path, sorted; MANIFEST and venv/ left out."""
    found = []
    for path in sorted(kit.rglob("*")):
        relative = path.relative_to(kit)
        if relative.parts[0] in (MANIFEST, VENV) or path.is_dir():
            continue
        found.append(relative.as_posix())
    return found


def write_manifest(kit: Path) -> list[str]:
    """Write KIT/MANIFEST for every file now in the kit; the files listed."""
    files = kit_files(kit)
    lines = [f"{sha256(kit / name)}  {name}\n" for name in files]
    write_atomic(kit / MANIFEST, "".join(lines))
    return files


def read_manifest(kit: Path) -> dict[str, str]:
    """MANIFEST as {relative path: sha256}; one CnnkitError line when it is missing or bad."""
    path = kit / MANIFEST
    if not path.is_file():
        raise CnnkitError(f"{kit}: no {MANIFEST} here; is it a kit made by `cnnkit bundle`?")
    listed = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise CnnkitError(f"{path}:{number}: not a `sha256  path` line")
        listed[name] = digest
    return listed


def manifest_problems(kit: Path) -> list[str]:
    """One line per file that differs from MANIFEST, is missing, or is not listed."""
    listed = read_manifest(kit)
    problems = []
    for name, digest in listed.items():
        path = kit / name
        if not path.is_file():
            problems.append(f"{name}: missing (listed in {MANIFEST})")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from {MANIFEST} (the file was changed)")
    problems += [f"{name}: not in {MANIFEST}" for name in kit_files(kit) if name not in listed]
    return problems
