"""The `make bench` study in quick mode: every section present, numbers positive and sane."""

from __future__ import annotations

import json

import pytest

from toolkit.study.pipeline import build_report

# The whole `make bench` pipeline (train, export, quantize, serve, fresh processes): ~20 s of
# CPU; its parts have their own tests in the default suite.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    build_report(out, quick=True)
    return out


def test_report_files_and_sections(report):
    data = json.loads((report / "report.json").read_text())
    assert data["quick"] is True and data["seconds"] > 0
    assert data["machine"]["cores"] >= 1 and data["machine"]["onnxruntime"]
    assert set(data["sections"]) == {
        "ort_vs_eager",
        "int8_vs_fp32",
        "int8_layers",
        "runner_vs_raw",
        "serve_vs_raw",
        "idle_power",
        "photos_vs_raw",
        "decode_agreement",
        "achieved_vs_peak",
        "processes",
        "training",
        "edge",
    }
    markdown = (report / "REPORT.md").read_text()
    for heading in ("## Machine", "torch eager", "INT8 vs ORT fp32", "Runner end to end",
                    "cnnkit serve vs raw", "GFLOP/s vs measured peak",
                    "runtime process vs torch process",
                    "Training images/s", "JPEGs vs raw session.run", "Scaled vs full JPEG",
                    "Vector extensions", "Load average", "Low power between frames",
                    "Edge files"):  # fmt: skip
        assert heading in markdown
    assert "quick mode" in markdown


def test_side_by_side_numbers_are_positive(report):
    s = json.loads((report / "report.json").read_text())["sections"]
    for row in s["ort_vs_eager"]["rows"]:
        assert row["ort_p50_ms"] > 0 and row["torch_p50_ms"] > 0 and row["ort_speedup"] > 0
    int8 = s["int8_vs_fp32"]
    assert 0 <= int8["accuracy"]["agreement"] <= 1 and int8["accuracy"]["samples"] > 100
    assert all(r["int8_speedup"] > 0 for r in int8["rows"])
    runner = s["runner_vs_raw"]
    assert runner["runner_ips"] > 0 and runner["raw_ips"] > 0 and runner["failed"] == 0
    assert runner["meets_target"] == (runner["ratio"] >= runner["target"])
    big, small = s["serve_vs_raw"]["big"], s["serve_vs_raw"]["lenet5"]
    assert big["busy"]["requests_per_s"] > 0 and big["alone"]["p50_ms"] > 0
    assert big["meets_throughput"] == (big["throughput_ratio"] >= big["throughput_target"])
    assert big["meets_latency"] == (big["latency_overhead_ms"] <= big["latency_budget_ms"])
    assert small["batched"]["requests_per_s"] > 0 and small["single"]["mean_batch"] == 1
    assert runner["split"]["decode_ms_per_image"] > 0 and runner["split"]["workers"] >= 1
    idle = s["idle_power"]
    assert [side["spin"] for side in idle["serve"]] == [True, False]
    assert all(side["cpu_s_per_request"] > 0 and side["requests"] >= 3 for side in idle["serve"])
    assert all(0 <= side["idle_cpu_percent"] <= 100 * idle["threads"] for side in idle["serve"])
    assert all(idle["arena"][side]["peak_rss_mb"] > 0 for side in ("on", "off"))
    photos = s["photos_vs_raw"]
    assert photos["runner_ips"] > 0 and photos["failed"] == 0 and photos["images"] == 8
    assert photos["full_decode"]["runner_ips"] > 0 and photos["mean_mb"] > 0
    agreement = s["decode_agreement"]
    assert agreement["images"] == 32 and 0 <= agreement["agreement"] <= 1
    assert agreement["decode_ms"]["fast"] > 0 and agreement["decode_ms"]["full"] > 0
    peak = s["achieved_vs_peak"]
    assert peak["peak"]["gflops"] > 0 and all(r["gflops"] > 0 for r in peak["rows"])
    assert set(peak["peak"]["kernels"]) == {"matmul", "conv"}
    training = s["training"]
    assert training["fit_ips"] > 0 and training["bare_ips"] > 0


def test_edge_section_times_both_files_and_every_cold_start(report):
    (model,) = json.loads((report / "report.json").read_text())["sections"]["edge"]  # quick: LeNet
    assert len(model["latency"]) == 4 and all(row["p50_ms"] > 0 for row in model["latency"])
    assert [row["file"] for row in model["sessions"]] == ["plain .onnx", ".ort"]
    assert len(model["cold_start"]) == 5
    assert all(row["wall_s"] > 0 and row["cpu_s"] > 0 for row in model["cold_start"])
    bare = [row for row in model["cold_start"] if row["case"].startswith("bare")]
    assert all(row["peak_rss_mb"] > 0 for row in bare)


def test_runtime_process_never_imports_torch(report):
    processes = json.loads((report / "report.json").read_text())["sections"]["processes"]
    assert processes["runtime"]["torch_imported"] is False
    assert processes["torch"]["torch_imported"] is True
    assert processes["same_label"] is True
    for side in ("runtime", "torch"):
        assert processes[side]["process_s"] > 0 and processes[side]["peak_rss_mb"] > 10


def test_int8_layer_by_layer_section_has_its_table_and_png(report):
    section = json.loads((report / "report.json").read_text())["sections"]["int8_layers"]
    diff = section["diff"]
    assert diff["samples"] > 0 and diff["inputs"] == "digits test split"
    assert len(diff["layers"]) >= 5 and diff["weights"]
    assert (report / section["png"]).read_bytes()[:4] == b"\x89PNG"
    markdown = (report / "REPORT.md").read_text()
    assert "INT8 vs fp32 layer by layer" in markdown and f"]({section['png']})" in markdown
