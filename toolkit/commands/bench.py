"""`cnnkit bench` and `cnnkit compare`: flags -> toolkit.bench and toolkit.study.zoo."""

from __future__ import annotations

import click

from toolkit.commands.common import (
    InputSizeParam,
    input_sizes,
    int_list,
    json_option,
    print_json,
    quiet_option,
)
from toolkit.commands.options import (
    ALLOW_FALLBACK,
    COUNT,
    COUNT0,
    POSITIVE,
    SEED,
    batch_size_group,
    group,
)
from toolkit.errors import CnnkitError
from toolkit.extras import needs_extra, require_extra


def sweep_group():
    """--batch-size, --threads, --device (lists), --warmup, --iterations, --duration,
    --input-size, --data, --end-to-end, --seed, --allow-fallback, --ops, --no-gflops ->
    BenchConfig."""
    return group(
        "config",
        build_config,
        [
            batch_size_group(
                sweep=True, help="Batch sizes, e.g. 1,8,32 (default: the model's, or 1)."
            ),
            click.option("--threads", help="Intra-op thread counts, e.g. 1,2 (default: all)."),
            click.option(
                "--device",
                default="cpu",
                show_default=True,
                help="Devices, e.g. cpu,cuda (a measurement names its device: no auto).",
            ),
            click.option(
                "--warmup", type=COUNT0, default=10, show_default=True, help="Untimed runs."
            ),
            click.option(
                "--iterations", type=COUNT, help="Timed runs per configuration (default 50)."
            ),
            click.option(
                "--duration", type=POSITIVE, help="Time runs for this many seconds instead."
            ),
            click.option(
                "--input-size",
                type=InputSizeParam(),
                multiple=True,
                help="C,H,W for dynamic dims (foreign files); NAME=dims per input of a "
                "multi-input model.",
            ),
            click.option(
                "--data", type=click.Path(), help="Folder of images: real inputs, preprocessed."
            ),
            click.option(
                "--end-to-end", is_flag=True, help="Clock decoding + preprocessing too (--data)."
            ),
            click.option(
                "--ops", type=COUNT0, default=0, help="Profile ops; list the N heaviest nodes."
            ),
            click.option(
                "--no-gflops", is_flag=True, help="Skip the FLOP count (achieved GFLOP/s)."
            ),
            ALLOW_FALLBACK,
            click.option(
                "--seed", type=SEED, default=0, show_default=True, help="Seed of random inputs."
            ),
        ],
    )


def build_config(*, batch_size, threads, device, input_size, no_gflops, **values):
    """BenchConfig from the sweep group's flags."""
    from toolkit.bench import BenchConfig

    return BenchConfig(
        batches=batch_size,
        threads=int_list(threads, "--threads") or BenchConfig().threads,
        devices=tuple(d.strip() for d in device.split(",") if d.strip()),
        input_size=input_sizes(input_size),
        gflops=not no_gflops,
        **values,
    )


def load_group():
    """--concurrency or --rate, --arrivals, --slo-ms, --protocol -> LoadConfig (without the
    URL, inputs and duration, which the command adds)."""

    def build(*, concurrency, rate, arrivals, slo_ms, protocol):
        from toolkit.serve.loadgen import LoadConfig

        if concurrency and rate:
            raise CnnkitError("--concurrency and --rate: give one (closed or open loop)")
        rates = tuple(float_list(rate, "--rate")) if rate else ()
        return LoadConfig(
            url="",
            inputs=(),
            concurrency=int_list(concurrency, "--concurrency") or LoadConfig.concurrency,
            rates=rates,
            arrivals=arrivals,
            slo_ms=slo_ms,
            protocol=protocol,
        )

    return group(
        "load",
        build,
        [
            click.option("--concurrency", help="--serve: client counts, e.g. 1,4,16,64 (default)."),
            click.option("--rate", help="--serve: requests/s levels, e.g. 50,100,200 (open loop)."),
            click.option(
                "--arrivals",
                type=click.Choice(["constant", "poisson"]),
                default="constant",
                show_default=True,
                help="--rate: evenly spaced or Poisson arrivals.",
            ),
            click.option(
                "--slo-ms", type=POSITIVE, help="--rate: goodput counts answers within it."
            ),
            click.option(
                "--protocol",
                type=click.Choice(["v1", "v2"]),
                default="v1",
                show_default=True,
                help="--serve: cnnkit's /v1 predict, or the Open Inference Protocol (binary).",
            ),
        ],
    )


def float_list(text: str, flag: str) -> list[float]:
    """'50,100.5' -> [50.0, 100.5]; a CnnkitError naming the flag otherwise."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CnnkitError(f"{flag} {text!r}: expected numbers like 50,100,200") from None


@click.command("bench")
@click.argument("models", nargs=-1, type=click.Path())
@sweep_group()
@click.option("--against-torch", type=click.Path(), help="Checkpoint or run: torch eager too.")
@click.option(
    "--peak", is_flag=True, help="Measure onnxruntime's float32 GFLOP/s ceiling (Conv, MatMul)."
)
@click.option("--plot", type=click.Path(), help="Write latency/throughput plots (PNG).")
@click.option("--no-save", is_flag=True, help="Do not write bench.json into run folders.")
@click.option("--serve", "serve_url", help="Load-test a `cnnkit serve` model URL instead.")
@load_group()
@click.option("--inputs", multiple=True, help="--serve: image files, folders or globs to send.")
@json_option
@quiet_option
def bench_cmd(
    models, config, against_torch, peak, plot, no_save, serve_url, load, inputs, as_json, quiet
):
    """Latency and throughput of ONNX models, side by side; or of a server (--serve).

    The clock covers session.run only (inputs are prepared before it) unless
    --end-to-end. A first cold run, --warmup runs, then timed runs. Several
    models get their ratio to the first (fp32 vs int8). A model inside a
    run folder gets bench.json written beside it.

    \b
    Examples:
      cnnkit bench runs/lenet5/model.onnx runs/lenet5/model.int8.onnx
      cnnkit bench model.onnx --batch-size 1,8,32 --threads 1,2 --plot bench.png
      cnnkit bench foreign.onnx --input-size 3,224,224 --ops 10
      cnnkit bench two_inputs.onnx --input-size image=3,64,64 --input-size meta=4
      cnnkit bench runs/lenet5/model.onnx --against-torch runs/lenet5 --json
      cnnkit bench --peak
      cnnkit bench --serve http://127.0.0.1:8000/v1/models/lenet --inputs digits/ \\
        --concurrency 1,4,16,64 --duration 10 --plot load.png
      cnnkit bench --serve http://127.0.0.1:8000/v2/models/lenet --protocol v2 \\
        --inputs digits/ --rate 50,100,200 --arrivals poisson --slo-ms 50 --plot rates.png
    """
    if against_torch:
        require_extra("train", "bench --against-torch")
    if plot:
        require_extra("plot", "bench --plot")
    if serve_url:
        if models:
            raise CnnkitError("--serve measures a server; give no MODEL files with it")
        require_extra("serve", "bench --serve")
        return bench_server(serve_url, load, config.duration, inputs, plot, as_json)
    from dataclasses import replace

    from toolkit.bench import run_bench
    from toolkit.bench.text import print_bench

    config = replace(config, quiet=quiet or as_json)
    eager = None
    if against_torch:
        from toolkit.bench_eager import against_torch as eager_side

        eager = eager_side(against_torch)
    result = run_bench(models, config, eager=eager, peak=peak, plot=plot, save=not no_save)
    if as_json:
        print_json(result.json_value())
    else:
        print_bench(result)


def bench_server(url, load, duration, inputs, plot, as_json) -> None:
    """`bench --serve`: the load generator's table (or JSON) and plot."""
    from dataclasses import replace

    from toolkit.serve.loadgen import LoadConfig, run_load
    from toolkit.serve.loadreport import plot_load, print_load

    if not inputs:
        raise CnnkitError("--serve needs --inputs: image files or folders to send")
    config = replace(
        load,
        url=url,
        inputs=tuple(inputs),
        duration_s=duration if duration is not None else LoadConfig.duration_s,
    )
    levels = run_load(config)
    if plot:
        plot_load(levels, plot)
    if as_json:
        print_json({"url": url, "levels": [level.to_dict() for level in levels]})
    else:
        print_load(url, levels)


@needs_extra("train")
@click.command("compare")
@click.option("--models", "names", help="Comma-separated zoo names, or 'all' (default: a set).")
@click.option("--iterations", type=COUNT, default=10, show_default=True, help="Timed runs.")
@click.option("--warmup", type=COUNT0, default=2, show_default=True, help="Untimed runs.")
@click.option("--threads", type=COUNT, help="Intra-op threads (default: all cores).")
@click.option("--cache", type=click.Path(), help="Keep exported .onnx files here; reuse them.")
@click.option("--plot", type=click.Path(), help="Write latency-vs-MACs and params plots.")
@json_option
@quiet_option
def compare_cmd(names, iterations, warmup, threads, cache, plot, as_json, quiet):
    """The zoo side by side: params, MACs, receptive field, ONNX size, ORT p50 at batch 1.

    Each model is exported with random weights at its default input and
    timed with onnxruntime. The default set is one model per family
    (lenet5, alexnet, vgg11, googlenet, resnet18, resnet50, fcn8s), a few
    minutes on 2 cores; VGG-16/19 exports take a minute each.

    \b
    Examples:
      cnnkit compare
      cnnkit compare --models lenet5,alexnet,resnet18 --json
      cnnkit compare --models all --cache zoo-onnx/ --plot zoo.png
    """
    from toolkit.study.zoo import compare_models, print_compare

    chosen = [n.strip() for n in names.split(",") if n.strip()] if names is not None else None
    if chosen == []:
        raise CnnkitError(f"--models {names!r}: no model names in it (see `cnnkit models`)")
    rows = compare_models(
        chosen,
        iterations=iterations,
        warmup=warmup,
        threads=threads,
        cache=cache,
        plot=plot,
        quiet=quiet or as_json,
    )
    if as_json:
        print_json([row.to_dict() for row in rows])
    else:
        print_compare(rows)
