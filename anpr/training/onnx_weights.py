"""Keras weights back from an exported float ONNX plate model, to fine-tune a shipped model.

Training runs keep their Keras weights under var/ (not committed); the repository keeps the
float ONNX model. To train on from the model that ships, its weights are read out of
`pk_plate_ocr_fp32.onnx` into a fresh Keras model built from the same model config:

    .venv-train/bin/python -m anpr.training.onnx_weights anpr/models/pk_plate_ocr_fp32.onnx OUT.keras

`train.py --weights X.onnx` does this by itself. The export (tf2onnx) keeps each Keras variable
as one initializer, named after its layer; convolution kernels are transposed to ONNX's
(out, in, h, w) and attention kernels flattened. The shipped models have the export's 1/255
input scaling folded into the first convolution's weights (`onnx_graph.fold_input_scaling`),
while the Keras model keeps its Rescaling layer: that kernel is divided by the model
config's scale on the way back. `convert` checks that the Keras model then gives the ONNX
model's outputs, so a mismatch fails loudly instead of training from noise.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _rescaling(model_config: Path) -> tuple[float, float]:
    """The (scale, offset) of the model config's Rescaling layer."""
    import yaml

    rescaling = (yaml.safe_load(model_config.read_text()) or {}).get("rescaling") or {}
    return float(rescaling.get("scale", 1.0)), float(rescaling.get("offset", 0.0))


def _initializers(onnx_path: Path, model_config: Path) -> list[tuple[str, np.ndarray]]:
    """The graph's constants; a first convolution with the input scaling folded in comes
    back as the Keras layer holds it, the scaling left to the Rescaling layer."""
    import onnx
    from onnx import numpy_helper

    from anpr.training.onnx_graph import input_chain

    model = onnx.load(str(onnx_path))
    chain = input_chain(model.graph)
    folded = None if any(n.op_type == "Mul" for n in chain) else chain[-1].input[1]
    scale, offset = _rescaling(model_config)
    if folded is not None and offset != 0.0:
        raise ValueError(
            f"{onnx_path}: the input scaling is folded into the first convolution, and "
            f"{model_config} rescales with offset {offset}: only a plain scale can be unfolded"
        )
    arrays = []
    for t in model.graph.initializer:
        array = numpy_helper.to_array(t)
        if t.name == folded:
            array = (array / scale).astype(array.dtype)
        arrays.append((t.name, array))
    return arrays


def _by_scope(inits: list[tuple[str, np.ndarray]]) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Initializers grouped by top-level layer scope (conv_stem, transformer_block_2, ...)."""
    groups: dict[str, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for name, array in inits:
        match = re.match(r"[^/]+/([a-z_]+?(?:_\d+)?)_\d+/", name)
        if match:
            groups[match.group(1)].append((name, array))
    return groups


def _pick(group: list[tuple[str, np.ndarray]], *patterns: str) -> list[np.ndarray]:
    """Arrays whose names match all patterns, in graph order."""
    return [a for n, a in group if all(re.search(p, n) for p in patterns)]


def _attention(group, scope_key: str, heads: int, dim: int) -> list[np.ndarray]:
    """Keras MultiHeadAttention weights (q, k, v kernels/biases; output) from ONNX arrays."""
    out = []
    for proj in ("query", "key", "value"):
        (kernel,) = _pick(group, scope_key, rf"/{proj}_1/", r"Reshape:0$")
        (bias,) = _pick(group, scope_key, rf"/{proj}_1/", r"(Squeeze|Add/ReadVariableOp):0$")
        out += [kernel.reshape(kernel.shape[0], heads, dim), bias.reshape(heads, dim)]
    (kernel,) = _pick(group, scope_key, r"/attention_output_1/", r"Reshape_1:0$")
    (bias,) = _pick(group, scope_key, r"/attention_output_1/", r"BiasAdd/ReadVariableOp:0$")
    return [*out, kernel.reshape(heads, dim, kernel.shape[-1]), bias]


def keras_weights(onnx_path: Path, model_config: Path = HERE / "cct_pk.yaml") -> list[np.ndarray]:
    """The ONNX model's weights in the order of a fast-plate-ocr CCT Keras model's `weights`."""
    groups = _by_scope(_initializers(onnx_path, model_config))
    arrays: list[np.ndarray] = []
    stem = groups["conv_stem"]
    kernels = _pick(stem, r"convolution/ReadVariableOp:0$")
    biases = _pick(stem, r"Squeeze:0$")
    for kernel, bias in zip(kernels, biases, strict=True):
        arrays += [kernel.transpose(2, 3, 1, 0), bias]
    mlp = groups["mlp"]
    arrays += _pick(mlp, r"Cast/ReadVariableOp:0$") + _pick(mlp, r"BiasAdd/ReadVariableOp:0$")
    arrays += _pick(groups["pos_emb"], r"Slice:0$")
    blocks = sorted(
        (k for k in groups if re.fullmatch(r"transformer_block_\d+", k)),
        key=lambda k: int(k.rsplit("_", 1)[1]),
    )
    for key in blocks:
        group = groups[key]
        norms = [
            _pick(group, r"/dy_t", suffix)
            for suffix in (r"/Mul/ReadVariableOp:0$", r"/mul_1/ReadVariableOp:0$", r"/add/")
        ]
        dim = norms[1][0].shape[0]
        attention = _attention(group, r"multi_head_attention", heads=1, dim=dim)
        dense = _pick(group, r"/mlp", r"dense_\d+_1/(Cast|BiasAdd)/ReadVariableOp:0$")
        # Keras order: norm 1, attention, norm 2, mlp (kernel, bias per dense).
        arrays += [norms[0][0], norms[1][0], norms[2][0], *attention]
        arrays += [norms[0][1], norms[1][1], norms[2][1], *dense]
    reducer = groups["token_reducer"]
    (tokens,) = _pick(reducer, r"Tile/ReadVariableOp:0$")
    heads = _pick(reducer, r"/query_1/", r"Add/ReadVariableOp:0$")[0].shape[0]
    arrays += [tokens, *_attention(reducer, r"multi_head_attention", heads, tokens.shape[-1])]
    arrays += _pick(groups["plate"], r"(Cast|BiasAdd)/ReadVariableOp:0$")
    return arrays


def convert(onnx_path: Path, out: Path, model_config: Path, plate_config: Path) -> Path:
    """Write `out` (.keras, no optimizer) with the ONNX model's weights; checks the outputs."""
    import onnxruntime as ort

    from anpr.training.train import build_keras_model

    model, plate = build_keras_model(model_config, plate_config)
    arrays = keras_weights(onnx_path, model_config)
    if len(arrays) != len(model.weights):
        raise ValueError(f"{onnx_path}: {len(arrays)} arrays for {len(model.weights)} weights")
    for weight, array in zip(model.weights, arrays, strict=True):
        if tuple(weight.shape) != array.shape:
            raise ValueError(f"{weight.path}: ONNX gives {array.shape}, Keras wants {weight.shape}")
        weight.assign(array)
    rng = np.random.default_rng(0)
    shape = (
        8,
        plate.img_height,
        plate.img_width,
        1 if plate.image_color_mode == "grayscale" else 3,
    )
    batch = rng.integers(0, 256, shape, dtype=np.uint8)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: batch})[0]
    got = model(batch, training=False)
    got = np.asarray(got["plate"] if isinstance(got, dict) else got)
    diff = float(np.abs(got.reshape(expected.shape) - expected).max())
    if diff > 1e-3:
        raise ValueError(f"{onnx_path}: Keras model differs from the ONNX model by {diff:.3g}")
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    print(f"weights of {onnx_path} in {out} (max output difference {diff:.2g})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model-config", type=Path, default=HERE / "cct_pk.yaml")
    parser.add_argument("--plate-config", type=Path, default=HERE / "plate_config.yaml")
    args = parser.parse_args()
    convert(args.onnx, args.out, args.model_config, args.plate_config)


if __name__ == "__main__":
    main()
