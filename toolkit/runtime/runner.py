"""The batch runner behind `cnnkit infer`: inputs -> results.jsonl (+ masks), resumable.

An engine makes the rows (LocalEngine: a Predictor and decode threads in this process;
RayEngine: an actor pool on Ray Data); the runner checks the job, opens the engine before
--out is touched, and appends and flushes the rows per batch, in input order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Protocol

from toolkit.errors import CnnkitError
from toolkit.progress import note, progress_bar
from toolkit.runtime.inputs import InputItem, expand_inputs
from toolkit.runtime.local_engine import LocalEngine
from toolkit.runtime.masks import mask_image, mask_names, overlay_image, save_atomic
from toolkit.runtime.options import PredictorOptions, routed, updated
from toolkit.runtime.results import (
    RESULTS,
    ResultsWriter,
    iter_rows,
    read_rows,
    repair,
    write_csv,
)
from toolkit.safeio import FolderLock, output_folder, refuse_link

OUTPUT_FOLDERS = ("masks", "overlays")

ENGINES = ("local", "ray")


@dataclass
class InferenceSummary:
    """What a run did; numbers only, formatted by the CLI."""

    count: int  # inputs in the job, resumed ones included
    ok: int
    failed: int
    resumed: int  # rows already in results.jsonl before this run
    images_per_s: float  # inputs processed by this run per second of its batch loop
    seconds: float  # the batch loop
    setup_s: float  # sessions (and Ray) before the loop
    provider: str
    engine: str
    results: str
    csv: str | None = None
    masks: str | None = None
    overlays: str | None = None
    failures: list[dict] = field(default_factory=list)  # {"path", "error"}
    # local engine: decode mode, decode workers, onnxruntime threads and where time went
    # (decode_ms_per_image, infer_ms_per_batch, idle_s, idle_share); None for Ray
    split: dict | None = None

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return asdict(self)


@dataclass
class MaskWriter:
    """Writes each mask (and overlay) atomically under --out; rows get the relative path."""

    out_dir: Path
    names: dict[str, str]
    overlay: bool = False

    def __call__(self, key, mask, decoded) -> str:
        relative = Path("masks") / self.names[key]
        save_atomic(mask_image(mask), self.out_dir / relative)
        if self.overlay and decoded.image is not None:
            save_atomic(
                overlay_image(decoded.image, mask), self.out_dir / "overlays" / relative.name
            )
        return relative.as_posix()


def previous_rows(results: Path, resume: bool) -> list[dict]:
    """Rows already written (resume), after repairing a partial last line."""
    if results.is_symlink():  # appending would write wherever the link points
        raise CnnkitError(f"{results} is a link; refusing to write through it")
    if not results.exists():
        return []
    if not resume:
        raise CnnkitError(
            f"{results} already exists; pass --resume to continue it or choose another --out"
        )
    cut = repair(results)
    if cut:
        note(f"note: {results}: removed a partial last line ({cut} bytes) left by a crash")
    return read_rows(results)


@dataclass(frozen=True)
class InferenceJob:
    """How `run_inference` goes through the inputs (the Predictor's options aside)."""

    batch_size: int = 8
    workers: int | str | None = "auto"  # decode threads, or auto (sized with --threads)
    resume: bool = False  # continue OUT/results.jsonl
    overlay: bool = False  # segmentation: also write overlay PNGs
    csv: bool = False  # also write OUT/results.csv
    engine: str = "local"  # or "ray"
    ray_address: str | None = None  # None: start a local Ray
    ray_workers: int = 2  # Ray actors


class Engine(Protocol):
    """What run_inference needs of an engine: LocalEngine here, RayEngine on Ray Data."""

    provider: str  # the execution provider that ran the rows

    def rows(self, items: list[InputItem], save_mask: MaskWriter) -> Iterator[list[dict]]:
        """Row batches for `items`, in input order."""

    def split(self, seconds: float) -> dict | None:
        """Where the batch loop's `seconds` went (decode, model, idle), when known."""


def open_engine(
    model: str | Path, options: PredictorOptions, job: InferenceJob, quiet: bool
) -> Engine:
    """The job's engine, opened: every check that can fail before --out is made."""
    if job.engine not in ENGINES:
        raise CnnkitError(f"--engine {job.engine!r}: expected one of {', '.join(ENGINES)}")
    if job.engine == "ray":
        from toolkit.runtime.ray_engine import RayEngine

        return RayEngine(model, options, job)
    return LocalEngine(model, options, job, quiet=quiet)


def run_inference(
    model: str | Path,
    inputs,
    out_dir: str | Path,
    options: PredictorOptions | None = None,
    job: InferenceJob | None = None,
    *,
    quiet: bool = False,
    **keywords,
) -> InferenceSummary:
    """Predict every input into OUT/results.jsonl (and masks); resumable, bad files reported.

    `keywords` are fields of InferenceJob (batch_size, workers, resume, overlay, csv,
    engine, ...) or of PredictorOptions (device, threads, size, topk, decode, ...), applied
    on top of `job` and `options`. `workers` "auto" (or None) sizes decode threads and
    onnxruntime threads together. The model is checked before anything is written.
    """
    job_changes, rest = routed_job(keywords)
    job = updated(job or InferenceJob(), job_changes)
    options = (options or PredictorOptions()).updated(**rest)
    out_dir = checked_out(out_dir, job)
    items = outside(expand_inputs(inputs), out_dir)
    start = time.perf_counter()
    engine = open_engine(model, options, job, quiet)
    output_folder(out_dir)
    with FolderLock(out_dir):
        for name in OUTPUT_FOLDERS:
            refuse_link(out_dir / name, "masks and overlays")
        results = out_dir / RESULTS
        done = previous_rows(results, job.resume)
        done_keys = {row.get("path") for row in done}
        pending = [item for item in items if item.key not in done_keys]
        save_mask = MaskWriter(out_dir, mask_names([item.key for item in items]), job.overlay)
        rows = engine.rows(pending, save_mask)
        setup_s = time.perf_counter() - start
        seconds = write_rows(rows, results, len(pending), quiet)
        tally = tally_rows(results)
        if job.csv:
            write_csv(iter_rows(results), out_dir / "results.csv")
    return InferenceSummary(
        count=len(items),
        ok=tally.ok,
        failed=len(tally.failures),
        resumed=len(done),
        images_per_s=len(pending) / seconds if seconds > 0 else 0.0,
        seconds=seconds,
        setup_s=setup_s,
        provider=engine.provider,
        engine=job.engine,
        results=str(results),
        csv=str(out_dir / "results.csv") if job.csv else None,
        masks=str(out_dir / "masks") if tally.segmentation else None,
        overlays=str(out_dir / "overlays") if tally.segmentation and job.overlay else None,
        failures=tally.failures,
        split=engine.split(seconds),
    )


def checked_out(out_dir: str | Path, job: InferenceJob) -> Path:
    """--out as a Path, refused when it cannot hold results.jsonl (and a bad --batch-size)."""
    if job.batch_size < 1:
        raise CnnkitError(f"--batch-size {job.batch_size}: must be at least 1")
    if not str(out_dir).strip():
        raise CnnkitError("--out '': give a folder for results.jsonl")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CnnkitError(f"--out {out_dir}: is a file, expected a folder for results.jsonl")
    return out_dir


@dataclass
class Tally:
    """What results.jsonl holds, counted in one pass (the rows are not kept)."""

    ok: int = 0
    failures: list[dict] = field(default_factory=list)
    segmentation: bool = False


def tally_rows(results: Path) -> Tally:
    """Count ok rows and collect the failures of a results file, one line at a time."""
    tally = Tally()
    for row in iter_rows(results):
        if row["status"] == "ok":
            tally.ok += 1
        else:
            tally.failures.append({"path": row["path"], "error": row["error"]})
        tally.segmentation = tally.segmentation or "mask" in row
    return tally


def routed_job(keywords: dict) -> tuple[dict, dict]:
    """Keywords for InferenceJob, and the rest (PredictorOptions fields)."""
    job_fields = {f.name for f in fields(InferenceJob)}
    job = {k: v for k, v in keywords.items() if k in job_fields}
    return routed(job, InferenceJob)[0], {k: v for k, v in keywords.items() if k not in job}


def outside(items: list[InputItem], out_dir: Path) -> list[InputItem]:
    """Inputs other than OUT/masks and OUT/overlays (an --out inside an input folder)."""
    own = [(out_dir / name).resolve() for name in OUTPUT_FOLDERS]
    kept = [item for item in items if not any(map(item.path.resolve().is_relative_to, own))]
    if len(kept) < len(items):
        note(f"note: {len(items) - len(kept)} file(s) under {out_dir}/masks or overlays skipped")
    if not kept:
        raise CnnkitError(f"no inputs besides the masks and overlays of --out {out_dir}")
    return kept


def write_rows(rows_iter, results: Path, total: int, quiet: bool) -> float:
    """Drain row batches into results.jsonl with a progress bar; the loop's seconds."""
    writer = ResultsWriter(results)
    start = time.perf_counter()
    done = 0
    try:
        with progress_bar(quiet) as bar:
            task = bar.add_task("infer", total=total, status="")
            for rows in rows_iter:
                writer.write(rows)
                done += len(rows)
                rate = done / max(time.perf_counter() - start, 1e-9)
                bar.update(task, advance=len(rows), status=f"{rate:.1f} img/s")
    finally:
        writer.close()
    return time.perf_counter() - start
