"""onnxruntime sessions: device and provider choice, fallback detection, IOBinding on CUDA.

onnxruntime only warns when a requested provider is missing and quietly runs on CPU, so
after creating a session we compare `get_providers()` with what was asked and either
refuse (explicit request) or announce the fallback (automatic choice, --allow-fallback).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import is_ort, load_onnx, metadata_from_session
from toolkit.progress import note
from toolkit.runtime.options import SessionOptions, routed, updated

# What onnxruntime raises for a model it cannot load (pybind classes, not RuntimeError).
LOAD_ERRORS = (
    ort_errors.Fail,
    ort_errors.InvalidGraph,
    ort_errors.InvalidProtobuf,
    ort_errors.InvalidArgument,
    ort_errors.NoSuchFile,
    ort_errors.NotImplemented,
    ort_errors.RuntimeException,
    RuntimeError,
)
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
GRAPH_OPTIMIZATION = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


@dataclass
class SessionHandle:
    """An open session and what actually runs it."""

    session: ort.InferenceSession
    providers: list[str]  # from get_providers(): what really runs
    device: str  # "cpu", "cuda:N" or a provider name
    create_s: float  # seconds spent creating the session
    input_name: str
    input_shape: list  # ints for fixed axes, str/None for dynamic ones
    meta: ModelMeta  # cnnkit metadata; every field None for a foreign model
    path: Path
    output_names: list[str] = field(default_factory=list)

    @property
    def fixed_batch(self) -> int | None:
        """The model's batch size when its batch axis is fixed, else None."""
        first = self.input_shape[0] if self.input_shape else None
        return first if isinstance(first, int) and first > 0 else None

    @property
    def cuda_device_id(self) -> int | None:
        """The CUDA device index when CUDA runs this session, else None."""
        if CUDA not in self.providers or not self.device.startswith("cuda"):
            return None
        return int(self.device.partition(":")[2] or 0)


@dataclass(frozen=True)
class ProviderRequest:
    """Providers to ask onnxruntime for, and whether the user named them explicitly."""

    providers: list  # names or (name, options) pairs, preferred first
    device: str
    explicit: bool


def request_providers(device: str = "auto", provider: str | None = None) -> ProviderRequest:
    """Turn --device / --provider into an onnxruntime provider list."""
    if provider:
        return ProviderRequest([provider, CPU], provider, explicit=True)
    device = (device or "auto").lower()
    if device == "auto":
        if CUDA in ort.get_available_providers():
            return ProviderRequest([(CUDA, {"device_id": 0}), CPU], "cuda:0", explicit=False)
        return ProviderRequest([CPU], "cpu", explicit=False)
    if device == "cpu":
        return ProviderRequest([CPU], "cpu", explicit=True)
    if device == "cuda" or device.startswith("cuda:"):
        index = device.partition(":")[2] or "0"
        if not index.isdigit():
            raise CnnkitError(f"--device {device!r}: expected cuda or cuda:N")
        options = {"device_id": int(index)}
        return ProviderRequest([(CUDA, options), CPU], f"cuda:{index}", explicit=True)
    raise CnnkitError(f"--device {device!r}: expected auto, cpu, cuda or cuda:N")


def provider_name(entry) -> str:
    """The name of a provider list entry (a name or a (name, options) pair)."""
    return entry[0] if isinstance(entry, tuple) else entry


def max_threads() -> int:
    """The most intra-op threads a session may ask for: 4 per core, at least 16."""
    return max(16, 4 * (os.cpu_count() or 1))


def session_options(options: SessionOptions) -> ort.SessionOptions:
    """onnxruntime SessionOptions for --threads and the graph optimisation level.

    spinning=False: idle intra-op threads sleep instead of spinning, leaving the cores to
    work that shares them (the runner's decode threads).
    """
    threads, graph_optimization = options.threads, options.graph_optimization
    if graph_optimization not in GRAPH_OPTIMIZATION:
        choices = ", ".join(GRAPH_OPTIMIZATION)
        raise CnnkitError(f"graph optimisation {graph_optimization!r}: expected one of {choices}")
    ort_options = ort.SessionOptions()
    ort_options.graph_optimization_level = GRAPH_OPTIMIZATION[graph_optimization]
    ort_options.log_severity_level = 3  # we detect and report provider fallbacks ourselves
    ort_options.enable_profiling = options.enable_profiling
    if threads is not None:
        if threads < 1:
            raise CnnkitError(f"--threads {threads}: must be at least 1")
        if threads > max_threads():  # thousands of threads hang or crash onnxruntime
            raise CnnkitError(f"--threads {threads}: at most {max_threads()} on this machine")
        ort_options.intra_op_num_threads = threads
    if options.spinning is False:
        ort_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort_options


def refuse_or_announce(request: ProviderRequest, wanted: str, allow_fallback: bool) -> None:
    """An explicit provider that cannot run is an error unless fallback is allowed."""
    message = f"{wanted} is not usable here (onnxruntime has {ort.get_available_providers()})"
    if request.explicit and not allow_fallback:
        raise CnnkitError(f"--device {request.device}: {message}; pass --allow-fallback for CPU")
    note(f"note: {message}; falling back to CPUExecutionProvider")


def check_request(options: SessionOptions) -> None:
    """Refuse, before any session opens, what open_session would refuse about the options."""
    session_options(options)  # --threads, graph optimisation
    request = request_providers(options.device, options.provider)
    wanted = provider_name(request.providers[0])
    missing = wanted not in ort.get_available_providers()
    if missing and request.explicit and not options.allow_fallback:
        refuse_or_announce(request, wanted, allow_fallback=False)  # raises


def create_session(path: Path, options, providers) -> tuple[ort.InferenceSession, float]:
    """An InferenceSession and the seconds it took to create."""
    start = time.perf_counter()
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except LOAD_ERRORS as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CnnkitError(f"{path}: onnxruntime cannot load it: {first}") from None
    return session, time.perf_counter() - start


def open_session(
    path: str | Path,
    options: SessionOptions | None = None,
    *,
    quiet: bool = False,
    **keywords,
) -> SessionHandle:
    """Open an ONNX file on the requested device; refuse or announce provider fallbacks.

    `keywords` are SessionOptions fields by name (device="cpu", threads=1, ...).
    """
    options = updated(options or SessionOptions(), routed(keywords, SessionOptions)[0])
    path = Path(path)
    if not is_ort(path):  # an .ort file is checked by onnxruntime alone
        load_onnx(path, load_external_data=False)  # clear errors and the external-data guard
    request = request_providers(options.device, options.provider)
    wanted = provider_name(request.providers[0])
    providers = request.providers
    if wanted not in ort.get_available_providers():
        refuse_or_announce(request, wanted, options.allow_fallback)
        providers = [CPU]
    session, create_s = create_session(path, session_options(options), providers)
    actual = session.get_providers()
    if wanted != actual[0] and providers is request.providers:
        refuse_or_announce(request, wanted, options.allow_fallback)
    running = request.device if actual[0] == wanted else "cpu"
    if not quiet and running != "cpu":
        note(f"running on {running} ({actual[0]})")
    first = session.get_inputs()[0]
    return SessionHandle(
        session=session,
        providers=actual,
        device=running,
        create_s=create_s,
        input_name=first.name,
        input_shape=list(first.shape),
        meta=metadata_from_session(session, path),
        path=path,
        output_names=[o.name for o in session.get_outputs()],
    )


def bind_on_device(
    handle: SessionHandle, feeds: dict[str, np.ndarray], outputs: list[str]
) -> ort.IOBinding:
    """An IOBinding with `feeds` copied to the session's CUDA device and `outputs` kept there.

    The one place cnnkit binds device memory: the runtime reads one output back per batch,
    the benchmark re-runs one binding many times (so the clock sees no host copies)."""
    device_id = handle.cuda_device_id
    binding = handle.session.io_binding()
    for name, array in feeds.items():
        binding.bind_ortvalue_input(
            name, ort.OrtValue.ortvalue_from_numpy(array, "cuda", device_id)
        )
    for name in outputs:
        binding.bind_output(name, "cuda", device_id)
    return binding


def run_with_iobinding(
    handle: SessionHandle, batch: np.ndarray, output: str, constants: dict
) -> np.ndarray:
    """Run on CUDA with input and output bound on the device, so timing is not host copies."""
    binding = bind_on_device(handle, {handle.input_name: batch, **constants}, [output])
    handle.session.run_with_iobinding(binding)
    return binding.get_outputs()[0].numpy()


def run_batch(
    handle: SessionHandle,
    batch: np.ndarray,
    *,
    output: str | None = None,
    constants: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """One output (default the first) for a batch, fed as it is typed, plus constant inputs;
    fixed-batch models get split and zero-padded chunks. A constant whose first axis is the
    batch is cut to each chunk's size."""
    batch = np.ascontiguousarray(batch)
    output = output or handle.output_names[0]
    constants = constants or {}
    size = handle.fixed_batch
    if size is None or len(batch) == size:
        return run_once(handle, batch, output, batched(constants, len(batch)))
    outputs = []
    for start in range(0, len(batch), size):
        chunk = batch[start : start + size]
        real = len(chunk)
        if real < size:
            padding = np.zeros((size - real, *chunk.shape[1:]), dtype=chunk.dtype)
            chunk = np.concatenate([chunk, padding])
        outputs.append(run_once(handle, chunk, output, batched(constants, size))[:real])
    return np.concatenate(outputs)


def batched(constants: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Constants given per sample (a leading axis of 1) repeated to the batch size."""
    return {
        name: np.repeat(array, size, axis=0) if array.shape[:1] == (1,) and size != 1 else array
        for name, array in constants.items()
    }


def run_once(handle: SessionHandle, batch: np.ndarray, output: str, constants: dict) -> np.ndarray:
    """One session.run (IOBinding on CUDA), one output only."""
    if handle.cuda_device_id is not None:
        return run_with_iobinding(handle, batch, output, constants)
    return handle.session.run([output], {handle.input_name: batch, **constants})[0]
