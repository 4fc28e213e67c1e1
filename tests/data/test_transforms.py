"""Batch transforms: masks move with images, augmentation is seeded, stats are right."""

from __future__ import annotations

import numpy as np
import torch

from toolkit.data import split_arrays
from toolkit.data.dataset import BatchKey, BatchKeySampler, build_dataset, dataset_stats
from toolkit.data.transforms import Augment, jitter, normalize, random_crop, random_hflip


def labelled_batch(n=6, h=10, w=12):
    """Images whose pixel value encodes its label, so alignment is checkable after transforms."""
    masks = torch.randint(0, 5, (n, h, w), dtype=torch.uint8)
    images = (masks * 40 + 10)[:, None].repeat(1, 3, 1, 1)
    return images, masks


def test_crop_moves_masks_with_images_and_pads_with_ignore():
    images, masks = labelled_batch()
    gen = torch.Generator().manual_seed(0)
    out_images, out_masks = random_crop(images, masks, 3, gen)
    assert out_images.shape == images.shape and out_masks.shape == masks.shape
    padded = out_masks == 255
    assert padded.any()
    assert (out_images[:, 0][padded] == 0).all()
    assert torch.equal(out_images[:, 0][~padded], out_masks[~padded] * 40 + 10)


def test_flip_moves_masks_with_images():
    images, masks = labelled_batch(n=16)
    out_images, out_masks = random_hflip(images, masks, torch.Generator().manual_seed(1))
    assert torch.equal(out_images[:, 1], out_masks * 40 + 10)
    flipped = [not torch.equal(out_masks[i], masks[i]) for i in range(16)]
    assert 0 < sum(flipped) < 16


def test_jitter_stays_in_range_and_normalize_is_per_channel():
    x = torch.rand(4, 3, 5, 5)
    y = jitter(x, 0.5, torch.Generator().manual_seed(0))
    assert y.min() >= 0 and y.max() <= 1 and not torch.equal(x, y)
    z = normalize(torch.ones(2, 3, 2, 2), [0.5, 0.0, 1.0], [0.5, 1.0, 2.0])
    assert torch.allclose(z[0, :, 0, 0], torch.tensor([1.0, 1.0, 0.0]))


def test_dataset_stats_match_numpy():
    mean, std = dataset_stats("digits", (1, 16, 16))
    images, _, _ = split_arrays("digits", "train", (1, 16, 16))
    assert abs(mean[0] - images.mean() / 255) < 1e-5
    assert abs(std[0] - images.std() / 255) < 1e-5


def test_batches_are_normalised_and_augmentation_is_seeded_per_epoch():
    mean, std = dataset_stats("digits", (1, 16, 16))
    plain = build_dataset("digits", "val", (1, 16, 16), mean=mean, std=std)
    x, y = plain[0]
    assert x.shape == (1, 16, 16) and x.dtype == torch.float32 and y.dtype == torch.int64
    expected = (split_arrays("digits", "val", (1, 16, 16))[0][0, :, :, 0] / 255 - mean[0]) / std[0]
    assert np.allclose(x[0].numpy(), expected, atol=1e-5)
    train = build_dataset(
        "digits", "train", (1, 16, 16), augment=Augment(2, False, 0.1), mean=mean, std=std
    )
    a, _ = train[BatchKey(1, 0, [0, 1, 2])]
    b, _ = train[BatchKey(1, 0, [0, 1, 2])]
    c, _ = train[BatchKey(2, 0, [0, 1, 2])]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_batch_sampler_drops_only_a_single_leftover():
    assert len(BatchKeySampler(list(range(65)), 64, drop_single=True)) == 1
    assert len(BatchKeySampler(list(range(66)), 64, drop_single=True)) == 2
    assert len(BatchKeySampler(list(range(1)), 64, drop_single=True)) == 1
    keys = list(BatchKeySampler(list(range(10)), 4))
    assert [k.indices for k in keys] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_segmentation_dataset_gives_long_masks():
    ds = build_dataset("digit-scenes", "val", (1, 32, 32), mean=[0.1], std=[0.2], limit=5)
    x, y = ds[BatchKey(0, 0, [0, 1])]
    assert x.shape == (2, 1, 32, 32) and y.shape == (2, 32, 32) and y.dtype == torch.int64
    assert len(ds) == 5
