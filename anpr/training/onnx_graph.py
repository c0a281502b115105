"""Two exact rewrites of the exported plate OCR graph that take work off every reading.

fast-plate-ocr's export turns the uint8 image into floats and multiplies it by 1/255 (the
Keras Rescaling layer) before the first convolution: a cast and a multiply over every
pixel of every crop.

- `fold_input_scaling` (float model): the multiply moves into the first convolution's
  weights (conv(k*x) = conv(x) with weights k*W), so the graph is cast -> conv.
- `feed_raw_pixels` (int8 model, quantized from the folded float model with the pixels'
  quantization pinned to scale 1 and zero point 0, see quantize.py): the quantized image
  is the uint8 image itself, so the cast and QuantizeLinear go and the first convolution
  reads the camera's bytes.

Measured on an AMD EPYC with AVX2 and no AVX-512 (stop 22, onnxruntime 1.32, 2 threads,
batch 32, models alternating in one process, medians of 7 rounds, two runs): the folded
float model 1.08-1.22x the unfolded one; int8 with the pinned input and Relu fused into
the convolutions 1.24-1.42x the unfolded float model. Readings are unchanged on the dev
set; the int8 model reads the synthetic test set a little better (89.5 % against 88.6 %).

    python -m anpr.training.onnx_graph fold IN.onnx OUT.onnx
    python -m anpr.training.onnx_graph raw IN.onnx OUT.onnx

Needs the `onnx` package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# Nodes that only move or retype the image between the graph input and the first
# convolution (NHWC -> NCHW with one channel is a Reshape in the export).
_PLUMBING = {"Cast", "Reshape", "Transpose", "Mul", "QuantizeLinear", "DequantizeLinear"}


class GraphShapeError(ValueError):
    """The graph is not the exported plate OCR model this module knows how to rewrite."""


def _consumers(graph, tensor: str) -> list:
    return [n for n in graph.node if tensor in n.input]


def input_chain(graph) -> list:
    """The nodes from the graph's image input to the first Conv (inclusive), in order."""
    chain, tensor = [], graph.input[0].name
    while True:
        nodes = _consumers(graph, tensor)
        if len(nodes) != 1:
            raise GraphShapeError(f"{tensor!r} feeds {len(nodes)} nodes, expected one")
        (node,) = nodes
        chain.append(node)
        if node.op_type == "Conv":
            return chain
        if node.op_type not in _PLUMBING:
            raise GraphShapeError(f"unexpected {node.op_type} before the first Conv")
        tensor = node.output[0]


def pixel_tensor(model) -> str:
    """Name of the tensor the first convolution reads (the image, NCHW)."""
    return input_chain(model.graph)[-1].input[0]


def _drop_value_info(graph, names: set[str]) -> None:
    for info in [v for v in graph.value_info if v.name in names]:
        graph.value_info.remove(info)


def _initializer(graph, name: str):
    for init in graph.initializer:
        if init.name == name:
            return init
    raise GraphShapeError(f"{name!r} is not a constant")


def fold_input_scaling(src: Path, dst: Path) -> bool:
    """Move the input Rescaling multiply into the first Conv's weights; False if none."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    chain = input_chain(graph)
    muls = [n for n in chain if n.op_type == "Mul"]
    if not muls:
        onnx.save(model, str(dst))
        return False
    (mul,) = muls
    factor = numpy_helper.to_array(_initializer(graph, mul.input[1]))
    if factor.size != 1:
        raise GraphShapeError("the input multiply is not by one constant")
    conv = chain[-1]
    weight = _initializer(graph, conv.input[1])
    if len(_consumers(graph, weight.name)) != 1:
        raise GraphShapeError("the first Conv's weights are shared")
    w = numpy_helper.to_array(weight)
    weight.CopyFrom(numpy_helper.from_array((w * factor.item()).astype(w.dtype), weight.name))
    for node in _consumers(graph, mul.output[0]):
        node.input[:] = [mul.input[0] if i == mul.output[0] else i for i in node.input]
    graph.node.remove(mul)
    _drop_value_info(graph, {mul.output[0]})
    if not _consumers(graph, mul.input[1]):
        graph.initializer.remove(_initializer(graph, mul.input[1]))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return True


def feed_raw_pixels(src: Path, dst: Path) -> None:
    """Drop the Cast and QuantizeLinear in front of the first (quantized) Conv: with the
    pixels quantized at scale 1, zero point 0 (uint8) they turn the image into itself."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    chain = input_chain(graph)
    ops = [n.op_type for n in chain]
    if "Mul" in ops:
        raise GraphShapeError("fold the input scaling before quantizing")
    if [ops.count(op) for op in ("Cast", "QuantizeLinear", "DequantizeLinear")] != [1, 1, 1]:
        raise GraphShapeError(f"expected a Cast and a Quantize/DequantizeLinear, got {ops}")
    cast = chain[ops.index("Cast")]
    quant = chain[ops.index("QuantizeLinear")]
    scale = numpy_helper.to_array(_initializer(graph, quant.input[1]))
    zero = numpy_helper.to_array(_initializer(graph, quant.input[2]))
    if scale.item() != 1.0 or zero.item() != 0 or zero.dtype != np.uint8:
        raise GraphShapeError(
            f"the image is quantized with scale {scale.item()} and zero point "
            f"{zero.item()} ({zero.dtype}), not 1 and 0 (uint8): pin it when quantizing"
        )
    for node in (cast, quant):
        source = node.input[0]
        for consumer in _consumers(graph, node.output[0]):
            consumer.input[:] = [source if i == node.output[0] else i for i in consumer.input]
        graph.node.remove(node)
    # The tensors before the DequantizeLinear are uint8 now: their recorded types are stale.
    _drop_value_info(graph, {n.output[0] for n in chain[: ops.index("DequantizeLinear")]})
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["fold", "raw"])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    args = parser.parse_args()
    if args.action == "fold":
        print("folded" if fold_input_scaling(args.src, args.dst) else "nothing to fold")
    else:
        feed_raw_pixels(args.src, args.dst)


if __name__ == "__main__":
    main()
