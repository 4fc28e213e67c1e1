"""ExportOptions, QuantizeOptions: built from keywords by field name, unknown refused."""

from __future__ import annotations

import pytest

from toolkit.export.options import AutoOptions, ExportOptions, ModelOverrides, QuantizeOptions


def test_export_keywords_go_to_the_overrides_or_the_options():
    options = ExportOptions.of(opset=17, num_classes=4, mean=[0.5], quiet=True, simplify=None)
    assert (options.opset, options.quiet, options.simplify) == (17, True, False)
    assert options.overrides == ModelOverrides(num_classes=4, mean=[0.5])


def test_quantize_keywords_go_to_their_fields():
    options = QuantizeOptions.of(samples=64, auto=AutoOptions(batch_size=4), calib_dir=None)
    assert (options.samples, options.auto.batch_size, options.calib_dir) == (64, 4, None)


@pytest.mark.parametrize("kind", [ExportOptions, QuantizeOptions])
def test_an_unknown_keyword_is_a_type_error(kind):
    with pytest.raises(TypeError, match="no_such_flag"):
        kind.of(no_such_flag=1)


def test_library_calls_refuse_unknown_keywords(tmp_path):
    from toolkit.export import quantize_onnx

    with pytest.raises(TypeError, match="sample_count"):
        quantize_onnx(tmp_path / "m.onnx", sample_count=3)
