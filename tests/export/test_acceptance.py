"""Acceptance (slow): trained LeNet and ResNet-18 on digits keep >= 99% top-1 agreement as INT8.

Run with `pytest tests/export/test_acceptance.py -m slow -s` to see the numbers.
"""

from __future__ import annotations

import pytest

from toolkit.export import export_onnx, quantize_onnx

CASES = [  # (model, input size, epochs): small inputs keep training minutes, not hours
    ("lenet", (1, 32, 32), 10),
    ("resnet18", (1, 32, 32), 4),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "size", "epochs"), CASES)
def test_int8_keeps_top1_agreement_on_digits_test_split(tmp_path, name, size, epochs):
    from toolkit.train import fit
    from toolkit.train.config import TrainConfig

    config = TrainConfig(
        model=name,
        data="digits",
        epochs=epochs,
        input_size=size,
        name=name,
        runs_dir=str(tmp_path),
        seed=0,
    )
    run = fit(config, quiet=True)
    exported = export_onnx(run, quiet=True)
    assert exported.parity_ok
    report = quantize_onnx(exported.path, split="test", quiet=True)
    print(
        f"\n{name}: fp32 top-1 {report.fp32_metric:.4f}, int8 {report.quant_metric:.4f}, "
        f"agreement {report.agreement:.4f} on {report.eval_samples} test digits, "
        f"{report.fp32_bytes / 1e6:.2f} -> {report.quant_bytes / 1e6:.2f} MB, batch-1 "
        f"{report.fp32_latency_ms:.3f} -> {report.quant_latency_ms:.3f} ms "
        f"({report.speedup:.2f}x)"
    )
    assert report.agreement >= 0.99
    assert report.quant_metric >= report.fp32_metric - 0.01
