"""Warmup sizes: every power of two below --max-batch, and --max-batch itself."""

import pytest

from toolkit.serve.warmup import warmup_sizes


@pytest.mark.parametrize(
    ("max_batch", "sizes"), [(1, [1]), (2, [1, 2]), (16, [1, 2, 4, 8, 16]), (12, [1, 2, 4, 8, 12])]
)
def test_warmup_covers_every_power_of_two_and_the_largest_batch(max_batch, sizes):
    assert warmup_sizes(max_batch) == sizes
