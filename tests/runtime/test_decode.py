"""Fast decoding: JPEGs at a DCT scale that still covers the input, EXIF kept, `full` exact."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.runtime import Predictor, decode
from toolkit.runtime.decode import decode_fast, decode_path, fast_image, needed_size
from toolkit.runtime.preprocess import ImageError, ModelSpec, open_image, prepare


def spec(size=(224, 224), channels=3, resize="stretch", task="classification") -> ModelSpec:
    mean, std = (0.5,) * channels, (0.25,) * channels
    return ModelSpec(task, channels, size, mean, std, resize=resize)


def smooth(size=(1600, 1200), seed=0) -> Image.Image:
    """A smooth random RGB picture (a small random image blown up)."""
    small = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


@pytest.fixture(params=["simplejpeg", "pillow-draft"])
def jpeg_decoder(request, monkeypatch):
    """Both JPEG paths: simplejpeg when installed, Pillow's draft always."""
    if request.param == "simplejpeg":
        pytest.importorskip("simplejpeg")
    else:
        monkeypatch.setattr(decode, "simplejpeg", None)
    return request.param


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    smooth().save(path, quality=90)
    return path


def test_needed_size_per_resize_mode():
    assert needed_size((1600, 1200), (224, 224), "stretch") == (224, 224)
    assert needed_size((1600, 1200), (224, 224), "center-crop") == (299, 224)
    assert needed_size((1600, 1200), (224, 224), "letterbox") == (224, 168)


def test_jpeg_decodes_at_the_smallest_scale_that_covers_the_input(photo, jpeg_decoder):
    assert fast_image(photo, spec((224, 224))).size == (400, 300)  # 1/4; 1/8 = 200x150
    assert fast_image(photo, spec((100, 100))).size == (200, 150)  # 1/8
    width, height = fast_image(photo, spec((1000, 1000))).size  # 7/8 (libjpeg-turbo) or 1
    assert 1000 <= height <= 1200 and width == height * 4 // 3  # never below the input


def test_fast_tensor_is_close_to_the_full_one(photo, jpeg_decoder):
    fast = decode_fast(photo, spec()).array
    full = prepare(open_image(photo), spec()).array
    assert fast.shape == full.shape == (3, 224, 224)
    assert np.abs(fast - full).mean() < 0.02  # ~1/255 of a pixel after /std


def test_exif_orientation_is_kept(tmp_path, jpeg_decoder):
    picture = Image.new("RGB", (1600, 800), (255, 0, 0))
    picture.paste((0, 0, 255), (800, 0, 1600, 800))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    picture.save(path, exif=exif, quality=95)
    fast = fast_image(path, spec((100, 100)))
    assert fast.size == (100, 200)  # portrait, like open_image's (800, 1600)
    full = open_image(path).resize(fast.size)
    assert np.abs(np.asarray(fast, np.int16) - np.asarray(full, np.int16)).mean() < 8


def test_gray_model_and_gray_jpeg(tmp_path, jpeg_decoder):
    path = tmp_path / "gray.jpg"
    smooth().convert("L").save(path, quality=90)
    fast = decode_fast(path, spec((32, 32), channels=1)).array
    full = prepare(open_image(path), spec((32, 32), channels=1)).array
    assert fast.shape == (1, 32, 32) and np.abs(fast - full).mean() < 0.02


def test_png_is_reduced_to_twice_the_input_and_stays_close(tmp_path):
    path = tmp_path / "big.png"
    smooth((1200, 1200)).save(path)
    assert fast_image(path, spec((64, 64))).size == (134, 134)  # factor 9 keeps >= 128
    fast = decode_fast(path, spec((64, 64))).array
    full = prepare(open_image(path), spec((64, 64))).array
    assert np.abs(fast - full).mean() < 0.05  # box then bilinear: ~3/255 of a pixel


def test_segmentation_geometry_is_stated_in_original_pixels(photo):
    s = spec((224, 224), resize="center-crop", task="segmentation")
    fast, full = decode_fast(photo, s).geometry, prepare(open_image(photo), s).geometry
    assert fast.original == full.original == (1600, 1200)
    assert fast.content == full.content == (0, 0, 224, 224)
    # the crop lands on the decoded grid: within one decoded pixel (4 original ones at 1/4)
    assert all(abs(a - b) <= 4 for a, b in zip(fast.source, full.source, strict=True))


def test_bad_files_get_the_exact_paths_error(tmp_path, photo, jpeg_decoder):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photo.read_bytes()[:2000])
    with pytest.raises(ImageError):
        decode_path(broken, spec())
    with pytest.raises(ImageError, match="over the limit"):
        decode_path(photo, spec(), max_pixels=1000)


def test_full_mode_is_the_old_path_bit_for_bit(lenet_onnx, tmp_path):
    path = tmp_path / "digit.jpg"
    smooth((640, 480)).convert("L").save(path, quality=90)
    predictor = Predictor(lenet_onnx, decode="full", quiet=True)
    exact = prepare(open_image(path), predictor.spec).array
    assert np.array_equal(predictor.decode(path).array, exact)
    fast = Predictor(lenet_onnx, quiet=True).decode(path).array  # fast is the default
    assert np.abs(fast - exact).max() > 0  # really another path, yet close
    with pytest.raises(CnnkitError, match="--decode 'quick'"):
        Predictor(lenet_onnx, decode="quick", quiet=True)
