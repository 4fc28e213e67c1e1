"""The batch runner behind `cnnkit infer`: inputs -> results.jsonl (+ masks), resumable.

Decoding and preprocessing run in a thread pool a few batches ahead of session.run (a
bounded prefetch window), so the model stays busy; rows come out in input order and are
appended and flushed per batch.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.progress import note, progress_bar
from toolkit.runtime.inputs import InputItem, expand_inputs
from toolkit.runtime.masks import mask_image, mask_names, overlay_image, save_atomic
from toolkit.runtime.options import PredictorOptions, routed, updated
from toolkit.runtime.predictor import Predictor, plan_inference
from toolkit.runtime.results import (
    RESULTS,
    ResultsWriter,
    iter_rows,
    read_rows,
    repair,
    write_csv,
)
from toolkit.runtime.workers import StageTimes, plan_workers
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


def batches(items: list, size: int) -> list[list]:
    """Consecutive chunks of `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def local_rows(
    predictor: Predictor,
    items: list[InputItem],
    *,
    batch_size: int,
    workers: int,
    save_mask=None,
    keep_image: bool = False,
    times: StageTimes | None = None,
) -> Iterator[list[dict]]:
    """Row batches in input order; decoding runs `workers` threads ahead of the model."""
    times = times if times is not None else StageTimes()
    chunks = iter(batches(items, batch_size))
    window: deque = deque()
    prefetch = max(2, workers)  # batches decoded ahead: bounded memory, busy model

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:

        def submit(chunk: list[InputItem]) -> None:
            futures = [
                pool.submit(times.timed_decode, predictor.try_decode, item, keep_image)
                for item in chunk
            ]
            window.append((chunk, futures))

        for _ in range(prefetch):
            chunk = next(chunks, None)
            if chunk is not None:
                submit(chunk)
        while window:
            chunk, futures = window.popleft()
            following = next(chunks, None)
            if following is not None:
                submit(following)
            waited = time.perf_counter()
            decoded = [future.result() for future in futures]
            started = time.perf_counter()
            times.idle_s += started - waited
            rows = predictor.rows([item.key for item in chunk], decoded, save_mask)
            times.infer_s.append(time.perf_counter() - started)
            yield rows


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
    if job.batch_size < 1:
        raise CnnkitError(f"--batch-size {job.batch_size}: must be at least 1")
    plan = plan_workers(job.workers, options.session.threads)
    if job.engine not in ENGINES:
        raise CnnkitError(f"--engine {job.engine!r}: expected one of {', '.join(ENGINES)}")
    if not str(out_dir).strip():
        raise CnnkitError("--out '': give a folder for results.jsonl")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CnnkitError(f"--out {out_dir}: is a file, expected a folder for results.jsonl")
    items = outside(expand_inputs(inputs), out_dir)
    start = time.perf_counter()
    if job.engine == "local":
        # Decode threads share the cores with onnxruntime's: its idle threads must not spin
        # (unless --spin).
        spinning = options.session.spinning is True
        session = replace(options.session, threads=plan.threads, spinning=spinning)
        predictor = Predictor(model, replace(options, session=session), quiet=quiet)
    else:
        # bad flags, a file infer cannot feed or a missing device fail here, not in the
        # actors after --out is locked
        plan_inference(model, options)
    output_folder(out_dir)
    with FolderLock(out_dir):
        for name in OUTPUT_FOLDERS:
            refuse_link(out_dir / name, "masks and overlays")
        results = out_dir / RESULTS
        done = previous_rows(results, job.resume)
        done_keys = {row.get("path") for row in done}
        pending = [item for item in items if item.key not in done_keys]
        save_mask = MaskWriter(out_dir, mask_names([item.key for item in items]), job.overlay)
        if job.engine == "ray":
            from toolkit.runtime.ray_engine import RayJob

            ray_job = RayJob(model, pending, options, job, save_mask)
            ray_job.start()
            rows_iter = ray_job.rows()
        else:
            times = StageTimes()
            rows_iter = local_rows(
                predictor,
                pending,
                batch_size=job.batch_size,
                workers=plan.workers,
                save_mask=save_mask,
                keep_image=job.overlay,
                times=times,
            )
        setup_s = time.perf_counter() - start
        seconds = write_rows(rows_iter, results, len(pending), quiet)
        provider_name = ray_job.provider if job.engine == "ray" else predictor.provider
        split = None
        if job.engine == "local":
            split = {
                "decode": predictor.decode_mode,
                "workers": plan.workers,
                "threads": plan.threads,
                **times.summary(seconds),
            }
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
        provider=provider_name,
        engine=job.engine,
        results=str(results),
        csv=str(out_dir / "results.csv") if job.csv else None,
        masks=str(out_dir / "masks") if tally.segmentation else None,
        overlays=str(out_dir / "overlays") if tally.segmentation and job.overlay else None,
        failures=tally.failures,
        split=split,
    )


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
