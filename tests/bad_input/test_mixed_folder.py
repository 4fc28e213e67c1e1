"""10,000 inputs with every kind of bad file mixed in: one row each, in order, bounded memory.

The run happens in a real subprocess that reports its own peak RSS; the ceiling is fixed
(MEMORY_CEILING_MB), far below what the sparse 20000x20000 array, the bomb header or
the 2,000,000-array .npy in the mix would cost if any of them were decoded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers.bad_input import png_header, strict_rows
from tests.helpers.cli import ROOT

TOTAL = 10_000
MEMORY_CEILING_MB = 300  # measured ~95 MB (onnxruntime + numpy + Pillow + 10,000 rows)

# VmHWM (peak RSS of this process image); ru_maxrss would include the forked pytest's pages.
REPORT_RSS = """
import runpy, sys
sys.argv = ["cnnkit", *sys.argv[2:]]
try:
    runpy.run_path({cli!r}, run_name="__main__")
finally:
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    with open({rss!r}, "w") as handle:
        handle.write(peak)
"""


def bad_files(folder, world) -> None:
    """One of every kind of bad input (names start with 'b' so they sort among the good)."""
    (folder / "b00-zero.png").write_bytes(b"")
    (folder / "b01-truncated.png").write_bytes(world.good.read_bytes()[:60])
    (folder / "b02-text.png").write_text("notes, not pixels\n")
    (folder / "b03-bomb.png").write_bytes(png_header(60_000, 60_000))
    (folder / "b04-tall.png").write_bytes(png_header(100_000, 1_000))
    os.mkfifo(folder / "b05-fifo.png")
    (folder / "b06-dangling.png").symlink_to(folder / "nowhere.png")
    (folder / "b07-device.png").symlink_to("/dev/zero")
    with open(os.path.join(os.fsencode(folder), b"b08-\xff-broken.png"), "wb") as handle:
        handle.write(b"\x89PNG broken")
    shutil.copy(world.good, os.path.join(os.fsencode(folder), b"b09-\xfe-good.png"))
    np.save(folder / "b10-nan.npy", np.full((1, 32, 32), np.nan, np.float32))
    np.save(folder / "b11-wrong-shape.npy", np.zeros((3, 8, 8), np.float32))
    np.save(folder / "b12-object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (folder / "b13-truncated.npy").write_bytes((folder / "b11-wrong-shape.npy").read_bytes()[:200])
    np.save(folder / "b14-zero-d.npy", np.float32(3.0))
    np.save(folder / "b15-five-d.npy", np.zeros((1, 1, 1, 32, 32), np.float32))
    np.save(folder / "b16-bool.npy", np.zeros((1, 32, 32), bool))
    np.save(folder / "b17-float64-huge.npy", np.full((1, 32, 32), 1e300))
    np.save(folder / "b18-many.npy", np.zeros((2_000_000, 2, 2), np.uint8))
    big = np.lib.format.open_memmap(folder / "b19-sparse.npy", "w+", np.uint8, (20_000, 20_000))
    big.flush()
    np.save(folder / "b20-empty-wide.npy", np.zeros((8, 0), np.uint8))


@pytest.mark.slow  # 10,000 inputs: about a minute on 2 loaded cores
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's VmHWM")
def test_ten_thousand_mixed_inputs_one_row_each_in_order(world, tmp_path):
    """Exactly one strict-JSON row per input, in input order, under a fixed memory ceiling."""
    folder = tmp_path / "in"
    folder.mkdir()
    bad_files(folder, world)
    good = world.good.read_bytes()
    count = len(os.listdir(folder))
    (folder / "sub").mkdir()
    for i in range(TOTAL - count):
        place = folder / "sub" if i % 10 == 0 else folder
        (place / f"g{i:05d}.png").write_bytes(good)
    expected = [str(path) for path in sorted_walk(folder)]
    assert len(expected) == TOTAL
    rss = tmp_path / "rss"
    code = REPORT_RSS.format(cli=str(ROOT / "cli.py"), rss=str(rss))
    args = ["infer", world.onnx, folder, "-o", tmp_path / "out", "-b", "16", "-q"]
    result = subprocess.run(
        [sys.executable, "-c", code, "cnnkit", *map(str, args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr  # some inputs failed, none were lost
    assert "Traceback" not in result.stderr
    rows = strict_rows(tmp_path / "out" / "results.jsonl", expected=TOTAL)
    assert [row["path"] for row in rows] == expected
    failed = {os.path.basename(row["path"]) for row in rows if row["status"] != "ok"}
    assert len(failed) == 20 and not any(name.startswith("g") for name in failed)
    peak_mb = int(rss.read_text()) / 1024  # VmHWM is in KiB
    assert peak_mb < MEMORY_CEILING_MB, f"peak RSS {peak_mb:.0f} MB"


def sorted_walk(folder):
    """Input order: each folder's files sorted, subfolders after, as `cnnkit infer` walks."""
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(root, name)
