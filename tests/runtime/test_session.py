"""Sessions: what runs is what was asked, or the user hears about it."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from toolkit.errors import CnnkitError
from toolkit.runtime.session import open_session, request_providers, run_batch

HAS_CUDA = "CUDAExecutionProvider" in ort.get_available_providers()


def test_cpu_session_reports_what_runs(lenet_onnx):
    handle = open_session(lenet_onnx, device="cpu", threads=1)
    assert handle.providers[0] == "CPUExecutionProvider"
    assert handle.device == "cpu"
    assert handle.input_name == "input"
    assert handle.input_shape[1:] == [1, 32, 32]
    assert handle.fixed_batch is None
    assert handle.meta.classes == tuple(str(i) for i in range(10))
    assert handle.create_s > 0


def test_auto_picks_cuda_only_when_onnxruntime_has_it():
    request = request_providers("auto")
    assert request.device == ("cuda:0" if HAS_CUDA else "cpu")
    assert not request.explicit


@pytest.mark.skipif(HAS_CUDA, reason="checks the refusal on a machine without CUDA")
def test_explicit_cuda_is_refused_without_allow_fallback(lenet_onnx):
    with pytest.raises(CnnkitError, match="--device cuda:0.*allow-fallback"):
        open_session(lenet_onnx, device="cuda")


@pytest.mark.skipif(HAS_CUDA, reason="checks the fallback on a machine without CUDA")
def test_allow_fallback_runs_on_cpu_and_says_so(lenet_onnx, capsys):
    handle = open_session(lenet_onnx, device="cuda:0", allow_fallback=True)
    assert handle.providers[0] == "CPUExecutionProvider"
    assert handle.device == "cpu"
    assert "falling back to CPUExecutionProvider" in capsys.readouterr().err


def test_unknown_provider_and_device_are_user_errors(lenet_onnx):
    with pytest.raises(CnnkitError, match="NoSuchExecutionProvider"):
        open_session(lenet_onnx, provider="NoSuchExecutionProvider")
    with pytest.raises(CnnkitError, match="--device 'tpu'"):
        open_session(lenet_onnx, device="tpu")
    with pytest.raises(CnnkitError, match="graph optimisation"):
        open_session(lenet_onnx, graph_optimization="max")


def test_foreign_and_broken_files(foreign_onnx, tmp_path):
    handle = open_session(foreign_onnx, graph_optimization="disable")
    assert handle.meta.foreign
    assert handle.fixed_batch == 2
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(foreign_onnx.read_bytes()[:40])
    with pytest.raises(CnnkitError, match="broken.onnx"):
        open_session(broken)


def test_fixed_batch_model_gets_padded_and_split_batches(foreign_onnx):
    handle = open_session(foreign_onnx)
    x = np.random.default_rng(0).random((5, 3, 16, 16), dtype=np.float32)
    out = run_batch(handle, x)
    assert out.shape == (5, 3)
    one_by_one = [run_batch(handle, np.concatenate([x[i : i + 1]] * 2))[0] for i in range(5)]
    np.testing.assert_allclose(out, np.stack(one_by_one), rtol=1e-6)


@pytest.mark.skipif(HAS_CUDA, reason="checks the refusal on a machine without CUDA")
def test_cli_device_cuda_without_gpu_is_exit_2_one_line(lenet_onnx, tmp_path):
    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("L", (8, 8)).save(image)
    result = invoke("infer", lenet_onnx, image, "--out", tmp_path / "out", "--device", "cuda")
    assert_one_line_error(result, "--device cuda", "allow-fallback")
