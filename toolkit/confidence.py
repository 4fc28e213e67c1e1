"""How far a rate measured on few samples can be trusted: its 95% interval (torch-free).

An accuracy of 77.8% on 9 images is anything from 45% to 94%: a figure that picks a best
epoch or passes a quantization gate on so few samples needs saying so beside it.
"""

from __future__ import annotations

import math

SMALL_SAMPLE = 100  # below this many samples a rate gets its interval printed beside it
Z95 = 1.959964


def wilson_interval(rate: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate measured on `n` samples."""
    if n <= 0:
        return 0.0, 1.0
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def small_sample_caveat(what: str, rate: float | None, n: int) -> str | None:
    """One warning when `what` (a rate) rests on fewer than SMALL_SAMPLE samples; else None."""
    if rate is None or n >= SMALL_SAMPLE or not math.isfinite(rate):
        return None
    low, high = wilson_interval(rate, n)
    return (
        f"{what} {rate:.2%} rests on {n} sample{'s' if n != 1 else ''} (95% interval "
        f"{low:.1%}-{high:.1%}); use {SMALL_SAMPLE}+ samples before trusting or comparing it"
    )
