"""The run folder, runs/<name>/: the one place that names the files cnnkit keeps there.

`cnnkit train` writes config.json, last.pt, best.pt, metrics.jsonl, curves.png and
results.json; later stages default to writing beside them (model.onnx, model.int8.onnx,
profile.json, bench.json). Torch-free: export, bench and the runtime find files here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class RunFolder:
    """A run folder and the paths of its files (which need not exist yet)."""

    path: Path

    CONFIG: ClassVar[str] = "config.json"  # the resolved training configuration
    LAST: ClassVar[str] = "last.pt"  # checkpoint after the latest epoch (resume reads it)
    BEST: ClassVar[str] = "best.pt"  # checkpoint of the best validation epoch
    METRICS: ClassVar[str] = "metrics.jsonl"  # one JSON object per epoch
    CURVES: ClassVar[str] = "curves.png"
    RESULTS: ClassVar[str] = "results.json"  # test metrics of the best epoch
    ONNX: ClassVar[str] = "model.onnx"
    PROFILE: ClassVar[str] = "profile.json"
    BENCH: ClassVar[str] = "bench.json"
    # What train writes (and removes when --exist-ok reuses the folder).
    TRAIN_FILES: ClassVar[tuple[str, ...]] = (CONFIG, METRICS, RESULTS, LAST, BEST, CURVES)
    EPOCH_FILES: ClassVar[tuple[str, ...]] = (LAST, BEST, METRICS)  # a finished epoch left one
    MARKERS: ClassVar[tuple[str, ...]] = (CONFIG, BEST, LAST)  # what makes a folder a run

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        """config.json."""
        return self.path / self.CONFIG

    @property
    def last(self) -> Path:
        """last.pt."""
        return self.path / self.LAST

    @property
    def best(self) -> Path:
        """best.pt."""
        return self.path / self.BEST

    @property
    def metrics(self) -> Path:
        """metrics.jsonl."""
        return self.path / self.METRICS

    @property
    def curves(self) -> Path:
        """curves.png."""
        return self.path / self.CURVES

    @property
    def results(self) -> Path:
        """results.json."""
        return self.path / self.RESULTS

    @property
    def onnx(self) -> Path:
        """model.onnx."""
        return self.path / self.ONNX

    @property
    def profile(self) -> Path:
        """profile.json, written by `profile RUN`."""
        return self.path / self.PROFILE

    @property
    def bench(self) -> Path:
        """bench.json."""
        return self.path / self.BENCH

    def has_epochs(self) -> bool:
        """True when a finished epoch left a checkpoint or a metrics row here."""
        return any((self.path / name).exists() for name in self.EPOCH_FILES)

    def is_run(self) -> bool:
        """True when the folder holds config.json or a checkpoint."""
        return any((self.path / name).is_file() for name in self.MARKERS)
