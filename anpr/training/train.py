"""Train the Pakistani plate OCR model from synthetic plates, reproducibly.

    make train-ocr        # = .venv-train/bin/python -m anpr.training.train

1. generates synthetic plate crops (anpr.synth) with fixed seeds into var/anpr-train/,
   writing fast-plate-ocr annotation CSVs;
2. trains with fast-plate-ocr's own CLI (`fast-plate-ocr train`) in phases: a short
   phase on a small set (the model learns to read at all), then a longer one on a
   larger, fresh set starting from the first phase's weights;
3. exports ONNX (`fast-plate-ocr export`), quantizes the convolutions to int8 and keeps
   the int8 model when it reads the synthetic test set as well as the float one;
4. copies the model(s) + plate config to anpr/models/ and writes anpr/models/training.json
   (recipe, timings, metrics, quantization) for the model card.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Container, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODELS_DIR = ROOT / "anpr" / "models"
MODEL_NAME = "pk_plate_ocr"


@dataclass(frozen=True)
class Phase:
    name: str
    n_train: int
    epochs: int
    batch_size: int
    lr: float
    seed: int
    stop_after: int | None = None  # stop after this many epochs of the schedule (time budget)
    augmentation: str | None = None  # albumentations yaml in anpr/training/; None: library default
    data_from: str | None = None  # reuse another phase's images (same seed and size)


# Step times on this project's 2-core machines: 0.08-0.13 s at batch 32 on the faster AMD
# kind, up to 0.95 s on the slower Intel one; drawing a plate costs 13-25 ms of one core. So
# `make train-ocr` runs to a time budget (--budget-minutes, 80 by default): p2 is sized to it
# at the pace a short probe of it measured (size_by_probe); its n_train and epochs below are
# the plan for a run without a budget (--budget-minutes 0).
PHASES = [
    # One phase from scratch: plate accuracy stays at 0 for the first ~2,000 steps (the
    # plateau), then climbs. A first phase of 6,000 plates at batch 16 (p1, until stop 16)
    # was meant to break the plateau; on 128x64 and 96x48 inputs it ended its 7 epochs (2,625
    # steps; 158 s at 96x48) still on it (val char accuracy 0.43), and p2 broke it anyway
    # (val 7.8 % after its first epoch of 3,640 steps, stop 17), so p1's minutes are p2's.
    # Light training-time augmentation (the synthetic damage already covers the camera);
    # the cosine schedule decays to the end.
    Phase(
        "p2",
        n_train=30_000,
        epochs=10,
        batch_size=32,
        lr=1e-3,
        seed=2,
        augmentation="augmentation.yaml",
    ),
]
# The recipe for a lent GPU machine (16 cores, one H100/H200, Keras on the jax backend with
# a compiled step; torch's eager step took 140 ms whatever the batch): the same two steps
# with more plates and many more steps. g1 breaks the plateau at batch 32; g2 draws 60,000
# fresh plates (while g1 trains) and reads them at batch 128. g2's epochs are what fitted
# the machine's time budget (`--deadline`); training.json records what ran.
GPU_PHASES = [
    Phase("g1", n_train=20_000, epochs=4, batch_size=32, lr=1e-3, seed=11),
    Phase(
        "g2",
        n_train=59_904,  # 468 batches of 128: a partial last batch recompiles the step
        epochs=10,
        batch_size=128,
        lr=2e-3,
        seed=12,
        augmentation="augmentation.yaml",
    ),
]
# Fine-tuning a trained model (--weights) on 2 CPU cores with fresh plates and the light
# augmentation: after a GPU run whose lent time ran out, each round drew new plates (a new
# data seed per round) and read them for 8 epochs; 0.1 s a step on the faster kind.
FINETUNE_PHASES = [replace(PHASES[-1], name="f1", n_train=40_000, epochs=8, seed=3)]
RECIPES = {"cpu": PHASES, "gpu": GPU_PHASES, "finetune": FINETUNE_PHASES}
N_VAL = 1_000
VAL_SEED = 777


# The reader's border (readers.CROP_MARGIN) each training plate is stored with: drawn per
# plate, uniform in TRAIN_BORDER, from a generator of its own (so the plates themselves do
# not change with it). Fixed at the reader's 3 %, the recipe of the shipped model. Every
# model of that recipe read about 80 % of the dev set with no border and peaked at a border
# of its own (stop 25), so stop 26 tried a border uniform in 0-6 %. Measured (stop 28,
# Intel Xeon with AMX, bfloat16, two runs from scratch, int8): synthetic 89.2 % and 90.0 %,
# dev 88.5 % and 86.9 % at the reader's 3 %, against 95.1 / 88.5 / 88.5 % for the three
# fixed-border runs; they read the dev set best at a 6 % border (95.1 %, 91.8 %). Not kept.
TRAIN_BORDER = (0.03, 0.03)


def _border_tag() -> str:
    lo, hi = TRAIN_BORDER
    return f"b{round(lo * 1000)}-{round(hi * 1000)}"


def _chunk(args: tuple[Path, int, int, int, tuple[int, int]]) -> list[tuple[str, str]]:
    out_dir, seed, start, count, (height, width) = args
    # Named by seed, size and border too: plates drawn with another seed (--data-seed) sit
    # beside these, and plates drawn for another input size or border are never taken.
    lo, hi = TRAIN_BORDER
    border = _border_tag()
    done = out_dir / f"chunk-{seed}-{start:06d}-{width}x{height}-{border}.csv"
    if done.exists():  # resumable: a finished chunk is never drawn again
        with done.open() as f:
            return [(row[0], row[1]) for row in csv.reader(f)]
    from anpr.readers import prepare_crop
    from anpr.synth import synth_plate

    # One generator per chunk: the data depends on the seed only, not on the worker count.
    rng = np.random.default_rng([seed, start])
    border_rng = np.random.default_rng([seed, start, 1])
    rows = []
    for i in range(start, start + count):
        sample = synth_plate(rng)
        margin = float(border_rng.uniform(lo, hi))
        # Stored as the reader will hand the crop to the model (its border, shrunk by
        # averaging to the model's input): fast-plate-ocr's loader then has nothing to
        # resize. Left to it, the loader shrank the 80-320 px crops linearly, so the model
        # learnt on aliased strokes and read smooth ones.
        image = prepare_crop(
            sample.image, height=height, width=width, grayscale=True, margin=margin
        )
        name = f"{seed}-{i:06d}-{width}x{height}-{border}.png"
        cv2.imwrite(str(out_dir / name), image)
        rows.append((name, sample.text.key))
    with done.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return rows


CHUNK = 500


def model_input(plate_config: Path) -> tuple[int, int]:
    """The (height, width) the plate config feeds the model: the plates are drawn at it."""
    plate = yaml.safe_load(plate_config.read_text())
    if plate["image_color_mode"] != "grayscale":
        raise ValueError(f"{plate_config}: the synthetic plates are drawn grayscale only")
    return plate["img_height"], plate["img_width"]


def generate(out_dir: Path, n: int, seed: int, *, size: tuple[int, int], workers: int) -> Path:
    """Write n synthetic crops of size (height, width) and their annotations CSV into
    out_dir (resumes finished chunks)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    height, width = size
    csv_path = out_dir / f"annotations-{n}-{seed}-{width}x{height}-{_border_tag()}.csv"
    if csv_path.exists():
        return csv_path
    jobs = [(out_dir, seed, s, min(CHUNK, n - s), size) for s in range(0, n, CHUNK)]
    rows: list[tuple[str, str]] = []
    if workers <= 1:  # in this process: forking a process that runs threads can deadlock
        for job in jobs:
            rows.extend(_chunk(job))
    else:
        # One process per core already: each draws with one OpenCV thread.
        with ProcessPoolExecutor(workers, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
            for chunk in pool.map(_chunk, jobs):
                rows.extend(chunk)
    tmp = csv_path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image_path", "plate_text"])
        writer.writerows(rows)
    tmp.rename(csv_path)
    return csv_path


def _cli(bf16: bool = False) -> list[str]:
    # A compiled train step (jax on a GPU) or bfloat16 maths: fast-plate-ocr's CLI, switched.
    if bf16 or os.environ.get("ANPR_TRAIN_JIT") == "1":
        return [sys.executable, "-m", "anpr.training.fpo_cli"]
    exe = Path(sys.executable).with_name("fast-plate-ocr")
    if exe.exists():
        return [str(exe)]
    # Installed without its console script (pip --target): the module has no __main__.
    return [sys.executable, "-c", "from fast_plate_ocr.cli.cli import main_cli; main_cli()"]


def phase_data(phase: Phase, data: Path, args) -> Path:
    """The phase's plates and annotations CSV (drawn once, then reused)."""
    return generate(
        data / (phase.data_from or phase.name),
        phase.n_train,
        phase.seed,
        size=model_input(args.plate_config),
        workers=args.workers,
    )


def run_phase(
    phase: Phase, *, data: Path, val_csv: Path, runs: Path, weights: Path | None, args
) -> tuple[Path, Pace | None]:
    """Train one phase with fast-plate-ocr's CLI: (its run folder, the pace it trained at)."""
    train_csv = phase_data(phase, data, args)
    out = runs / phase.name
    # fast-plate-ocr makes one dated folder per run; earlier runs stay (a phase resumed
    # from its own last run reads its weights there), so this run is the folder that is new.
    out.mkdir(parents=True, exist_ok=True)
    earlier_runs = set(out.iterdir())

    def this_run() -> Path | None:
        return next((p for p in out.iterdir() if p.is_dir() and p not in earlier_runs), None)

    bf16 = args.precision == "bfloat16"
    cmd = [
        *_cli(bf16),
        "train",
        "--model-config-file",
        str(args.model_config),
        "--plate-config-file",
        str(args.plate_config),
        "--annotations",
        str(train_csv),
        "--val-annotations",
        str(val_csv),
        "--epochs",
        str(phase.epochs),
        "--batch-size",
        str(phase.batch_size),
        "--lr",
        str(phase.lr),
        "--warmup-fraction",
        "0.03" if weights else "0.05",
        "--early-stopping-patience",
        "100",
        "--output-dir",
        str(out),
        "--seed",
        str(args.seed + phase.seed),
        "--workers",
        str(args.loader_workers),
    ]
    if weights is not None:
        cmd += ["--weights-path", str(weights)]
    if bf16:
        cmd += ["--mixed-precision-policy", "mixed_bfloat16"]
    if phase.augmentation:
        cmd += ["--augmentation-path", str(HERE / phase.augmentation)]
    print("+", " ".join(cmd), flush=True)
    started = time.time()
    epoch_ends: list[float] = []  # when each epoch's line reached training_log.csv
    proc = subprocess.Popen(cmd)
    while proc.poll() is None:
        # The epochs' ends are timed by polling: a probe's epoch lasts 10-15 s, so a
        # coarse poll would err by several percent on its pace.
        time.sleep(0.25)
        done = _epochs_done(this_run())
        epoch_ends += [time.time()] * (done - len(epoch_ends))
        late = args.deadline is not None and time.time() > args.deadline
        if late and done >= 1:
            # Out of (lent machine) time: keep the last finished epoch's weights.
            print(f"deadline: stopping {phase.name} after {done} epochs", flush=True)
            proc.terminate()
            proc.wait()
            break
        if phase.stop_after and done >= phase.stop_after:
            # The cosine schedule was laid out for `epochs`; stopping early keeps its
            # higher learning rate for the next phase, which decays it properly.
            proc.terminate()
            proc.wait()
            break
    else:
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd)
    run_dir = this_run()
    if run_dir is None:
        raise RuntimeError(f"{phase.name}: training left no run folder in {out}")
    return run_dir, _pace(phase, started, epoch_ends, time.time())


@dataclass(frozen=True)
class Pace:
    """How fast a phase trained here: seconds per plate read (one plate, one epoch), the
    seconds each epoch's validation pass costs, and the seconds the phase cost besides its
    epochs (start-up, first compile, saving)."""

    sample_s: float
    overhead_s: float
    val_s: float = 0.0


# Each epoch ends with a validation pass over the N_VAL plates: a forward pass without the
# augmentation, costing about VAL_COST of a training read each. A short probe's epoch is
# mostly that pass's share, so it is taken out of the pace: counted in, it made the 4,000-
# plate probe 8 % slower per plate than the 76,500-plate p2 it sized (4.0 ms against 3.65-
# 3.7 ms on the faster AMD kind, stop 14), and the budgeted run ended 12 minutes early.
VAL_COST = 0.35


# A phase's pace is its fastest epoch after the first (which holds the start-up): a busy
# moment on the machine slows the epoch it falls in, not the machine. At stop 24 a 20 s
# benchmark that ran during the probe's one timed epoch made it 3.45 ms a plate instead of
# 2.53, so p2 drew 102,000 plates instead of about 132,000 and the run ended 22 minutes
# inside its budget. So the probe times PROBE_EPOCHS - 1 epochs and keeps the fastest.
def _pace(phase: Phase, started: float, epoch_ends: list[float], ended: float) -> Pace | None:
    if len(epoch_ends) < 2:  # the first epoch holds the start-up: two are needed
        return None
    epoch_s = min(b - a for a, b in pairwise(epoch_ends))
    overhead = (epoch_ends[0] - started - epoch_s) + (ended - epoch_ends[-1])
    sample_s = epoch_s / (phase.n_train + VAL_COST * N_VAL)
    return Pace(sample_s=sample_s, overhead_s=max(0.0, overhead), val_s=VAL_COST * N_VAL * sample_s)


# The last phase of a budgeted run (make train-ocr) is sized to the time left after any
# earlier ones: as many fresh plates as fit `epochs` reads of each, drawn and trained at
# the pace measured here, so a faster machine reads more plates and a slower one fewer,
# and the run ends within the budget on any kind. The pace is the phase's own, from a
# short probe run of it (PROBE_PLATES of its plates, PROBE_EPOCHS epochs, weights thrown
# away): per plate, p2's batch of 32 cost 0.6x the batch of 16 of a first phase it had
# until stop 16 on the faster AMD kind and 0.9x on the slower one, so that phase's pace
# would leave a third of the budget unused on one and overrun the other.
# RESERVE_S keeps time for the export, the int8 quantization and its check (61-69 s
# measured; 300 s left 4 minutes of the budget unused); the deadline that stops a late
# phase leaves only EXPORT_S, so a pace a few percent off still finishes its last epoch.
RESERVE_S = 180.0
EXPORT_S = 120.0
# A budgeted p2 ran slower per plate than its own probe: 4.05 ms against 3.45 ms at stop 18,
# and the deadline cut the cosine schedule's last epoch (twice). So the plan assumes a pace
# PACE_MARGIN slower than the probe's. Since the plates are drawn at the model's input size
# (stop 19) the probe's pace held (2.07 ms probed, 1.96-2.17 ms in p2's epochs) and a 1.1
# margin left 7 of the 80 minutes unused: 1.03. In bfloat16 (stop 21, Intel with AMX) p2 ran
# 77 ms a step of 32 (2.41 ms a plate) against its probe's 2.30 ms, and the deadline cut its
# last epoch at step 4,519 of 4,719: 1.06 now.
PACE_MARGIN = 1.06
PROBE_PLATES = 4_000
PROBE_EPOCHS = 3
MIN_PLATES, MAX_PLATES = 10_000, 200_000


# Drawing a plate costs 13-25 ms of one core: the slow end, where the probe's plates were
# found already drawn (a resumed run) and drawing could not be timed.
DRAW_S_UNTIMED = 0.025


def size_by_probe(
    phase: Phase, *, ends_by: float, data: Path, val_csv: Path, runs: Path, weights, args
) -> Phase:
    """The phase sized to the budget at the pace of a short probe run of it (its first
    PROBE_PLATES plates, PROBE_EPOCHS epochs, weights thrown away); as written if the probe
    could not time two epochs. ends_by: the budget's end, unix time."""
    probe = replace(
        phase,
        name=f"{phase.name}-pace",
        n_train=PROBE_PLATES,
        epochs=PROBE_EPOCHS,
        data_from=phase.name,
    )
    t0 = time.monotonic()
    phase_data(probe, data, args)  # drawn for the phase: no plate is wasted
    drawn = time.monotonic() - t0
    draw_s = drawn / probe.n_train if drawn > 1.0 else DRAW_S_UNTIMED / args.workers
    _, pace = run_phase(probe, data=data, val_csv=val_csv, runs=runs, weights=weights, args=args)
    if pace is None:
        return phase
    sized = size_to_budget(phase, pace=pace, draw_s=draw_s, seconds_left=ends_by - time.time())
    print(
        f"budget: {phase.name} reads {sized.n_train} plates for {sized.epochs} epochs "
        f"({pace.sample_s * 1000:.2f} ms a plate, {draw_s * 1000:.1f} ms to draw one)",
        flush=True,
    )
    return sized


def size_to_budget(phase: Phase, *, pace: Pace, draw_s: float, seconds_left: float) -> Phase:
    """The phase with n_train and epochs fitted to seconds_left (see RESERVE_S).

    draw_s: seconds to draw one plate with all workers; pace: the phase's, from its probe."""
    sample_s, val_s = pace.sample_s * PACE_MARGIN, pace.val_s * PACE_MARGIN
    usable = seconds_left - RESERVE_S - pace.overhead_s
    epochs = phase.epochs
    n = int((usable - epochs * val_s) / (draw_s + epochs * sample_s)) if usable > 0 else 0
    if n > MAX_PLATES:  # a fast machine: the plates are capped, so more epochs fit
        n = MAX_PLATES
        epochs = min(3 * phase.epochs, int((usable - n * draw_s) / (n * sample_s + val_s)))
    elif n < MIN_PLATES:  # a slow machine: fewer epochs of the fewest plates worth drawing
        n = MIN_PLATES
        epochs = max(1, int((usable - n * draw_s) / (n * sample_s + val_s)))
    return replace(phase, n_train=n // CHUNK * CHUNK, epochs=epochs)


def _epochs_done(run_dir: Path | None) -> int:
    log = run_dir / "training_log.csv" if run_dir else None
    if log is None or not log.exists():
        return 0
    with log.open() as f:
        return max(0, sum(1 for _ in f) - 1)


PORTABLE = "last.portable.keras"


def build_keras_model(model_config: Path, plate_config: Path):
    """(untrained Keras model, plate config) as fast-plate-ocr builds them from the yamls."""
    from fast_plate_ocr.train.model.config import load_plate_config_from_yaml
    from fast_plate_ocr.train.model.model_builders import build_model
    from fast_plate_ocr.train.model.model_schema import load_model_config_from_yaml

    plate = load_plate_config_from_yaml(plate_config)
    return build_model(load_model_config_from_yaml(model_config), plate), plate


def make_portable(run_dir: Path, model_config: Path, plate_config: Path) -> Path:
    """last.keras's weights in a model saved without its optimizer.

    A model trained on Keras' torch or jax backend saves that backend's optimizer class,
    which TensorFlow (needed by the ONNX export) cannot load; the weights alone load anywhere.
    """
    import keras

    model, _ = build_keras_model(model_config, plate_config)
    model.load_weights(run_dir / "last.keras")
    target = run_dir / PORTABLE
    model.save(target)
    print(f"portable weights ({keras.backend.backend()}): {target}", flush=True)
    return target


def mean_weights(snapshots: Iterable[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several snapshots of one model's weights (summed in float64);
    anything not floating point (a counter, a seed) is the last snapshot's own."""
    total: list[np.ndarray] = []
    last: list[np.ndarray] = []
    n = 0
    for last in snapshots:
        total = total or [np.zeros(w.shape, np.float64) for w in last]
        if len(last) != len(total):
            raise ValueError(f"snapshot {n} has {len(last)} weights, the first {len(total)}")
        for t, w in zip(total, last, strict=True):
            t += w
        n += 1
    if not n:
        raise ValueError("no weights to average")
    return [
        (t / n).astype(w.dtype) if np.issubdtype(w.dtype, np.floating) else w
        for t, w in zip(total, last, strict=True)
    ]


def average_epochs(
    run_dir: Path, last: int, model_config: Path, plate_config: Path, target: Path
) -> Path:
    """A model whose weights are the mean of the last `last` epochs' weights of run_dir
    (the epoch-NN.weights.h5 that fpo_cli keeps), saved to target without an optimizer.

    The model normalizes with DyT, which keeps no running statistics, so averaged weights
    need no recalibration pass."""
    import keras

    # By epoch number: epoch-100 sorts before epoch-11 by name.
    files = sorted(run_dir.glob("epoch-*.weights.h5"), key=lambda p: int(p.name.split(".")[0][6:]))[
        -last:
    ]
    if len(files) < last:
        raise ValueError(f"{run_dir}: {len(files)} epochs' weights kept, {last} to average")
    model, _ = build_keras_model(model_config, plate_config)

    def epoch_weights():
        for path in files:
            model.load_weights(path)
            yield model.get_weights()

    model.set_weights(mean_weights(epoch_weights()))
    target.parent.mkdir(parents=True, exist_ok=True)
    model.save(target)
    print(f"averaged {[p.name for p in files]} ({keras.backend.backend()}): {target}", flush=True)
    return target


def export(run_dir: Path, plate_config: Path) -> Path:
    model = run_dir / PORTABLE
    if not model.exists():
        model = run_dir / "last.keras"
    cmd = [
        *_cli(),
        "export",
        "-m",
        str(model),
        "--format",
        "onnx",
        "--plate-config-file",
        str(plate_config),
        "--save-dir",
        str(run_dir),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    onnx_path = run_dir / model.with_suffix(".onnx").name
    # The export multiplies every pixel by 1/255 before the first Conv; fold that into
    # its weights (exact; onnx_graph.py), which the int8 quantization also expects.
    from anpr.training.onnx_graph import fold_input_scaling

    fold_input_scaling(onnx_path, onnx_path)
    return onnx_path


# The int8 model replaces the float one when its synthetic-test plate accuracy is at most
# this much lower (it is faster on CPUs with VNNI; see quantize.py).
QUANT_TOLERANCE = 0.01
N_QUANT_TEST = 1000


def quantize_and_pick(float_onnx: Path, plate_config: Path) -> tuple[Path, dict]:
    """Quantize the convolutions to int8; return (model to ship, record for training.json)."""
    from anpr.readers import FastPlateOcrReader
    from anpr.training.evaluate import reader_texts, score_reader, synth_test_set
    from anpr.training.quantize import QUANTIZED_OPS, quantize

    int8 = float_onnx.with_name(float_onnx.stem + "_int8.onnx")
    t0 = time.monotonic()
    quantize(float_onnx, int8)
    test = synth_test_set(N_QUANT_TEST)
    scores = {}
    for name, path in (("float32", float_onnx), ("int8", int8)):
        shutil.copy(plate_config, path.with_name(path.stem + "_plate_config.yaml"))
        scores[name] = score_reader(reader_texts(FastPlateOcrReader(path)), test).summary()
    keep = scores["int8"]["plate_acc"] >= scores["float32"]["plate_acc"] - QUANT_TOLERANCE
    record = {
        "ops": QUANTIZED_OPS,
        "tolerance": QUANT_TOLERANCE,
        "synthetic_test": scores,
        "shipped": "int8" if keep else "float32",
        "seconds": round(time.monotonic() - t0, 1),
    }
    print("quantization:", json.dumps(record), flush=True)
    return (int8 if keep else float_onnx), record


def _save_timings(out: Path, timings: dict, resumed: Container[str] = ()) -> dict:
    """Merge into out/timings.json: phases may run in separate invocations (--phases p2
    --weights ..., or a GPU run then --finish); steps found cached (~0 s) keep their time,
    and a resumed phase's (its key in `resumed`) adds to the earlier run's."""
    timings_file = out / "timings.json"
    previous = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    merged = {**previous}
    for key, seconds in timings.items():
        if seconds >= 1.0:
            merged[key] = round(previous.get(key, 0.0) + seconds, 1) if key in resumed else seconds
    for separate in out.glob("generate_*_s"):  # --generate-only runs, possibly concurrent
        merged[separate.name] = float(separate.read_text())
    timings_file.write_text(json.dumps(merged))
    return merged


def _start_from_shipped_record(out: Path) -> None:
    """A run that trains the shipped model on goes on from its training.json: its phases
    become this run's earlier ones (run.json) and its times the earlier times, so the
    phases and times a continued run adds are merged by the same code as any resumed run."""
    shipped = MODELS_DIR / "training.json"
    run_file, timings_file = out / "run.json", out / "timings.json"
    if not shipped.exists() or run_file.exists():  # nothing shipped, or already going on
        return
    record = json.loads(shipped.read_text())
    run_file.write_text(json.dumps({"phases": record["phases"]}))
    if not timings_file.exists():
        past = {k: v for k, v in record["timings"].items() if k != "total_s"}
        timings_file.write_text(json.dumps(past))


def _each(phases: list[dict], key: str, run: dict) -> str:
    """ "gpu, then cpu": the phases' recipes (or machines) in the order they ran. Phases
    recorded before each kept its own take the run's one value."""
    return ", then ".join(dict.fromkeys(p.get(key) or run.get(key, "?") for p in phases))


def _machine() -> str:
    """Where training ran: CPU count and model, and the GPU if Keras' backend had one."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = ""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        gpu = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else ""
    except (OSError, subprocess.SubprocessError):
        pass
    return f"{os.cpu_count()} x {cpu}" + (f", {gpu}" if gpu else "")


BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def precision(choice: str, *, flags: frozenset[str], backend: str) -> str:
    """The maths the CPU trains in. auto: bfloat16 where the CPU does it in hardware and
    Keras runs on TensorFlow (the CPU recipe). A train step at batch 32 took 81 ms in
    float32 and 50 ms in bfloat16 (float32 head) on the Intel kind with AMX (stop 21);
    float32 64-78 and bfloat16 62 ms on the AMD kind (avx512_bf16, no AMX)."""
    if choice != "auto":
        return choice
    return "bfloat16" if backend == "tensorflow" and flags & BF16_FLAGS else "float32"


def _last_metrics(run_dir: Path) -> dict:
    log = run_dir / "training_log.csv"
    if not log.exists():
        return {}
    with log.open() as f:
        rows = list(csv.DictReader(f))
    return (
        {k: round(float(v), 4) for k, v in rows[-1].items() if v not in ("", None)} if rows else {}
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "anpr-train")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--model-config", type=Path, default=HERE / "cct_pk.yaml")
    parser.add_argument("--plate-config", type=Path, default=HERE / "plate_config.yaml")
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="cpu",
        help="cpu: 2 cores, from scratch; gpu: a lent GPU; finetune: --weights on 2 cores, fresh plates",
    )
    parser.add_argument("--phases", default=None, help="phases to run (default: all the recipe's)")
    parser.add_argument(
        "--data-seed",
        type=int,
        default=None,
        help="the last phase draws with this seed (fresh plates)",
    )
    parser.add_argument(
        "--loader-workers", type=int, default=1, help="fast-plate-ocr data loader threads"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the last phase's epochs (time budget)"
    )
    parser.add_argument(
        "--plates", type=int, default=None, help="override the last phase's plates (time budget)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=None,
        help="unix time: past it, stop and keep the last finished epoch",
    )
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=None,
        help="the cpu recipe's time budget (default 80: with the pip install, make train-ocr "
        "stays within 90 minutes); the last phase is sized to it; 0: the recipe as written",
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="draw the phases' plates and stop"
    )
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="stop after training (no TensorFlow needed: export later with --finish)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="start from these weights: a .keras run, or a float .onnx model (the shipped fp32)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="scale images and epochs (quick runs)"
    )
    parser.add_argument(
        "--no-install", action="store_true", help="train only; leave anpr/models/ alone"
    )
    parser.add_argument(
        "--finish", type=Path, default=None, help="skip training: export and install this run dir"
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "float32", "bfloat16"],
        default="auto",
        help="training maths (weights stay float32); auto: bfloat16 on CPUs with avx512_bf16 "
        "or AMX, else float32",
    )
    # Measured at stop 32 (AMD EPYC, AVX-512 BF16, from scratch): the mean of the last 2, 3
    # or 5 epochs read the synthetic test 91.8-92.7 % and the dev set 85.2-86.9 %, the last
    # epoch alone 92.3 % and 86.9 %: the cosine decay and the EMA already average. Off.
    parser.add_argument(
        "--average-last",
        type=int,
        default=1,
        help="export the mean of the last N epochs' weights (1: the last epoch's own)",
    )
    args = parser.parse_args()
    from anpr.readers import cpu_flags

    args.precision = precision(
        args.precision,
        flags=cpu_flags(),
        backend=os.environ.get("KERAS_BACKEND", "tensorflow"),
    )
    print(f"precision: {args.precision}", flush=True)

    started = time.monotonic()
    budget_s = 60 * (
        args.budget_minutes
        if args.budget_minutes is not None
        else (80.0 if args.recipe == "cpu" and args.scale == 1.0 and args.finish is None else 0)
    )
    ends_by = time.time() + budget_s
    if budget_s:  # past it, the last phase stops after its last finished epoch
        args.deadline = min(args.deadline or float("inf"), ends_by - EXPORT_S)
    data, runs = args.out / "data", args.out / "runs"
    run_file = args.out / "run.json"
    if args.weights is not None and args.weights.suffix == ".onnx":
        # Train on from a shipped model: its float ONNX file holds the weights.
        from anpr.training.onnx_weights import convert

        args.out.mkdir(parents=True, exist_ok=True)
        if args.weights.resolve().parent == MODELS_DIR:
            _start_from_shipped_record(args.out)
        keras_path = args.out / f"{args.weights.stem}.from-onnx.keras"
        args.weights = convert(args.weights, keras_path, args.model_config, args.plate_config)
    val_csv = generate(
        data / "val", N_VAL, VAL_SEED, size=model_input(args.plate_config), workers=args.workers
    )
    timings = {"generate_val_s": round(time.monotonic() - started, 1)}
    weights = args.weights
    recipe = RECIPES[args.recipe]
    names = args.phases.split(",") if args.phases else [p.name for p in recipe]
    phases = [p for p in recipe if p.name in names]
    if args.scale != 1.0:
        phases = [
            replace(
                p,
                n_train=max(200, int(p.n_train * args.scale)),
                epochs=max(1, round(p.epochs * args.scale)),
                stop_after=None,
            )
            for p in phases
        ]
    if args.epochs is not None and phases:
        phases[-1] = replace(phases[-1], epochs=args.epochs)
    if args.plates is not None and phases:
        phases[-1] = replace(phases[-1], n_train=args.plates)
    if args.data_seed is not None and phases:
        phases[-1] = replace(phases[-1], seed=args.data_seed)
    if args.generate_only:
        for phase in phases:
            t0 = time.monotonic()
            phase_data(phase, data, args)
            seconds = round(time.monotonic() - t0, 1)
            print(f"generated {phase.name} in {seconds} s", flush=True)
            (args.out / f"generate_{phase.name}_s").write_text(str(seconds))
        return
    run_dir = args.finish
    ran: list[Phase] = []
    # A run that starts from given weights continues the one recorded before it.
    continuing = args.weights is not None and run_file.exists()
    previous_phases = json.loads(run_file.read_text())["phases"] if continuing else []
    resumed = {f"{p['name']}_s" for p in previous_phases}
    for phase in [] if args.finish else phases:
        t0 = time.monotonic()
        if budget_s and phase is phases[-1]:
            phase = size_by_probe(
                phase,
                ends_by=ends_by,
                data=data,
                val_csv=val_csv,
                runs=runs,
                weights=weights,
                args=args,
            )
            timings[f"{phase.name}-pace_s"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
        run_dir, _ = run_phase(
            phase, data=data, val_csv=val_csv, runs=runs, weights=weights, args=args
        )
        # last, not best: plate accuracy stays 0 for the first thousands of steps, so
        # "best" would be the first epoch; with EMA weights and cosine decay the last is best.
        weights = run_dir / "last.keras"
        timings[f"{phase.name}_s"] = round(time.monotonic() - t0, 1)
        ran.append(replace(phase, epochs=_epochs_done(run_dir)))
    assert run_dir is not None
    # What ran (phases, where, how long) is kept beside the runs so that a later --finish,
    # possibly on another machine, records it: a GPU run trains, a CPU run exports.
    if ran:
        # Each phase keeps its recipe and machine: a GPU run fine-tuned on the CPU.
        where = {"recipe": args.recipe, "machine": _machine(), "precision": args.precision}
        phases_run = previous_phases + [{**asdict(p), **where} for p in ran]
        run_file.write_text(json.dumps({"phases": phases_run}))
    if ran and os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        make_portable(run_dir, args.model_config, args.plate_config)
    if args.train_only:
        _save_timings(args.out, timings, resumed)
        print(f"trained: {run_dir}", flush=True)
        return
    if args.average_last > 1:
        average_epochs(
            run_dir, args.average_last, args.model_config, args.plate_config, run_dir / PORTABLE
        )
    elif not (run_dir / PORTABLE).exists():
        # A model trained in bfloat16 saves its layers' bfloat16 policy, which would export
        # bfloat16 casts; rebuilt in float32 with its (float32) weights it exports as float32.
        make_portable(run_dir, args.model_config, args.plate_config)
    float_path = export(run_dir, args.plate_config)
    onnx_path, quantization = quantize_and_pick(float_path, args.plate_config)
    timings = _save_timings(args.out, timings, resumed)
    timings["total_s"] = round(sum(v for k, v in timings.items() if k != "total_s"), 1)

    run = json.loads(run_file.read_text()) if run_file.exists() else {}
    # Nothing recorded (--finish on a run from elsewhere): the recipe's phases, here.
    if run.get("phases"):
        recorded = run["phases"]
    else:
        where = {"recipe": args.recipe, "machine": _machine()}
        recorded = [{**asdict(p), **where} for p in phases]
    record = {
        "seed": args.seed,
        "recipe": _each(recorded, "recipe", run),
        "machine": _each(recorded, "machine", run),
        "phases": recorded,
        "n_val": N_VAL,
        "train_border": list(TRAIN_BORDER),
        "average_last": args.average_last,
        "scale": args.scale,
        "budget_minutes": budget_s / 60 or None,
        "timings": timings,
        "val_metrics": _last_metrics(run_dir),
        "quantization": quantization,
        "run_dir": str(run_dir.relative_to(ROOT)) if run_dir.is_relative_to(ROOT) else str(run_dir),
        "model_config": yaml.safe_load(args.model_config.read_text()),
    }
    print(json.dumps(record["timings"]), json.dumps(record["val_metrics"]), flush=True)
    if args.no_install:
        return
    MODELS_DIR.mkdir(exist_ok=True)
    shutil.copy(onnx_path, MODELS_DIR / f"{MODEL_NAME}.onnx")
    shutil.copy(args.plate_config, MODELS_DIR / f"{MODEL_NAME}_plate_config.yaml")
    # The float model stays selectable (ANPR_OCR_MODEL=anpr/models/pk_plate_ocr_fp32.onnx).
    for suffix, src in ((".onnx", float_path), ("_plate_config.yaml", args.plate_config)):
        target = MODELS_DIR / f"{MODEL_NAME}_fp32{suffix}"
        if onnx_path != float_path:
            shutil.copy(src, target)
        else:
            target.unlink(missing_ok=True)
    (MODELS_DIR / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"installed {MODELS_DIR / (MODEL_NAME + '.onnx')}", flush=True)
    from anpr.training import model_card

    model_card.main()


if __name__ == "__main__":
    main()
