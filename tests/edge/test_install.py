"""A linux-x86_64 kit from `cnnkit bundle`, installed offline by its install.sh into a fresh
venv outside the checkout (PIP_NO_INDEX=1): doctor and verify pass there, and the venv has
no torch; a tampered file stops install.sh, named. Downloads wheels and builds a venv: slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.helpers.e2e import cnnkit, ok
from tests.helpers.edge import colour_classifier

pytestmark = pytest.mark.slow


def current_umask() -> int:
    """This process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def install(kit, venv, cwd) -> subprocess.CompletedProcess:
    """Run KIT/install.sh VENV with no package index reachable, from `cwd`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        ["sh", str(kit / "install.sh"), str(venv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**env, "PIP_NO_INDEX": "1", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """An x86_64 / CPython 3.11 kit of one classifier, made by the console script."""
    work = tmp_path_factory.mktemp("bundle")
    model = colour_classifier(work / "mix.onnx")
    made = ok(cnnkit("bundle", model, "--platform", "linux-x86_64", "-o", "kit", cwd=work))
    assert "on the device: sh kit/install.sh" in made.stdout
    return work / "kit"


def test_offline_install_verifies_without_torch(kit, tmp_path):
    done = install(kit, tmp_path / "venv", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "verify passed: 4 samples" in done.stdout
    bin_dir = tmp_path / "venv/bin"
    probe = subprocess.run([str(bin_dir / "python"), "-c", "import torch"], capture_output=True)
    assert probe.returncode != 0, "the kit's venv must not have torch"
    wheels = sorted(p.name.split("-")[0] for p in (kit / "wheels").iterdir())
    assert "onnxruntime" in wheels and "torch" not in wheels
    assert kit.stat().st_mode & 0o777 == 0o777 & ~current_umask()
    info = json.loads((kit / "kit.json").read_text())
    assert info["glibc"] == "2.28" and info["platform"] == "linux-x86_64"
    infer = cnnkit("infer", kit / "models/mix.onnx", kit / "samples/mix", "--out", "preds",
                   "-q", cwd=tmp_path, bin_dir=bin_dir)  # fmt: skip
    assert ok(infer) and len((tmp_path / "preds/results.jsonl").read_text().splitlines()) == 4


def test_install_sh_names_a_tampered_file(kit, tmp_path):
    copy = shutil.copytree(kit, tmp_path / "kit")
    (copy / "models/mix.onnx").write_bytes((copy / "models/mix.onnx").read_bytes() + b"\0")
    done = install(copy, tmp_path / "venv", tmp_path)
    assert done.returncode == 1
    assert "install.sh: error: models/mix.onnx differs from MANIFEST" in done.stderr
    assert not (tmp_path / "venv").exists()  # stopped before anything was installed
