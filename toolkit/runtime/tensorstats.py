"""Streaming comparison of two tensors, batch by batch: errors, cosine, SQNR, the pass rule.

Nothing is kept across batches but running sums (and, for the median, a bounded uniform
sample), so the memory of a diff does not grow with the number of inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ERROR_STATS = ("elemwise", "max", "mean", "median")
MEDIAN_SAMPLE = 100_000  # elements per tensor kept for the median of the errors
TINY = float(np.finfo(np.float32).tiny)
DEAD_CHANNEL = 1e-3  # energy below this share of the median channel's: left out (see below)


@dataclass(frozen=True)
class Tolerance:
    """Polygraphy's pass rule: atol, rtol and which error statistic is checked."""

    atol: float | None = 1e-4  # None (with rtol None): only the SQNR floor is checked
    rtol: float | None = 1e-3
    check_error_stat: str = "elemwise"
    min_sqnr: float | None = None  # dB, on the worst channel (axis 1) when there are channels

    @property
    def checks_errors(self) -> bool:
        """False when only the SQNR floor decides (quantized comparisons by default)."""
        return self.atol is not None or self.rtol is not None

    @property
    def abs_tol(self) -> float:
        """atol, 0 when unset."""
        return self.atol or 0.0

    @property
    def rel_tol(self) -> float:
        """rtol, 0 when unset."""
        return self.rtol or 0.0

    def rule(self) -> str:
        """The rule in words, as printed under every diff table."""
        if not self.checks_errors:
            text = f"a tensor fails when its worst-channel SQNR is below {self.min_sqnr:g} dB"
            return text + "; B is the reference; NaN or Inf in either side fails"
        if self.check_error_stat == "elemwise":
            text = (
                f"an element fails when |a-b| > atol + rtol*|b| (atol {self.abs_tol:g}, "
                f"rtol {self.rel_tol:g}); a tensor fails when any element fails"
            )
        else:
            stat = self.check_error_stat
            text = (
                f"a tensor fails when {stat}(|a-b|) > atol {self.abs_tol:g} and "
                f"{stat}(|a-b|/|b|) > rtol {self.rel_tol:g}"
            )
        if self.min_sqnr is not None:
            text += f", or when its worst-channel SQNR is below {self.min_sqnr:g} dB"
        return text + "; b is side B, the reference; NaN or Inf in either side fails"


@dataclass
class TensorStats:
    """Running sums for one pair of tensors (a, b), b being the reference."""

    total: int = 0  # elements expected over all batches, for the median's sampling quota
    count: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    sum_abs: float = 0.0
    sum_rel: float = 0.0
    dot: float = 0.0
    norm_a: float = 0.0  # sum of squares
    norm_b: float = 0.0
    noise: float = 0.0  # sum of (a - b)^2
    failing: int = 0  # elements outside atol + rtol*|b|
    nan_a: int = 0
    inf_a: int = 0
    nan_b: int = 0
    inf_b: int = 0
    channel_signal: np.ndarray | None = None  # per channel (axis 1): sum b^2
    channel_noise: np.ndarray | None = None  # per channel: sum (a - b)^2
    abs_sample: list = field(default_factory=list)
    rel_sample: list = field(default_factory=list)

    def update(self, a: np.ndarray, b: np.ndarray, tol: Tolerance, channels: int | None = None):
        """Fold in one batch; `channels` (the size of axis 1) enables per-channel SQNR."""
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            self._update(a, b, tol, channels)

    def _update(self, a, b, tol: Tolerance, channels: int | None) -> None:
        a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
        self.nan_a += int(np.isnan(a64).sum())
        self.inf_a += int(np.isinf(a64).sum())
        self.nan_b += int(np.isnan(b64).sum())
        self.inf_b += int(np.isinf(b64).sum())
        diff = np.abs(a64 - b64)
        rel = diff / np.maximum(np.abs(b64), TINY)
        self.count += diff.size
        if diff.size:
            self.max_abs = max(self.max_abs, float(np.nanmax(diff)) if diff.size else 0.0)
            self.max_rel = max(self.max_rel, float(np.nanmax(rel)))
        self.sum_abs += float(np.nansum(diff))
        self.sum_rel += float(np.nansum(rel))
        self.dot += float(np.nansum(a64 * b64))
        self.norm_a += float(np.nansum(a64 * a64))
        self.norm_b += float(np.nansum(b64 * b64))
        self.noise += float(np.nansum(diff * diff))
        self.failing += int((~(diff <= tol.abs_tol + tol.rel_tol * np.abs(b64))).sum())
        if channels and a64.ndim >= 2 and a64.shape[1] == channels:
            self._update_channels(a64, b64, channels)
        if tol.check_error_stat == "median":
            self._sample(diff.ravel(), rel.ravel())

    def _update_channels(self, a64: np.ndarray, b64: np.ndarray, channels: int) -> None:
        axes = tuple(i for i in range(a64.ndim) if i != 1)
        signal = np.nansum(b64 * b64, axis=axes)
        noise = np.nansum((a64 - b64) ** 2, axis=axes)
        if self.channel_signal is None:
            self.channel_signal, self.channel_noise = signal, noise
        else:
            self.channel_signal += signal
            self.channel_noise += noise

    def _sample(self, diff: np.ndarray, rel: np.ndarray) -> None:
        quota = diff.size if not self.total else math.ceil(MEDIAN_SAMPLE * diff.size / self.total)
        if diff.size > quota:
            pick = np.random.default_rng(len(self.abs_sample)).choice(diff.size, quota, False)
            diff, rel = diff[pick], rel[pick]
        self.abs_sample.append(diff.astype(np.float32))
        self.rel_sample.append(rel.astype(np.float32))

    def sqnr_db(self) -> float:
        """10 log10(sum b^2 / sum (a-b)^2), onnxruntime's SQNR with b as the signal."""
        return sqnr(self.norm_b, self.noise)

    def worst_channel_sqnr_db(self) -> float | None:
        """The lowest per-channel SQNR (axis 1), None when channels were not tracked."""
        if self.channel_signal is None:
            return None
        # A (nearly) dead channel has no signal to measure noise against: channels with
        # less than 1/1000 of the median channel's energy are left out. The median, not the
        # mean or max, so that one blown-up channel does not make its neighbours look dead.
        floor = float(np.median(self.channel_signal)) * DEAD_CHANNEL
        pairs = zip(self.channel_signal, self.channel_noise, strict=True)
        live = [sqnr(s, n) for s, n in pairs if s > 0 and s >= floor]
        return min(live) if live else None

    def error_stat(self, stat: str) -> tuple[float, float]:
        """(abs, rel) error under `stat`: max, mean or median (median from a bounded sample)."""
        if stat in ("max", "elemwise"):
            return self.max_abs, self.max_rel
        if stat == "mean":
            n = max(self.count, 1)
            return self.sum_abs / n, self.sum_rel / n
        if not self.abs_sample:
            return 0.0, 0.0
        return (
            float(np.nanmedian(np.concatenate(self.abs_sample))),
            float(np.nanmedian(np.concatenate(self.rel_sample))),
        )

    def passed(self, tol: Tolerance) -> bool:
        """The verdict under `tol` (see Tolerance.rule)."""
        if self.nan_a or self.inf_a or self.nan_b or self.inf_b:
            return False
        worst = self.worst_channel_sqnr_db()
        if (
            tol.min_sqnr is not None
            and (worst if worst is not None else self.sqnr_db()) < tol.min_sqnr
        ):
            return False
        if not tol.checks_errors:
            return True
        if tol.check_error_stat == "elemwise":
            return self.failing == 0
        abs_err, rel_err = self.error_stat(tol.check_error_stat)
        return not (abs_err > tol.abs_tol and rel_err > tol.rel_tol)

    def summary(self, tol: Tolerance) -> dict:
        """Plain numbers (JSON-safe: infinities become None)."""
        denom = math.sqrt(self.norm_a) * math.sqrt(self.norm_b)
        worst = self.worst_channel_sqnr_db()
        return {
            "elements": self.count,
            "max_abs": finite(self.max_abs),
            "max_rel": finite(self.max_rel),
            "mean_abs": finite(self.sum_abs / max(self.count, 1)),
            "median_abs": self.error_stat("median")[0] if self.abs_sample else None,
            "cosine": finite(self.dot / denom) if denom else 1.0,
            "sqnr_db": finite(self.sqnr_db()),
            "channels": None if self.channel_signal is None else len(self.channel_signal),
            "worst_channel_sqnr_db": finite(worst) if worst is not None else None,
            "failing_elements": self.failing,
            "nan": {"a": self.nan_a, "b": self.nan_b},
            "inf": {"a": self.inf_a, "b": self.inf_b},
            "ok": self.passed(tol),
        }


def sqnr(signal: float, noise: float) -> float:
    """SQNR in dB; +inf for identical tensors (as floats: no noise at all)."""
    if noise <= 0.0:
        return math.inf
    if not math.isfinite(noise) or not math.isfinite(signal):
        return -math.inf  # Inf in a tensor: no meaningful ratio, and it must fail
    return 10.0 * math.log10(max(signal, TINY) / noise)


def finite(value: float) -> float | None:
    """None for +-inf and NaN (strict JSON), the value otherwise."""
    return value if math.isfinite(value) else None
