"""`cnnkit verify KIT/`: prove a device gives the build machine's answers.

First every file is checked against MANIFEST; then each sample runs again here and its
row is compared with samples/expected.jsonl: the same label, and every top-k probability
within the kit's tolerance (segmentation: at most that fraction of pixels changing class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.edge.kitinfo import EXPECTED, KitInfo
from toolkit.edge.manifest import manifest_problems
from toolkit.runtime.predictor import Predictor
from toolkit.runtime.results import read_rows


@dataclass
class Verification:
    """What verify found: the samples compared and one line per problem (none: it passed)."""

    kit: Path
    tolerance: float
    samples: int = 0
    problems: list[str] = field(default_factory=list)
    worst: float = 0.0  # the largest probability difference seen

    @property
    def passed(self) -> bool:
        """True when every file and every sample matched."""
        return not self.problems

    def to_dict(self) -> dict:
        """JSON form for --json."""
        return {
            "kit": str(self.kit),
            "passed": self.passed,
            "samples": self.samples,
            "tolerance": self.tolerance,
            "worst_difference": self.worst,
            "problems": self.problems,
        }


def probability_gap(expected: dict, actual: dict) -> float:
    """The largest difference of a top-k probability between two classification rows."""
    found = {entry["label"]: entry["prob"] for entry in actual.get("topk") or []}
    gaps = [abs(e["prob"] - found[e["label"]]) for e in expected["topk"] if e["label"] in found]
    return max(gaps, default=abs(expected["score"] - actual["score"]))


def pixel_gap(expected: dict, actual: dict) -> float:
    """The fraction of pixels whose class differs in count between two segmentation rows."""
    labels = set(expected["class_pixels"]) | set(actual["class_pixels"] or {})
    moved = sum(
        abs(expected["class_pixels"].get(k, 0) - (actual["class_pixels"] or {}).get(k, 0))
        for k in labels
    )
    return moved / 2 / max(1, sum(expected["class_pixels"].values()))


def row_problem(expected: dict, actual: dict, tolerance: float) -> tuple[str | None, float]:
    """Why `actual` differs from `expected` (None: it matches) and the gap measured."""
    where = f"{expected['path']} ({expected['model']})"
    if actual["status"] != "ok":
        return f"{where}: {actual.get('error')}", 0.0
    if actual["label"] != expected["label"]:
        return f"{where}: label {actual['label']!r}, expected {expected['label']!r}", 0.0
    segmentation = "class_pixels" in expected
    gap = pixel_gap(expected, actual) if segmentation else probability_gap(expected, actual)
    if gap > tolerance:
        what = "of the pixels change class" if segmentation else "probability difference"
        return f"{where}: {gap:.2g} {what}, above the tolerance {tolerance:g}", gap
    return None, gap


def verify_kit(kit: str | Path, tolerance: float | None = None) -> Verification:
    """Check KIT/'s files against MANIFEST, then re-run its samples against expected.jsonl."""
    kit = Path(kit)
    info = KitInfo.read(kit)
    result = Verification(kit, tolerance if tolerance is not None else info.tolerance)
    result.problems = manifest_problems(kit)
    if result.problems:
        return result  # a changed kit proves nothing: its samples are not run
    expected = read_rows(kit / EXPECTED)
    for model in info.models:
        rows = [row for row in expected if row["model"] == model]
        predictor = Predictor(kit / model, device="cpu", quiet=True)
        actual = predictor.predict([kit / row["path"] for row in rows])
        for want, got in zip(rows, actual, strict=True):
            problem, gap = row_problem(want, got, result.tolerance)
            result.worst = max(result.worst, gap)
            result.samples += 1
            if problem:
                result.problems.append(problem)
    return result
