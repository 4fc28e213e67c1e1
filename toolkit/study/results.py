"""What one study run measured, typed: the sections in report order, and the report.

report.json is `StudyReport.to_dict()`; REPORT.md reads the same object, so the section
names are fields here rather than string keys spread over the pipeline and the renderer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from toolkit.study.plan import StudyPlan


@dataclass(frozen=True)
class StudySections:
    """Each comparison's plain numbers (JSON-ready dicts), in the order of REPORT.md."""

    ort_vs_eager: dict
    int8_vs_fp32: dict
    int8_layers: dict
    runner_vs_raw: dict
    serve_vs_raw: dict
    photos_vs_raw: dict
    decode_agreement: dict
    achieved_vs_peak: dict
    processes: dict
    training: dict


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
