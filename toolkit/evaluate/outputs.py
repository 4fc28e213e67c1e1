"""What eval writes when asked: OUT/eval.json, OUT/misclassified.jsonl, the --plot figure.

Every file is written atomically, under an exclusive lock on OUT; eval never overwrites
the results of another verb (its files have their own names).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.evaluate.report import EvalReport
from toolkit.safeio import FolderLock, json_line, output_folder, write_atomic, write_json

REPORT = "eval.json"
MISCLASSIFIED = "misclassified.jsonl"


def write_outputs(report: EvalReport, out: str | None, plot: str | None) -> dict[str, str]:
    """Write what --out and --plot ask for; {what: path}."""
    written = {}
    if out:
        folder = output_folder(Path(out))
        with FolderLock(folder):
            written["report"] = str(folder / REPORT)
            if report.task == "classification":
                written["misclassified"] = str(folder / MISCLASSIFIED)
                rows = "".join(json_line(row) for row in report.misclassified)
                write_atomic(folder / MISCLASSIFIED, rows)
            write_json(folder / REPORT, {**report.to_dict(), "written": written})
    if plot:
        from toolkit.evaluate.plot import confusion_figure

        written["plot"] = str(confusion_figure(report.models, Path(plot)))
    return written
