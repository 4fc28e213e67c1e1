"""RunFolder names the files of DESIGN.md's run folder, in one place."""

from __future__ import annotations

from toolkit.runfolder import RunFolder


def test_the_names_are_the_contract(tmp_path):
    run = RunFolder(tmp_path)
    assert run.config == tmp_path / "config.json"
    assert (run.last.name, run.best.name) == ("last.pt", "best.pt")
    assert (run.metrics.name, run.curves.name) == ("metrics.jsonl", "curves.png")
    assert (run.results.name, run.onnx.name, run.bench.name) == (
        "results.json",
        "model.onnx",
        "bench.json",
    )
    assert run.profile.name == "profile.json"  # quantize's model.int8.onnx: tests/export


def test_a_folder_is_a_run_once_it_holds_a_config_or_a_checkpoint(tmp_path):
    run = RunFolder(str(tmp_path))
    assert not run.is_run() and not run.has_epochs()
    run.config.write_text("{}")
    assert run.is_run() and not run.has_epochs()
    run.metrics.write_text("")
    assert run.has_epochs()
