"""The edge story from a wheel: `pip wheel .`, copied into a fresh venv, as README shows.

With the runtime extra alone (no torch) profile, infer and bench work on an exported model,
and every verb that needs torch says so in one line with exit 2. With torch, the whole
chain runs from the wheel too. Both build real virtual environments: slow."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.helpers.cli import assert_one_line_error
from tests.helpers.e2e import build_wheel, cnnkit, fresh_venv, ok, run_chain, write_digit_pngs

pytestmark = pytest.mark.slow

TORCH_VERBS = [
    ("models",),
    ("train", "lenet5", "--epochs", "1"),
    ("export", "lenet5"),
    ("demo", "--quick"),
    ("compare", "--models", "lenet5"),
    ("profile", "lenet5"),
    ("bench", "MODEL", "--against-torch", "lenet5", "--iterations", "1"),
    ("quantize", "MODEL", "--data", "digits"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel of the checkout, built once for this module."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_installs_one_import_root(wheel):
    """Nothing generic at the top of site-packages: only `toolkit` (and the dist-info)."""
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"toolkit"}, tops
    assert "toolkit/models/resnet.py" in names and "toolkit/cli.py" in names


def test_runtime_extra_without_torch(wheel, tmp_path):
    """The edge install: runtime verbs work, torch verbs give one line and exit 2."""
    from toolkit.export import export_onnx

    model = export_onnx("lenet5", out=tmp_path / "lenet5.onnx", quiet=True).path
    bin_dir = fresh_venv(tmp_path / "venv", f"{wheel}[runtime]")
    python = bin_dir / "python"
    assert ok(cnnkit("--version", cwd=tmp_path, bin_dir=bin_dir)).stdout.count("not installed")
    probe = __import__("subprocess").run(
        [str(python), "-c", "import torch"], capture_output=True, text=True
    )
    assert probe.returncode != 0, "the runtime venv must not have torch"

    profile = ok(cnnkit("profile", model, "--json", cwd=tmp_path, bin_dir=bin_dir))
    assert json.loads(profile.stdout)["totals"]["params"] == 61_706
    write_digit_pngs(tmp_path / "pngs", count=4)
    ok(cnnkit("infer", model, "pngs", "--out", "preds", "-q", cwd=tmp_path, bin_dir=bin_dir))
    assert len((tmp_path / "preds/results.jsonl").read_text().splitlines()) == 4
    bench = ok(
        cnnkit(
            "bench", model, "--iterations", "3", "--warmup", "1", "--threads", "1",
            "--no-save", "--json", cwd=tmp_path, bin_dir=bin_dir,
        )
    )  # fmt: skip
    assert json.loads(bench.stdout)

    for verb in TORCH_VERBS:
        args = [str(model) if a == "MODEL" else a for a in verb]
        result = cnnkit(*args, cwd=tmp_path, bin_dir=bin_dir)
        assert_one_line_error(result, "cnnkit[train]")
    plot = ("bench", str(model), "--plot", "b.png", "--iterations", "1")
    assert_one_line_error(cnnkit(*plot, cwd=tmp_path, bin_dir=bin_dir), "cnnkit[plot]")
    assert not (tmp_path / "b.png").exists() and not (tmp_path / "runs").exists()


def test_whole_chain_from_the_wheel(wheel, tmp_path):
    """The wheel with the train extra (torch from this machine's disk): the whole chain."""
    bin_dir = fresh_venv(tmp_path / "venv", "torch==2.13.0", f"{wheel}[train,runtime]")
    work = tmp_path / "work"
    work.mkdir()
    run_chain(work, bin_dir)
