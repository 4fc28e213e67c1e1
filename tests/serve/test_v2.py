"""The Open Inference Protocol (KServe v2) end to end: a real `cnnkit serve` process driven by
the real `tritonclient[http]` (Triton's own client), and bad bodies sent by httpx."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.helpers.serve import assert_one_json_error, infer_rows, running
from toolkit.runtime import Predictor


@pytest.fixture(scope="module")
def server(lenet_onnx, tmp_path_factory):
    """One server for the module: `digits` is LeNet, batching up to 8."""
    with running(
        f"digits={lenet_onnx}", "--max-batch", "8", cwd=tmp_path_factory.mktemp("v2")
    ) as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    """tritonclient's HTTP client on the server."""
    with triton.InferenceServerClient(server.url.removeprefix("http://")) as c:
        yield c


def images_input(pngs, binary: bool = True) -> triton.InferInput:
    """A BYTES tensor [N] of encoded PNG files."""
    data = np.array([p.read_bytes() for p in pngs], dtype=object)
    tensor = triton.InferInput("input", [len(pngs)], "BYTES")
    tensor.set_data_from_numpy(data, binary_data=binary)
    return tensor


def tensor_input(array: np.ndarray, binary: bool) -> triton.InferInput:
    """The model's own FP32 tensor."""
    tensor = triton.InferInput("input", list(array.shape), "FP32")
    tensor.set_data_from_numpy(array, binary_data=binary)
    return tensor


def test_tritonclient_sees_a_live_ready_server_and_the_models_tensors(client):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("digits") and client.is_model_ready("digits", "1")
    assert not client.is_model_ready("nope") and not client.is_model_ready("digits", "2")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    meta = client.get_model_metadata("digits")
    assert meta["name"] == "digits" and meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 32, 32]}]
    assert [(o["name"], o["datatype"]) for o in meta["outputs"]] == [
        ("logits", "FP32"),
        ("label", "BYTES"),
        ("score", "FP32"),
    ]
    with pytest.raises(InferenceServerException, match="no model named 'nope'"):
        client.get_model_metadata("nope")


def test_bytes_and_fp32_inference_equal_infers_rows(client, lenet_onnx, digits_pngs, tmp_path):
    pngs = digits_pngs[:6]
    expected = infer_rows(lenet_onnx, pngs, tmp_path)
    labels = [expected[str(p)]["label"] for p in pngs]
    scores = np.array([expected[str(p)]["score"] for p in pngs], dtype=np.float32)

    for binary in (True, False):  # the binary tensor data extension, then JSON outputs
        outputs = [triton.InferRequestedOutput(n, binary_data=binary) for n in ("label", "score")]
        result = client.infer("digits", [images_input(pngs)], outputs=outputs, request_id="r7")
        assert texts(result.as_numpy("label")) == labels
        np.testing.assert_array_equal(result.as_numpy("score"), scores)
        assert result.get_response()["id"] == "r7"

    predictor = Predictor(lenet_onnx, quiet=True)
    tensors = np.stack([predictor.decode(p).array for p in pngs])
    logits = predictor.infer([predictor.decode(p) for p in pngs])
    for binary in (True, False):
        result = client.infer("digits", [tensor_input(tensors, binary)], model_version="1")
        assert texts(result.as_numpy("label")) == labels
        np.testing.assert_allclose(result.as_numpy("logits"), logits, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(result.as_numpy("score"), scores)


def texts(array: np.ndarray) -> list[str]:
    """A BYTES output as text (tritonclient gives bytes from binary data, str from JSON)."""
    return [v.decode() if isinstance(v, bytes) else v for v in array]


def post(url: str, content: bytes, headers: dict | None = None) -> httpx.Response:
    return httpx.post(url, content=content, headers=headers, timeout=60)


def request_body(datatype="FP32", shape=(1, 1, 32, 32), data=None, name="input") -> bytes:
    data = [0.0] * int(np.prod(shape)) if data is None else data
    tensor = {"name": name, "datatype": datatype, "shape": list(shape), "data": data}
    return json.dumps({"inputs": [tensor]}).encode()


def test_bad_v2_bodies_get_400_with_one_line(server):
    url = f"{server.url}/v2/models/digits/infer"
    assert_one_json_error(post(url, request_body("FP64")), 400, "FP64", "FP32")
    assert_one_json_error(post(url, request_body(shape=(1, 3, 32, 32))), 400, "[N, 1, 32, 32]")
    assert_one_json_error(post(url, request_body(name="image")), 400, "no input 'input'")
    empty = json.dumps({"inputs": []}).encode()
    assert_one_json_error(post(url, empty), 400, '"inputs"')
    assert_one_json_error(post(url, request_body(data=[0.0] * 5)), 400, "5 values", "1024")
    assert_one_json_error(post(url, b"{not json"), 400, "not a JSON object")
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP32",
                    "shape": [1, 1, 32, 32],
                    "parameters": {"binary_data_size": 4096},
                }
            ]
        }  # fmt: skip
    ).encode()
    truncated = header + np.zeros(100, dtype=np.float32).tobytes()
    length = {"Inference-Header-Content-Length": str(len(header))}
    assert_one_json_error(post(url, truncated, length), 400, "binary_data_size 4096", "truncated")
    not_png = request_body("BYTES", (1,), ["not an image"])
    assert_one_json_error(post(url, not_png), 400, "request[0]")
    assert_one_json_error(post(f"{server.url}/v2/models/nope/infer", empty), 404, "nope")
    assert_one_json_error(post(f"{server.url}/v2/models/digits/versions/3/infer", empty), 404)
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'cnnkit_requests_total{model="digits",status="400"} 8.0' in metrics
    assert 'model="nope"' not in metrics
