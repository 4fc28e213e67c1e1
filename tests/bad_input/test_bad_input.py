"""Bad input, across every verb: the inputs users really give.

Every case must end with exit code 2 and one `error:` line naming the file or flag, no
traceback, and leave what was already written byte-identical (the shared run folder's
checkpoints, model.onnx, profile.json, bench.json and model.int8.onnx are hashed before
and after each case). Most cases run the CLI in-process (click's CliRunner, the same
code path as the console script); at least one case per verb runs the installed `cnnkit`.

NaN or infinite values in an .npy input are that input's error row (exit 1, the other
inputs still run), like an unreadable image: one bad array must not sink a batch, and
must never come out as a confident-looking label.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers.bad_input import one_line as assert_one_line_error
from tests.helpers.bad_input import snapshot
from tests.helpers.cli import invoke, run_cli

# (id, CLI args (split on spaces, then {world} paths and {out}, a fresh folder, filled in),
#  words the error line must hold)
# Ids ending in "!" also run as a real subprocess: one case per verb, the console script's
# own error path (every case runs in-process through the same CnnkitGroup handling).
CASES = [
    # models, compare, demo
    ("models-task!", "models --task nonsense", ("--task",)),
    ("compare-unknown!", "compare --models lenet5,nope", ("nope",)),
    ("compare-no-names", "compare --models ,", ("--models",)),
    ("compare-iterations", "compare --models lenet5 --iterations 0", ("--iterations",)),
    ("compare-cache-file", "compare --models lenet5 --cache {good}", ("--cache",)),
    ("demo-seed!", "demo --seed -1 --out {out}/demo", ("--seed",)),
    ("demo-out-under-file", "demo --quick --out {good}/demo", ("{good}",)),
    # train
    ("train-epochs-zero!", "train lenet --epochs 0 --runs-dir {out}", ("--epochs",)),
    ("train-batch-negative", "train lenet --batch-size -1 --runs-dir {out}", ("--batch-size",)),
    ("train-limit-zero", "train lenet --limit 0 --runs-dir {out}", ("--limit",)),
    ("train-size-zero", "train lenet --input-size 1,0,32 --runs-dir {out}", ("--input-size",)),
    ("train-no-model", "train --runs-dir {out}", ("MODEL",)),
    ("train-folder-missing", "train lenet --data folder:{root}/nope --runs-dir {out}", ("nope",)),
    ("train-folder-empty", "train lenet --data folder:{empty} --runs-dir {out}", ("empty",)),
    ("train-folder-one-class", "train lenet --data folder:{root}/junk --runs-dir {out}", ("junk",)),
    ("train-data-unknown", "train lenet --data nope --runs-dir {out}", ("--data",)),
    ("train-task-mismatch", "train fcn8s --data digits --runs-dir {out}", ("segmentation",)),
    ("train-model-arg-unknown", "train lenet --model-arg x=1 --runs-dir {out}", ("option x",)),
    ("train-resume-missing", "train --resume {root}/nope", ("--resume",)),
    ("train-resume-not-run", "train --resume {empty}", ("config.json",)),
    ("train-resume-misfit", "train --resume {misfit_run}", ("last.pt", "do not fit")),
    ("train-run-exists", "train lenet --runs-dir {root}/runs --name lenet --limit 16", ("lenet",)),
    ("train-init-misfit", "train lenet --init-from {misfit} --runs-dir {out}", ("no tensor",)),
    ("train-init-onnx", "train lenet --init-from {onnx} --runs-dir {out}", ("model.onnx",)),
    ("train-init-missing", "train lenet --init-from {root}/nope.pt --runs-dir {out}", ("nope.pt",)),
    ("train-lr-nan", "train lenet --lr nan --runs-dir {out}", ("--lr",)),
    ("train-label-smoothing",
     "train lenet --label-smoothing 5 --runs-dir {out}",
     ("--label-smoothing",)),
    ("train-clip-grad-negative", "train lenet --clip-grad -1 --runs-dir {out}", ("--clip-grad",)),
    ("train-threads-huge", "train lenet --threads 100000 --runs-dir {out}", ("--threads",)),
    ("train-model-arg-channels",
     "train lenet --model-arg in_channels=-1 --runs-dir {out}",
     ("in_channels",)),
    ("train-resume-finished", "train --resume {run}", ("finished", "--epochs")),
    ("train-resume-no-optimizer",
     "train --resume {run_no_optimizer} --epochs 3",
     ("last.pt", "optimizer")),
    ("train-resume-bad-rng", "train --resume {run_bad_rng} --epochs 3", ("last.pt", "rng")),
    ("train-resume-bad-epoch", "train --resume {run_bad_epoch} --epochs 3", ("last.pt", "epoch")),
    ("train-resume-bad-config",
     "train --resume {run_bad_config} --epochs 3",
     ("--batch-size", "abc")),
    # export
    ("export-missing", "export {root}/nope.pt", ("nope.pt",)),
    ("export-empty-folder", "export {empty}", ("{empty}", "best.pt")),
    ("export-onnx-file", "export {not_onnx}", ("notes.onnx", "checkpoint")),
    ("export-zero-byte", "export {zero}", ("zero.png",)),
    ("export-other-model!", "export {other} -o {onnx}", ("other-model.pt", "alexnet")),
    ("export-plain-dict", "export {plain}", ("plain-dict.pt", "format")),
    ("export-state-dict", "export {state_dict}", ("state-dict.pt", "format")),
    ("export-zoo-flag-on-run", "export {run} --num-classes 3", ("--num-classes",)),
    ("export-size-negative", "export lenet --input-size 1,-1,32", ("--input-size",)),
    ("export-classes-zero", "export lenet --num-classes 0", ("--num-classes",)),
    ("export-mean-nan", "export lenet --mean nan -o {out}/x.onnx", ("--mean",)),
    ("export-out-folder", "export {run} -o {empty}", ("{empty}",)),
    ("export-args-text", "export {pt_args_text} -o {out}.onnx", ("args_text.pt", "model_args")),
    ("export-classes-huge", "export {pt_classes_huge} -o {out}.onnx", ("num_classes",)),
    ("export-size-huge", "export {pt_size_huge} -o {out}.onnx", ("input_size",)),
    ("export-mean-nan-checkpoint",
     "export {pt_mean_nan} -o {out}.onnx",
     ("mean_nan.pt", "cnnkit.mean")),
    ("export-model-arg-channels",
     "export lenet --model-arg in_channels=-1 -o {out}.onnx",
     ("in_channels",)),
    # quantize
    ("quantize-missing", "quantize {root}/nope.onnx", ("nope.onnx",)),
    ("quantize-folder", "quantize {empty}", ("{empty}", "folder")),
    ("quantize-not-onnx", "quantize {not_onnx}", ("notes.onnx", "not an onnx")),
    ("quantize-zero-byte", "quantize {empty_onnx}", ("empty.onnx", "empty")),
    ("quantize-truncated", "quantize {truncated_onnx}", ("truncated.onnx",)),
    ("quantize-rank2!", "quantize {rank2} --calib-dir {root}/images", ("rank2.onnx", "rank 2")),
    ("quantize-calib-missing", "quantize {onnx} --calib-dir {root}/nope", ("--calib-dir",)),
    ("quantize-calib-empty", "quantize {onnx} --calib-dir {empty}", ("--calib-dir",)),
    ("quantize-calib-junk", "quantize {onnx} --calib-dir {root}/junk", ("--calib-dir",)),
    ("quantize-calib-bomb", "quantize {onnx} --calib-dir {root}/bombs", ("--calib-dir",)),
    ("quantize-samples-zero", "quantize {onnx} --samples 0", ("--samples",)),
    ("quantize-out-no-folder", "quantize {onnx} --mode fp16 -o {root}/nope/x.onnx", ("nope",)),
    ("quantize-out-folder", "quantize {onnx} -o {empty}", ("{empty}",)),
    # profile
    ("profile-missing", "profile {root}/nope.onnx", ("nope.onnx",)),
    ("profile-empty-folder", "profile {empty}", ("{empty}",)),
    ("profile-not-onnx!", "profile {not_onnx}", ("notes.onnx", "not an onnx")),
    ("profile-zero-byte", "profile {empty_onnx}", ("empty.onnx",)),
    ("profile-truncated", "profile {truncated_onnx}", ("truncated.onnx",)),
    ("profile-batch-zero", "profile {onnx} --batch 0", ("--batch",)),
    ("profile-size-zero", "profile {onnx} --input-size 0,32,32", ("--input-size",)),
    ("profile-rank2-size", "profile {rank2} --input-size 1,32,32", ("--input-size",)),
    ("profile-run-size", "profile {run} --input-size 3,32,32", ("--input-size",)),
    ("profile-csv-no-folder", "profile {onnx} --csv {root}/nope/layers.csv", ("--csv",)),
    ("profile-csv-folder", "profile {onnx} --csv {empty}", ("--csv",)),
    ("profile-other-model", "profile {other}", ("other-model.pt",)),
    ("profile-plain-dict", "profile {plain}", ("plain-dict.pt",)),
    # infer
    ("infer-model-missing", "infer {root}/nope.onnx {good} -o {out}", ("nope.onnx",)),
    ("infer-model-folder", "infer {run} {good} -o {out}", ("{run}", "folder")),
    ("infer-model-not-onnx", "infer {not_onnx} {good} -o {out}", ("notes.onnx",)),
    ("infer-model-truncated", "infer {truncated_onnx} {good} -o {out}", ("truncated.onnx",)),
    ("infer-model-rank2", "infer {rank2} {good} -o {out}", ("rank2.onnx", "rank 2")),
    ("infer-input-missing", "infer {onnx} {root}/nope.png -o {out}", ("nope.png",)),
    ("infer-input-empty-folder", "infer {onnx} {empty} -o {out}", ("{empty}",)),
    ("infer-glob-nothing", "infer {onnx} {root}/*.jpeg -o {out}", ("*.jpeg",)),
    ("infer-out-is-file", "infer {onnx} {good} --out {good}", ("--out",)),
    ("infer-batch-zero", "infer {onnx} {good} -o {out} -b 0", ("--batch-size",)),
    ("infer-batch-negative", "infer {onnx} {good} -o {out} -b -4", ("--batch-size",)),
    ("infer-topk-zero", "infer {onnx} {good} -o {out} --topk 0", ("--topk",)),
    ("infer-threads-zero", "infer {onnx} {good} -o {out} --threads 0", ("--threads",)),
    ("infer-workers-zero", "infer {onnx} {good} -o {out} --workers 0", ("--workers",)),
    ("infer-size-zero", "infer {onnx} {good} -o {out} --size 0,5", ("--size",)),
    ("infer-max-pixels-zero", "infer {onnx} {good} -o {out} --max-pixels 0", ("--max-pixels",)),
    ("infer-device-unknown", "infer {onnx} {good} -o {out} --device tpu", ("--device",)),
    ("infer-provider-unknown", "infer {onnx} {good} -o {out} --provider NopeProvider", ("Nope",)),
    ("infer-mean-nan", "infer {onnx} {good} -o {out} --mean nan", ("--mean",)),
    ("infer-std-zero", "infer {onnx} {good} -o {out} --std 0", ("--std",)),
    ("infer-labels-count!", "infer {onnx} {good} -o {out} --labels {labels3}", ("--labels", "3")),
    ("infer-labels-11", "infer {onnx} {good} -o {out} --labels {labels11}", ("--labels", "11")),
    ("infer-labels-empty", "infer {onnx} {good} -o {out} --labels {labels_empty}", ("--labels",)),
    ("infer-labels-missing", "infer {onnx} {good} -o {out} --labels {root}/no.txt", ("--labels",)),
    ("infer-labels-folder", "infer {onnx} {good} -o {out} --labels {empty}", ("--labels",)),
    ("infer-threads-huge", "infer {onnx} {good} -o {out} --threads 100000", ("--threads",)),
    ("infer-threads-5000", "infer {onnx} {good} -o {out} --threads 5000", ("--threads",)),
    ("infer-size-huge", "infer {seg} {good} -o {out} --size 100000,100000", ("100000x100000",)),
    ("infer-meta-classes",
     "infer {meta_classes} {good} -o {out}",
     ("meta-classes.onnx", "cnnkit.classes")),
    ("infer-meta-size", "infer {meta_input_size} {good} -o {out}", ("cnnkit.input_size",)),
    ("infer-meta-mean", "infer {meta_mean} {good} -o {out}", ("cnnkit.mean",)),
    ("infer-meta-huge", "infer {meta_huge} {good} -o {out}", ("meta-huge.onnx", "input size")),
    ("infer-out-empty", ("infer", "{onnx}", "{good}", "--out", ""), ("--out",)),
    ("infer-resume-folder", "infer {onnx} {good} -o {results_folder} --resume", ("results.jsonl",)),
    ("profile-meta-classes", "profile {meta_classes}", ("cnnkit.classes",)),
    ("quantize-meta-mean", "quantize {meta_mean} --mode fp16 -o {out}.onnx", ("cnnkit.mean",)),
    ("export-raw-pickle", "export {raw_pickle} -o {out}.onnx", ("raw-pickle.pt",)),
    # bench
    ("bench-missing", "bench {root}/nope.onnx", ("nope.onnx",)),
    ("bench-folder", "bench {empty}", ("{empty}",)),
    ("bench-not-onnx", "bench {not_onnx}", ("notes.onnx",)),
    ("bench-zero-byte", "bench {empty_onnx}", ("empty.onnx",)),
    ("bench-twice", "bench {onnx} {onnx}", ("twice",)),
    ("bench-nothing", "bench", ("MODEL",)),
    ("bench-batch-zero", "bench {onnx} --batch 0", ("--batch",)),
    ("bench-batch-negative", "bench {onnx} --batch 1,-2", ("--batch",)),
    ("bench-batch-text", "bench {onnx} --batch one", ("--batch",)),
    ("bench-threads-zero", "bench {onnx} --threads 0", ("--threads",)),
    ("bench-iterations-zero", "bench {onnx} --iterations 0", ("--iterations",)),
    ("bench-warmup-negative", "bench {onnx} --warmup -1", ("--warmup",)),
    ("bench-duration-negative", "bench {onnx} --duration -1", ("--duration",)),
    ("bench-size-wrong", "bench {onnx} --input-size 3,32,32", ("--input-size",)),
    ("bench-data-empty", "bench {onnx} --data {empty}", ("--data",)),
    ("bench-data-missing", "bench {onnx} --data {root}/nope", ("--data",)),
    ("bench-data-junk", "bench {onnx} --data {root}/junk --iterations 1", ("notes.png",)),
    ("bench-data-bomb!", "bench {onnx} --data {root}/bombs --iterations 1", ("bomb.png",)),
    ("bench-data-rank2", "bench {rank2} --data {root}/images", ("rank2.onnx", "rank 2")),
    ("bench-device-unknown", "bench {onnx} --device tpu", ("--device",)),
    ("bench-plot-folder", "bench {onnx} --plot {empty}", ("--plot",)),
    ("bench-torch-other", "bench {onnx} --iterations 1 --against-torch {other}", ("other",)),
    ("bench-torch-plain", "bench {onnx} --iterations 1 --against-torch {plain}", ("plain",)),
    ("bench-batch-huge", "bench {onnx} --batch 100000000", ("--batch", "GiB")),
    ("bench-threads-huge", "bench {onnx} --threads 100000", ("--threads",)),
]  # fmt: skip


def fill(args: str | tuple[str, ...], world, out) -> list[str]:
    """The case's arguments with world paths and its fresh output folder filled in."""
    names = {key: str(value) for key, value in {**vars(world), "out": out}.items()}
    words = args.split() if isinstance(args, str) else args
    return [word.format(**names) for word in words]


@pytest.fixture
def untouched(world):
    """The shared run folder must be byte-identical after every failing command."""
    before = snapshot(world.run)
    yield
    assert snapshot(world.run) == before
    assert not world.marker.exists()


@pytest.mark.parametrize("args,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_with_one_line(world, tmp_path, untouched, args, needles):
    """Exit 2, one error line naming the file or flag, nothing written in the run."""
    out = tmp_path / "out"
    result = invoke(*fill(args, world, out))
    assert_one_line_error(result, *fill(needles, world, out))


SUBPROCESS = [c for c in CASES if c[0].endswith("!")]


@pytest.mark.parametrize(
    "args,needles", [c[1:] for c in SUBPROCESS], ids=[c[0] for c in SUBPROCESS]
)
def test_refused_by_the_real_cli(world, tmp_path, untouched, args, needles):
    """The same, through the installed `cnnkit` in a subprocess (at least one case per verb)."""
    out = tmp_path / "out"
    result = run_cli(*fill(args, world, out), timeout=120)
    assert_one_line_error(result, *fill(needles, world, out))


def rows_by_path(results) -> dict[str, dict]:
    """results.jsonl rows by their path key."""
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    return {row["path"]: row for row in rows}


def test_partial_batch_reports_each_bad_input(world, tmp_path, untouched):
    """Good and bad inputs in one batch: exit 1, one error row per bad input, the rest ok."""
    inputs = ["good", "zero", "truncated", "fake", "bomb", "tall", "nan", "wrong_shape", "stack"]
    paths = [str(getattr(world, name)) for name in inputs]
    result = run_cli("infer", world.onnx, *paths, "--out", tmp_path, "-b", "4", timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    rows = rows_by_path(tmp_path / "results.jsonl")
    stack = str(world.stack)
    ok = {str(world.good), f"{stack}#0", f"{stack}#2"}
    assert {path for path, row in rows.items() if row["status"] == "ok"} == ok
    assert len(rows) == len(inputs) + 2  # the stack holds three arrays
    reasons = {path: row["error"] for path, row in rows.items() if row["status"] == "error"}
    assert "empty" in reasons[str(world.zero)]
    assert "bomb" in reasons[str(world.bomb)] and "--max-pixels" in reasons[str(world.tall)]
    assert "shape" in reasons[str(world.wrong_shape)]
    assert "NaN" in reasons[str(world.nan)] and "NaN" in reasons[f"{stack}#1"]
    assert reasons[str(world.truncated)] and reasons[str(world.fake)]
    failed_lines = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed_lines) == len(reasons)


def test_existing_results_are_not_overwritten(world, tmp_path, untouched):
    """A second infer into the same --out without --resume refuses; results.jsonl unchanged."""
    first = invoke("infer", world.onnx, world.good, "--out", tmp_path)
    assert first.returncode == 0, first.stderr
    before = snapshot(tmp_path)
    again = invoke("infer", world.onnx, world.good, world.zero, "--out", tmp_path)
    assert_one_line_error(again, "results.jsonl", "--resume")
    assert snapshot(tmp_path) == before


def test_a_damaged_results_file_is_left_alone(world, tmp_path, untouched):
    """--resume over a results.jsonl with a garbled line refuses, naming the line; unchanged."""
    results = tmp_path / "results.jsonl"
    results.write_text('{"path": "a.png", "status": "ok"}\nnot json at all\n')
    before = snapshot(tmp_path)
    result = invoke("infer", world.onnx, world.good, "-o", tmp_path, "--resume")
    assert_one_line_error(result, "results.jsonl:2", "resume")
    assert snapshot(tmp_path) == before


def test_a_misfit_resume_leaves_the_run_as_it_was(world, tmp_path):
    """train --resume with weights of another shape: refused, the run folder byte-identical."""
    run = tmp_path / "run"
    shutil.copytree(world.misfit_run, run)
    before = snapshot(run)
    assert_one_line_error(invoke("train", "--resume", run), "do not fit")
    assert snapshot(run) == before
