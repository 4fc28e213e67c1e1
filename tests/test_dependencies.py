"""The edge install: profile, runtime and bench must import without torch."""

from __future__ import annotations

import subprocess

from tests.helpers.cli import run_without_torch

TORCH_FREE = [
    "toolkit.cli",
    "toolkit.commands",
    "toolkit",
    "toolkit.errors",
    "toolkit.extras",
    "toolkit.environment",
    "toolkit.progress",
    "toolkit.chatter",
    "toolkit.onnxfile",
    "toolkit.meta",
    "toolkit.runfolder",
]
TORCH_FREE += [
    "toolkit.runtime",
    "toolkit.runtime.session",
    "toolkit.runtime.preprocess",
    "toolkit.runtime.inputs",
    "toolkit.runtime.masks",
    "toolkit.runtime.postprocess",
    "toolkit.runtime.results",
    "toolkit.runtime.predictor",
    "toolkit.runtime.runner",
    "toolkit.runtime.ray_engine",
    "toolkit.runtime.interpret",
    "toolkit.runtime.decide",
    "toolkit.runtime.inspection",
    "toolkit.commands.inspect",
    "toolkit.runtime.guards",
    "toolkit.safeio",
    "toolkit.runtime.decode",
    "toolkit.runtime.workers",
    "toolkit.runtime.options",
    "toolkit.runtime.intermediate",
    "toolkit.runtime.tensorstats",
    "toolkit.runtime.qdq_noise",
    "toolkit.commands.options",
]
TORCH_FREE += [
    "toolkit.timing",
    "toolkit.plotting",
    "toolkit.bench",
    "toolkit.bench.sweep",
    "toolkit.bench.ops",
    "toolkit.bench.peak",
    "toolkit.bench.plot",
    "toolkit.bench.benchmark",
    "toolkit.bench.feeds",
    "toolkit.bench.machine",
    "toolkit.bench.text",
]
# Import time only: the study and the eager side import torch inside the functions that
# train, export or run eagerly, so importing them (and the CLI) stays light.
TORCH_FREE += [
    "toolkit.study",
    "toolkit.study.photos",
    "toolkit.study.decode_cases",
    "toolkit.study.int8_layers",
    "toolkit.study.pipeline",
    "toolkit.study.markdown",
    "toolkit.study.zoo",
    "toolkit.bench_eager",
]
TORCH_FREE += [
    "toolkit.data",
    "toolkit.data.sources",
    "toolkit.evaluate",
    "toolkit.evaluate.pipeline",
    "toolkit.evaluate.results",
    "toolkit.evaluate.outputs",
    "toolkit.evaluate.plot",
    "toolkit.evaluate.text",
    "toolkit.eval_torch",
    "toolkit.commands.eval",
]
TORCH_FREE += [
    "toolkit.profile",
    "toolkit.profile.graph",
    "toolkit.profile.counting",
    "toolkit.profile.receptive",
    "toolkit.profile.summary",
    "toolkit.profile.profiler",
    "toolkit.profiling",
]
TORCH_FREE += [
    "toolkit.serve",
    "toolkit.serve.config",
    "toolkit.serve.batcher",
    "toolkit.serve.metrics",
    "toolkit.serve.decode",
    "toolkit.serve.upload",
    "toolkit.serve.render",
    "toolkit.serve.models",
    "toolkit.serve.app",
    "toolkit.serve.server",
    "toolkit.serve.protocol",
    "toolkit.serve.loadgen",
    "toolkit.serve.scrape",
    "toolkit.serve.loadreport",
    "toolkit.commands.serve",
]
TORCH_FREE += [
    "toolkit.edge",
    "toolkit.edge.bundle",
    "toolkit.edge.doctor",
    "toolkit.edge.installer",
    "toolkit.edge.kitinfo",
    "toolkit.edge.machine",
    "toolkit.edge.manifest",
    "toolkit.edge.probe",
    "toolkit.edge.samples",
    "toolkit.edge.targets",
    "toolkit.edge.verify",
    "toolkit.edge.wheelhouse",
    "toolkit.commands.edge",
]
TORCH_FREE += ["toolkit.export", "toolkit.export.quantize", "toolkit.export.render"]
TORCH_FREE += ["toolkit.export.auto", "toolkit.commands.diff"]
TORCH_FREE += ["toolkit.export.options", "toolkit.export.qdq", "toolkit.export.calibration"]
TORCH_FREE += ["toolkit.commands.export_options"]
TORCH_FREE += [
    "toolkit.diff",
    "toolkit.diff.compare",
    "toolkit.diff.samples",
    "toolkit.diff.matching",
    "toolkit.diff.plot",
    "toolkit.diff.render",
    "toolkit.diff.sides",
    "toolkit.diff.weights",
]


def import_without_torch(module: str) -> subprocess.CompletedProcess:
    """Import `module` in a fresh interpreter where `import torch` raises."""
    return run_without_torch(
        f"""
        import importlib
        importlib.import_module({module!r})
        assert "torch" not in sys.modules
        """
    )


def test_torch_free_modules_import_without_torch():
    """One interpreter imports them all: with torch blocked, any torch import raises."""
    result = run_without_torch(
        f"""
        import importlib
        failed = []
        for module in {TORCH_FREE!r}:
            try:
                importlib.import_module(module)
            except Exception as exc:
                failed.append(f"{{module}}: {{exc!r}}")
        assert not failed, failed
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_import_guard_really_blocks_torch():
    result = import_without_torch("toolkit.models")
    assert result.returncode != 0
    assert "torch is not allowed" in result.stderr
