"""REPORT.md from a StudyReport: one short section and table per comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.study.results import (
        EagerComparison,
        Int8Comparison,
        PeakComparison,
        StudyReport,
    )


def table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def f(value: float, digits: int = 2) -> str:
    """A number with fixed decimals."""
    return f"{value:,.{digits}f}"


def size(values: Sequence[int]) -> str:
    """(C, H, W) as CxHxW."""
    return "x".join(str(v) for v in values)


def load_text(state: dict | None) -> str:
    """'2.10 / 1.50 / 0.90' (1, 5, 15 minutes) or 'unknown'."""
    load = (state or {}).get("load_average")
    return " / ".join(f"{v:.2f}" for v in load) if load else "unknown"


def machine_section(report: StudyReport) -> list[str]:
    """Where and how it was measured, and how busy the machine was."""
    m, plan = report.machine, report.plan
    state = m.get("state") or {}
    cores = state.get("cores") or {}
    quota = cores.get("quota")
    warnings = [f"- **Warning:** {w}." for w in state.get("warnings", [])]
    return [
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores ({m['usable_cores']} usable: affinity "
        f"{cores.get('affinity', '?')}, cgroup quota {f'{quota:g}' if quota else 'none'})",
        f"- Vector extensions: {', '.join(m.get('vector_extensions') or []) or 'unknown'}",
        f"- Load average (1 / 5 / 15 min) before timing: {load_text(state)}; after: "
        f"{load_text(m.get('state_after'))}",
        *warnings,
        f"- {m['platform']}, Python {m['python']}",
        f"- onnxruntime {m['onnxruntime']}, onnx {m['onnx']}, torch {m['torch']}, "
        f"numpy {m['numpy']}",
        f"- {plan.threads} threads for onnxruntime and torch; per configuration a cold "
        f"first run, {plan.warmup} warmup and {plan.iterations} timed runs; the clock covers "
        "session.run / the forward pass only, inputs are prepared before it.",
        "",
    ]


def eager_section(s: EagerComparison) -> list[str]:
    """ORT fp32 vs torch eager."""
    rows = [
        [r.batch, f(r.ort_p50_ms), f(r.torch_p50_ms), f(r.ort_speedup) + "x",
         f(r.ort_ips, 1), f(r.torch_ips, 1)]
        for r in s.rows
    ]  # fmt: skip
    return [
        f"## onnxruntime fp32 vs torch eager ({s.model}, {size(s.input_size)})",
        "",
        "Same seeded inputs, same weights (one checkpoint, exported), inference mode.",
        "",
        *table(
            ["batch", "ORT p50 ms", "torch p50 ms", "ORT speedup", "ORT img/s", "torch img/s"],
            rows,
        ),
    ]


def int8_section(s: Int8Comparison) -> list[str]:
    """Static int8 vs fp32 with agreement."""
    acc = s.accuracy
    rows = [
        [r.batch, f(r.fp32_p50_ms, 3), f(r.int8_p50_ms, 3), f(r.int8_speedup) + "x"] for r in s.rows
    ]
    isa = s.isa_ratio or {}
    bound = (
        f" The CPU's vector units allow about {isa['ratio']:.0f}x int8 over fp32 "
        f"({isa['why']}); the measured speedup includes the quantize/dequantize steps and "
        "the layers that stay in float."
        if isa
        else ""
    )
    return [
        f"## INT8 vs ORT fp32 ({s.model} trained on digits, {size(s.input_size)})",
        "",
        f"Static int8 ({s.int8_file}, calibrated on the training split).{bound} On the "
        f"{acc.samples} digits test images: top-1 agreement {acc.agreement:.1%}, "
        f"accuracy fp32 {acc.fp32_accuracy:.1%} vs int8 {acc.int8_accuracy:.1%}. "
        f"File size {s.fp32_bytes / 1e6:.1f} MB -> {s.int8_bytes / 1e6:.1f} MB.",
        "",
        *table(["batch", "fp32 p50 ms", "int8 p50 ms", "int8 speedup"], rows),
    ]


def _db(value) -> str:
    return "inf" if value is None else f"{value:.1f}"


def int8_layers_section(section: dict) -> list[str]:
    """int8 vs fp32 layer by layer (`cnnkit diff --layerwise`)."""
    diff = section["diff"]
    out = diff["outputs"][0]
    agreement = diff["agreement"]
    layers = [
        [i, row["name"], row["op"], _db(row["sqnr_db"]), _db(row["worst_channel_sqnr_db"]),
         "yes" if row["ok"] else "**NO**"]
        for i, row in enumerate(diff["layers"])
    ]  # fmt: skip
    weights = [
        [row["node"], row["channels"], _db(row["sqnr_db"]), _db(row["worst_channel_sqnr_db"])]
        for row in diff["weights"]
    ]
    first = diff["first_failing"]
    return [
        f"## INT8 vs fp32 layer by layer ({section['model']}, `cnnkit diff --layerwise`)",
        "",
        f"`cnnkit diff {section['int8_file']} model.onnx --layerwise` on {diff['samples']} "
        f"images of the {diff['inputs']}: top-1 agreement "
        f"{agreement['top1_agreement']:.1%}; logits SQNR {_db(out['sqnr_db'])} dB, cosine "
        f"{out['cosine']:.5f}, max abs {out['max_abs']:.3g}. Rule: {diff['rule']}. "
        + (f"First tensor out of tolerance: `{first}`." if first else "Every tensor passes."),
        "",
        f"![SQNR per layer]({section['png']})",
        "",
        *table(["#", "tensor", "op", "SQNR dB", "worst channel dB", "ok"], layers),
        "",
        "Conv weights, float vs dequantised int8 (per-channel):",
        "",
        *table(["node", "channels", "SQNR dB", "worst channel dB"], weights),
        "",
    ]


def split_cell(split: dict | None) -> str:
    """'31.2 ms/image, 250.1 ms/batch, idle 4%' from a runner's split."""
    if not split or split.get("decode_ms_per_image") is None:
        return "-"
    return (
        f"decode {split['decode_ms_per_image']:.1f} ms/image ({split['workers']} workers), "
        f"inference {split['infer_ms_per_batch']:.1f} ms/batch ({split['threads']} threads), "
        f"model idle {split['idle_share']:.0%}"
    )


def runner_table(s: dict) -> list[str]:
    """One row: runner img/s, raw img/s, ratio against the target, where time went."""
    verdict = "meets" if s["meets_target"] else "misses"
    return table(
        ["runner img/s", "raw img/s", "ratio", "target", "split"],
        [
            [
                f(s["runner_ips"], 1),
                f(s["raw_ips"], 1),
                f(s["ratio"]),
                f">= {s['target']:.2f} ({verdict})",
                split_cell(s.get("split")),
            ]
        ],
    )


def runner_section(s: dict) -> list[str]:
    """Runner end to end vs raw session.run."""
    return [
        f"## Runner end to end vs raw session.run ({s['model']}, {size(s['input_size'])}, "
        f"batch {s['batch']})",
        "",
        f"`run_inference` over {s['images']} PNG files (decode, preprocess, run, write "
        "results.jsonl) against session.run on pre-decoded tensors; `--workers auto`.",
        "",
        *runner_table(s),
    ]


def photos_section(s: dict) -> list[str]:
    """Runner on camera-sized JPEGs vs raw session.run, fast and full decoding."""
    full = s["full_decode"]
    w, h = s["photo_size"]
    return [
        f"## Runner on {w}x{h} JPEGs vs raw session.run ({s['model']}, batch {s['batch']})",
        "",
        f"{s['images']} photo-like JPEGs written by the benchmark (quality 90, "
        f"{s['mean_mb']:.1f} MB each on average), decoded at the smallest DCT scale that "
        "covers the input (`--decode fast`). The exact full decode (`--decode full`) on "
        f"{full['images']} of them for reference: {f(full['runner_ips'], 1)} img/s, ratio "
        f"{f(full['ratio'])}, {split_cell(full.get('split'))}.",
        "",
        *runner_table(s),
    ]


def agreement_section(s: dict) -> list[str]:
    """Scaled vs full JPEG decoding: top-1 agreement."""
    verdict = "meets" if s["meets_target"] else "misses"
    w, h = s["photo_size"]
    ms = s["decode_ms"]
    return [
        f"## Scaled vs full JPEG decoding ({s['model']} trained on digits)",
        "",
        f"The digits test split ({s['images']} images) saved as {w}x{h} JPEGs; top-1 from "
        f"scaled decoding equals top-1 from full decoding on {s['agreement']:.2%} of them "
        f"(target >= {s['target']:.1%}: {verdict}). Accuracy: fast {s['fast_accuracy']:.1%}, "
        f"full {s['full_accuracy']:.1%}. Decode: fast {f(ms['fast'], 1)} ms/image, full "
        f"{f(ms['full'], 1)} ms/image.",
        "",
    ]


def serve_section(s: dict) -> list[str]:
    """cnnkit serve under load vs raw session.run; LeNet-5 batching vs --max-batch 1."""
    big, small = s["big"], s["lenet5"]
    busy, alone = big["busy"], big["alone"]
    yes = {True: "meets", False: "misses"}
    rows = [
        [f"throughput at concurrency {busy['concurrency']} (mean batch "
         f"{f(busy['mean_batch'], 1)})", f"{f(busy['requests_per_s'], 1)} req/s",
         f"{f(big['raw_batch_ips'], 1)} img/s (batch {big['batch']})",
         f(big["throughput_ratio"]) + "x",
         f">= {big['throughput_target']:.2f}x ({yes[big['meets_throughput']]})"],
        [f"throughput at concurrency {busy['concurrency']}, v2 protocol (binary tensors)",
         f"{f(big['busy_v2']['requests_per_s'], 1)} req/s",
         f"{f(busy['requests_per_s'], 1)} req/s (/v1)", f(big["v2_ratio"]) + "x",
         f">= {big['v2_target']:.2f}x ({yes[big['v2_ratio'] >= big['v2_target']]})"],
        ["p50 latency at concurrency 1", f"{f(alone['p50_ms'])} ms",
         f"{f(big['raw_one_p50_ms'])} ms (batch 1)", f"{big['latency_overhead_ms']:+.2f} ms",
         f"<= +{big['latency_budget_ms']:g} ms ({yes[big['meets_latency']]})"],
    ]  # fmt: skip
    lenet = [
        [f"max-batch {side['max_batch']}", f(side["requests_per_s"], 1), f(side["p50_ms"]),
         f(side["mean_batch"], 1), f(side["queue_wait_ms"]), f(side["compute_ms"])]
        for side in (small["batched"], small["single"])
    ]  # fmt: skip
    return [
        f"## cnnkit serve vs raw session.run ({s['model']}, {size(big['input_size'])})",
        "",
        "A real `cnnkit serve` process on 127.0.0.1 (dynamic batching, --max-delay-ms "
        f"{big['max_delay_ms']:g}), driven by `cnnkit bench --serve` with digit PNGs at the "
        "model's size, against session.run on pre-decoded tensors. Client and server share "
        "the machine's cores.",
        "",
        *table(["figure", "served", "raw session.run", "ratio", "target"], rows),
        f"LeNet-5 (digits PNGs, random weights) at concurrency {small['concurrency']}: "
        f"batching gives {f(small['ratio'])}x the requests/s of --max-batch 1.",
        "",
        *table(["server", "req/s", "p50 ms", "mean batch", "queue ms", "compute ms"], lenet),
        *soak_lines(s.get("soak")),
    ]


def soak_lines(soak: dict | None) -> list[str]:
    """The soak's one paragraph: requests, errors, RSS after warmup and at the end."""
    if not soak:
        return []
    sizes = ", ".join(f"{h}x{w}" for _, h, w in soak["sizes"])
    verdict = "meets" if soak["meets_growth"] else "misses"
    return [
        f"Soak: {soak['requests']:,} LeNet-5 requests ({sizes} PNGs, 8 clients) through a "
        f"`--model-repository` serve, {soak['errors']} errors, "
        f"{f(soak['requests_per_s'], 1)} req/s; RSS {f(soak['rss_after_warmup_mb'], 1)} MB "
        f"after the first tenth, {f(soak['rss_end_mb'], 1)} MB at the end "
        f"({soak['growth']:+.1%}; goal <= +{soak['growth_goal']:.0%}: {verdict}).",
        "",
    ]


def idle_section(s: dict) -> list[str]:
    """serve's CPU idle and per request at 5 req/s, spinning on and off; arena peak RSS."""
    rows = [
        ["--spin" if side["spin"] else "--no-spin", f(side["idle_cpu_percent"]),
         f"{side['cpu_s_per_request'] * 1000:.1f}", f"{side['raw_cpu_s'] * 1000:.1f}",
         f(side["per_request_ratio"]) + "x"]
        for side in s["serve"]
    ]  # fmt: skip
    arena = s["arena"]
    return [
        f"## Low power between frames ({s['model']}, {size(s['input_size'])})",
        "",
        f"A real `cnnkit serve` process ({s['threads']} threads): its own CPU time with no "
        f"traffic, then per request at {s['rate_per_s']:g} requests/s, one at a time; the "
        f"ratio is over one raw session.run without spinning "
        f"({s['raw_cpu_s_no_spin'] * 1000:.1f} ms of CPU). Goals: idle <= "
        f"{s['idle_target_percent']:g}%, <= {s['per_request_target']:g}x.",
        "",
        *table(
            ["server", "idle CPU %", "CPU ms/request", "raw CPU ms/run (same spin)", "ratio"], rows
        ),  # fmt: skip
        f"One session fed batches {arena['batches']}, onnxruntime's CPU memory arena on: "
        f"peak RSS {f(arena['on']['peak_rss_mb'], 0)} MB, after the runs "
        f"{f(arena['on']['final_rss_mb'], 0)} MB; off: {f(arena['off']['peak_rss_mb'], 0)} MB "
        f"and {f(arena['off']['final_rss_mb'], 0)} MB.",
        "",
    ]


def peak_section(s: PeakComparison) -> list[str]:
    """Achieved GFLOP/s vs the matmul peak."""
    peak = s.peak
    rows = [
        [r.model, r.file, r.batch, r.threads, f(r.gflops, 1), f"{r.share_of_peak:.0%}"]
        for r in s.rows
    ]
    return [
        "## Achieved GFLOP/s vs measured peak",
        "",
        f"Peak: {peak.gflops:.1f} GFLOP/s float32 from onnxruntime's own kernels in the "
        f"same session options ({peak.threads} threads): "
        + ", ".join(f"{k} {v:.1f}" for k, v in (peak.kernels or {}).items())
        + f" GFLOP/s (MatMul {peak.size}x{peak.size}, Conv 3x3 256->256 on 8x28x28, "
        f"best of {peak.repeats}, measured first). Achieved = profiled FLOPs x batch / p50, "
        "for the float32 files.",
        "",
        *table(["model", "file", "batch", "threads", "GFLOP/s", "of peak"], rows),
    ]


def process_section(s: dict) -> list[str]:
    """Fresh runtime process vs fresh torch process."""
    repeats = f"median of {s['repeats']} after one untimed run" if s["repeats"] > 1 else "one run"
    rows = []
    for name in ("runtime", "torch"):
        p = s[name]
        rows.append(
            [name, f(p["import_s"]), f(p["load_s"]), f(p["first_result_s"]),
             f(p["process_s"]), f(p["peak_rss_mb"], 0), p["torch_imported"]]
        )  # fmt: skip
    return [
        f"## Torch-free runtime process vs torch process ({s['model']} trained on digits)",
        "",
        f"A fresh process imports its stack, loads the model (ONNX vs checkpoint), "
        f"preprocesses one PNG and prints the label; {repeats}. The torch process takes "
        f"{s['time_ratio']:.1f}x the time and {s['rss_ratio']:.1f}x the memory; "
        f"same label: {s['same_label']}.",
        "",
        *table(
            [
                "process",
                "import s",
                "load s",
                "first result s",
                "whole process s",
                "peak RSS MB",
                "torch imported",
            ],
            rows,
        ),  # fmt: skip
    ]


def training_section(s: dict) -> list[str]:
    """fit vs bare loop."""
    return [
        f"## Training images/s: cnnkit fit vs a bare PyTorch loop ({s['model']}, "
        f"{size(s['input_size'])}, batch {s['batch']})",
        "",
        f"fit: {len(s['fit_epoch_s'])} epoch(s), bare loop: {len(s['bare_epoch_s'])}, over "
        f"{s['train_images']} digits training images; an epoch is a training pass plus a "
        "validation pass in both loops; the first epoch is warmup when there are more.",
        "",
        *table(
            ["fit img/s", "bare loop img/s", "fit / bare"],
            [[f(s["fit_ips"], 1), f(s["bare_ips"], 1), f(s["ratio"])]],
        ),
    ]


def edge_section(models: list[dict]) -> list[str]:
    """Self-contained vs Python preprocessing at batch 1; .onnx vs .ort; cold starts."""
    lines = ["## Edge files: self-contained vs plain + Python preprocessing, cold start", "",
             "Batch 1 from a decoded photo: the plain file after cnnkit's Python preprocessing "
             "against the self-contained file on the uint8 pixels (docs/edge.md). Cold start: "
             "a fresh process to its first row, one image (median wall; CPU seconds beside "
             "it, the steadier figure on a loaded machine).", ""]  # fmt: skip
    for m in models:
        w, h = m["photo"]
        lines += [f"### {m['model']} (photo {w}x{h})", ""]
        lines += table(["batch-1 case", "p50 ms"], [[r["case"], f(r["p50_ms"], 3)]
                                                    for r in m["latency"]])  # fmt: skip
        lines += [""] + table(
            ["file", "MB", "session ms"],
            [[r["file"], f(r["bytes"] / 1e6), f(r["session_ms"], 1)] for r in m["sessions"]],
        )
        rows = [[r["case"], f(r["wall_s"]), f(r["cpu_s"]),
                 "" if r["peak_rss_mb"] is None else f(r["peak_rss_mb"], 0)]
                for r in m["cold_start"]]  # fmt: skip
        lines += [""] + table(["cold start to the first row", "wall s", "CPU s", "peak RSS MB"],
                              rows) + [""]  # fmt: skip
    return lines


def render_markdown(report: StudyReport) -> str:
    """The whole REPORT.md."""
    s = report.sections
    title = "# cnnkit benchmark report" + (
        " (quick mode: tiny sizes, not real numbers)" if report.quick else ""
    )
    lines = [title, "", f"Measured in one run of {report.seconds:.0f} s.", ""]
    lines += machine_section(report)
    lines += eager_section(s.ort_vs_eager)
    lines += int8_section(s.int8_vs_fp32)
    lines += int8_layers_section(s.int8_layers)
    lines += runner_section(s.runner_vs_raw)
    lines += serve_section(s.serve_vs_raw)
    lines += idle_section(s.idle_power)
    lines += photos_section(s.photos_vs_raw)
    lines += agreement_section(s.decode_agreement)
    lines += peak_section(s.achieved_vs_peak)
    lines += process_section(s.processes)
    lines += training_section(s.training)
    lines += edge_section(s.edge)
    return "\n".join(lines)
