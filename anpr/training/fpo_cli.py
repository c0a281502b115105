"""fast-plate-ocr's training CLI with two switches the library lacks; it also keeps every
epoch's weights (EPOCH_WEIGHTS).

ANPR_TRAIN_JIT=1 compiles Keras' train step: fast-plate-ocr compiles its model with
jit_compile=False, which on Keras' jax backend means an uncompiled (eager) step: fine on
TensorFlow, which runs a graph anyway, but far too slow for a GPU.

Under a mixed policy (`train --mixed-precision-policy mixed_bfloat16`: bfloat16 maths,
float32 weights) the vocabulary head, whose softmax feeds the cross-entropy, stays float32;
the library would build it in bfloat16. The weights are float32 either way: the export
rebuilds the model in float32 and loads them (train.make_portable).
"""

from __future__ import annotations

import os
import sys


def _float32_head(keras) -> None:
    from fast_plate_ocr.train.model.layers import VocabularyProjection

    init = VocabularyProjection.__init__

    def init_float32(self, *args, **kwargs):
        # The layer builds its Dense+softmax in __init__ under the global policy: switch it
        # for the construction so both the layer and its classifier compute in float32.
        policy = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("float32")
        try:
            init(self, *args, **{"dtype": "float32", **kwargs})
        finally:
            keras.mixed_precision.set_global_policy(policy)

    VocabularyProjection.__init__ = init_float32  # type: ignore[method-assign]


# Every epoch's weights (the EMA ones: the library's SwapEMAWeights has swapped them in by
# then) are kept as epoch-NN.weights.h5 beside last.keras, so that the weights of the last
# epochs can be averaged afterwards (train.average_epochs). Saving changes nothing in the run.
EPOCH_WEIGHTS = "epoch-{epoch:02d}.weights.h5"


def _keep_epoch_weights(keras) -> None:
    fit = keras.Model.fit

    def fit_keeping(self, *args, **kwargs):
        callbacks = list(kwargs.get("callbacks") or [])
        last = next(
            (
                c
                for c in callbacks
                if isinstance(c, keras.callbacks.ModelCheckpoint)
                and str(c.filepath).endswith("last.keras")
            ),
            None,
        )
        if last is not None:  # placed after the EMA swap, like the library's checkpoints
            run_dir = os.path.dirname(str(last.filepath))
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    os.path.join(run_dir, EPOCH_WEIGHTS), save_weights_only=True
                )
            )
            kwargs["callbacks"] = callbacks
        return fit(self, *args, **kwargs)

    keras.Model.fit = fit_keeping  # type: ignore[method-assign]


def main() -> None:
    import keras

    _keep_epoch_weights(keras)

    if os.environ.get("ANPR_TRAIN_JIT") == "1":
        compile_model = keras.Model.compile

        def compile_jitted(self, *args, **kwargs):
            kwargs["jit_compile"] = True
            return compile_model(self, *args, **kwargs)

        keras.Model.compile = compile_jitted  # type: ignore[method-assign]

    argv = sys.argv[1:]
    if "--mixed-precision-policy" in argv:
        # fast-plate-ocr sets the global policy itself, before it builds the model.
        policy = argv[argv.index("--mixed-precision-policy") + 1]
        if policy.startswith("mixed_"):
            _float32_head(keras)

    from fast_plate_ocr.cli.cli import main_cli

    main_cli()


if __name__ == "__main__":
    main()
