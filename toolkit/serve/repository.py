"""A model repository in Triton's layout: DIR/NAME/VERSION/model.onnx (or model.ort).

Versions are folders named by integers; the latest (largest) is served, or every version
with `--versions all`. `Repository.load(name)` reads a model's folder again and swaps what
changed in atomically through `ModelServer.install`: new sessions are opened and warmed
first, so a broken new file leaves the old version serving and the error is reported.
`--poll S` does the same for every model whose files changed, and unloads removed ones.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.serve.models import ModelServer

MODEL_FILES = ("model.onnx", "model.ort")
POLICIES = ("latest", "all")


@dataclass(frozen=True)
class Version:
    """One version's file, and the stamp that tells a changed file."""

    version: str
    path: Path
    stamp: tuple[int, int]  # (mtime_ns, size)


def model_file(folder: Path) -> Path | None:
    """The model file of a version folder, if it has one."""
    return next((folder / n for n in MODEL_FILES if (folder / n).is_file()), None)


def scan_model(root: Path, name: str, policy: str) -> list[Version]:
    """The versions of DIR/NAME the policy serves (latest first); [] when there are none."""
    folder = root / name
    found = []
    if folder.is_dir():
        for child in folder.iterdir():
            path = model_file(child) if child.name.isdigit() else None
            if path is not None:
                stat = path.stat()
                found.append(Version(child.name, path, (stat.st_mtime_ns, stat.st_size)))
    found.sort(key=lambda v: int(v.version), reverse=True)
    return found if policy == "all" else found[:1]


def scan(root: Path, policy: str) -> dict[str, list[Version]]:
    """Every model of the repository with the versions the policy serves."""
    if not root.is_dir():
        raise CnnkitError(f"--model-repository {root}: no such folder")
    models = {}
    for child in sorted(root.iterdir()):
        versions = scan_model(root, child.name, policy) if child.is_dir() else []
        if versions:
            models[child.name] = versions
    return models


class Repository:
    """The models of a repository folder, loaded into a ModelServer and kept in step."""

    def __init__(self, root: Path, policy: str, server: ModelServer, log=None):
        if policy not in POLICIES:
            raise CnnkitError(f"--versions {policy!r}: expected one of {', '.join(POLICIES)}")
        self.root, self.policy, self.server = root, policy, server
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.loaded: dict[str, list[Version]] = {}
        self.failures: dict[str, str] = {}  # name -> why its last load failed
        self.broken: dict[str, list[Version]] = {}  # name -> the files that failed (no retry)
        self.unloaded: set[str] = set()  # unloaded by request: --poll leaves them until a load
        self.lock = threading.Lock()  # one load at a time
        self.stopped = threading.Event()

    def load_all(self) -> None:
        """Load every model at start; a bad file here is a CnnkitError (nothing is served)."""
        models = scan(self.root, self.policy)
        if not models:
            raise CnnkitError(f"--model-repository {self.root}: no NAME/VERSION/model.onnx in it")
        for name, versions in models.items():
            self.install(name, versions)

    def install(self, name: str, versions: list[Version]) -> None:
        """Open, warm and swap in `versions` of `name` (unchanged versions are kept)."""
        kept = {v.version: v for v in self.loaded.get(name, [])}
        fresh = [v for v in versions if kept.get(v.version) != v]
        self.server.install(
            name,
            [(v.version, v.path) for v in versions],
            reopen={v.version for v in fresh},
        )
        self.loaded[name] = versions

    def load(self, name: str) -> None:
        """(Re)load one model from its folder; CnnkitError naming why, with the old serving."""
        with self.lock:
            versions = scan_model(self.root, name, self.policy)
            if not versions:
                raise CnnkitError(f"{self.root / name}: no VERSION/model.onnx in it")
            try:
                self.install(name, versions)
            except CnnkitError as exc:
                self.failures[name] = str(exc)
                self.log(f"error: reloading {name} failed, the served version stays: {exc}")
                raise
            self.failures.pop(name, None)
            self.unloaded.discard(name)
            self.log(f"loaded {name} versions {', '.join(v.version for v in versions)}")

    def unload(self, name: str) -> None:
        """Stop serving a model (queued requests are answered first)."""
        with self.lock:
            if name not in self.loaded:
                raise KeyError(name)
            self.server.uninstall(name)
            del self.loaded[name]
            self.unloaded.add(name)
            self.log(f"unloaded {name}")

    def index(self) -> list[dict]:
        """Every model in the folder: name, version, state (READY / UNAVAILABLE), reason."""
        entries = []
        for name, versions in scan(self.root, "all").items():
            served = {v.version for v in self.loaded.get(name, [])}
            for version in versions:
                ready = version.version in served
                entry = {"name": name, "version": version.version,
                         "state": "READY" if ready else "UNAVAILABLE"}  # fmt: skip
                if not ready:
                    entry["reason"] = self.failures.get(name, "not loaded")
                entries.append(entry)
        return entries

    def poll(self, seconds: float) -> None:
        """Every `seconds`: reload changed models, load new ones, unload removed ones."""
        while not self.stopped.wait(seconds):
            try:
                found = scan(self.root, self.policy)
            except CnnkitError as exc:
                self.log(f"error: --poll: {exc}")
                continue
            for name, versions in found.items():
                if name in self.unloaded:
                    continue
                if versions not in (self.loaded.get(name), self.broken.get(name)):
                    self.try_load(name, versions)
            for name in set(self.loaded) - set(found):
                self.unload(name)
                self.unloaded.discard(name)  # its folder went: a new one is loaded again

    def try_load(self, name: str, versions: list[Version]) -> None:
        """A poll's load: a failure is logged (once per set of files), never raised."""
        try:
            self.load(name)
        except CnnkitError:
            self.broken[name] = versions  # not retried until its files change again
