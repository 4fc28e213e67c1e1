"""`export_edge`: the plain .onnx (exported, or given), then a self-contained file, the ORT
format, or both -- each step checked before anything is published.

    SOURCE --export--> plain .onnx --embed_preprocess--> self-contained .onnx --format ort--> .ort
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.export.embed import Wrapping, self_contained, wrapping_of
from toolkit.export.files import check_output_path, publish, save_onnx, scratch_folder, staged
from toolkit.export.options import ExportOptions, ModelOverrides
from toolkit.export.ort_format import OrtReport, check_ort_output, to_ort
from toolkit.export.pixel_parity import (
    PixelParity,
    PixelSamples,
    folder_images,
    image_limit,
    judged,
    pixel_parity,
    split_images,
    synthetic_images,
)
from toolkit.export.status import status
from toolkit.meta import ModelMeta
from toolkit.onnxfile import load_onnx, model_bytes, read_metadata, write_metadata

SELF_CONTAINED = ".self-contained"  # model.onnx -> model.self-contained.onnx


@dataclass
class EdgeReport:
    """What `export_edge` wrote: the plain export (when it made one) and each edge step."""

    path: Path
    source: str  # the .onnx the edge steps started from ("(exported)" when made here)
    plain: object | None  # ExportReport of the torch export; None for an .onnx SOURCE
    parity: PixelParity | None  # self-contained vs `cnnkit infer` on the plain file
    ort: OrtReport | None
    size_bytes: int
    seconds: float

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {
            "path": str(self.path),
            "source": self.source,
            "plain": self.plain.to_dict() if self.plain else None,
            "self_contained": self.parity.to_dict() if self.parity else None,
            "ort": self.ort.to_dict() if self.ort else None,
            "size_bytes": self.size_bytes,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class PlainFile:
    """The plain .onnx the edge steps start from, and what it was made from."""

    path: Path
    default_out: Path  # where the plain file goes by default; edge outputs are named from it
    report: object | None  # ExportReport when exported here
    run_data: tuple[str | None, int] = (None, 0)  # the run's data source and seed


def export_edge(source: str | Path, out: str | Path | None, options: ExportOptions) -> EdgeReport:
    """Export SOURCE (or take an .onnx) and write it self-contained and/or in the ORT format."""
    start = time.perf_counter()
    edge = options.edge
    check_combination(source, options)
    with scratch_folder("cnnkit-edge-") as work:
        plain = plain_file(source, work, options, start)
        final = check_output_path(out or default_output(plain.default_out, options))
        if edge.format == "ort":
            check_ort_output(final)
        current, parity = plain.path, None
        if edge.embed_preprocess:
            target = work / f"{final.stem}.onnx" if edge.format == "ort" else final
            parity = embed_file(plain, target, options)
            current = target
        ort = None
        if edge.format == "ort":
            with status(f"converting {current.name} to the ORT format", options.quiet):
                ort = to_ort(current, final, edge.target_platform)
    return EdgeReport(
        path=final,
        source="(exported)" if plain.report else str(plain.path),
        plain=plain.report,
        parity=parity,
        ort=ort,
        size_bytes=ort.ort_bytes if ort else model_bytes(final),
        seconds=time.perf_counter() - start,
    )


def is_onnx_source(source: str | Path) -> bool:
    """True for an existing .onnx file."""
    return Path(source).suffix == ".onnx" and Path(source).is_file()


def check_combination(source: str | Path, options: ExportOptions) -> None:
    """One line for flags that do not go together (before any work)."""
    edge = options.edge
    if edge.format not in ("onnx", "ort"):
        raise CnnkitError(f"--format {edge.format}: expected onnx or ort")
    if (edge.resize or edge.seg_probs) and not edge.embed_preprocess:
        raise CnnkitError(
            "--resize and --seg-probs shape a self-contained file: add --embed-preprocess"
        )
    if edge.target_platform and edge.format != "ort":
        raise CnnkitError("--target-platform applies to --format ort")
    if edge.calib_dir and not edge.embed_preprocess:
        raise CnnkitError("--calib-dir: export checks a self-contained file on these images; "
                          "add --embed-preprocess")  # fmt: skip
    if not edge.wanted:
        raise CnnkitError(f"{source}: --embed-preprocess or --format ort is what export_edge adds")


def default_output(plain_out: Path, options: ExportOptions) -> Path:
    """model.onnx -> model.self-contained.onnx, model.ort or model.self-contained.ort."""
    stem = plain_out.stem + (SELF_CONTAINED if options.edge.embed_preprocess else "")
    return plain_out.with_name(stem + (".ort" if options.edge.format == "ort" else ".onnx"))


def plain_file(source, work: Path, options: ExportOptions, start: float) -> PlainFile:
    """An .onnx SOURCE as it is, else the parity-checked export of SOURCE into `work`."""
    from toolkit.export.calibration import run_data

    if is_onnx_source(source):
        path = Path(source)
        check_onnx_overrides(path, options.overrides)
        return PlainFile(path, path, None, run_data(path, None))
    from toolkit.export.onnx_export import export_resolved
    from toolkit.export.source import resolve_source

    src = resolve_source(source, options.overrides)
    report = export_resolved(src, work / "model.onnx", options, start)
    data = (src.run_config.get("data"), int(src.run_config.get("seed", 0)))
    return PlainFile(report.path, src.default_out, report, data)


def check_onnx_overrides(path: Path, overrides: ModelOverrides) -> None:
    """An .onnx SOURCE takes --mean/--std/--input-size/--classes, and only when foreign."""
    builder = {"--num-classes": overrides.num_classes, "--in-channels": overrides.in_channels,
               "--model-arg": overrides.model_args, "--weights": overrides.weights,
               "--task": overrides.task}  # fmt: skip
    given = [flag for flag, value in builder.items() if value]
    if given:
        raise CnnkitError(f"{', '.join(given)} build a model; {path} is already one")
    described = {"--mean": overrides.mean, "--std": overrides.std,
                 "--input-size": overrides.input_size, "--classes": overrides.classes}  # fmt: skip
    given = [flag for flag, value in described.items() if value]
    if given and not read_metadata(load_onnx(path, load_external_data=False), path).foreign:
        raise CnnkitError(f"{', '.join(given)}: {path} carries cnnkit metadata; it says them")


def spec_flags(overrides: ModelOverrides):
    """What the runtime is told about a foreign .onnx (--mean/--std/--input-size)."""
    from toolkit.runtime.preprocess import SpecFlags

    size = overrides.input_size
    return SpecFlags(
        size=tuple(size[1:]) if size else None,
        mean=tuple(overrides.mean) if overrides.mean else None,
        std=tuple(overrides.std) if overrides.std else None,
        channels=size[0] if size else None,
    )


def embed_file(plain: PlainFile, target: Path, options: ExportOptions) -> PixelParity:
    """Write the self-contained form of `plain` to `target`, published only if parity holds."""
    from toolkit.runtime.interpret import interpret

    edge, flags = options.edge, spec_flags(options.overrides)
    interp = interpret(plain.path, flags)
    proto = load_onnx(plain.path)
    meta = read_metadata(proto, plain.path)
    if meta.foreign and not (flags.mean and flags.std):
        raise CnnkitError(
            f"{plain.path} has no cnnkit metadata: give --mean and --std (and --input-size "
            "when its H, W are dynamic) so the normalisation can go into the graph"
        )
    wrapping = wrapping_of(interp, edge.resize, edge.seg_probs)
    with status("embedding the preprocessing", options.quiet):
        wrapped = self_contained(proto, wrapping)
    write_metadata(wrapped, contained_meta(meta, interp, plain.path, options.overrides))
    wrapped.producer_name = "cnnkit"
    samples = parity_samples(plain, wrapping, meta, options)
    with staged(target) as tmp:
        save_onnx(wrapped, tmp)
        with status(f"checking the self-contained file on {samples.origin}", options.quiet):
            parity = pixel_parity(plain.path, tmp, wrapping, samples, flags)
        judged(parity, edge.force, target)
        publish(tmp, target)
    return parity


def contained_meta(meta: ModelMeta, interp, path: Path, overrides: ModelOverrides) -> ModelMeta:
    """The plain file's metadata (or what the runtime decided for a foreign one), marked
    self-contained; mean/std stay for reference."""
    if meta.foreign:
        meta = ModelMeta.from_spec(interp.spec).replace(model=path.stem)
        if overrides.classes:
            meta = meta.replace(classes=list(overrides.classes))
    return meta.replace(self_contained=True)


def parity_samples(
    plain: PlainFile, wrapping: Wrapping, meta: ModelMeta, options: ExportOptions
) -> PixelSamples:
    """--calib-dir images, else the run's validation split, else synthetic images."""
    edge, limit = options.edge, image_limit(wrapping.task)
    if edge.calib_dir:
        return folder_images(edge.calib_dir, wrapping.channels, limit)
    data, seed = plain.run_data
    if data and meta.input_size:
        return split_images(data, meta, seed, edge.resize, limit)
    return synthetic_images(wrapping.channels, wrapping.size, edge.resize)
