"""The float32 ceiling a model can reach here: onnxruntime's own kernels at their best.

A large MatMul and a large Conv run in a session built with the same options as the
benchmarked models (threads, graph optimisation); the faster of the two, best of N runs,
is the peak. Measured with the same kernels (not numpy's BLAS, which may use another
library and other threads), achieved/peak of a model stays at or below 100%.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from toolkit.errors import CnnkitError

CONV_SHAPE = (8, 256, 28, 28)  # N, C, H, W; 3x3 kernel, C -> C channels, same padding


@dataclass(frozen=True)
class PeakResult:
    """Best-of-N GFLOP/s of onnxruntime's MatMul and Conv kernels; the faster is the peak."""

    gflops: float
    size: int  # the MatMul's n (n x n by n x n)
    repeats: int
    best_s: float  # the fastest run of the kernel that set the peak
    threads: int | None = None  # onnxruntime intra-op threads (None: its default)
    source: str = "onnxruntime MatMul + Conv"
    kernels: dict = field(default_factory=dict)  # {"matmul": GFLOP/s, "conv": GFLOP/s}

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def matmul_model(n: int, seed: int):
    """An ONNX graph: x (n, n) @ a constant (n, n) float32 weight."""
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(seed).standard_normal((n, n), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "peak_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def conv_model(shape: tuple[int, int, int, int], seed: int):
    """An ONNX graph: a 3x3 same-padded Conv from C to C channels on an (N, C, H, W) input."""
    from onnx import TensorProto, helper, numpy_helper

    channels = shape[1]
    weight = np.random.default_rng(seed).standard_normal(
        (channels, channels, 3, 3), dtype=np.float32
    )
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    graph = helper.make_graph(
        [node],
        "peak_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def best_seconds(model, shape: tuple[int, ...], threads: int | None, repeats: int) -> float:
    """The fastest of `repeats` runs (after one warm run) of a one-node model."""
    import onnxruntime as ort

    from toolkit.runtime.options import SessionOptions
    from toolkit.runtime.session import session_options

    options = session_options(SessionOptions(threads=threads))
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = {"x": np.random.default_rng(1).standard_normal(shape, dtype=np.float32)}
    session.run(None, feeds)  # thread pool, arena and packed weights warm
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - start)
    return best


def measure_peak(
    size: int = 2048, repeats: int = 5, seed: int = 0, threads: int | None = None
) -> PeakResult:
    """onnxruntime's best float32 GFLOP/s on an n x n MatMul and a large 3x3 Conv."""
    if size < 1 or repeats < 1:
        raise CnnkitError(f"peak: size {size} and repeats {repeats} must be positive")
    matmul_s = best_seconds(matmul_model(size, seed), (size, size), threads, repeats)
    n, c, h, w = CONV_SHAPE
    conv_s = best_seconds(conv_model(CONV_SHAPE, seed), CONV_SHAPE, threads, repeats)
    kernels = {
        "matmul": 2.0 * size**3 / matmul_s / 1e9,
        "conv": 2.0 * n * c * c * 9 * h * w / conv_s / 1e9,
    }
    best = max(kernels, key=kernels.get)
    return PeakResult(
        gflops=kernels[best],
        size=size,
        repeats=repeats,
        best_s=matmul_s if best == "matmul" else conv_s,
        threads=threads,
        kernels=kernels,
    )
