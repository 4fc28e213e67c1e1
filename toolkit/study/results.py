"""What one study run measured, typed: the sections in report order, and the report.

report.json is `StudyReport.to_dict()`; REPORT.md reads the same object, so the section
names are fields here rather than string keys spread over the pipeline and the renderer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from toolkit.study.plan import StudyPlan

if TYPE_CHECKING:
    from toolkit.bench.peak import PeakResult


@dataclass(frozen=True)
class EagerRow:
    """One batch size: onnxruntime fp32 against torch eager."""

    batch: int
    ort_p50_ms: float
    torch_p50_ms: float
    ort_ips: float
    torch_ips: float
    ort_speedup: float  # torch p50 over ORT p50


@dataclass(frozen=True)
class EagerComparison:
    """onnxruntime fp32 against torch eager on the same inputs, same threads."""

    model: str
    input_size: list[int]
    rows: list[EagerRow]
    entries: list[dict]  # the `bench --json` entries the rows come from


@dataclass(frozen=True)
class Agreement:
    """Top-1 of int8 against fp32, and both accuracies, on the digits test split."""

    samples: int
    agreement: float
    fp32_accuracy: float
    int8_accuracy: float


@dataclass(frozen=True)
class Int8Row:
    """One batch size: static int8 against fp32."""

    batch: int
    fp32_p50_ms: float
    int8_p50_ms: float
    int8_speedup: float


@dataclass(frozen=True)
class Int8Comparison:
    """Static int8 (calibrated on the training split) against fp32: size, agreement, speed."""

    model: str
    input_size: list[int]
    int8_file: str  # the quantized file's name, beside the fp32 one
    fp32_bytes: int
    int8_bytes: int
    accuracy: Agreement
    isa_ratio: dict  # toolkit.bench.machine.int8_ratio: what the vector units allow, and why
    rows: list[Int8Row]
    entries: list[dict]  # the `bench --json` entries of both files


@dataclass(frozen=True)
class PeakRow:
    """Achieved GFLOP/s of one measured ORT configuration, and its share of the peak."""

    model: str  # which model at which input (a label)
    file: str
    batch: int
    threads: int
    gflops: float
    share_of_peak: float


@dataclass(frozen=True)
class PeakComparison:
    """onnxruntime's float32 kernel peak next to what the models achieved."""

    peak: PeakResult
    rows: list[PeakRow]


@dataclass(frozen=True)
class StudySections:
    """Each comparison's numbers, in the order of REPORT.md (typed, or JSON-ready dicts)."""

    ort_vs_eager: EagerComparison
    int8_vs_fp32: Int8Comparison
    int8_layers: dict
    runner_vs_raw: dict
    serve_vs_raw: dict
    idle_power: dict
    photos_vs_raw: dict
    decode_agreement: dict
    achieved_vs_peak: PeakComparison
    processes: dict
    training: dict
    edge: list  # per model: self-contained latency, .onnx vs .ort sessions, cold starts


@dataclass(frozen=True)
class StudyReport:
    """One `make bench` run: where, with which plan, how long, and every section."""

    quick: bool
    machine: dict
    plan: StudyPlan
    seconds: float
    sections: StudySections

    def to_dict(self) -> dict:
        """report.json: quick, machine, plan, seconds, sections."""
        return {
            "quick": self.quick,
            "machine": self.machine,
            "plan": asdict(self.plan),
            "seconds": self.seconds,
            "sections": asdict(self.sections),
        }
