"""The v2 tensor codec on its own: request bodies in, response bodies out (no server)."""

import json

import numpy as np
import pytest

from toolkit.serve.tensors import BadTensor, InferRequest, encode_response, parse_request


def binary_size(size: int) -> dict:
    return {"parameters": {"binary_data_size": size}}


def binary_request(tensors: list[tuple[str, str, np.ndarray, bytes]]) -> tuple[bytes, str]:
    """A body with every input as binary data, and its Inference-Header-Content-Length."""
    inputs = [
        {"name": n, "datatype": t, "shape": list(a.shape)} | binary_size(len(b))
        for n, t, a, b in tensors
    ]
    header = json.dumps({"inputs": inputs}).encode()
    return header + b"".join(b for *_, b in tensors), str(len(header))


def test_binary_fp32_and_bytes_inputs_read_back_exactly():
    floats = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    images = [b"\x89PNG first", b"", b"third"]
    packed = b"".join(len(v).to_bytes(4, "little") + v for v in images)
    body, length = binary_request(
        [("x", "FP32", floats, floats.tobytes()), ("img", "BYTES", np.empty(3), packed)]
    )
    request = parse_request(body, length)
    np.testing.assert_array_equal(request.inputs[0].data, floats)
    assert list(request.inputs[1].data) == images and request.inputs[1].shape == (3,)


def test_nested_json_data_is_row_major():
    tensor = {"name": "x", "datatype": "INT64", "shape": [2, 2], "data": [[1, 2], [3, 4]]}
    body = {"inputs": [tensor]}
    (tensor,) = parse_request(json.dumps(body).encode(), None).inputs
    np.testing.assert_array_equal(tensor.data, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("size", "data", "needle"),
    [
        (8, np.zeros(2, np.float32).tobytes(), "8 bytes of binary data, its shape needs 24"),
        (4, b"\x05\x00\x00\x00", "runs past its binary data"),
        (30, b"", "truncated body"),
    ],
)
def test_short_or_broken_binary_data_is_named(size, data, needle):
    datatype = "BYTES" if needle.startswith("runs") else "FP32"
    shape = [1] if datatype == "BYTES" else [2, 3]
    inputs = [{"name": "x", "datatype": datatype, "shape": shape} | binary_size(size)]
    header = json.dumps({"inputs": inputs}).encode()
    with pytest.raises(BadTensor, match=needle):
        parse_request(header + data, str(len(header)))


def test_outputs_are_binary_only_where_asked():
    request = InferRequest(None, (), ("a", "b"), {"a": True}, binary_default=False)
    labels = np.array([b"cat", b"dog"], dtype=object)
    body, headers = encode_response(
        {"model_name": "m"}, [("a", labels), ("b", np.array([0.5, 1.0], np.float32))], request
    )
    length = int(headers["Inference-Header-Content-Length"])
    head = json.loads(body[:length])
    assert head["outputs"][0] == {
        "name": "a", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 14}
    }  # fmt: skip
    assert head["outputs"][1]["data"] == [0.5, 1.0]
    assert body[length:] == b"\x03\x00\x00\x00cat\x03\x00\x00\x00dog"
