"""digits and digit-scenes: shapes, the preprocessing contract, determinism, disjoint splits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from toolkit.data import parse_source, split_arrays
from toolkit.data.digits import digits_table, raw_digits
from toolkit.data.images import split_indices
from toolkit.data.scenes import CLASSES as SCENE_CLASSES
from toolkit.data.scenes import STROKE
from toolkit.errors import CnnkitError


def test_digits_splits_cover_everything_once():
    sizes = [len(split_arrays("digits", s, (1, 8, 8))[0]) for s in ("train", "val", "test")]
    assert sum(sizes) == 1797 and sizes[0] > 4 * sizes[2]
    parts = [set(split_indices(1797, s, 0)) for s in ("train", "val", "test")]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]


def test_digits_follow_the_preprocessing_contract():
    images, targets, classes = split_arrays("digits", "test", (1, 32, 32))
    assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 1)
    assert targets.dtype == np.int64 and classes == [str(d) for d in range(10)]
    raw, labels = raw_digits()
    index = split_indices(1797, "test", 0)
    expected_small = np.round(load_digits().images[index[0]] * 255 / 16).astype(np.uint8)
    assert np.array_equal(raw[index[0]], expected_small)
    resized = np.asarray(Image.fromarray(expected_small, "L").resize((32, 32), Image.BILINEAR))
    assert np.array_equal(images[0, :, :, 0], resized)
    assert targets[0] == labels[index[0]]


def test_digits_read_without_sklearn_equal_load_digits():
    bunch = load_digits()
    table = digits_table()
    assert np.array_equal(table[:, :-1], bunch.data)
    assert np.array_equal(table[:, -1], bunch.target)


def test_digits_in_rgb_repeat_the_gray_channel():
    images, _, _ = split_arrays("digits", "val", (3, 16, 16))
    assert images.shape[-1] == 3
    assert np.array_equal(images[..., 0], images[..., 2])


def test_a_different_seed_gives_a_different_split():
    a = split_arrays("digits", "test", (1, 8, 8), seed=0)[1]
    b = split_arrays("digits", "test", (1, 8, 8), seed=1)[1]
    assert not np.array_equal(a, b)


def test_digit_scenes_labels_match_the_ink():
    images, masks, classes = split_arrays("digit-scenes", "val", (1, 64, 64))
    assert classes == SCENE_CLASSES and len(classes) == 11
    assert images.shape == (300, 64, 64, 1) and masks.shape == (300, 64, 64)
    assert masks.dtype == np.uint8 and masks.max() <= 10
    assert (images[..., 0][masks > 0] >= STROKE).all()
    assert len(np.unique(masks)) == 11  # every digit appears somewhere
    again = split_arrays("digit-scenes:64", "val", (1, 64, 64))
    assert np.array_equal(again[1], masks)


def test_digit_scenes_resize_masks_with_nearest():
    _, masks, _ = split_arrays("digit-scenes", "test", (1, 48, 48))
    assert masks.shape == (300, 48, 48)
    assert set(np.unique(masks)) <= set(range(11))


def test_arrays_are_read_only():
    images, _, _ = split_arrays("digits", "train", (1, 8, 8))
    with pytest.raises(ValueError):
        images[0, 0, 0, 0] = 1


@pytest.mark.parametrize("text", ["mnist", "folder:", "digit-scenes:big", "digit-scenes:4"])
def test_unknown_sources_are_refused(text):
    with pytest.raises(CnnkitError, match="--data"):
        parse_source(text)


def test_sources_know_their_task_and_channels():
    assert parse_source("digits").task == "classification"
    assert parse_source("digit-scenes").task == "segmentation"
    assert parse_source("digit-scenes:96").natural_size == (96, 96)
    assert parse_source("voc:x").channels == 3 and parse_source("folder:x").hflip
