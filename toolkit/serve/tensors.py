"""Open Inference Protocol (KServe v2) tensors: an infer request body in, a response body out.

A request is a JSON object, optionally followed by binary tensor data (Triton's binary
tensor data extension): the `Inference-Header-Content-Length` header then gives the JSON
object's length, and each input with a `binary_data_size` parameter takes that many
bytes from what follows, in input order. Binary data is little-endian and row-major; a
BYTES element is a 4-byte little-endian length and the bytes. Outputs travel as binary
when the request asks (`binary_data` on an output, or `binary_data_output` on the
request), else as JSON lists.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

DATATYPES = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}
HEADER_LENGTH = "Inference-Header-Content-Length"
LENGTH = struct.Struct("<I")  # the length prefix of a binary BYTES element


class BadTensor(Exception):
    """The request body does not hold the tensors it declares (400)."""


def datatype_of(dtype) -> str:
    """The protocol's name of a numpy dtype (or of an ONNX element type like 'float32')."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return "BYTES"
    for name, kind in DATATYPES.items():
        if np.dtype(kind) == dtype:
            return name
    raise ValueError(f"no Open Inference Protocol datatype for {dtype}")


@dataclass(frozen=True)
class InputTensor:
    """One request input: its data as a numpy array (BYTES: an object array of bytes)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray


@dataclass(frozen=True)
class InferRequest:
    """A parsed infer request: id, inputs, and which outputs are wanted in which form."""

    id: str | None
    inputs: tuple[InputTensor, ...]
    outputs: tuple[str, ...] | None  # None: every output
    binary_outputs: dict[str, bool] = field(default_factory=dict)
    binary_default: bool = False

    def binary(self, output: str) -> bool:
        """Whether an output is answered as binary data."""
        return self.binary_outputs.get(output, self.binary_default)


def split_body(body: bytes, header_length: str | None) -> tuple[dict, bytes]:
    """(the JSON object, the binary data after it) of a request body."""
    if header_length is None:
        header, rest = body, b""
    else:
        if not header_length.strip().isdigit() or int(header_length) > len(body):
            raise BadTensor(
                f"{HEADER_LENGTH} {header_length!r}: must be a length within the body"
                f" of {len(body)} bytes"
            )
        header, rest = body[: int(header_length)], body[int(header_length) :]
    try:
        request = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadTensor(f"the request is not a JSON object: {exc}") from None
    if not isinstance(request, dict):
        raise BadTensor("the request is not a JSON object")
    return request, rest


def parse_request(body: bytes, header_length: str | None) -> InferRequest:
    """An infer request body -> InferRequest; BadTensor names what is wrong in one line."""
    request, rest = split_body(body, header_length)
    entries = request.get("inputs")
    if not isinstance(entries, list) or not entries:
        raise BadTensor('the request has no "inputs" list')
    inputs, offset = [], 0
    for entry in entries:
        tensor, offset = parse_input(entry, rest, offset)
        inputs.append(tensor)
    if offset != len(rest):
        raise BadTensor(f"{len(rest) - offset} bytes of binary data follow the last input")
    wanted = request.get("outputs")
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(o, dict) and "name" in o for o in wanted)
    ):
        raise BadTensor('"outputs" must be a list of objects with a "name"')
    parameters = request.get("parameters") or {}
    request_id = request.get("id")
    return InferRequest(
        id=None if request_id is None else str(request_id),
        inputs=tuple(inputs),
        outputs=None if wanted is None else tuple(str(o["name"]) for o in wanted),
        binary_outputs={
            str(o["name"]): bool(o["parameters"]["binary_data"])
            for o in wanted or []
            if isinstance(o.get("parameters"), dict) and "binary_data" in o["parameters"]
        },
        binary_default=bool(parameters.get("binary_data_output", False)),
    )


def parse_input(entry, rest: bytes, offset: int) -> tuple[InputTensor, int]:
    """One input of the request (its data from JSON or from `rest` at `offset`); the new
    offset."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise BadTensor('every input needs a "name"')
    name, datatype, shape = entry["name"], entry.get("datatype"), entry.get("shape")
    if datatype != "BYTES" and datatype not in DATATYPES:
        raise BadTensor(f"input {name!r}: unknown datatype {datatype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadTensor(f"input {name!r}: shape must be a list of non-negative integers")
    count = int(np.prod(shape, dtype=np.int64))
    size = (entry.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(rest):
            raise BadTensor(
                f"input {name!r}: binary_data_size {size} is more than the"
                f" {len(rest) - offset} bytes of binary data left (truncated body?)"
            )
        chunk, offset = rest[offset : offset + size], offset + size
        data = binary_data(name, datatype, chunk, count)
    elif "data" in entry:
        data = json_data(name, datatype, entry["data"], count)
    else:
        raise BadTensor(f"input {name!r}: no data and no binary_data_size")
    return InputTensor(name, datatype, tuple(shape), data.reshape(shape)), offset


def binary_data(name: str, datatype: str, chunk: bytes, count: int) -> np.ndarray:
    """`count` elements from binary tensor data."""
    if datatype == "BYTES":
        return bytes_elements(name, chunk, count)
    dtype = np.dtype(DATATYPES[datatype]).newbyteorder("<")
    if len(chunk) != count * dtype.itemsize:
        raise BadTensor(
            f"input {name!r}: {len(chunk)} bytes of binary data, its shape needs"
            f" {count * dtype.itemsize} ({count} x {datatype})"
        )
    return np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("="))


def bytes_elements(name: str, chunk: bytes, count: int) -> np.ndarray:
    """The length-prefixed elements of a binary BYTES tensor."""
    elements, offset = [], 0
    while offset < len(chunk):
        if offset + LENGTH.size > len(chunk):
            raise BadTensor(f"input {name!r}: BYTES data ends inside a length prefix")
        (length,) = LENGTH.unpack_from(chunk, offset)
        offset += LENGTH.size
        if offset + length > len(chunk):
            raise BadTensor(f"input {name!r}: a BYTES element runs past its binary data")
        elements.append(chunk[offset : offset + length])
        offset += length
    if len(elements) != count:
        raise BadTensor(f"input {name!r}: {len(elements)} BYTES elements, its shape needs {count}")
    array = np.empty(count, dtype=object)
    array[:] = elements
    return array


def json_data(name: str, datatype: str, data, count: int) -> np.ndarray:
    """`count` elements from a JSON data list (flat or nested, row-major)."""
    if datatype == "BYTES":
        flat = list(flatten(data))
        if not all(isinstance(v, str) for v in flat):
            raise BadTensor(f"input {name!r}: BYTES data in JSON must be strings")
        array = np.empty(len(flat), dtype=object)
        array[:] = [v.encode() for v in flat]
    else:
        try:
            array = np.asarray(list(flatten(data)), dtype=DATATYPES[datatype])
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadTensor(f"input {name!r}: data is not {datatype}: {exc}") from None
    if array.size != count:
        raise BadTensor(f"input {name!r}: {array.size} values, its shape needs {count}")
    return array


def flatten(data):
    """The scalars of a nested list, row-major."""
    if isinstance(data, list):
        for item in data:
            yield from flatten(item)
    else:
        yield data


def encode_response(head: dict, outputs: list[tuple[str, np.ndarray]], request: InferRequest):
    """(body, headers) of an infer response: `head` (model_name, ...) plus the outputs, each
    as JSON data or binary data as the request asked."""
    entries, chunks = [], []
    for name, array in outputs:
        datatype = datatype_of(array.dtype)
        entry = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if request.binary(name):
            chunk = to_binary(array, datatype)
            entry["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            entry["data"] = to_json(array, datatype)
        entries.append(entry)
    header = json.dumps({**head, "outputs": entries}, separators=(",", ":")).encode()
    if not chunks:
        return header, {"Content-Type": "application/json"}
    headers = {"Content-Type": "application/octet-stream", HEADER_LENGTH: str(len(header))}
    return b"".join([header, *chunks]), headers


def to_binary(array: np.ndarray, datatype: str) -> bytes:
    """Binary tensor data: little-endian row-major, BYTES length-prefixed."""
    if datatype == "BYTES":
        return b"".join(LENGTH.pack(len(v)) + v for v in map(as_bytes, array.reshape(-1)))
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def to_json(array: np.ndarray, datatype: str) -> list:
    """A flat row-major JSON list."""
    flat = array.reshape(-1)
    if datatype == "BYTES":
        return [as_bytes(v).decode("utf-8", "replace") for v in flat]
    return flat.tolist()


def as_bytes(value) -> bytes:
    """A BYTES element: bytes as they are, anything else as its UTF-8 text."""
    return value if isinstance(value, bytes) else str(value).encode()
