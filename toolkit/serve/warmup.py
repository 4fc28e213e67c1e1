"""Warmup: run every batch size the batcher will form before a model takes requests.

onnxruntime allocates and plans per input shape on its first run with it, so the first
batch of each size is slow (Triton issue 4503). A model is warmed with one run per size in
`warmup_sizes` before it is served (at start, /ready turns 200 only after it; on a reload,
before the swap), on the Predictor's own synthetic test input.
"""

from __future__ import annotations

import time

from toolkit.errors import CnnkitError
from toolkit.progress import note
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
    """One run per warmup size; the seconds it took. A model that runs one input but fails
    on a batch is still served (such batches answer 500); a note says so."""
    start = time.perf_counter()
    sample = predictor.test_input()
    for size in warmup_sizes(max_batch):
        try:
            predictor.infer([sample] * size)
        except CnnkitError as exc:
            if size == 1:
                raise
            note(f"note: warmup: a batch of {size} fails, so batches of it will answer 500"
                 f" (--max-batch 1 avoids them): {exc}")  # fmt: skip
            break
    return time.perf_counter() - start
