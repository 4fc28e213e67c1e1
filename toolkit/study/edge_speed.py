"""make bench, edge files: batch-1 latency of a self-contained file on uint8 pixels against
the plain file plus cnnkit's Python preprocessing, and the cold start of `cnnkit infer` --
process start to the first row -- on the plain .onnx, the .ort, onnxruntime's saved
optimised model, and a bare onnxruntime script (the floor that lazier imports could reach).
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.timing import time_runs

PHOTO = (640, 480)  # (W, H) of the image both sides start from
BARE = """
import json, sys, time
import numpy as np, onnxruntime as ort
from PIL import Image
model, image, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = ort.SessionOptions(); options.intra_op_num_threads = threads
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
meta = {k: json.loads(v) for k, v in session.get_modelmeta().custom_metadata_map.items()}
c, h, w = meta["cnnkit.input_size"]
decoded = Image.open(image).convert("L" if c == 1 else "RGB")
pixels = np.asarray(decoded.resize((w, h), Image.BILINEAR)).reshape(1, h, w, c)
if not meta.get("cnnkit.self_contained"):
    mean, std = np.float32(meta["cnnkit.mean"]), np.float32(meta["cnnkit.std"])
    x = (pixels.astype(np.float32) / np.float32(255) - mean) / std
    pixels = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
label = int(np.argmax(session.run(None, {session.get_inputs()[0].name: pixels})[0][0]))
with open("/proc/self/status") as status:  # VmHWM: this process's peak RSS (Linux)
    peak = next((int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:")), None)
print(json.dumps({"label": label, "peak_rss_mb": peak}))
"""


def sessions(paths: list[Path], threads: int) -> list:
    """CPU sessions with `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return [
        ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in paths
    ]


def photo(path: Path, channels: int) -> Path:
    """A smooth seeded JPEG of PHOTO's size (what both sides start from)."""
    coarse = np.random.default_rng(0).integers(0, 256, (PHOTO[1] // 8, PHOTO[0] // 8, 3), np.uint8)
    image = Image.fromarray(coarse).resize(PHOTO, Image.Resampling.BICUBIC)
    image.convert("L" if channels == 1 else "RGB").save(path, quality=90)
    return path


def edge_files(plain: Path, work: Path) -> dict[str, Path]:
    """The self-contained (model size, and --resize) and .ort forms of `plain`."""
    from toolkit.export import EdgeOptions, ExportOptions, export_edge

    files = {}
    for name, edge in (
        ("self_contained", EdgeOptions(embed_preprocess=True)),
        ("self_contained_resize", EdgeOptions(embed_preprocess=True, resize=True)),
        ("ort", EdgeOptions(format="ort")),
    ):
        suffix = ".ort" if edge.format == "ort" else ".onnx"
        out = work / f"{plain.stem}.{name}{suffix}"
        files[name] = export_edge(plain, out, ExportOptions(quiet=True, edge=edge)).path
    return files


def pixels_vs_python(plain: Path, files: dict, image: Path, plan) -> list[dict]:
    """Batch-1 p50 from a decoded image: plain file + cnnkit's preprocessing, against the
    self-contained file on the pixels (at the model's size, and at the photo's with Resize)."""
    from toolkit.runtime.interpret import interpret
    from toolkit.runtime.preprocess import prepare, to_model_mode

    interp = interpret(plain)
    spec = interp.spec
    decoded = to_model_mode(Image.open(image), spec.channels)
    decoded.load()
    sized = decoded.resize(spec.size[::-1], Image.Resampling.BILINEAR)
    session, contained, resized = sessions(
        [plain, files["self_contained"], files["self_contained_resize"]], plan.threads
    )
    name = interp.image_input

    def hwc(img):
        return np.asarray(img).reshape(1, img.size[1], img.size[0], spec.channels)

    cases = {
        "plain + Python preprocessing, from the photo": lambda: session.run(
            None, {name: prepare(decoded, spec).array[None]}
        ),
        "self-contained --resize, from the photo": lambda: resized.run(
            None, {"pixels": hwc(decoded)}
        ),
        "plain + Python preprocessing, at the model's size": lambda: session.run(
            None, {name: prepare(sized, spec).array[None]}
        ),
        "self-contained, at the model's size": lambda: contained.run(None, {"pixels": hwc(sized)}),
    }
    rows = []
    for case, run in cases.items():
        measured = time_runs(run, warmup=plan.warmup, iterations=plan.iterations)
        rows.append({"case": case, "p50_ms": measured.stats.p50_ms})
    return rows


def child_run(command: list[str], fresh: Path | None = None, timeout: float = 300) -> dict:
    """One fresh process: wall seconds, CPU seconds (user + sys) and its stdout; `fresh`
    (an --out folder) is removed first, so every run infers."""
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CnnkitError(f"cold-start child {command[:3]} failed: {last}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "stdout": result.stdout}


def median_child(command: list[str], repeats: int, fresh: Path | None = None) -> dict:
    """The median wall time of `repeats` runs (after one untimed run warming the file cache)."""
    child_run(command, fresh)
    runs = [child_run(command, fresh) for _ in range(repeats)]
    chosen = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    lines = chosen["stdout"].strip().splitlines()
    reported = json.loads(lines[-1]) if fresh is None and lines else {}
    return {"wall_s": chosen["wall_s"], "cpu_s": chosen["cpu_s"],
            "peak_rss_mb": reported.get("peak_rss_mb")}  # fmt: skip


def saved_optimised(plain: Path, work: Path) -> Path:
    """onnxruntime's own optimised copy of `plain` (optimized_model_filepath, level all)."""
    import onnxruntime as ort

    out = work / f"{plain.stem}.optimised.onnx"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(out)
    ort.InferenceSession(str(plain), options, providers=["CPUExecutionProvider"])
    return out


def cold_starts(plain: Path, files: dict, image: Path, work: Path, plan) -> list[dict]:
    """Process start to the first row, each variant in a fresh process (median of repeats)."""
    cnnkit = str(Path(sys.executable).with_name("cnnkit"))
    optimised = saved_optimised(plain, work)
    threads = str(plan.threads)

    def infer(model: Path, *extra: str) -> list[str]:
        return [cnnkit, "infer", str(model), str(image), "--out", str(work / "cold"),
                "--quiet", "--threads", threads, "--workers", "1", *extra]  # fmt: skip

    bare = [sys.executable, "-c", BARE]
    cases = [
        ("cnnkit infer, plain .onnx", infer(plain)),
        ("cnnkit infer, .ort (optimisations applied at conversion)", infer(files["ort"])),
        ("cnnkit infer, saved optimised .onnx, --graph-opt disable",
         infer(optimised, "--graph-opt", "disable")),
        ("bare onnxruntime script, plain .onnx (no onnx, click, rich imports)",
         [*bare, str(plain), str(image), threads]),
        ("bare onnxruntime script, .ort", [*bare, str(files["ort"]), str(image), threads]),
    ]  # fmt: skip
    rows = []
    for case, command in cases:
        fresh = work / "cold" if command[0] == cnnkit else None
        rows.append({"case": case, **median_child(command, plan.process_repeats, fresh)})
    return rows


def session_creation(plain: Path, files: dict, plan, repeats: int = 5) -> list[dict]:
    """File size and median in-process session creation of the .onnx and the .ort."""
    rows = []
    for label, path in (("plain .onnx", plain), (".ort", files["ort"])):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            sessions([path], plan.threads)
            times.append(time.perf_counter() - start)
        rows.append({"file": label, "bytes": path.stat().st_size,
                     "session_ms": 1000 * statistics.median(times)})  # fmt: skip
    return rows


def edge_speed(plain: Path, label: str, work: Path, plan) -> dict:
    """One model's section: latency rows, session creation, cold starts."""
    work.mkdir(parents=True, exist_ok=True)
    channels = json.loads(_meta(plain)["cnnkit.input_size"])[0]
    image = photo(work / "photo.jpg", channels)
    files = edge_files(plain, work)
    return {
        "model": label,
        "photo": list(PHOTO),
        "latency": pixels_vs_python(plain, files, image, plan),
        "sessions": session_creation(plain, files, plan),
        "cold_start": cold_starts(plain, files, image, work, plan),
    }


def _meta(path: Path) -> dict:
    (session,) = sessions([path], 1)
    return session.get_modelmeta().custom_metadata_map


def edge_sections(plan, work: Path, resnet: tuple[Path, str], lenet: tuple[Path, str]) -> list:
    """The edge section for ResNet-18 and LeNet-5 (one, when the quick plan makes them one)."""
    models = [resnet] if resnet[0] == lenet[0] else [resnet, lenet]
    return [edge_speed(path, label, work / f"edge-{i}", plan) for i, (path, label) in
            enumerate(models)]  # fmt: skip
