"""The exact rewrites of the exported plate OCR graph (anpr/training/onnx_graph.py), on
small hand-built graphs shaped like fast-plate-ocr's export, and on the shipped models."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from anpr.readers import DEFAULT_MODEL, FLOAT_MODEL  # noqa: E402
from anpr.training.onnx_graph import (  # noqa: E402
    GraphShapeError,
    feed_raw_pixels,
    fold_input_scaling,
    input_chain,
)

H, W, FILTERS = 6, 8, 3


def _const(name: str, value: np.ndarray):
    return numpy_helper.from_array(value, name)


def _save(tmp_path, name: str, nodes, inits):
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.UINT8, ["n", H, W, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", FILTERS, H - 2, W - 2])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(FILTERS, 1, 3, 3)).astype(np.float32)
    return weights, rng.normal(size=FILTERS).astype(np.float32)


def _exported(tmp_path):
    """input uint8 NHWC -> Cast -> Mul 1/255 -> Reshape NCHW -> Conv, as the export does."""
    w, b = _weights()
    nodes = [
        helper.make_node("Cast", ["input"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x", "k"], ["scaled"]),
        helper.make_node("Reshape", ["scaled", "shape"], ["nchw"]),
        helper.make_node("Conv", ["nchw", "w", "b"], ["out"]),
    ]
    inits = [
        _const("k", np.array(1 / 255, np.float32)),
        _const("shape", np.array([-1, 1, H, W], np.int64)),
        _const("w", w),
        _const("b", b),
    ]
    return _save(tmp_path, "exported", nodes, inits)


def _quantized(tmp_path, scale=1.0, zero=0):
    """input -> Cast -> Reshape -> QuantizeLinear -> DequantizeLinear -> Conv (QDQ)."""
    w, b = _weights()
    nodes = [
        helper.make_node("Cast", ["input"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["x", "shape"], ["nchw"]),
        helper.make_node("QuantizeLinear", ["nchw", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"]),
        helper.make_node("Conv", ["dq", "w", "b"], ["out"]),
    ]
    inits = [
        _const("shape", np.array([-1, 1, H, W], np.int64)),
        _const("s", np.array(scale, np.float32)),
        _const("z", np.array(zero, np.uint8)),
        _const("w", w / 255),
        _const("b", b),
    ]
    return _save(tmp_path, "quantized", nodes, inits)


def _pixels(n=4):
    x = np.random.default_rng(1).integers(0, 256, (n, H, W, 1), dtype=np.uint8)
    x[0] = 255  # the full range reaches the first convolution
    x[1] = 0
    return x


def test_folding_the_input_scaling_removes_the_multiply_and_keeps_the_outputs(tmp_path):
    src = _exported(tmp_path)
    dst = tmp_path / "folded.onnx"
    assert fold_input_scaling(src, dst) is True
    model = onnx.load(str(dst))
    assert [n.op_type for n in input_chain(model.graph)] == ["Cast", "Reshape", "Conv"]
    assert "k" not in {i.name for i in model.graph.initializer}
    np.testing.assert_allclose(_run(dst, _pixels()), _run(src, _pixels()), rtol=1e-5, atol=1e-5)
    # A second fold finds nothing to do and changes nothing.
    assert fold_input_scaling(dst, tmp_path / "again.onnx") is False
    np.testing.assert_array_equal(_run(tmp_path / "again.onnx", _pixels()), _run(dst, _pixels()))


def test_feeding_raw_pixels_drops_the_cast_and_quantize_and_keeps_the_outputs(tmp_path):
    src = _quantized(tmp_path)
    dst = tmp_path / "raw.onnx"
    feed_raw_pixels(src, dst)
    model = onnx.load(str(dst))
    ops = [n.op_type for n in input_chain(model.graph)]
    assert ops == ["Reshape", "DequantizeLinear", "Conv"]
    np.testing.assert_array_equal(_run(dst, _pixels()), _run(src, _pixels()))


@pytest.mark.parametrize(("scale", "zero"), [(1 / 255, 0), (1.0, 3)])
def test_raw_pixels_need_the_image_quantized_at_scale_one_zero_point_zero(tmp_path, scale, zero):
    with pytest.raises(GraphShapeError, match="not 1 and 0"):
        feed_raw_pixels(_quantized(tmp_path, scale, zero), tmp_path / "raw.onnx")


def test_raw_pixels_refuse_a_graph_that_still_scales_its_input(tmp_path):
    with pytest.raises(GraphShapeError, match="fold the input scaling"):
        feed_raw_pixels(_exported(tmp_path), tmp_path / "raw.onnx")


def test_quantizing_an_unfolded_export_folds_it_and_feeds_the_int8_model_raw_pixels(tmp_path):
    from anpr.training.quantize import _calibration, quantize

    src, dst = _exported(tmp_path), tmp_path / "int8.onnx"
    quantize(src, dst, n_calib=64)
    ops = [n.op_type for n in input_chain(onnx.load(str(dst)).graph)]
    assert ops == ["Reshape", "DequantizeLinear", "Conv"]
    plates = _calibration(16, H, W, seed=5)  # plate-like pixels, as calibrated on
    expected = _run(src, plates)
    # int8 within 3 % of the float outputs' range (7-bit weights, uint8 activations)
    np.testing.assert_allclose(_run(dst, plates), expected, atol=0.03 * np.ptp(expected))


@pytest.mark.parametrize("path", [DEFAULT_MODEL, FLOAT_MODEL], ids=lambda p: p.stem)
def test_the_shipped_models_read_pixels_without_a_rescaling_pass(path):
    if not path.exists():
        pytest.skip(f"{path.name} is not shipped")
    ops = [n.op_type for n in input_chain(onnx.load(str(path)).graph)]
    assert "Mul" not in ops
    if path == DEFAULT_MODEL and "DequantizeLinear" in ops:  # int8: the bytes go straight in
        assert ops[0] != "Cast" and "QuantizeLinear" not in ops
