"""Warmup: run every batch size the batcher will form before a model takes requests.

onnxruntime allocates and plans per input shape on its first run with it, so the first
batch of each size is slow (Triton issue 4503). A model is warmed with one run per size in
`warmup_sizes` before it is served (at start, /ready turns 200 only after it; on a reload,
before the swap), on the Predictor's own synthetic test input.
"""

from __future__ import annotations

import time

from toolkit.runtime.predictor import Predictor


def warmup_sizes(max_batch: int) -> list[int]:
    """The batch sizes warmed: powers of two up to --max-batch, and --max-batch itself
    (a stated subset: the arena grows to the largest, the others cover the usual sizes)."""
    sizes, size = [], 1
    while size < max_batch:
        sizes.append(size)
        size *= 2
    return [*sizes, max_batch]


def warm(predictor: Predictor, max_batch: int) -> float:
    """One run per warmup size; the seconds it took."""
    start = time.perf_counter()
    sample = predictor.test_input()
    for size in warmup_sizes(max_batch):
        predictor.infer([sample] * size)
    return time.perf_counter() - start
