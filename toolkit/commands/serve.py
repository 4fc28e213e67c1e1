"""`cnnkit serve`: flags -> toolkit.serve.serve (torch-free)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from toolkit.commands.common import quiet_option
from toolkit.commands.options import (
    COUNT,
    NON_NEGATIVE,
    PORT,
    POSITIVE,
    group,
    predictor_group,
)
from toolkit.errors import CnnkitError
from toolkit.extras import needs_extra


def batching_group():
    """--max-batch, --max-delay-ms, --patient, --max-queue, --timeout, --instances ->
    BatchSettings."""

    def build(*, max_batch, max_delay_ms, patient, max_queue, timeout, instances):
        from toolkit.serve.config import BatchSettings

        return BatchSettings(
            max_batch=max_batch,
            max_delay_ms=max_delay_ms,
            max_queue=max_queue,
            instances=instances,
            timeout_s=timeout,
            patient=patient,
        )

    return group(
        "batching",
        build,
        [
            click.option(
                "--max-batch", type=COUNT, default=16, show_default=True, help="Largest batch."
            ),
            click.option(
                "--max-delay-ms",
                type=NON_NEGATIVE,
                default=5.0,
                show_default=True,
                help="Run a smaller batch once its oldest request waited this long.",
            ),
            click.option(
                "--patient",
                is_flag=True,
                help="Wait out --max-delay-ms even when no other request is on its way.",
            ),
            click.option(
                "--max-queue",
                type=COUNT,
                default=256,
                show_default=True,
                help="Waiting requests; more: 503.",
            ),
            click.option(
                "--timeout",
                type=POSITIVE,
                default=30.0,
                show_default=True,
                help="Seconds a request may take, its headers and upload included; then 408/504.",
            ),
            click.option(
                "--instances", type=COUNT, default=1, show_default=True, help="Sessions per model."
            ),
        ],
    )


def models_group():
    """MODELS (files, NAME=FILE) or --model-repository DIR, --versions, --poll -> ModelSource."""

    def build(*, models, repository, versions, poll):
        from toolkit.serve.config import ModelSource, RepositorySettings, model_names

        if repository is None and (poll is not None or versions != "latest"):
            raise CnnkitError("--versions and --poll need --model-repository DIR")
        folder = RepositorySettings(repository, versions, poll) if repository else None
        return ModelSource(model_names(list(models)), folder)

    return group(
        "models",
        build,
        [
            click.argument("models", nargs=-1),
            click.option(
                "--model-repository",
                "repository",
                type=click.Path(path_type=Path),
                help="Serve DIR/NAME/VERSION/model.onnx (Triton's layout) instead of MODELS.",
            ),
            click.option(
                "--versions",
                type=click.Choice(["latest", "all"]),
                default="latest",
                show_default=True,
                help="Which versions of a repository's models are served.",
            ),
            click.option(
                "--poll", type=POSITIVE, help="Seconds between looks at the repository (reloads)."
            ),
        ],
    )


@needs_extra("serve")
@click.command("serve")
@models_group()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=PORT, default=8000, show_default=True, help="Port (0: any free).")
@batching_group()
@click.option(
    "--max-body", type=COUNT, default=16 << 20, show_default=True, help="Bytes; more: 413."
)
@click.option("--workers", type=COUNT, default=2, show_default=True, help="Decode threads.")
@predictor_group()
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Serve here, or as Ray Serve deployments (pip install 'cnnkit[ray-serve]').",
)
@click.option("--replicas", type=COUNT, default=1, show_default=True, help="Ray Serve replicas.")
@click.option("--address", help="Ray cluster address (default: start a local Ray).")
@quiet_option
def serve_cmd(
    models, host, port, batching, max_body, workers, options, engine, replicas, address, quiet
):
    """Serve ONNX models over HTTP with a dynamic batcher (uvicorn + Starlette).

    POST an image (or a .npy tensor, or a multipart upload) to
    /v1/models/NAME/predict and get the row `cnnkit infer` writes. NAME is
    the file's stem, or give NAME=MODEL.onnx. Requests are batched per
    model: a batch runs when --max-batch wait or the oldest waited
    --max-delay-ms, or at once when no other request is on its way (unless
    --patient). Also GET /v1/models, /health, /ready and /metrics
    (Prometheus), and the Open Inference Protocol (KServe v2: /v2/...,
    what tritonclient speaks). SIGTERM answers every accepted request,
    then exits 0.

    \b
    Examples:
      cnnkit serve runs/lenet5/model.onnx --port 8000
      curl --data-binary @digit.png localhost:8000/v1/models/model/predict
      cnnkit serve digits=runs/lenet5/model.onnx resnet=r18.onnx --max-batch 32
      cnnkit serve model.onnx --instances 2 --threads 1 --max-queue 64
      cnnkit bench --serve http://127.0.0.1:8000/v1/models/model --inputs images/
      cnnkit serve model.onnx --engine ray --replicas 4 --address auto
      cnnkit serve --model-repository models/ --poll 5   # models/NAME/1/model.onnx
    """
    from toolkit.serve import ServeConfig, serve

    config = ServeConfig(
        models=models.files,
        repository=models.repository,
        host=host,
        port=port,
        batching=batching,
        max_body_bytes=max_body,
        workers=workers,
        engine=engine,
        replicas=replicas,
        ray_address=address,
        predictor=options,
        quiet=quiet,
    )
    stopped_by = serve(config, announce=lambda line: click.echo(line, err=True))
    if stopped_by == signal.SIGINT:
        sys.exit(130)
