"""fast-plate-ocr's training CLI with Keras' train step compiled (ANPR_TRAIN_JIT=1).

fast-plate-ocr compiles its model with jit_compile=False, which on Keras' jax backend means
an uncompiled (eager) step: fine on TensorFlow, which runs a graph anyway, but far too
slow for a GPU. This entry point lets the same CLI compile the step.
"""

from __future__ import annotations

import os


def main() -> None:
    import keras

    if os.environ.get("ANPR_TRAIN_JIT") == "1":
        compile_model = keras.Model.compile

        def compile_jitted(self, *args, **kwargs):
            kwargs["jit_compile"] = True
            return compile_model(self, *args, **kwargs)

        keras.Model.compile = compile_jitted  # type: ignore[method-assign]

    from fast_plate_ocr.cli.cli import main_cli

    main_cli()


if __name__ == "__main__":
    main()
