"""folder: and voc: sources read real files; unreadable files are skipped and named."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.helpers.data import palette_mask, write_class_folder, write_voc
from toolkit.data import split_arrays
from toolkit.data.folders import VOC_CLASSES, folder_arrays
from toolkit.errors import CnnkitError


def test_class_folder_splits_and_skips_the_broken_file(class_folder, capfd):
    seen = 0
    for split in ("train", "val", "test"):
        images, targets, classes = split_arrays(f"folder:{class_folder}", split, (3, 8, 8))
        assert classes == ["cat", "dog"]
        assert images.shape[1:] == (8, 8, 3) and images.dtype == np.uint8
        assert targets.dtype == np.int64 and len(targets) == len(images)
        dark = images.reshape(len(images), -1).mean(1) < 128
        assert np.array_equal(dark, targets == 0)  # cats are dark, dogs bright
        seen += len(images)
    assert seen == 20  # 21 files, the broken one skipped
    assert "broken.png" in capfd.readouterr().err


def test_gray_input_size_converts_to_one_channel(class_folder):
    images, _, _ = split_arrays(f"folder:{class_folder}", "train", (1, 6, 6))
    assert images.shape[1:] == (6, 6, 1)


def test_train_val_layout_uses_its_folders_and_val_for_test(tmp_path, capfd):
    write_class_folder(tmp_path / "set" / "train")
    write_class_folder(tmp_path / "set" / "val", per_class=3)
    source = f"folder:{tmp_path / 'set'}"
    assert len(split_arrays(source, "train", (3, 8, 8))[0]) == 20
    assert len(split_arrays(source, "test", (3, 8, 8))[0]) == 6
    assert "using val/" in capfd.readouterr().err


def test_missing_empty_and_single_class_folders_are_errors(tmp_path):
    with pytest.raises(CnnkitError, match="no such folder"):
        split_arrays(f"folder:{tmp_path / 'nope'}", "train", (3, 8, 8))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CnnkitError, match="sub-folder per class"):
        split_arrays(f"folder:{tmp_path / 'empty'}", "train", (3, 8, 8))
    (tmp_path / "hollow" / "a").mkdir(parents=True)
    (tmp_path / "hollow" / "b").mkdir()
    with pytest.raises(CnnkitError, match="no files"):
        split_arrays(f"folder:{tmp_path / 'hollow'}", "train", (3, 8, 8))


def test_folder_of_only_unreadable_files_is_an_error(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "junk" / name).mkdir(parents=True)
        for i in range(5):
            (tmp_path / "junk" / name / f"{i}.png").write_text("garbage")
    with pytest.raises(CnnkitError, match="no readable images"):
        split_arrays(f"folder:{tmp_path / 'junk'}", "train", (3, 8, 8))


def test_voc_reads_palette_masks_with_ignore(voc_folder):
    images, masks, classes = split_arrays(f"voc:{voc_folder}", "train", (3, 20, 24))
    assert classes == VOC_CLASSES
    assert images.shape == (7, 20, 24, 3) and masks.shape == (7, 20, 24)
    assert set(np.unique(masks)) == {0, 1, 2, 255}
    assert (masks[:, 0, :] == 255).all()
    val_images, _, _ = split_arrays(f"voc:{voc_folder}", "val", (3, 10, 12))
    assert val_images.shape == (3, 10, 12, 3)


def test_voc_images_masks_layout_with_classes_txt_and_a_bad_mask(tmp_path, capfd):
    root = tmp_path / "seg"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(12):
        Image.new("RGB", (16, 16), (i * 10, 0, 0)).save(root / "images" / f"s{i}.png")
        palette_mask(np.full((16, 16), i % 3, np.uint8)).save(root / "masks" / f"s{i}.png")
    Image.new("RGB", (16, 16)).save(root / "masks" / "s0.png")  # an RGB mask is not a label map
    (root / "classes.txt").write_text("sky\nroad\ncar\n")
    total = 0
    for split in ("train", "val", "test"):
        images, masks, classes = split_arrays(f"voc:{root}", split, (3, 8, 8))
        assert classes == ["sky", "road", "car"]
        total += len(images)
    assert total == 11
    assert "s0.png" in capfd.readouterr().err


def test_voc_without_pairs_or_layout_is_an_error(tmp_path):
    (tmp_path / "odd").mkdir()
    with pytest.raises(CnnkitError, match="JPEGImages"):
        split_arrays(f"voc:{tmp_path / 'odd'}", "train", (3, 8, 8))
    root = write_voc(tmp_path / "nomasks", count=3, lists=False)
    for mask in (root / "SegmentationClass").iterdir():
        mask.unlink()
    with pytest.raises(CnnkitError, match="has a mask"):
        split_arrays(f"voc:{root}", "train", (3, 8, 8))


def test_a_flat_class_folder_is_split_class_by_class(tmp_path):
    root = tmp_path / "photos"
    for name, count in (("cat", 20), ("dog", 10), ("owl", 3)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (8, 8), (i * 9, 0, 0)).save(root / name / f"{i}.png")
    counts = {}
    for split in ("train", "val", "test"):
        _, targets, classes = folder_arrays(str(root), split, (3, 8, 8), seed=0)
        counts[split] = dict(zip(classes, np.bincount(targets, minlength=3).tolist(), strict=True))
    assert counts["train"] == {"cat": 14, "dog": 7, "owl": 1}
    assert counts["val"] == {"cat": 3, "dog": 2, "owl": 1}  # every class in every split
    assert counts["test"] == {"cat": 3, "dog": 1, "owl": 1}
