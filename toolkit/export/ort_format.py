"""The ORT format for minimal onnxruntime builds, written by onnxruntime's own converter.

A reduced-operator onnxruntime (how ORT ships on small devices) loads only `.ort` files and
only the kernels it was built with. `convert_onnx_models_to_ort` applies the graph
optimisations once, here, and saves the result; `create_config_from_models` lists the
operators (and, for `--enable_reduced_operator_type_support`, their types) that build
needs. The `.ort` keeps the file's `metadata_props`, checked after conversion, and its
outputs are compared with the `.onnx` on the same random inputs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.export.files import staged
from toolkit.export.parity import compare
from toolkit.safeio import publish

PLATFORMS = ("amd64", "arm")
OPERATORS, OPERATORS_AND_TYPES = "required_operators.config", "required_operators_and_types.config"
BUILD = (
    "./build.sh --config MinSizeRel --build_shared_lib --parallel --minimal_build "
    "--disable_ml_ops --disable_exceptions --disable_rtti --skip_tests "
    "--include_ops_by_config {config} --enable_reduced_operator_type_support"
)
PARITY_SEED = 1234


@dataclass
class OrtReport:
    """What the ORT conversion wrote and how well the `.ort` matches the `.onnx`."""

    path: Path
    configs: list[Path]  # required_operators.config, ..._and_types.config
    build_command: str
    target_platform: str | None
    onnx_bytes: int
    ort_bytes: int
    metadata_kept: bool
    parity: list[dict]  # one row per output

    @property
    def parity_ok(self) -> bool:
        """True when every output matches."""
        return all(row["ok"] for row in self.parity)

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {
            "path": str(self.path),
            "configs": [str(p) for p in self.configs],
            "build_command": self.build_command,
            "target_platform": self.target_platform,
            "onnx_bytes": self.onnx_bytes,
            "ort_bytes": self.ort_bytes,
            "metadata_kept": self.metadata_kept,
            "parity": self.parity,
            "parity_ok": self.parity_ok,
        }


def check_ort_output(out: Path) -> Path:
    """An output path for the ORT format must end in .ort."""
    if out.suffix != ".ort":
        raise CnnkitError(f"--out {out}: --format ort writes an .ort file; name it {out.stem}.ort")
    return out


def config_paths(out: Path) -> list[Path]:
    """The two operator configs written beside OUT.ort."""
    return [out.with_name(f"{out.stem}.{name}") for name in (OPERATORS, OPERATORS_AND_TYPES)]


def to_ort(onnx_path: Path, out: Path, target_platform: str | None) -> OrtReport:
    """Convert `onnx_path` to OUT.ort with its two operator configs; nothing is written unless
    the metadata survived and the outputs match."""
    from onnxruntime.tools.convert_onnx_models_to_ort import (
        OptimizationStyle,
        convert_onnx_models_to_ort,
    )
    from onnxruntime.tools.ort_format_model import create_config_from_models

    check_ort_output(out)
    if target_platform not in (None, *PLATFORMS):
        raise CnnkitError(f"--target-platform {target_platform}: expected amd64 or arm")
    with staged(out) as staged_out:  # a private folder beside OUT: publishing is a rename
        work = staged_out.parent
        source = work / f"{out.stem}.onnx"
        shutil.copyfile(onnx_path, source)
        converted = work / "ort"
        logging.getLogger("ort_format_model.utils").setLevel(logging.WARNING)  # its INFO lines
        with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its progress
            convert_onnx_models_to_ort(
                source,
                output_dir=converted,
                optimization_styles=[OptimizationStyle.Fixed],
                target_platform=target_platform,
            )
        ort_file = converted / out.name
        configs = config_paths(ort_file)
        create_config_from_models([ort_file], configs[0], enable_type_reduction=False)
        create_config_from_models([ort_file], configs[1], enable_type_reduction=True)
        kept = same_metadata(onnx_path, ort_file)
        rows = ort_parity(onnx_path, ort_file)
        refuse_on_mismatch(kept, rows, out)
        report = OrtReport(
            path=out,
            configs=config_paths(out),
            build_command=BUILD.format(config=config_paths(out)[1].name),
            target_platform=target_platform,
            onnx_bytes=onnx_path.stat().st_size,
            ort_bytes=ort_file.stat().st_size,
            metadata_kept=kept,
            parity=rows,
        )
        for made, final in zip([*configs, ort_file], [*report.configs, out], strict=True):
            publish(made, final)
    return report


def _session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def same_metadata(onnx_path: Path, ort_file: Path) -> bool:
    """True when the `.ort` reports the `.onnx`'s metadata_props, every one."""
    before = _session(onnx_path).get_modelmeta().custom_metadata_map
    return _session(ort_file).get_modelmeta().custom_metadata_map == before


def random_feeds(session, batch: int = 2) -> dict[str, np.ndarray]:
    """Seeded inputs for every graph input: uint8 pixels 0..255, float noise; dynamic axes
    get the batch, or 32 for other axes."""
    rng = np.random.default_rng(PARITY_SEED)
    feeds = {}
    for node in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 32 for d in node.shape]
        if shape and not (isinstance(node.shape[0], int) and node.shape[0] > 0):
            shape[0] = batch
        if node.type == "tensor(uint8)":
            feeds[node.name] = rng.integers(0, 256, shape, dtype=np.uint8)
        elif node.type == "tensor(float)":
            feeds[node.name] = rng.standard_normal(shape).astype(np.float32)
        else:
            raise CnnkitError(f"input {node.name!r} is {node.type}; ORT parity feeds uint8/float")
    return feeds


def ort_parity(onnx_path: Path, ort_file: Path, atol=1e-4, rtol=1e-3) -> list[dict]:
    """Every output of the `.ort` against the `.onnx` on the same seeded inputs."""
    reference, candidate = _session(onnx_path), _session(ort_file)
    feeds = random_feeds(reference)
    names = [o.name for o in reference.get_outputs()]
    rows = []
    for name, ref, got in zip(
        names, reference.run(None, feeds), candidate.run(None, feeds), strict=True
    ):
        if np.issubdtype(ref.dtype, np.floating):
            numbers = compare(ref, got, atol, rtol) if ref.ndim >= 2 else {}
            ok = numbers.get("ok", bool(np.allclose(ref, got, atol=atol, rtol=rtol)))
            rows.append({"output": name, "max_abs": float(np.abs(ref - got).max()), "ok": ok})
        else:  # labels and masks: equal, up to near-ties the float rows already bound
            equal = float((ref == got).mean())
            rows.append({"output": name, "equal": equal, "ok": equal >= 0.99})
    return rows


def refuse_on_mismatch(kept: bool, rows: list[dict], out: Path) -> None:
    """One line when the metadata was lost or an output differs."""
    if not kept:
        raise CnnkitError(f"the ORT conversion lost the file's metadata; {out} not written")
    bad = [row for row in rows if not row["ok"]]
    if bad:
        raise CnnkitError(f"the .ort output {bad[0]['output']!r} differs from the .onnx "
                          f"({bad[0]}); {out} not written")  # fmt: skip
