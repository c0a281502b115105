"""Write anpr/models/MODEL_CARD.md from training.json and a fresh evaluation.

python -m anpr.training.model_card      (runtime venv or .venv-train)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from anpr.training.evaluate import load_dev_set, reader_texts, score_reader, synth_test_set

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"

# How the committed model was actually produced, where it differs from a clean rerun.
HISTORY = """The committed model was trained on a lent H200, then fine-tuned on this project's
2-core machine (stop 12). On the H200 (`gpu` recipe): `anpr/training/train_gpu.sh /tmp/t 460`
drew g1 and g2 (32.2 s and 97.9 s on 16 cores) and trained g1 and 7 epochs of g2 (val
71.6 %), 439 s wall for the whole device call; the budget left no more, so g2 was run
again from its last weights for 6 more epochs on the same plates (`--phases g2
--train-only --weights .../last.keras --epochs 8`, stopped by its deadline after 6; 270 s):
synthetic 82.8 %, dev 91.8 % when exported alone. The first g2 run's own time was not kept
(the resumed run overwrote it; fixed since, a resumed phase now adds to it): Keras'
per-epoch log gives 233 s for its 7 epochs. The lent time spent, it was fine-tuned on the
2-core machine (AMD EPYC with AVX-512 VNNI, the faster kind; 0.1 s a step at batch 32):
`--recipe cpu --phases p2 --train-only --weights <g2 run>/last.portable.keras --epochs 8`
drew 30,000 fresh plates (data seed 2) and read them for 8 epochs (1,062 s with drawing; val
84.7 % to 87.0 %; exported: synthetic 85.9 %, dev 93.4 %), then `--recipe finetune
--train-only --weights <p2 run>/last.keras` drew 40,000 more (data seed 3) for 8 epochs
(val 87.0 % to 88.9 %; exported: synthetic 86.8 %, dev 93.4 %), and once more with
`--data-seed 4` (40,000 fresh plates, 8 epochs; val 88.9 % to 90.0 %). This last round
raised the synthetic test from 86.8 % to 90.4 % and cost one dev plate (93.4 % to 91.8 %):
it ships, since models are chosen on synthetic data, not on the dev set. Export, quantization and this card: `make train-ocr
TRAIN_ARGS="--out var/anpr-train-gpu --finish <run>"` (69 s, 62 s and 61 s the first three times). The CPU recipe from scratch
(`make train-ocr` alone) took 91 min on the slower kind of 2-core machine at stop 10 (its
model read 68.9 % of the dev set); since stop 14 it runs to a time budget (see Retrain).
Measured at stop 14 on the faster AMD kind, from scratch, with the changed generator
(`make train-ocr TRAIN_ARGS="--no-install --out var/anpr-scratch2"`, 62.6 min wall for
the whole make command with the training venv already installed; installing it on this
fresh machine ended within 9 min of the session's start, not timed alone: the runtime venv
and the fonts installed beside it): p1 273 s, the p2 probe 111 s (4.0 ms a plate read, 9.0 ms
to draw one), p2 3,315 s for 76,500 fresh plates and 10 epochs (val 85.2 %); synthetic
test 84.7 % (int8 and float), dev 88.5 % int8, 90.2 % float. An earlier run that sized p2
at p1's pace drew 61,000 plates and ended after 51.8 min (dev 80.3 %), hence the probe.
Neither replaces the model shipped here (95.1 % dev), which had two calls on a lent H200
(439 s and 270 s) and four rounds of CPU fine-tuning behind it.

Stop 13 trained that model on, on a third kind of 2-core machine (Intel Xeon at 2.0 GHz,
AVX-512 without VNNI: 0.48 s a training step at batch 32 on its own, 0.79-0.95 s with the
data loader, 494-626 s an epoch of 625 steps; 0.1 s a step on the faster AMD kind). Its weights came back out of the
shipped `pk_plate_ocr_fp32.onnx` (no Keras weights were kept), and one shorter `finetune`
round ran on plates from the changed generator (new fonts with the straight-tailed 9,
round year dots, plates cut inside the rim): `--recipe finetune --train-only --weights
anpr/models/pk_plate_ocr_fp32.onnx --data-seed 6 --plates 20000 --epochs 8` (4,829 s with
drawing; val 87.3 % after its first epoch to 89.75 %), then `--finish` (235 s). In one run
on the same sets, the stop-12 model read 88.6 % of the synthetic test set (drawn with the
new generator) and 91.8 % of the dev set; this one 90.4 % and 95.1 % (58 of 61): both
plates whose 9s were read as 0 and 2 are now read right. The dev figure depends on the
crop's framing: with the reader's border at 0 %, 6 % or 10 % instead of 3 % it reads 82.0 %,
90.2 % and 93.4 % (the stop-12 model: 85.2 %, 82.0 %, 83.6 %).

Stop 22 changed the files, not the weights, on a fourth kind of 2-core machine (AMD EPYC
with AVX2 and no AVX-512, where the reader had used the float model and read 681 crops/s
at batch 32). `python -m anpr.training.onnx_graph fold` folded the 1/255 rescaling into the
first convolution of `pk_plate_ocr_fp32.onnx`, and `python -m anpr.training.quantize`
quantized that file again with Relu and MaxPool fused into the int8 convolutions and the
image pinned to scale 1 (raw pixels in): synthetic test 88.7 % float, 89.5 % int8 (the
int8 file it replaced, 88.6 %), dev 95.1 % for all three. `make train-ocr` does both
steps since. In one bench run on that machine (`tests/bench/bench_anpr.py --quick
--baseline-model` the previous float file) the new int8 default read 1,102.8 crops/s at
batch 32 and 616.4 at batch 1, the previous float default 840.9 and 416.3."""
TRAINING = Path(__file__).resolve().parent


def evaluate(n_synth: int = 1000) -> dict:
    from anpr.readers import FastPlateOcrReader

    reader = FastPlateOcrReader()
    read = reader_texts(reader)

    out: dict = {"model_version": reader.model_version}
    synth = score_reader(read, synth_test_set(n_synth))
    out["synthetic"] = synth.summary()
    dev = load_dev_set()
    if dev:
        score = score_reader(read, dev)
        out["dev"] = score.summary()
        out["dev_errors"] = [
            f"{label} read as {got or '(nothing)'}" for _, label, got in score.errors
        ]
    crops = [c for _, c, _ in synth_test_set(256, seed=4242)]
    for batch in (1, 32):
        reader.read_crops(crops[:batch])
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < 3:
            for i in range(0, 256, batch):
                reader.read_crops(crops[i : i + batch])
                done += batch
        out[f"crops_per_s_b{batch}"] = round(done / (time.perf_counter() - started), 1)
    return out


def write_card(training: dict, metrics: dict) -> str:
    from anpr.training.train import PACE_MARGIN, PROBE_PLATES, RESERVE_S

    onnx = MODELS_DIR / "pk_plate_ocr.onnx"
    plate = yaml.safe_load((MODELS_DIR / "pk_plate_ocr_plate_config.yaml").read_text())
    phases = "\n".join(
        f"| {p['name']} | {p['n_train']:,} | {p['epochs']} | {p.get('stop_after') or p['epochs']} | {p['batch_size']} | {p['lr']} | {p['seed']} | {p.get('machine', training.get('machine', ''))}{', ' + p['precision'] if p.get('precision') else ''} |"
        for p in training["phases"]
    )
    timings = training["timings"]
    quant = training.get("quantization") or {}
    shipped = quant.get("shipped", "float32")
    kind = "int8 convolutions, float transformer" if shipped == "int8" else "float32"
    if quant:
        q_scores = quant["synthetic_test"]
        quant_text = (
            f"`make train-ocr` quantizes the {', '.join(quant['ops'])} layers to int8 (static, per "
            "channel, 7-bit weights, QDQ, calibrated on synthetic plates; "
            "`anpr/training/quantize.py`) and ships "
            f"the int8 model when its synthetic-test plate accuracy is within "
            f"{quant['tolerance']:.0%} of the float model's: float32 "
            f"{q_scores['float32']['plate_acc']:.1%}, int8 {q_scores['int8']['plate_acc']:.1%} "
            f"on {q_scores['int8']['n']} plates; shipped: **{shipped}**. "
            "`make bench BENCH=anpr` measures both models' throughput in the same run. "
            "Both files read the camera's uint8 pixels directly: the export's 1/255 rescaling "
            "is folded into the first convolution's weights, and the int8 model quantizes the "
            "image at scale 1, so its first convolution reads the bytes as they come "
            "(`anpr/training/onnx_graph.py`)."
        )
        if shipped == "int8":
            quant_text += (
                " The float model is kept as `pk_plate_ocr_fp32.onnx`: the reader uses it by "
                "default on CPUs with AVX-512 but no int8 dot-product instruction (VNNI), and on "
                "CPUs with neither AVX2 nor a dot product, where the int8 convolutions are "
                "slower (`anpr.readers.default_model`); "
                "`ANPR_OCR_MODEL=anpr/models/pk_plate_ocr_fp32.onnx` selects it anywhere."
            )
    else:
        quant_text = "Not quantized (float32)."
    dev = metrics.get("dev")
    dev_line = (
        f"| real dev set (`../shared/datasets/pk-plates-dev`, {dev['n']} crops) | {dev['plate_acc']:.1%} | {dev['char_acc']:.1%} |"
        if dev
        else "| real dev set | not present when the card was written | |"
    )
    errors = "\n".join(f"- {e}" for e in metrics.get("dev_errors", [])) or "- none"
    augmentation = "; ".join(
        dict.fromkeys(  # a phase run twice (resumed) is named once
            f"phase {p['name']}: "
            + (
                f"the light `anpr/training/{p['augmentation']}`"
                if p.get("augmentation")
                else "fast-plate-ocr's default"
            )
            for p in training["phases"]
        )
    )
    return f"""# Model card: `pk_plate_ocr.onnx`

Pakistani number plate OCR for the e-Challan back office: reads a plate crop (one or
two lines) and returns letters and digits, e.g. `LEA122545` for a Punjab plate
`LEA-12-2545`, `AFR420` for a Sindh plate. Trained only on synthetic plates drawn by
`anpr/synth/`; never on real photos.

- Model version (reported with every reading): `{metrics["model_version"]}`
- Size: {onnx.stat().st_size / 1e6:.2f} MB (ONNX, {kind}), about 0.3 M parameters
- Architecture: fast-plate-ocr CCT (`anpr/training/cct_pk.yaml`): 4 conv tokenizer
  layers with max pooling, 4 transformer layers (dim 64, 1 head), relu everywhere (gelu
  exports an `Erfc` node onnxruntime refuses)
- Input: {plate["img_height"]}x{plate["img_width"]} (height x width) {plate["image_color_mode"]}, uint8, stretched (no letterbox);
  `pk_plate_ocr_plate_config.yaml`. The reader (`anpr/readers.py`) adds a 3 % border
  round each crop and shrinks with pixel averaging
- Output: 10 slots over `0-9A-Z` plus pad `_`, with per-character probabilities

## Metrics

| set | plate accuracy | character accuracy |
|---|---|---|
| synthetic test set ({metrics["synthetic"]["n"]} plates, seed 990001, never trained on) | {metrics["synthetic"]["plate_acc"]:.1%} | {metrics["synthetic"]["char_acc"]:.1%} |
{dev_line}

Plate accuracy is an exact match of letters and digits (`?` in a label, an unreadable
year, matches anything). Character accuracy is 1 - edit distance / label length.
The dev set is for validation only; a separate set of real plates judges the model.

Throughput on this machine's 2 CPU cores, one process (onnxruntime, `FastPlateOcrReader.read_crops`,
including resizing): {metrics["crops_per_s_b1"]} crops/s at batch 1,
{metrics["crops_per_s_b32"]} crops/s at batch 32. Full figures, scene photos/s and the
Tesseract baseline: `make bench BENCH=anpr`.

Dev-set misreads when this card was written:

{errors}

## Quantization

{quant_text}

## Data recipe

`anpr/synth/` draws every plate style met in Karachi with Pillow/OpenCV (DejaVu Sans,
Liberation Sans, Liberation Sans Narrow, FreeSans, and the DIN-like Roboto Condensed,
B612, Nimbus Sans Narrow and Noto Sans Display, and for the straight-tailed 9 and 6 of
the Punjab plate font Dosis, Clear Sans, M+ 1, Play and Jura; regular, bold, light and
condensed weights; letter-spaced text; the Punjab year as two tall narrow digits after a
short thick dash, a square dot or a round dot close to the series, sometimes under a
screw head; 12 % of Punjab plates cut inside the rim, the green band partly or wholly off):
Punjab two-line white plates with the green band, emblem and PUNJAB (with and without
the two-digit year), new Punjab one-line, Sindh yellow/white with SINDH and the small
year, old Karachi one-letter series with KARACHI, Islamabad (ICT, blue band), green
commercial/government plates and motorcycle plates; style weights in
`anpr/synth/plates.py` (`STYLES`). Damage (`anpr/synth/damage.py`): dirt, fading,
glare, shadow, screws, frames, car-body background, perspective, rotation, shear,
detector-like crop margins, resolution down to 80 px wide, defocus and motion blur,
exposure, gamma, noise, JPEG 25-95. Training-time augmentation on top: {augmentation}.

## Training

Seed {training["seed"]}; validation set {training["n_val"]:,} synthetic plates (seed 777).
Phases (each starts from the previous phase's last weights; `stop_after` ends a phase
early on its cosine schedule to keep the run inside the time budget):

| phase | images | epochs (scheduled) | stopped after | batch | lr | data seed | machine |
|---|---|---|---|---|---|---|---|
{phases}

{HISTORY}

Recipe `{training.get("recipe", "cpu")}`, trained on {training.get("machine", "2 CPU cores")}:
{timings.get("total_s", 0) / 60:.0f} min in all
({json.dumps(timings)}). Best validation metrics: `{json.dumps(training.get("val_metrics", {}))}`.

## Retrain

    make train-ocr          # creates .venv-train from anpr/training/requirements.txt,
                            # generates var/anpr-train/, trains, exports, installs here

It runs to a time budget, 80 minutes by default (`--budget-minutes`; 0 runs the recipe's
phases as written): a probe of p2 ({PROBE_PLATES:,} of its plates, 2 epochs, weights thrown
away) measures how fast this machine draws and trains, and p2 reads as many
fresh plates for 10 epochs as fit the time left at a pace {(PACE_MARGIN - 1) * 100:.0f} % slower than the probe's,
keeping {RESERVE_S / 60:.0f} minutes for the export and quantization. The plates are stored as the reader
hands crops to the model (a 3 % border, shrunk by averaging to the model's input). A
faster machine reads more plates and gets a better model; a phase that still runs late
stops after its last finished epoch. On CPUs that do bfloat16 maths in hardware (avx512_bf16
or AMX) it trains in bfloat16 with float32 weights and a float32 head, and exports float32
(`--precision`; a step took 50 ms instead of 81 ms on the Intel kind with AMX).
`python -m anpr.training.train --help` lists options (`--scale 0.1` for a quick run,
`--no-install` to keep the committed model). Then `make bench BENCH=anpr`.

On a GPU machine (one GPU, 16 cores), `anpr/training/train_gpu.sh OUT SECONDS` trains the
`gpu` recipe (many more plates and steps; Keras on jax with a compiled step) within a time
budget, without TensorFlow; `make train-ocr TRAIN_ARGS="--out OUT --finish OUT/runs/g2/RUN"`
then exports, quantizes and installs it here. Measured on an H200: 27 s per epoch of
59,904 plates at batch 128, about 2,200 plates/s against 74/s on 2 CPU cores. Where the
lent time runs out first, a phase resumes from its own last weights (`--phases g2
--train-only --weights OUT/runs/g2/RUN/last.keras`), and a trained model is fine-tuned
on 2 CPU cores with fresh plates: `.venv-train/bin/python -m anpr.training.train --recipe
finetune --train-only --weights RUN/last.keras --out OUT` (40,000 plates, 8 epochs), then
`--finish` as above.

The shipped model itself trains on: `make finetune-ocr SEED=N` reads its weights back out
of `pk_plate_ocr_fp32.onnx` (`anpr/training/onnx_weights.py`, checked against onnxruntime's
outputs), draws fresh plates with seed N (a new seed each round; `TRAIN_ARGS="--plates
20000 --epochs 8"` for a shorter round), trains one `finetune` round, then exports,
quantizes and installs it here with this card; `training.json` goes on from the shipped
model's record.

## Limits

- Synthetic-only training: plate fonts are approximated with stock sans fonts; real wear,
  unusual fonts, custom/fancy plates and heavy night IR glare are underrepresented.
- The model reads what is printed: for Sindh plates the small registration year is
  not part of the number and is ignored; for Punjab plates the year is part of the key.
- Low confidence or disagreement with the camera's own reading must go to manual
  plate check (ANPR_CONFIDENCE_THRESHOLD); cloned plates cannot be seen by OCR.
"""


def main() -> None:
    training = json.loads((MODELS_DIR / "training.json").read_text())
    metrics = evaluate()
    (MODELS_DIR / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (MODELS_DIR / "MODEL_CARD.md").write_text(write_card(training, metrics))
    print(json.dumps({k: v for k, v in metrics.items() if k != "dev_errors"}))


if __name__ == "__main__":
    main()
