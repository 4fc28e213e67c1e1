"""VOC folders declare their classes: labelmap.txt (Pascal/CVAT colours), --classes, classes.txt."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.helpers.data import COLOURS, LABELMAP, palette_mask, write_cvat
from toolkit.data import split_arrays
from toolkit.data.labelmap import read_labelmap
from toolkit.errors import CnnkitError


def test_read_labelmap_takes_names_and_colours_in_order(tmp_path):
    path = tmp_path / "labelmap.txt"
    path.write_text(LABELMAP + "\n")
    labels = read_labelmap(path)
    assert labels.names == ("background", "crack", "rust")
    assert labels.colours == tuple(COLOURS.values())


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("background:0,0,0::\ncrack:300,0,0::\n", "labelmap.txt:2"),
        ("background:0,0,0::\ncrack:0,0,0::\n", "already 'background'"),
        ("background:0,0,0::\n", "needs 2 or more"),
    ],
)
def test_a_bad_labelmap_names_the_line(tmp_path, text, needle):
    path = tmp_path / "labelmap.txt"
    path.write_text(text)
    with pytest.raises(CnnkitError, match=needle):
        read_labelmap(path)


def test_colour_masks_map_to_the_declared_indices(tmp_path):
    root = write_cvat(tmp_path / "cvat")
    images, masks, classes = split_arrays(f"voc:{root}", "train", (3, 16, 16))
    assert classes == ["background", "crack", "rust"]
    assert set(np.unique(masks)) == {0, 1, 2, 255}
    assert (masks[:, 0, :] == 255).all() and (masks[:, 3, 5] == 1).all()


def test_palette_masks_are_mapped_by_colour_not_by_index(tmp_path):
    root = write_cvat(tmp_path / "cvat", count=0)
    # A palette whose index 1 is rust's colour and index 2 crack's: colours decide.
    for i in range(6):
        labels = np.zeros((16, 16), np.uint8)
        labels[4:12, 4:12] = 1
        mask = Image.fromarray(labels, "P")
        mask.putpalette([0, 0, 0, *COLOURS["rust"], *COLOURS["crack"]] + [0] * 759)
        mask.save(root / "SegmentationClass" / f"p{i}.png")
        Image.new("RGB", (16, 16)).save(root / "JPEGImages" / f"p{i}.jpg")
    _, masks, _ = split_arrays(f"voc:{root}", "train", (3, 16, 16))
    assert set(np.unique(masks)) == {0, 2}


def test_a_colour_the_labelmap_lacks_is_named(tmp_path):
    root = write_cvat(tmp_path / "cvat", count=4)
    Image.new("RGB", (16, 16), (1, 2, 3)).save(root / "SegmentationClass" / "f0.png")
    with pytest.raises(CnnkitError, match=r"f0.png: colour \(1, 2, 3\) is not in .*labelmap.txt"):
        for split in ("train", "val", "test"):
            split_arrays(f"voc:{root}", split, (3, 16, 16))


def test_classes_flag_names_index_masks_and_checks_their_values(tmp_path):
    root = tmp_path / "plain"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(6):
        Image.new("RGB", (8, 8)).save(root / "images" / f"s{i}.png")
        palette_mask(np.full((8, 8), i % 3, np.uint8)).save(root / "masks" / f"s{i}.png")
    _, _, classes = split_arrays(f"voc:{root}", "train", (3, 8, 8), classes=["sea", "sand", "rock"])
    assert classes == ["sea", "sand", "rock"]
    with pytest.raises(CnnkitError, match="label 2 but --classes declares 2 classes"):
        for split in ("train", "val", "test"):
            split_arrays(f"voc:{root}", split, (3, 8, 8), classes=["sea", "sand"])


def test_classes_flag_renames_a_labelmap_of_the_same_size_only(tmp_path):
    root = write_cvat(tmp_path / "cvat", count=4)
    _, _, classes = split_arrays(f"voc:{root}", "train", (3, 16, 16), classes=["bg", "a", "b"])
    assert classes == ["bg", "a", "b"]
    with pytest.raises(CnnkitError, match="--classes names 2 classes but .* declares 3"):
        split_arrays(f"voc:{root}", "train", (3, 16, 16), classes=["bg", "a"])


def test_classes_flag_is_for_voc_only(class_folder):
    with pytest.raises(CnnkitError, match="sub-folder names"):
        split_arrays(f"folder:{class_folder}", "train", (3, 8, 8), classes=["a", "b"])
