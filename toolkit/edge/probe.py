"""`python -m toolkit.edge.probe`: import onnxruntime and open a tiny session per provider.

`cnnkit doctor` runs this in a child process, because the failures it looks for kill the
process that meets them: onnxruntime 1.21's aarch64 wheel dies of an illegal instruction on
a Raspberry Pi 4, and its cpuinfo reader segfaults at import on a foreign /proc/cpuinfo.
One JSON line is printed (and flushed) per finished step, so the parent knows where a
crash happened.
"""

from __future__ import annotations

import ctypes
import json
import sys

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# The shared libraries onnxruntime-gpu's CUDA provider loads (CUDA 12, cuDNN 9).
CUDA_LIBRARIES = ("libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12", "libcudnn.so.9")


def say(data: dict) -> None:
    """One step's result on stdout, flushed before the next step can crash."""
    print(json.dumps(data), flush=True)


def tiny_model() -> bytes:
    """y = x + x on a [1, 4] float tensor: the smallest model every provider can take."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def missing_libraries(names) -> list[str]:
    """The shared libraries of `names` the dynamic loader cannot find."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def open_provider(ort, model: bytes, provider: str) -> dict:
    """Whether a session opens on `provider` and runs there (no silent CPU fallback)."""
    import numpy as np

    try:
        session = ort.InferenceSession(model, providers=[provider, CPU])
        out = session.run(None, {"x": np.ones((1, 4), np.float32)})[0]
    except Exception as exc:  # any failure is this provider's answer, reported as text
        return {"provider": provider, "opens": False, "error": str(exc).strip().splitlines()[0]}
    if session.get_providers()[0] != provider:
        error = "onnxruntime fell back to the CPU"
        missing = missing_libraries(CUDA_LIBRARIES) if provider == CUDA else []
        if missing:
            error += f" (missing: {', '.join(missing)})"
        return {"provider": provider, "opens": False, "error": error}
    if not (out == 2).all():
        return {"provider": provider, "opens": False, "error": "wrong result for x + x"}
    return {"provider": provider, "opens": True, "error": None}


def main() -> None:
    """Report the import, then each listed provider, one JSON line each."""
    import onnxruntime as ort

    providers = list(ort.get_available_providers())
    say({"version": ort.__version__, "providers": providers})
    model = tiny_model()
    for provider in providers:
        say(open_provider(ort, model, provider))


if __name__ == "__main__":
    sys.exit(main())
