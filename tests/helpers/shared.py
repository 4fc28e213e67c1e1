"""Fixtures built once per test session and shared by the pytest-xdist workers.

pytest-xdist's documented recipe: the first worker to ask builds into the base temp
folder the workers share, under a file lock; the others wait for it and reuse the result.
Only for fixtures whose result no test changes (a run folder that is only read).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import portalocker


def built_once(tmp_path_factory, worker_id: str, name: str, build: Callable[[Path], None]) -> Path:
    """NAME's folder after `build(folder)` ran once for all workers of this session."""
    if worker_id == "master":  # no xdist: an ordinary session fixture
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    folder = tmp_path_factory.getbasetemp().parent / name
    done = folder / ".built"
    # Longer than any build may take (run_cli's own limit is 600 s).
    with portalocker.Lock(str(folder) + ".lock", timeout=900):
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def save_result(result: subprocess.CompletedProcess, path: Path) -> None:
    """A finished process's exit code and output, for the workers that did not run it."""
    record = {"args": [str(a) for a in result.args], "returncode": result.returncode}
    path.write_text(json.dumps({**record, "stdout": result.stdout, "stderr": result.stderr}))


def load_result(path: Path) -> subprocess.CompletedProcess:
    """The process `save_result` recorded."""
    data = json.loads(path.read_text())
    return subprocess.CompletedProcess(
        data["args"], data["returncode"], data["stdout"], data["stderr"]
    )
