"""`cnnkit verify` on a real kit (models, samples, expected rows, MANIFEST) built here.

The kit has no wheels (bundling downloads them: the slow test_install.py does that), which
verify does not read: it checks the files against MANIFEST and re-runs the samples."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers.e2e import cnnkit
from tests.helpers.edge import colour_classifier, colour_segmentation, wheelless_kit
from toolkit.edge.manifest import write_manifest
from toolkit.edge.verify import verify_kit


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A kit of a classifier and a segmenter with four synthetic samples each."""
    models = tmp_path_factory.mktemp("models")
    paths = [colour_classifier(models / "mix.onnx"), colour_segmentation(models / "seg.onnx")]
    return wheelless_kit(tmp_path_factory.mktemp("kits") / "kit", paths)


@pytest.fixture
def copy(kit, tmp_path):
    """A copy of the kit this test may change."""
    return shutil.copytree(kit, tmp_path / "kit")


def test_the_kit_verifies_on_the_machine_that_built_it(kit):
    result = verify_kit(kit)
    assert result.passed, result.problems
    assert result.samples == 8 and result.worst <= result.tolerance == 1e-3
    rows = [json.loads(line) for line in (kit / "samples/expected.jsonl").open()]
    assert {row["model"] for row in rows} == {"models/mix.onnx", "models/seg.onnx"}
    margins = [r["topk"][0]["prob"] - r["topk"][1]["prob"] for r in rows if "topk" in r]
    assert min(margins) > 20 * 1e-3  # only samples whose label cannot flip were kept


def test_a_changed_missing_or_added_file_fails_by_name(copy):
    (copy / "samples/seg/synthetic-00.png").write_bytes(b"not the sample")
    (copy / "models/mix.onnx").unlink()
    (copy / "wheels").mkdir()
    (copy / "wheels/evil-9.9-py3-none-any.whl").write_bytes(b"")
    problems = verify_kit(copy).problems
    assert problems == [
        "models/mix.onnx: missing (listed in MANIFEST)",
        "samples/seg/synthetic-00.png: sha256 differs from MANIFEST (the file was changed)",
        "wheels/evil-9.9-py3-none-any.whl: not in MANIFEST",
    ]


def test_other_answers_fail_naming_the_sample(copy, tmp_path):
    """Another model under the same name (MANIFEST rewritten): its answers are caught."""
    colour_segmentation(tmp_path / "other.onnx")
    shutil.copyfile(tmp_path / "other.onnx", copy / "models/mix.onnx")  # a segmenter now
    write_manifest(copy)
    result = verify_kit(copy)
    assert not result.passed and len(result.problems) == 4
    assert all(p.startswith("samples/mix/synthetic-") for p in result.problems), result.problems


def test_verify_cli_exit_codes(kit, copy, tmp_path):
    passed = cnnkit("verify", kit, "--json", cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert json.loads(passed.stdout)["passed"] is True
    (copy / "kit.json").write_text((copy / "kit.json").read_text() + " ")
    failed = cnnkit("verify", copy, cwd=tmp_path)
    assert failed.returncode == 1
    assert "FAILED kit.json: sha256 differs from MANIFEST" in failed.stdout
    not_a_kit = cnnkit("verify", tmp_path, cwd=tmp_path)
    assert not_a_kit.returncode == 2 and "no kit.json" in not_a_kit.stderr
