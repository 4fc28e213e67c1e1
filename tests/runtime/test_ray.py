"""`--engine ray`: a local Ray instance gives the local engine's results, byte for byte."""

from __future__ import annotations

import pytest

from tests.helpers.runtime import solid, write_pngs
from toolkit.errors import CnnkitError
from toolkit.runtime import run_inference

pytest.importorskip("ray.data", reason="the ray extra is not installed")


def test_ray_engine_equals_local_engine_byte_for_byte(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 21)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"not a png")
    local = run_inference(lenet_onnx, [tmp_path / "imgs"], tmp_path / "local", quiet=True)
    ray = run_inference(
        lenet_onnx, [tmp_path / "imgs"], tmp_path / "ray", engine="ray", ray_workers=2, quiet=True
    )
    assert (ray.count, ray.ok, ray.failed) == (local.count, local.ok, local.failed) == (22, 21, 1)
    assert ray.provider == "CPUExecutionProvider" and ray.engine == "ray"
    local_text = (tmp_path / "local" / "results.jsonl").read_bytes()
    assert (tmp_path / "ray" / "results.jsonl").read_bytes() == local_text


def test_ray_preflight_refuses_a_missing_device_before_out_is_touched(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 2)
    out = tmp_path / "out"
    with pytest.raises(CnnkitError, match="--device cuda"):  # no Ray is started for this
        run_inference(lenet_onnx, [tmp_path / "imgs"], out, engine="ray", device="cuda", quiet=True)
    assert not out.exists()


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray for the slower cases (the runner leaves a running Ray alone)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_segmentation_masks_equal_local(ray_instance, seg_onnx, tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    for i, colour in enumerate([(250, 0, 0), (0, 250, 0), (0, 0, 250)]):
        solid(colour, size=(12 + i, 9)).save(images / f"s{i}.png")
    run_inference(seg_onnx, [images], tmp_path / "local", overlay=True, quiet=True)
    run_inference(seg_onnx, [images], tmp_path / "ray", engine="ray", overlay=True, quiet=True)
    for name in ["results.jsonl", "masks/s0.png", "masks/s2.png", "overlays/s1.png"]:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


@pytest.mark.slow
def test_ray_actor_user_errors_reach_the_driver(ray_instance, lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 2)
    with pytest.raises(CnnkitError, match="--input-size"):  # raised by session.run in an actor
        run_inference(
            lenet_onnx, [tmp_path / "imgs"], tmp_path / "b", engine="ray", size=(8, 8), quiet=True
        )
