"""The training driver's pieces that run without TensorFlow: data drawing and the CLI it calls."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time

import cv2
import numpy as np
import pytest

from anpr.training import train


@pytest.fixture
def tiny_recipe(monkeypatch):
    monkeypatch.setattr(train, "N_VAL", 2)
    monkeypatch.setitem(
        train.RECIPES,
        "gpu",
        [train.Phase("g1", n_train=3, epochs=1, batch_size=2, lr=1e-3, seed=11)],
    )


def test_generate_only_draws_the_phase_and_resumes(tmp_path, monkeypatch, tiny_recipe):
    argv = ["train", "--recipe", "gpu", "--out", str(tmp_path), "--generate-only", "--workers", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    train.main()

    annotations = tmp_path / "data" / "g1" / "annotations-3-11-128x64-b30-30.csv"
    with annotations.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert all((annotations.parent / row["image_path"]).is_file() for row in rows)
    assert all(row["plate_text"].isalnum() for row in rows)
    # stored as the reader hands a crop to the model: plate_config.yaml's 64x128 grey
    for row in rows:
        image = cv2.imread(str(annotations.parent / row["image_path"]), cv2.IMREAD_UNCHANGED)
        assert image.shape == (64, 128)
    assert float((tmp_path / "generate_g1_s").read_text()) >= 0
    assert not (tmp_path / "run.json").exists()  # nothing was trained

    drawn = annotations.stat().st_mtime_ns
    train.main()  # a second run finds the plates drawn and leaves them
    assert annotations.stat().st_mtime_ns == drawn


def test_generate_only_applies_the_scale(tmp_path, monkeypatch, tiny_recipe):
    monkeypatch.setitem(
        train.RECIPES,
        "gpu",
        [train.Phase("g1", n_train=20_000, epochs=4, batch_size=32, lr=1e-3, seed=11)],
    )
    argv = ["train", "--recipe", "gpu", "--out", str(tmp_path), "--generate-only"]
    monkeypatch.setattr(sys, "argv", [*argv, "--scale", "0.0001", "--workers", "1"])
    train.main()
    # 20,000 x 0.0001 = 2, but a phase never draws fewer than 200 plates
    assert (tmp_path / "data" / "g1" / "annotations-200-11-128x64-b30-30.csv").exists()


def test_the_cli_compiles_the_step_when_asked(monkeypatch):
    monkeypatch.setenv("ANPR_TRAIN_JIT", "1")
    assert train._cli() == [sys.executable, "-m", "anpr.training.fpo_cli"]
    monkeypatch.delenv("ANPR_TRAIN_JIT")
    assert "anpr.training.fpo_cli" not in train._cli()
    assert train._cli(bf16=True) == [sys.executable, "-m", "anpr.training.fpo_cli"]


@pytest.mark.parametrize(
    ("choice", "flags", "backend", "expected"),
    [
        ("auto", frozenset({"avx2", "avx512_bf16"}), "tensorflow", "bfloat16"),  # the AMD kind
        (
            "auto",
            frozenset({"avx2", "amx_bf16", "amx_tile"}),
            "tensorflow",
            "bfloat16",
        ),  # Intel, AMX
        ("auto", frozenset({"avx2", "avx512_vnni"}), "tensorflow", "float32"),  # no bfloat16 maths
        ("auto", frozenset({"avx512_bf16"}), "jax", "float32"),  # the GPU recipe keeps its float32
        ("float32", frozenset({"amx_bf16"}), "tensorflow", "float32"),
        ("bfloat16", frozenset(), "tensorflow", "bfloat16"),
    ],
)
def test_training_maths_is_bfloat16_where_the_cpu_does_it(choice, flags, backend, expected):
    assert train.precision(choice, flags=flags, backend=backend) == expected


@pytest.mark.parametrize("choice", ["bfloat16", "float32"])
def test_the_trainer_runs_in_the_precision_chosen_and_the_record_says_so(
    tmp_path, monkeypatch, tiny_recipe, choice
):
    trainer = tmp_path / "fake_trainer.py"
    trainer.write_text(FAKE_TRAINER)
    called = []

    def cli(bf16=False):
        called.append(bf16)
        return [sys.executable, str(trainer)]

    monkeypatch.setattr(train, "_cli", cli)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    out = tmp_path / "out"
    argv = ["train", "--recipe", "gpu", "--out", str(out), "--train-only", "--workers", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--precision", choice])
    train.main()

    (run,) = (out / "runs" / "g1").iterdir()
    bf16 = choice == "bfloat16"
    assert called == [bf16]
    # fast-plate-ocr's own policy option, through the CLI that keeps the head float32
    assert (run / "policy.txt").read_text() == ("mixed_bfloat16" if bf16 else "")
    (phase,) = json.loads((out / "run.json").read_text())["phases"]
    assert phase["precision"] == choice


FAKE_TRAINER = """
import pathlib, sys, time
args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
weights = args.get("--weights-path")
if weights and not pathlib.Path(weights).is_file():
    sys.exit(f"no weights at {weights}")
run = pathlib.Path(args["--output-dir"]) / time.strftime("%Y-%m-%d_%H-%M-%S")
run.mkdir(parents=True)
(run / "last.keras").write_text(f"trained from {weights}")
(run / "policy.txt").write_text(args.get("--mixed-precision-policy", ""))
rows = "".join(f"{e},0.5\\n" for e in range(int(args["--epochs"])))
(run / "training_log.csv").write_text("epoch,val_acc\\n" + rows)
# a real run outlasts a second: runs are named to the second, and times under 1 s are
# taken for steps found cached
time.sleep(1.1)
"""


def test_a_phase_resumes_from_its_own_last_run(tmp_path, monkeypatch, tiny_recipe):
    """A lent machine's time ran out mid-phase: the phase is run again from the last
    weights of its own earlier run, in the phase's folder; its time adds to that run's."""
    trainer = tmp_path / "fake_trainer.py"
    trainer.write_text(FAKE_TRAINER)
    monkeypatch.setattr(train, "_cli", lambda bf16=False: [sys.executable, str(trainer)])
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    out = tmp_path / "out"
    argv = ["train", "--recipe", "gpu", "--out", str(out), "--train-only", "--workers", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    train.main()
    (first,) = (out / "runs" / "g1").iterdir()
    timings = json.loads((out / "timings.json").read_text())
    (out / "timings.json").write_text(json.dumps({**timings, "g1_s": 1000.0}))  # a long first run

    resume = [*argv, "--weights", str(first / "last.keras"), "--epochs", "2"]
    monkeypatch.setattr(sys, "argv", resume)
    train.main()

    (second,) = set((out / "runs" / "g1").iterdir()) - {first}
    assert (second / "last.keras").read_text() == f"trained from {first / 'last.keras'}"
    run = json.loads((out / "run.json").read_text())
    assert [(p["name"], p["epochs"], p["recipe"]) for p in run["phases"]] == [
        ("g1", 1, "gpu"),
        ("g1", 2, "gpu"),
    ]
    assert 1000.0 < json.loads((out / "timings.json").read_text())["g1_s"] < 1100.0


def test_the_record_names_each_recipe_and_machine_in_order():
    phases = [
        {"name": "g1", "recipe": "gpu", "machine": "H200"},
        {"name": "g2", "recipe": "gpu", "machine": "H200"},
        {"name": "f1", "recipe": "finetune", "machine": "2 x AMD EPYC"},
    ]
    assert train._each(phases, "recipe", {}) == "gpu, then finetune"
    assert train._each(phases, "machine", {}) == "H200, then 2 x AMD EPYC"
    # a phase recorded before phases kept their own takes the run's one value
    assert train._each([{"name": "p2"}], "machine", {"machine": "2 x AMD EPYC"}) == "2 x AMD EPYC"


def test_another_data_seed_draws_fresh_plates_beside_the_first(tmp_path, monkeypatch, tiny_recipe):
    argv = ["train", "--recipe", "gpu", "--out", str(tmp_path), "--generate-only", "--workers", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    train.main()
    monkeypatch.setattr(sys, "argv", [*argv, "--data-seed", "99"])
    train.main()

    def rows(name):
        with (tmp_path / "data" / "g1" / name).open() as f:
            return [(row["image_path"], row["plate_text"]) for row in csv.DictReader(f)]

    first, fresh = (
        rows("annotations-3-11-128x64-b30-30.csv"),
        rows("annotations-3-99-128x64-b30-30.csv"),
    )
    assert not {path for path, _ in first} & {path for path, _ in fresh}  # nothing overwritten
    assert [text for _, text in first] != [text for _, text in fresh]


def test_the_recipe_stores_plates_with_the_readers_border():
    from anpr import readers

    assert train.TRAIN_BORDER == (readers.CROP_MARGIN, readers.CROP_MARGIN)


def test_each_training_plate_gets_a_border_of_its_own_and_the_same_plates(tmp_path, monkeypatch):
    import numpy as np

    from anpr.readers import prepare_crop
    from anpr.synth import synth_plate

    monkeypatch.setattr(train, "TRAIN_BORDER", (0.0, 0.06))  # the stop-26 recipe
    seed, start, count = 5, 0, 6
    rows = train._chunk((tmp_path, seed, start, count, (64, 128)))
    # The plates (and texts) are those the fixed-border recipe drew from the same seed: the
    # border has a generator of its own.
    rng = np.random.default_rng([seed, start])
    plates = [synth_plate(rng) for _ in range(count)]
    assert [text for _, text in rows] == [p.text.key for p in plates]
    lo, hi = train.TRAIN_BORDER
    borders = []
    for (name, _), plate in zip(rows, plates, strict=True):
        stored = cv2.imread(str(tmp_path / name), cv2.IMREAD_UNCHANGED)
        # which border in [lo, hi] gives the stored pixels: one of a fine grid, exactly
        grid = np.linspace(lo, hi, 241)
        diffs = [
            np.abs(
                prepare_crop(plate.image, height=64, width=128, grayscale=True, margin=m)[
                    ..., 0
                ].astype(int)
                - stored
            ).mean()
            for m in grid
        ]
        borders.append(grid[int(np.argmin(diffs))])
    assert len({round(b, 3) for b in borders}) >= 4  # not one border for all
    assert all(lo <= b <= hi for b in borders)


def _cct_pk_shapes() -> list[tuple[int, ...]]:
    """Keras weight shapes of anpr/training/cct_pk.yaml's model, in `model.weights` order."""
    stem = [(3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (3, 3, 32, 64), (64,)]
    stem += [(3, 3, 64, 96), (96,)]
    norm = [(), (64,), (64,)]
    attention = [(64, 1, 64), (1, 64)] * 3 + [(1, 64, 64), (64,)]
    block = norm + attention + norm + [(64, 64), (64,)] * 2
    reducer = [(1, 10, 64)] + [(64, 4, 64), (4, 64)] * 3 + [(4, 64, 64), (64,)]
    return stem + [(384, 64), (64,), (65, 64)] + block * 4 + reducer + [(64, 37), (37,)]


def test_the_shipped_float_model_gives_back_its_keras_weights():
    """Fine-tuning the shipped model starts from its float ONNX file: every Keras weight
    comes back once, in Keras' order and layout (conv kernels HWIO, attention per head)."""
    from anpr.readers import MODELS_DIR
    from anpr.training.onnx_weights import keras_weights

    arrays = keras_weights(MODELS_DIR / "pk_plate_ocr_fp32.onnx")

    assert [a.shape for a in arrays] == _cct_pk_shapes()
    assert len({a.tobytes() for a in arrays}) == len(arrays)  # no initializer taken twice
    # DyT's alpha is a learnt scalar near its 0.5 start; the first conv reads one channel
    assert all(0.05 < float(a) < 5 for a in arrays if a.shape == ())
    assert arrays[0].shape[2] == 1


def test_the_first_convolution_comes_back_without_the_folded_input_scaling():
    """The shipped models multiply the pixels by 1/255 inside the first convolution's
    weights; the Keras model rescales in its own layer, so the kernel goes back 255 times
    larger (read into Keras as stored, the model's outputs were off by 0.68)."""
    import onnx
    from onnx import numpy_helper

    from anpr.readers import MODELS_DIR
    from anpr.training.onnx_graph import input_chain
    from anpr.training.onnx_weights import keras_weights

    shipped = MODELS_DIR / "pk_plate_ocr_fp32.onnx"
    graph = onnx.load(str(shipped)).graph
    chain = input_chain(graph)
    assert "Mul" not in [n.op_type for n in chain]  # folded at export
    (stored,) = [i for i in graph.initializer if i.name == chain[-1].input[1]]

    kernel = keras_weights(shipped)[0]

    np.testing.assert_allclose(
        kernel, numpy_helper.to_array(stored).transpose(2, 3, 1, 0) * 255, rtol=1e-5
    )


def test_a_folded_first_convolution_and_a_rescaling_offset_cannot_be_unfolded(tmp_path):
    from anpr.readers import MODELS_DIR
    from anpr.training.onnx_weights import keras_weights

    config = tmp_path / "offset.yaml"
    config.write_text("rescaling:\n  scale: 0.0078125\n  offset: -1.0\n")

    with pytest.raises(ValueError, match="offset -1.0"):
        keras_weights(MODELS_DIR / "pk_plate_ocr_fp32.onnx", config)


def test_an_onnx_model_as_weights_is_converted_once_and_trained_from(
    tmp_path, monkeypatch, tiny_recipe
):
    trainer = tmp_path / "fake_trainer.py"
    trainer.write_text(FAKE_TRAINER)
    monkeypatch.setattr(train, "_cli", lambda bf16=False: [sys.executable, str(trainer)])
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    from anpr.training import onnx_weights

    converted = []

    def fake_convert(onnx_path, out, model_config, plate_config):
        converted.append(onnx_path)
        out.write_text(f"weights of {onnx_path.name}")
        return out

    monkeypatch.setattr(onnx_weights, "convert", fake_convert)
    out = tmp_path / "out"
    shipped = train.MODELS_DIR / "pk_plate_ocr_fp32.onnx"
    argv = ["train", "--recipe", "gpu", "--out", str(out), "--train-only", "--workers", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--weights", str(shipped)])
    train.main()

    assert converted == [shipped]
    (run,) = (out / "runs" / "g1").iterdir()
    keras_file = out / "pk_plate_ocr_fp32.from-onnx.keras"
    assert (run / "last.keras").read_text() == f"trained from {keras_file}"
    # the record goes on from how the shipped model was made
    made = json.loads((train.MODELS_DIR / "training.json").read_text())
    phases = json.loads((out / "run.json").read_text())["phases"]
    assert phases[:-1] == made["phases"]
    assert (phases[-1]["name"], phases[-1]["recipe"]) == ("g1", "gpu")
    timings = json.loads((out / "timings.json").read_text())
    # this run's time adds to the shipped model's own g1 time, where it had one
    assert timings["g1_s"] > made["timings"].get("g1_s", 0.0)


P2 = train.Phase("p2", n_train=30_000, epochs=10, batch_size=32, lr=1e-3, seed=2)


@pytest.mark.parametrize(
    ("sample_ms", "plates", "epochs"),
    [
        (4.4, 83_500, 10),  # the faster kind: 0.14 s a step of 32
        (13.4, 30_500, 10),  # the slower kind: 0.43 s a step
        (1.0, 200_000, 12),  # plates capped: the time left goes to epochs (up to 3x)
        (60.0, 10_000, 7),  # too slow for 10 epochs of the fewest plates: fewer epochs
    ],
)
def test_the_last_phase_is_sized_to_the_time_left(sample_ms, plates, epochs):
    # each epoch's validation pass: 1,000 plates at 0.35 of a training read
    val_s = train.VAL_COST * train.N_VAL * sample_ms / 1000
    pace = train.Pace(sample_s=sample_ms / 1000, overhead_s=60.0, val_s=val_s)
    sized = train.size_to_budget(P2, pace=pace, draw_s=0.01, seconds_left=5_000.0)
    assert (sized.n_train, sized.epochs) == (plates, epochs)
    assert sized.n_train % train.CHUNK == 0
    assert (sized.seed, sized.batch_size) == (P2.seed, P2.batch_size)  # the rest as written
    # it fits even at a pace PACE_MARGIN slower than the probe's
    slower = pace.sample_s * train.PACE_MARGIN
    spent = pace.overhead_s + sized.n_train * 0.01
    spent += sized.epochs * (sized.n_train + train.VAL_COST * train.N_VAL) * slower
    assert spent <= 5_000.0 - train.RESERVE_S


def test_the_pace_comes_from_the_epochs_after_the_first():
    # started at 0; epochs ended at 50 (start-up 20 s + 30 s), 80, 110; saved by 115
    pace = train._pace(P2, 0.0, [50.0, 80.0, 110.0], 115.0)
    assert pace is not None
    assert pace.overhead_s == 25.0
    # a 30 s epoch is 30,000 training reads and a validation pass over 1,000 plates, each
    # read at 0.35 of a training read's cost
    assert pace.sample_s == pytest.approx(30.0 / 30_350)
    assert pace.val_s == pytest.approx(350 * 30.0 / 30_350)
    assert 30_000 * pace.sample_s + pace.val_s == pytest.approx(30.0)
    assert train._pace(P2, 0.0, [50.0], 60.0) is None  # one epoch cannot tell


def test_a_busy_moment_does_not_slow_the_pace():
    # the second epoch took 45 s (something else ran), the third the machine's own 30 s
    pace = train._pace(P2, 0.0, [50.0, 95.0, 125.0], 130.0)
    assert pace is not None
    assert pace.sample_s == pytest.approx(30.0 / 30_350)
    assert pace.overhead_s == pytest.approx(20.0 + 5.0)  # start-up and saving


def test_the_probe_draws_the_phase_s_first_plates_and_sizes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "PROBE_PLATES", 4)
    probed = []

    def fake_run(phase, **kwargs):
        probed.append(phase)
        return tmp_path, train.Pace(sample_s=0.004, overhead_s=30.0)

    monkeypatch.setattr(train, "run_phase", fake_run)
    args = argparse.Namespace(workers=1, plate_config=train.HERE / "plate_config.yaml")
    ends_by = time.time() + 3_600
    sized = train.size_by_probe(
        P2, ends_by=ends_by, data=tmp_path, val_csv=tmp_path, runs=tmp_path, weights=None, args=args
    )
    [probe] = probed
    assert (probe.name, probe.n_train, probe.epochs) == ("p2-pace", 4, train.PROBE_EPOCHS)
    # the probe's plates are the phase's own first ones: drawn into its folder, its seed
    assert (tmp_path / "p2" / f"annotations-4-{P2.seed}-128x64-b30-30.csv").exists()
    # 4 plates draw too fast to time: the slow draw rate, 25 ms; (3,600 - 180 reserve - 30)
    # / (0.025 + 10 x 0.004 x 1.06 margin) = 50,297 plates, in whole chunks
    assert (sized.n_train, sized.epochs) == (50_000, P2.epochs)

    monkeypatch.setattr(train, "run_phase", lambda phase, **kw: (tmp_path, None))
    untimed = train.size_by_probe(
        P2, ends_by=ends_by, data=tmp_path, val_csv=tmp_path, runs=tmp_path, weights=None, args=args
    )
    assert untimed == P2  # no pace: the phase as written


def test_the_mean_of_epoch_weights_averages_floats_and_keeps_the_last_counter():
    snapshots = [
        [np.array([1.0, 2.0], np.float32), np.array([[0.5]], np.float32), np.array(3, np.int64)],
        [np.array([3.0, 6.0], np.float32), np.array([[1.5]], np.float32), np.array(7, np.int64)],
    ]
    mean = train.mean_weights(iter(snapshots))
    np.testing.assert_array_equal(mean[0], [2.0, 4.0])
    np.testing.assert_array_equal(mean[1], [[1.0]])
    assert mean[0].dtype == np.float32
    assert mean[2] == 7 and mean[2].dtype == np.int64


def test_the_mean_of_no_weights_or_of_different_models_is_an_error():
    with pytest.raises(ValueError, match="no weights"):
        train.mean_weights(iter([]))
    with pytest.raises(ValueError, match="snapshot 1 has 1 weights, the first 2"):
        train.mean_weights(iter([[np.zeros(2), np.zeros(1)], [np.zeros(2)]]))
