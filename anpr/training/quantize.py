"""Static int8 quantization of the plate OCR model's convolutions (QDQ, per channel).

    .venv-train/bin/python -m anpr.training.quantize IN.onnx OUT.onnx [--calib 1024]

Needs the `onnx` package (training venv). Only the Conv tokenizer is quantized: it holds
most of the arithmetic. Measured on stop 7's model, ONNX Runtime alone, one thread,
batch 32, alternating with the float model in one process: Conv only 2.13x the float
model's speed, Conv + MatMul/Gemm 1.96x (and less accurate), Conv without the first
layer 1.03x (its full-resolution output dominates the memory traffic). The whole reader
gains less (`make bench BENCH=anpr` runs both models). Calibrated on synthetic plates (a
seed of its own). The quantized model is kept only when it reads the synthetic test set
as well as the float one (train.py, QUANT_TOLERANCE).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def _calibration(n: int, height: int, width: int, seed: int = 31) -> np.ndarray:
    """n synthetic grey plates prepared as the reader prepares a crop."""
    from anpr.readers import prepare_crop
    from anpr.synth import synth_plates

    return np.stack(
        [
            prepare_crop(s.image, height=height, width=width, grayscale=True)
            for s in synth_plates(n, seed=seed)
        ]
    )


def input_size(model: Path) -> tuple[int, int]:
    """(height, width) of the model's NHWC image input."""
    import onnx

    dims = onnx.load(str(model)).graph.input[0].type.tensor_type.shape.dim
    return dims[1].dim_value, dims[2].dim_value


# Relu and MaxPool too: the quantizer then fuses each Relu into its Conv's output range
# instead of dequantizing, applying Relu in float and quantizing again (stop 22, AMD EPYC
# with AVX2, no AVX-512: 1.14x the Conv-only int8 model at batch 32, same dev readings,
# synthetic test 89.3 % against 88.6 %).
QUANTIZED_OPS = ["Conv", "Relu", "MaxPool"]


def quantize(src: Path, dst: Path, *, n_calib: int = 1024) -> None:
    """Quantize a float model; its input scaling is folded into the first Conv first
    (a no-op on a model train.py exported, which is folded already)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from anpr.training.onnx_graph import feed_raw_pixels, fold_input_scaling, pixel_tensor

    data = _calibration(n_calib, *input_size(src))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter([{"input": data[i : i + 32]} for i in range(0, len(data), 32)])

        def get_next(self):
            return next(self._batches, None)

    prepared = dst.with_suffix(".prep.onnx")
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
    # With the 1/255 folded into the first Conv the image reaches it as 0..255 floats:
    # pinned at scale 1 and zero point 0, its quantized form is the uint8 image itself,
    # exact and free (feed_raw_pixels below).
    fold_input_scaling(prepared, prepared)
    pixels = pixel_tensor(onnx.load(str(prepared)))
    quantize_static(
        str(prepared),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        # 7-bit weights. x86 CPUs with AVX2 but without VNNI multiply u8 x s8 pairs into
        # saturating 16-bit sums; full-range weights overflow them. Measured at stop 9 on an
        # AMD EPYC with AVX2 and no VNNI: the full-range int8 model read 69.9 % of the
        # synthetic test set against the float model's 84.2 % (on stop 8's CPU, 84.8 %).
        reduce_range=True,
        # The transformer and the heads stay float.
        op_types_to_quantize=QUANTIZED_OPS,
        # Min/max averaged over calibration batches: on the synthetic test set 0.8 points
        # below the float model, against 1.4 with plain min/max (entropy and percentile
        # calibration were no better).
        extra_options={
            "CalibMovingAverage": True,
            "TensorQuantOverrides": {
                pixels: [{"scale": np.array(1.0, np.float32), "zero_point": np.array(0, np.uint8)}]
            },
        },
    )
    prepared.unlink(missing_ok=True)
    feed_raw_pixels(dst, dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--calib", type=int, default=1024)
    args = parser.parse_args()
    quantize(args.src, args.dst, n_calib=args.calib)


if __name__ == "__main__":
    main()
