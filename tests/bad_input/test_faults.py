"""A faulty environment: a full disk, Ctrl-C, a umask, leftovers of a killed run.

A write that fails (here: over RLIMIT_FSIZE, which fails like a full disk) is one line
and exit 2 in every verb; Ctrl-C is exit 130 with how to continue; files get the mode
the umask gives; staging folders of dead runs are removed by the next run.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.helpers.bad_input import colour_images, one_line, snapshot, strict_rows
from tests.helpers.cli import ROOT, invoke, run_cli


def small_disk(limit: int):
    """preexec_fn: files may grow to `limit` bytes; a longer write fails (EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def cli_on_small_disk(limit: int, *args, cwd):
    """`python cli.py ARGS` where no file may grow past `limit` bytes."""
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk(limit),
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_a_full_disk_in_infer_is_one_line_and_keeps_the_rows(world, tmp_path):
    """results.jsonl cannot grow: exit 2, one line; --resume later completes every row."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        shutil.copy(world.good, folder / f"img_{i:02d}.png")
    out = tmp_path / "out"
    result = cli_on_small_disk(
        1500, "infer", world.onnx, folder, "-o", out, "-b", "2", cwd=tmp_path
    )
    one_line(result, "too large")
    resumed = run_cli("infer", world.onnx, folder, "-o", out, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    strict_rows(out / "results.jsonl", expected=12)


@pytest.mark.slow  # three subprocesses that import torch
@pytest.mark.parametrize(
    "verb",
    [
        ("export", "{run}", "-o", "{out}/model.onnx"),
        ("quantize", "{onnx}", "--mode", "fp16", "-o", "{out}/model.fp16.onnx"),
        ("train", "lenet", "--limit", "32", "--epochs", "1", "--runs-dir", "{out}"),
    ],
    ids=["export", "quantize", "train"],
)
def test_a_full_disk_is_one_line_in_every_writer(world, tmp_path, verb):
    """export, quantize and train on a disk that fills: one line, exit 2, no partial files."""
    out = tmp_path / "out"
    out.mkdir()
    names = {"run": world.run, "onnx": world.onnx, "out": out}
    args = [word.format(**names) for word in verb]
    before = snapshot(world.run)
    result = cli_on_small_disk(2000, *args, cwd=tmp_path)
    one_line(result, "too large")
    assert snapshot(world.run) == before
    assert not [p for p in out.rglob("*") if p.name.endswith(".onnx") and p.is_file()]


def test_ctrl_c_exits_130_and_says_how_to_resume(world, tmp_path):
    """SIGINT mid-run: exit 130, one line naming --resume; the resumed run loses nothing."""
    stack = tmp_path / "stack.npy"
    np.save(stack, np.zeros((4_000, 12, 12), np.uint8))
    out = tmp_path / "out"
    # Python keeps SIGINT ignored when started so (a background job of a script): restore it.
    with_ctrl_c = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
        " sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    cli = [sys.executable, "-c", with_ctrl_c, str(ROOT / "cli.py")]
    args = [*cli, "infer", world.onnx, stack, "-o", out, "-b", "1"]
    process = subprocess.Popen(
        list(map(str, args)), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while not (results.exists() and results.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert process.returncode == 130, stderr.decode()
    assert len(lines) == 1 and "--resume" in lines[0], lines
    resumed = run_cli("infer", world.onnx, stack, "-o", out, "--resume", "-b", "256", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    rows = strict_rows(results, expected=4_000)
    assert [row["path"] for row in rows] == [f"{stack}#{i}" for i in range(4_000)]


def test_outputs_get_the_umask_mode_not_0600(world, tmp_path):
    """results, csv, masks, overlays, checkpoints and models: 0666 less the umask."""
    image = colour_images(tmp_path / "in")[0]
    out = tmp_path / "out"
    old = os.umask(0o002)
    try:
        assert invoke("infer", world.seg, image, "-o", out, "--overlay", "--csv").returncode == 0
        run = tmp_path / "runs"
        assert (
            invoke("train", "lenet", "--limit", "32", "--epochs", "1", "--runs-dir", run).returncode
            == 0
        )
        (trained,) = run.iterdir()
        assert invoke("export", trained).returncode == 0
    finally:
        os.umask(old)
    written = [p for p in [*out.rglob("*"), *trained.iterdir()] if p.is_file()]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in written}
    assert {"results.jsonl", "results.csv", "last.pt", "config.json", "model.onnx"} <= set(modes)
    assert set(modes.values()) == {0o664}, modes


def test_staging_folders_of_dead_runs_are_removed(world, tmp_path):
    """A staging folder left by a killed export (dead pid) goes; a live run's stays."""
    run = tmp_path / "run"
    shutil.copytree(world.run, run)
    dead = run / ".model.onnx.999999999.abcd"  # no process has this id
    live = run / f".model.onnx.{os.getpid()}.efgh"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"half a model")
    assert invoke("export", run).returncode == 0
    assert not dead.exists() and live.exists()


def test_a_raw_pickle_checkpoint_is_exactly_one_line(world, tmp_path):
    """torch's warning about the pickle protocol is not printed on top of the error line."""
    result = run_cli("export", world.raw_pickle, "-o", tmp_path / "x.onnx", cwd=tmp_path)
    one_line(result, "raw-pickle.pt")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_image_named_oddly_and_broken_is_reported_on_one_line(world, tmp_path):
    """A broken image with a non-UTF-8 name: its failure line prints, the row round-trips."""
    folder = tmp_path / "in"
    folder.mkdir()
    bad = os.path.join(os.fsencode(folder), b"broken_\xfe.png")
    with open(bad, "wb") as handle:
        handle.write(b"not an image")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "ok.png")
    result = run_cli("infer", world.onnx, folder, "-o", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    rows = strict_rows(tmp_path / "out" / "results.jsonl", expected=2)
    assert os.fsencode(rows[0]["path"]) == bad and rows[0]["status"] == "error"


@pytest.mark.parametrize("flag", [("--lr", "nan"), ("--label-smoothing", "5")], ids=["lr", "ls"])
def test_a_refused_train_leaves_no_run_folder(tmp_path, flag):
    """Refused before the first epoch: no half-made folder blocks the name afterwards."""
    runs = tmp_path / "runs"
    one_line(invoke("train", "lenet", *flag, "--runs-dir", runs, "--name", "x"), flag[0])
    assert not (runs / "x").exists()
