"""Preprocessing: the brief's contract, image modes, resize modes, the bomb guard."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from toolkit.runtime.preprocess import (
    ImageError,
    ModelSpec,
    load_image,
    open_image,
    prepare,
    prepare_array,
)

GRAY = ModelSpec("classification", 1, (32, 32), (0.5,), (0.25,))
RGB = ModelSpec("classification", 3, (6, 8), (0.1, 0.2, 0.3), (0.5, 0.6, 0.7))


def test_load_image_follows_the_contract_exactly(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    Image.fromarray(pixels, "L").save(tmp_path / "d.png")
    x = load_image(tmp_path / "d.png", GRAY)
    resized = np.asarray(Image.fromarray(pixels).resize((32, 32), Image.Resampling.BILINEAR))
    expected = (resized.astype(np.float32) / 255 - np.float32(0.5)) / np.float32(0.25)
    assert x.dtype == np.float32 and x.shape == (1, 32, 32)
    np.testing.assert_array_equal(x[0], expected)


def test_rgb_normalisation_is_per_channel():
    x = prepare(Image.new("RGB", (8, 6), (255, 0, 51)), RGB).array
    assert x.shape == (3, 6, 8)
    np.testing.assert_allclose(
        x[:, 0, 0], [(1 - 0.1) / 0.5, (0 - 0.2) / 0.6, (0.2 - 0.3) / 0.7], rtol=1e-6
    )


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("L", (4, 2), 0)
    img.putpixel((0, 0), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / "o.jpg", exif=exif, quality=100)
    shown = open_image(tmp_path / "o.jpg")
    assert shown.size == (2, 4)


@pytest.mark.parametrize(
    "image",
    [
        Image.fromarray(np.full((5, 5), 65535, dtype=np.uint16)),  # 16-bit gray
        Image.new("I", (5, 5), 65535),
        Image.new("F", (5, 5), 255.0),
        Image.new("RGBA", (5, 5), (255, 255, 255, 0)),
        Image.new("LA", (5, 5), (255, 10)),
        Image.new("CMYK", (5, 5), (0, 0, 0, 0)),
        Image.new("1", (5, 5), 1),
        Image.new("P", (5, 5), 0).convert("RGB").convert("P"),
    ],
    ids=["I;16", "I", "F", "RGBA", "LA", "CMYK", "1", "P"],
)
def test_every_mode_becomes_white_in_gray_and_rgb(image):
    if image.mode == "P":
        image = Image.new("RGB", (5, 5), (255, 255, 255)).convert("P")
    flat = ModelSpec("classification", 1, (5, 5), (0.0,), (1.0,))
    np.testing.assert_array_equal(prepare(image, flat).array, 1.0)
    colour = ModelSpec("classification", 3, (5, 5), (0.0,) * 3, (1.0,) * 3)
    np.testing.assert_array_equal(prepare(image, colour).array, 1.0)


def test_resize_modes_keep_track_of_geometry():
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    spec = ModelSpec("segmentation", 3, (10, 10), (0.0,) * 3, (1.0,) * 3, resize="letterbox")
    letterboxed = prepare(img, spec)
    assert letterboxed.geometry.content == (0, 2, 10, 7)
    assert letterboxed.array[0, 0, 0] == 0.0 and letterboxed.array[0, 4, 4] == 1.0
    cropped = prepare(img, ModelSpec(**{**spec.__dict__, "resize": "center-crop"}))
    assert cropped.geometry.source == (10, 0, 30, 20)
    stretched = prepare(img, ModelSpec(**{**spec.__dict__, "resize": "stretch"}))
    assert stretched.geometry.source == (0, 0, 40, 20)
    assert stretched.array.shape == cropped.array.shape == letterboxed.array.shape == (3, 10, 10)


def test_decompression_bomb_is_refused_per_file(tmp_path):
    Image.new("L", (100, 100)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="over the limit of 5,000"):
        open_image(tmp_path / "big.png", max_pixels=5000)


def test_unreadable_files_raise_image_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not a jpeg")
    for name, reason in [
        ("empty.png", "empty"),
        ("text.jpg", "not an image"),
        ("x.png", "no such"),
    ]:
        with pytest.raises(ImageError, match=reason) as info:
            open_image(tmp_path / name)
        assert info.value.path.endswith(name)


def test_arrays_uint8_pixels_or_float_tensors():
    pixels = np.full((4, 4, 3), 255, dtype=np.uint8)
    assert prepare_array(pixels, GRAY).array.shape == (1, 32, 32)
    tensor = np.zeros((1, 32, 32), dtype=np.float64)
    assert prepare_array(tensor, GRAY).array.dtype == np.float32
    with pytest.raises(ImageError, match="shape"):
        prepare_array(np.zeros((3, 32, 32), dtype=np.float32), GRAY)
