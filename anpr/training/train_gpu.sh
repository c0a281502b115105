#!/usr/bin/env bash
# Train the plate model on a GPU machine (one GPU, 16 cores) with Keras on the jax backend
# (compiled step) within a time budget (seconds); export and install it afterwards on a
# machine with TensorFlow (.venv-train):
#
#   anpr/training/train_gpu.sh var/anpr-train-gpu 490
#   make train-ocr TRAIN_ARGS="--out var/anpr-train-gpu --finish var/anpr-train-gpu/runs/g2/<run>"
#
# Needs requirements.txt less TensorFlow, jax with CUDA, and the plate fonts (Debian's, or
# ANPR_FONT_DIR). g1's plates are drawn with every core, then g2's in the background while
# g1 trains; g2's epochs are what fits the rest of the budget. SCALE=0.02 for a quick run.
# Measured on an H200 (stop 11): g1 18-22 s per epoch, g2 27 s; drawing 59,904 plates on
# 12 cores 102 s. Keras' torch backend (eager) took 140 ms a step whatever the batch.
# Out of time before g2 was done: run g2 again from its own last weights (train.py --recipe
# gpu --phases g2 --train-only --weights OUT/runs/g2/RUN/last.keras --epochs N), or fine-tune
# on the CPU afterwards (--recipe finetune); run.json keeps every phase and where it ran.
set -euo pipefail
out=${1:-var/anpr-train-gpu}
budget=${2:-490}
start=$(date +%s)
py=${PYTHON:-python3}
cores=$(nproc)
export KERAS_BACKEND=${KERAS_BACKEND:-jax} ANPR_TRAIN_JIT=${ANPR_TRAIN_JIT:-1} PYTHONUNBUFFERED=1
train() { $py -m anpr.training.train --recipe gpu --out "$out" --scale "${SCALE:-1}" "$@"; }

mkdir -p "$out"
train --phases g1 --generate-only --workers "$cores"
train --phases g2 --generate-only --workers $((cores > 4 ? cores - 4 : 1)) >"$out/generate-g2.log" 2>&1 &
generating=$!
train --phases g1 --train-only --loader-workers 4 --deadline $((start + budget * 45 / 100))
wait "$generating"
cat "$out/generate-g2.log"

# g2's epochs: what fits the rest of the budget. One g2 epoch (468 steps of 128, loader-bound)
# took 27 s on an H200 with 16 cores, 46 s for the first (compiling); G2_EPOCH_S to change.
epochs=$($py - "$start" "$budget" "${SCALE:-1}" "${G2_EPOCH_S:-30}" <<'PY'
import sys, time
start, budget, scale, epoch_s = (float(a) for a in sys.argv[1:5])
left = start + budget - time.time() - 30 - 20  # saving; the first epoch compiles
print(max(1, min(30, int(left / (epoch_s * scale)))))
PY
)
echo "g2: $epochs epochs" >&2
g1_run=$(ls -d "$out"/runs/g1/*/ | tail -1)
train --phases g2 --train-only --loader-workers "$cores" --weights "${g1_run}last.keras" \
    --epochs "$epochs" --deadline $((start + budget))
