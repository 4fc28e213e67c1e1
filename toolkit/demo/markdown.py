"""REPORT.md for `cnnkit demo`: every stage's table, the curves, plots and an overlay grid."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from toolkit.demo.overlays import overlay_grid
from toolkit.runfolder import RunFolder


def _machine() -> str:
    """CPU model and core count, for the timings' context."""
    from toolkit.bench.machine import describe_machine

    info = describe_machine()
    cpu = info.get("cpu") or platform.processor()
    return f"{cpu}, {info.get('cores', '?')} cores, {platform.system()}"


def _load_lines(result) -> list[str]:
    """The machine's load as the timings saw it: every warning the benchmarks printed."""
    from toolkit.bench.machine import machine_state

    seen = {
        warning
        for stage in result.stages
        for entry in stage.numbers.get("entries", [])
        if stage.title == "bench"
        for warning in (entry.get("machine_state") or {}).get("warnings", [])
    }
    now = machine_state()
    load = now["load_average"]
    lines = [f"Load at the end: {load[0]:.2f} (1-minute average)." if load else ""]
    lines += [f"> **warning:** {w}; speed figures below are less certain" for w in sorted(seen)]
    return [*lines, ""]


def _section(stage) -> list[str]:
    """One stage as markdown: a heading and its captured table."""
    return [f"### {stage.job}: {stage.title}", "", "```text", stage.text.rstrip(), "```", ""]


def write_report(result, config) -> dict[str, str]:
    """Write REPORT.md (and demo.json with the numbers) into the demo folder."""
    out = result.out
    files = {}
    lines = [
        "# cnnkit demo",
        "",
        f"Seed {config.seed}{' (quick mode)' if config.quick else ''}; "
        f"{result.seconds / 60:.1f} min on {_machine()}.",
        "",
        *_load_lines(result),
    ]
    for job in config.jobs:
        lines += [f"## {job.name}: {job.model} on {job.data}", ""]
        curves = RunFolder(out / job.name).curves
        if curves.exists():
            lines += [f"![training curves]({curves.relative_to(out)})", ""]
        for stage in (s for s in result.stages if s.job == job.name):
            lines += _section(stage)
            if stage.title == "bench":
                plot = Path(stage.numbers["plot"])
                if plot.exists():
                    lines += [f"![latency]({plot.relative_to(out)})", ""]
            if stage.title == "infer" and stage.numbers.get("overlays"):
                grid = overlay_grid(
                    Path(stage.numbers["overlays"]),
                    out / f"overlays-{job.name}.png",
                    stage.numbers["classes"],
                    out / "images" / job.name,
                )
                if grid:
                    files[f"overlays-{job.name}"] = str(grid)
                    lines += [f"![segmentation overlays]({grid.relative_to(out)})", ""]
    report = out / "REPORT.md"
    report.write_text("\n".join(lines))
    numbers = [{"job": s.job, "stage": s.title, **s.numbers} for s in result.stages]
    (out / "demo.json").write_text(json.dumps(numbers, indent=1, default=str))
    files.update(report=str(report), json=str(out / "demo.json"))
    return files
