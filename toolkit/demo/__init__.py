"""`cnnkit demo`: the whole pipeline on built-in data, ending in runs/demo/REPORT.md."""

from toolkit.demo.pipeline import DemoConfig, DemoResult, run_demo

__all__ = ["DemoConfig", "DemoResult", "run_demo"]
