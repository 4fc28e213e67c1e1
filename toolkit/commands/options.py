"""Shared click option groups: each declares its flags once and builds one typed object.

A group adds its options to a command and hands the callback a single object instead of
the flags one by one (Polygraphy's argument groups): `input_group` -> SpecFlags,
`predictor_group` -> PredictorOptions (the session flags, the input flags, --topk,
--decode, --max-pixels), `job_group` -> InferenceJob. Old spellings of renamed flags stay
as hidden aliases for one release and print one note on stderr (docs/CLI.md).

Every numeric flag of every verb takes one of the number types below: finite, and never
negative where a negative value means nothing (tests/test_cli_numbers.py walks them all).
Upper bounds that depend on the machine or the model are the library's checks.
"""

from __future__ import annotations

import functools
import math

import click

from toolkit.commands.common import SizeParam, int_list, parse_feeds, parse_floats
from toolkit.errors import CnnkitError
from toolkit.progress import note


# --- numbers ----------------------------------------------------------------------------
class FiniteFloat(click.FloatRange):
    """click.FloatRange that refuses nan and +-inf too: nan passes every comparison, so a
    plain FloatRange(min=0) takes it (`serve --timeout nan` answered every request 504)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


FINITE = FiniteFloat()  # a signed quantity (decibels)
POSITIVE = FiniteFloat(min=0, min_open=True)  # seconds, rates, factors
NON_NEGATIVE = FiniteFloat(min=0)  # tolerances, delays, weights; 0 is "none"
FRACTION = FiniteFloat(min=0, max=1)
COUNT = click.IntRange(min=1)  # how many of something
COUNT0 = click.IntRange(min=0)  # how many, where 0 means none (or off)
SEED = click.IntRange(min=0, max=2**32 - 1)  # numpy's seeds are 32-bit
PORT = click.IntRange(min=0, max=65535)


def group(target: str, build, decorators: list):
    """A decorator adding `decorators`' options; the callback gets build(values) as `target`.

    `build` receives the group's values as keywords (popped from the callback's) and returns
    the object. Option names must be unique across a command's groups.
    """

    def decorate(command):
        names: list[str] = []

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            # a nested group has already turned its flags into its object (named as a flag)
            values = {name: kwargs.pop(name) for name in names if name in kwargs}
            kwargs[target] = build(**values)
            return command(*args, **kwargs)

        wrapper.__click_params__ = list(getattr(command, "__click_params__", []))
        before = len(wrapper.__click_params__)
        for decorator in reversed(decorators):
            wrapper = decorator(wrapper)
        names.extend(p.name for p in wrapper.__click_params__[before:])
        return wrapper

    return decorate


def renamed(old: str, new: str, dest: str, **attrs):
    """A hidden option for an old spelling; using it prints one note naming the new one."""

    def announce(ctx, param, value):
        if value is not None and value != () and value is not False:
            note(f"note: {old} is now {new}")
        return value

    return click.option(old, dest, hidden=True, callback=announce, expose_value=True, **attrs)


def pick(new, old, flag: str):
    """The value of a flag or of its hidden old alias (both given: an error)."""
    if new is not None and old is not None:
        raise CnnkitError(f"{flag}: given twice (with its old spelling too); keep {flag}")
    return new if new is not None else old


# --- session: how onnxruntime runs the model -------------------------------------------
DEVICE_HELP = "auto (CUDA when onnxruntime has it, else CPU), cpu, cuda or cuda:N."
ALLOW_FALLBACK = click.option(
    "--allow-fallback", is_flag=True, help="Run on CPU when --device is missing."
)
GRAPH_OPT = click.option(
    "--graph-opt",
    "graph_opt",
    type=click.Choice(["disable", "basic", "extended", "all"]),
    default="all",
    show_default=True,
    help="onnxruntime graph optimisation level.",
)


def session_options(*, graph_opt: bool = False) -> list:
    """--device, --provider, --allow-fallback, --threads (and --graph-opt): SessionOptions."""
    return [
        click.option("--device", default="auto", show_default=True, help=DEVICE_HELP),
        click.option("--provider", help="Any other onnxruntime execution provider, by name."),
        ALLOW_FALLBACK,
        click.option("--threads", type=COUNT, help="onnxruntime intra-op threads (default: all)."),
        click.option(
            "--spin/--no-spin",
            "spin",
            default=None,
            help="Idle onnxruntime threads spin (lowest latency when the cores are free) or"
            " sleep (default for infer and serve: decode and HTTP threads share the cores).",
        ),
        *([GRAPH_OPT] if graph_opt else []),
    ]


def build_session(*, device, provider, allow_fallback, threads, spin=None, graph_opt="all"):
    """SessionOptions from the session group's flags."""
    from toolkit.runtime.options import SessionOptions

    return SessionOptions(
        device=device,
        provider=provider,
        threads=threads,
        allow_fallback=allow_fallback,
        graph_optimization=graph_opt,
        spinning=spin,
    )


# --- input: how images go in and outputs are read ---------------------------------------
INPUT_SIZE_HELP = "C,H,W input size (foreign models; override). C=1 feeds gray images."


def input_options(*, resize: bool = True) -> list:
    """The flags of SpecFlags (shared by input_group and predictor_group); without --resize
    for eval, which reads images as training does (stretched to the input size)."""
    resize_option = click.option(
        "--resize",
        type=click.Choice(["stretch", "center-crop", "letterbox"]),
        default="stretch",
        show_default=True,
        help="How images reach the input size (center-crop: shorter side).",
    )
    return [
        click.option("--input-size", "input_size", type=SizeParam(3), help=INPUT_SIZE_HELP),
        renamed("--size", "--input-size C,H,W", "old_size", type=SizeParam(2)),
        click.option("--mean", help="Per-channel mean in 0..1, e.g. 0.485,0.456,0.406."),
        click.option("--std", help="Per-channel std in 0..1, e.g. 0.229,0.224,0.225."),
        click.option("--labels", type=click.Path(), help="Text file of class names, one per line."),
        click.option("--gray", is_flag=True, help="Feed 1-channel gray images (foreign models)."),
        *([resize_option] if resize else []),
        click.option(
            "--layout",
            type=click.Choice(["NCHW", "NHWC"], case_sensitive=False),
            help="Image input layout (default: from the input's shape).",
        ),
        click.option(
            "--outputs",
            "reading",
            type=click.Choice(["auto", "logits", "probs"]),
            default="auto",
            show_default=True,
            help="Class scores are logits or already probabilities (auto: Softmax at the end).",
        ),
        click.option("--output", "output", help="Output to read (default: the first)."),
        click.option(
            "--feed",
            "feeds",
            multiple=True,
            metavar="NAME=FILE.npy",
            help="A constant for a non-image input (repeatable).",
        ),
    ]


def input_group(target: str = "spec"):
    """--input-size, --mean, --std, --labels, --gray, --resize, --layout, --outputs,
    --output, --feed -> SpecFlags."""
    return group(target, build_spec, input_options())


def build_spec(**values):
    """SpecFlags from the input group's flags."""
    from toolkit.runtime.preprocess import SpecFlags

    size = values.pop("input_size")
    old = values.pop("old_size")
    if size is not None and old is not None:
        raise CnnkitError("--input-size: given twice (with its old spelling --size too)")
    channels = None
    if size is not None:
        channels, size = size[0], size[1:]
    else:
        size = old
    return SpecFlags(
        size=size,
        channels=channels,
        mean=parse_floats(values["mean"], "--mean"),
        std=parse_floats(values["std"], "--std"),
        labels=values["labels"],
        gray=values["gray"],
        resize=values.get("resize", "stretch"),
        layout=values["layout"],
        outputs=values["reading"],
        output=values["output"],
        feeds=parse_feeds(values["feeds"]),
    )


# --- predictor: session + input + how rows are made ------------------------------------
def predictor_group(*, graph_opt: bool = False, target: str = "options"):
    """The session and input groups plus --topk, --decode, --max-pixels -> PredictorOptions."""
    decorators = [
        *session_options(graph_opt=graph_opt),
        click.option("--topk", type=COUNT, default=5, show_default=True, help="Labels per input."),
        click.option(
            "--decode",
            type=click.Choice(["fast", "full"]),
            default="fast",
            show_default=True,
            help="fast: JPEGs at reduced DCT scale (never below the input size); full: exact.",
        ),
        *input_options(),
        click.option(
            "--max-pixels",
            type=COUNT,
            help="Refuse larger images (default Pillow's 89.5M).",
        ),
    ]
    return group(target, build_predictor, decorators)


def build_model_options(**values):
    """PredictorOptions from the session and input flags alone (eval reads raw outputs)."""
    from toolkit.runtime.options import PredictorOptions

    session = build_session(**{k: values.pop(k) for k in SESSION_FLAGS if k in values})
    return PredictorOptions(session=session, spec=build_spec(**values))


SESSION_FLAGS = ("device", "provider", "allow_fallback", "threads", "spin", "graph_opt")


def build_predictor(*, topk, decode, max_pixels, **values):
    """PredictorOptions from the predictor group's flags."""
    from toolkit.runtime.options import PredictorOptions

    session = build_session(**{k: values.pop(k) for k in SESSION_FLAGS if k in values})
    return PredictorOptions(
        session=session,
        spec=build_spec(**values),
        topk=topk,
        max_pixels=max_pixels,
        decode=decode,
    )


# --- infer's job: batching, decode threads, the Ray engine ------------------------------
def job_group(target: str = "job"):
    """--batch-size, --workers, --resume, --overlay, --csv, --engine, --address -> InferenceJob."""
    return group(
        target,
        build_job,
        [
            click.option(
                "--batch-size", "-b", type=COUNT, default=8, show_default=True, help="Batch size."
            ),
            click.option(
                "--workers",
                default="auto",
                show_default=True,
                help="Decode threads, or auto: sized with --threads to the usable cores "
                "(ray: actors, 2).",
            ),
            click.option(
                "--resume", is_flag=True, help="Continue OUT/results.jsonl after a crash."
            ),
            click.option("--overlay", is_flag=True, help="Segmentation: also write overlay PNGs."),
            click.option("--csv", "write_csv", is_flag=True, help="Also write OUT/results.csv."),
            click.option(
                "--engine",
                type=click.Choice(["local", "ray"]),
                default="local",
                show_default=True,
                help="Run here, or on Ray Data (pip install 'cnnkit[ray]').",
            ),
            click.option("--address", help="Ray cluster address (default: start a local Ray)."),
        ],
    )


def build_job(*, batch_size, workers, resume, overlay, write_csv, engine, address):
    """InferenceJob from the job group's flags (--workers: threads, or Ray actors)."""
    from toolkit.runtime.runner import InferenceJob

    return InferenceJob(
        batch_size=batch_size,
        workers=workers if engine == "local" else None,
        resume=resume,
        overlay=overlay,
        csv=write_csv,
        engine=engine,
        ray_address=address,
        ray_workers=ray_actors(workers),
    )


def ray_actors(workers: str) -> int:
    """--workers for the Ray engine: a count of actors (auto: 2)."""
    if workers == "auto":
        return 2
    if not workers.isdigit() or int(workers) < 1:
        raise CnnkitError(f"--workers {workers!r}: expected a positive integer or auto")
    return int(workers)


# --- batch sizes (bench sweeps a list, profile takes one) -----------------------------
def batch_size_group(*, sweep: bool, help: str):
    """--batch-size (a comma list when `sweep`) with the hidden old spelling --batch.

    The callback gets `batch_size`: a tuple of ints or None (sweep), else one int (1 unless
    given).
    """
    kind = None if sweep else COUNT

    def build(*, batch_size, old_batch):
        value = pick(batch_size, old_batch, "--batch-size")
        if not sweep:
            return value or 1
        return int_list(value, "--batch" if old_batch is not None else "--batch-size")

    return group(
        "batch_size",
        build,
        [
            click.option("--batch-size", "batch_size", type=kind, help=help),
            renamed("--batch", "--batch-size", "old_batch", type=kind),
        ],
    )
