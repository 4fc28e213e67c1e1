"""What one `make bench` study measures: models, sizes and counts (`QUICK` for tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudyPlan:
    """Models, sizes and counts of one study run (report.json keeps them as `plan`)."""

    digits_model: str = "resnet18"
    digits_input: tuple[int, int, int] = (1, 32, 32)
    epochs: int = 5  # enough for the int8 agreement to reflect a trained model
    train_batch: int = 64
    limit: int | None = None  # samples per split (quick runs)
    eager_model: str | None = "resnet18"  # None: reuse the digits model
    eager_input: tuple[int, int, int] = (3, 224, 224)
    eager_batches: tuple[int, ...] = (1, 8)
    threads: int = 2
    warmup: int = 10  # the same counts as `cnnkit bench`
    iterations: int = 50
    runner_images: int = 256  # 32 batches: the runner's cold first batch is a small share
    runner_batch: int = 8
    process_repeats: int = 3
    peak_size: int = 2048
    parity: bool = True  # export's torch-vs-ORT check of the trained model
    serve_duration_s: float = 10.0  # per load level of the serving section
    serve_batch: int = 16  # --max-batch at concurrency 16, and the raw batch it is held to
    serve_concurrency: int = 16
    serve_delay_ms: float = 5.0
    idle_s: float = 10.0  # low-power section: serve with no traffic
    rate_s: float = 10.0  # low-power section: requests at 5/s for this long
    small_batch: int = 64  # LeNet-5: --max-batch 64 vs 1 at concurrency 64
    small_concurrency: int = 64
    soak_requests: int = 20_000  # through a repository serve, mixed image sizes
    diff_samples: int = 64  # digits test images of the layer-by-layer int8 diff
    photos: int = 64  # 12 MP JPEGs for the runner (8 batches)
    photos_full: int = 16  # of them, also through the exact full-decode path
    photo_size: tuple[int, int] = (4000, 3000)  # (W, H)
    accuracy_epochs: int = 5  # LeNet-5 on digits for the scaled-vs-full agreement
    accuracy_images: int | None = None  # None: the whole digits test split


QUICK = StudyPlan(
    digits_model="lenet",
    epochs=1,
    limit=128,
    eager_model=None,
    warmup=1,
    iterations=3,
    runner_images=16,
    process_repeats=1,
    peak_size=512,
    parity=False,
    serve_duration_s=0.5,
    serve_batch=4,
    serve_concurrency=4,
    small_batch=8,
    small_concurrency=8,
    idle_s=1.0,
    rate_s=1.0,
    soak_requests=200,
    photos=8,
    photos_full=8,
    photo_size=(800, 600),
    accuracy_epochs=1,
    accuracy_images=32,
)
