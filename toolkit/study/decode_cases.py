"""`make bench` on camera-sized inputs: the runner on 12 MP photos, and whether scaled
decoding changes any answer.

Photos: the runner (fast decode) over JPEGs of 4000x3000 against session.run on
pre-decoded tensors, with the exact full-decode path on a subset for reference.
Accuracy: the digits test split saved as 12 MP JPEGs, a LeNet-5 trained on digits, top-1
from scaled decoding against top-1 from full decoding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.runfolder import RunFolder
from toolkit.study.comparisons import infer_inputs, raw_ips, runner_row
from toolkit.study.photos import write_big_digits, write_photos

if TYPE_CHECKING:
    from toolkit.study.plan import StudyPlan

PHOTO_TARGET = 0.6  # runner images/s over raw session.run images/s on 12 MP JPEGs
AGREEMENT_TARGET = 0.995  # top-1 of scaled decoding equal to full decoding


def mean_bytes(paths: list[Path]) -> float:
    """Mean file size in bytes."""
    return sum(p.stat().st_size for p in paths) / len(paths)


def photos_vs_raw(onnx_path: Path, plan: StudyPlan, work: Path) -> dict:
    """The runner over photo-sized JPEGs (fast decode; full on a subset) vs raw session.run."""
    folder = work / "photos"
    photos = write_photos(folder, plan.photos, size=plan.photo_size)
    fast = infer_inputs(onnx_path, [folder], plan, work / "photo-preds")
    full = infer_inputs(
        onnx_path, photos[: plan.photos_full], plan, work / "photo-preds-full", decode="full"
    )
    raw = raw_ips(onnx_path, plan)
    return {
        "images": len(photos),
        "photo_size": list(plan.photo_size),
        "mean_mb": mean_bytes(photos) / 1e6,
        "batch": plan.runner_batch,
        **runner_row(fast, raw, PHOTO_TARGET),
        "full_decode": {"images": len(photos[: plan.photos_full]), **runner_row(full, raw, 0.0)},
    }


def labels_by_path(results: Path) -> dict[str, str]:
    """path -> top-1 label of an ok row in results.jsonl."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    return {row["path"]: row["label"] for row in rows if row["status"] == "ok"}


def train_lenet(plan: StudyPlan, work: Path) -> Path:
    """A LeNet-5 trained on digits (cnnkit fit, then export); its .onnx path."""
    from toolkit.export import export_onnx
    from toolkit.study.train_speed import train_with_fit

    size = (1, 32, 32)
    run_dir = train_with_fit("lenet5", size, plan.accuracy_epochs, 64, None, work / "lenet-runs")
    return export_onnx(run_dir, out=RunFolder(run_dir).onnx, parity=False, quiet=True).path


def decode_agreement(plan: StudyPlan, work: Path) -> dict:
    """Top-1 of LeNet-5 on 12 MP JPEG digits: scaled (fast) decoding against full decoding."""
    from toolkit.data import split_arrays

    onnx_path = train_lenet(plan, work)
    images, targets, classes = split_arrays("digits", "test", (1, 32, 32), 0)
    count = min(len(images), plan.accuracy_images or len(images))
    folder = work / "big-digits"
    paths = write_big_digits(folder, images[:count], size=plan.photo_size)
    runs = {}
    for mode in ("fast", "full"):
        summary = infer_inputs(onnx_path, [folder], plan, work / f"digits-{mode}", decode=mode)
        runs[mode] = (summary, labels_by_path(Path(summary.results)))
    fast, full = runs["fast"][1], runs["full"][1]
    truth = {str(p): classes[int(t)] for p, t in zip(paths, targets[:count], strict=True)}
    agree = sum(fast.get(k) == full.get(k) for k in truth) / count
    return {
        "model": "lenet5",
        "images": count,
        "photo_size": list(plan.photo_size),
        "agreement": agree,
        "target": AGREEMENT_TARGET,
        "meets_target": agree >= AGREEMENT_TARGET,
        "fast_accuracy": sum(fast.get(k) == v for k, v in truth.items()) / count,
        "full_accuracy": sum(full.get(k) == v for k, v in truth.items()) / count,
        "decode_ms": {mode: runs[mode][0].split["decode_ms_per_image"] for mode in runs},
    }
