"""export_onnx: files that check, carry metadata, have dynamic axes and match torch."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.export import export_onnx
from toolkit.export.convert import to_onnx
from toolkit.onnxfile import read_metadata
from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint


def test_run_folder_exports_beside_the_checkpoint(lenet_run, lenet_export):
    assert lenet_export.path == lenet_run / "model.onnx"
    assert lenet_export.path.is_file()
    assert lenet_export.exporter == "dynamo"
    assert lenet_export.opset >= 18
    assert lenet_export.parity_ok
    assert [row["shape"][0] for row in lenet_export.parity] == [1, 3]
    for row in lenet_export.parity:
        assert row["max_abs"] < 1e-4 and row["cosine"] > 0.99999 and row["agreement"] == 1.0


def test_file_checks_and_carries_the_checkpoint_metadata(lenet_run, lenet_export):
    proto = onnx.load(str(lenet_export.path))
    onnx.checker.check_model(proto, full_check=True)
    assert len(proto.graph.value_info) > 0  # shape inference is stored in the file
    meta = read_metadata(proto).to_dict()
    checkpoint = load_checkpoint(lenet_run)
    for key in ("task", "classes", "mean", "std", "model", "model_args"):
        assert meta[key] == checkpoint[key]
    assert meta["input_size"] == [1, 32, 32] and meta["format"] == "1"
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["logits"]


def test_plain_onnxruntime_session_runs_any_batch_like_torch(lenet_run, lenet_export):
    """No cnnkit code on the ONNX side: onnxruntime alone, batches 1, 3 and 8."""
    session = ort.InferenceSession(str(lenet_export.path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[0] == "batch"
    model = model_from_checkpoint(load_checkpoint(lenet_run))
    for batch in (1, 3, 8):
        x = np.random.default_rng(batch).standard_normal((batch, 1, 32, 32), dtype=np.float32)
        (logits,) = session.run(["logits"], {"input": x})
        expected = model(torch.from_numpy(x)).detach().numpy()
        assert logits.shape == (batch, 10)
        np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=1e-3)


def test_zoo_name_defaults_are_announced(tmp_path, capsys):
    report = export_onnx("lenet5", tmp_path / "l5.onnx", num_classes=4, quiet=True)
    meta = read_metadata(onnx.load(str(report.path))).to_dict()
    assert meta["classes"] == ["0", "1", "2", "3"]
    assert meta["mean"] == [0.5] and meta["std"] == [0.5]
    assert "random weights" in capsys.readouterr().err


def test_zoo_name_writes_name_onnx_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = export_onnx("lenet", quiet=True, parity=False)
    assert report.path.name == "lenet.onnx" and (tmp_path / "lenet.onnx").is_file()
    assert report.parity == []


def test_low_opset_request_reports_the_real_one(tmp_path, capsys):
    report = export_onnx("lenet", tmp_path / "o.onnx", opset=17, quiet=True)
    written = onnx.load(str(report.path)).opset_import
    real = next(o.version for o in written if o.domain in ("", "ai.onnx"))
    assert report.opset == real and report.requested_opset == 17
    if real != 17:
        assert "requested opset 17" in capsys.readouterr().err


def test_rrelu_exports_with_dynamo_as_leaky_relu(tmp_path):
    report = export_onnx(
        "lenet", tmp_path / "r.onnx", model_args={"activation": "rrelu"}, quiet=True
    )
    assert report.exporter == "dynamo" and report.parity_ok
    ops = {node.op_type for node in onnx.load(str(report.path)).graph.node}
    assert "LeakyRelu" in ops


def test_dynamo_failure_falls_back_to_torchscript_and_says_why(capsys):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.RReLU(), nn.Flatten(), nn.Linear(144, 3)).eval()
    converted = to_onnx(model, torch.randn(2, 1, 8, 8), "classification")
    assert converted.exporter == "torchscript"
    err = capsys.readouterr().err
    assert "dynamo exporter failed" in err and "rrelu" in err.lower()


class Eigen(nn.Module):
    def forward(self, x):
        return torch.linalg.eigh(x @ x.transpose(-1, -2))[0].flatten(1)


def test_both_exporters_failing_names_the_op():
    with pytest.raises(CnnkitError, match="linalg_eigh"):
        to_onnx(Eigen().eval(), torch.randn(2, 1, 4, 4), "classification")


def test_failed_parity_leaves_nothing_behind(tmp_path):
    out = tmp_path / "strict.onnx"
    with pytest.raises(CnnkitError, match="parity check failed"):
        export_onnx("lenet", out, atol=0.0, rtol=0.0, model_args={"activation": "elu"}, quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_simplify_counts_nodes_and_rechecks_parity(tmp_path):
    report = export_onnx("lenet", tmp_path / "s.onnx", simplify=True, quiet=True)
    assert set(report.nodes) == {"exported", "simplified"}
    assert report.nodes["simplified"] <= report.nodes["exported"]
    assert {row["stage"] for row in report.parity} == {"exported", "simplified"}
    assert report.parity_ok
    assert json.loads(json.dumps(report.to_dict()))["nodes"] == report.nodes


def test_external_data_goes_beside_the_file(tmp_path):
    report = export_onnx("lenet", tmp_path / "ext.onnx", external_data=True, quiet=True)
    data = tmp_path / "ext.onnx.data"
    assert data.is_file() and data.stat().st_size > 200_000
    assert report.path.stat().st_size < 50_000
    session = ort.InferenceSession(str(report.path))
    assert session.run(None, {"input": np.zeros((2, 1, 32, 32), np.float32)})[0].shape == (2, 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext.onnx", "ext.onnx.data"]


@pytest.mark.parametrize(
    ("source", "kwargs", "needle"),
    [
        ("nosuch/run", {}, "no such checkpoint"),
        ("lenet6", {}, "unknown model"),
        ("lenet", {"input_size": (1, 4, 4)}, "1x4x4 is too small"),
        ("lenet", {"input_size": (3, 32, 32), "in_channels": 1}, "channels"),
        ("lenet", {"mean": [0.1, 0.2]}, "--mean has 2 values"),
    ],
)
def test_bad_sources_are_one_clear_error(tmp_path, source, kwargs, needle):
    with pytest.raises(CnnkitError, match=needle):
        export_onnx(source, tmp_path / "x.onnx", quiet=True, **kwargs)
    assert not (tmp_path / "x.onnx").exists()


def test_zoo_options_on_a_checkpoint_are_refused(lenet_run, tmp_path):
    with pytest.raises(CnnkitError, match="--num-classes only apply to zoo names"):
        export_onnx(lenet_run, tmp_path / "x.onnx", num_classes=3)


def test_output_in_missing_folder_is_refused(tmp_path):
    with pytest.raises(CnnkitError, match="does not exist"):
        export_onnx("lenet", tmp_path / "missing" / "x.onnx", quiet=True)


def test_checkpoint_file_exports_beside_it(lenet_run, tmp_path):
    checkpoint = tmp_path / "epoch3.pt"
    shutil.copy(lenet_run / "best.pt", checkpoint)
    report = export_onnx(checkpoint, parity=False, quiet=True)
    assert report.path == tmp_path / "model.onnx"
    stored = read_metadata(onnx.load(str(report.path))).to_dict()
    assert stored["std"] == load_checkpoint(lenet_run)["std"]
