"""The demo's inference inputs: the test split as PNG files, a few broken files, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.evaluate.metrics import accuracy, confusion_matrix, mean_iou

BROKEN = {
    "zero-bytes.png": b"",
    "truncated.png": None,  # filled with the first bytes of a real PNG
    "not-an-image.jpg": b"this is a text file named like a JPEG\n",
}


def _to_pil(image: np.ndarray) -> Image.Image:
    """An HWC uint8 array as a gray or RGB Pillow image."""
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def write_split_pngs(
    images: np.ndarray, targets: np.ndarray, classes: list[str], folder: Path
) -> list[Path]:
    """Write each test image as PNG (truth kept in <folder>-truth.json); returns (paths, truth)."""
    folder.mkdir(parents=True, exist_ok=True)
    truth, paths = {}, []
    for index, (image, target) in enumerate(zip(images, targets, strict=True)):
        path = folder / f"{index:04d}.png"
        _to_pil(image).save(path)
        if target.ndim == 0:
            truth[path.name] = classes[int(target)]
        else:
            mask_path = folder.parent / f"{folder.name}-truth" / path.name
            mask_path.parent.mkdir(exist_ok=True)
            Image.fromarray(target).save(mask_path)
            truth[path.name] = str(mask_path)
        paths.append(path)
    (folder.parent / f"{folder.name}-truth.json").write_text(json.dumps(truth, indent=1))
    return paths, truth


def write_broken_files(folder: Path, good_png: Path) -> list[Path]:
    """Files a user really feeds a model by mistake: empty, truncated, text named .jpg."""
    paths = []
    for name, content in BROKEN.items():
        data = content if content is not None else good_png.read_bytes()[:40]
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def score_classification(rows: list[dict], truth: dict[str, str]) -> dict:
    """Accuracy of `infer` rows against the truth of the files that have one (eval's
    counting: a scored file whose row failed counts as wrong)."""
    scored = [r for r in rows if Path(r["path"]).name in truth]
    names = sorted(set(truth.values()) | {r["label"] for r in scored if r["status"] == "ok"})
    index = {name: k for k, name in enumerate(names)}
    target = [index[truth[Path(r["path"]).name]] for r in scored]
    ok = [i for i, r in enumerate(scored) if r["status"] == "ok"]
    pred = np.asarray([index[scored[i]["label"]] for i in ok], np.int64)
    confusion = confusion_matrix(pred, np.asarray([target[i] for i in ok], np.int64), len(names))
    failed = [t for t, r in zip(target, scored, strict=True) if r["status"] != "ok"]
    missed = np.bincount(np.asarray(failed, np.int64), minlength=len(names))
    return {"images": len(scored), "accuracy": accuracy(confusion, missed), **failures(rows)}


def score_segmentation(rows: list[dict], truth: dict[str, str], out_dir: Path, k: int) -> dict:
    """Mean IoU of the predicted masks against the truth label maps (255 ignored)."""
    confusion = np.zeros((k, k), dtype=np.int64)
    for row in rows:
        name = Path(row["path"]).name
        if row["status"] != "ok" or name not in truth:
            continue
        pred = np.asarray(Image.open(out_dir / row["mask"]))
        target = np.asarray(Image.open(truth[name]))
        confusion += confusion_matrix(pred, target, k)
    return {
        "images": sum(Path(r["path"]).name in truth for r in rows),
        "miou": mean_iou(confusion),
        "pixel_accuracy": accuracy(confusion),
        **failures(rows),
    }


def failures(rows: list[dict]) -> dict:
    """How many `infer` rows failed, and each one's file name and reason."""
    failed = [r for r in rows if r["status"] == "error"]
    return {
        "failed": len(failed),
        "failures": [{"path": Path(r["path"]).name, "error": r["error"]} for r in failed],
    }
