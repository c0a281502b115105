#!/usr/bin/env bash
# Train the plate model on a GPU machine (one GPU, 16 cores) with Keras on the jax
# backend (compiled step), within a time budget; export and install it afterwards where TensorFlow is:
#
#   anpr/training/train_gpu.sh var/anpr-train-gpu 490
#   make train-ocr TRAIN_ARGS="--out var/anpr-train-gpu --finish var/anpr-train-gpu/runs/g2/<run>"
#
# Needs fast-plate-ocr 1.1, keras 3, albumentations 2 and jax (see requirements.txt), and
# the plate fonts (ANPR_FONT_DIR). g1's plates are drawn with every core, then g2's in the
# background while g1 trains; g2's epochs are what fits the rest of the budget at g1's
# measured step time. SCALE=0.02 for a quick run.
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

epochs=$($py - "$out" "$start" "$budget" "${SCALE:-1}" <<'PY'
import json, math, sys, time
out, start, budget = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
run = json.load(open(f"{out}/run.json"))
g1 = run["phases"][-1]
steps = g1["epochs"] * math.ceil(g1["n_train"] / g1["batch_size"])
step_s = json.load(open(f"{out}/timings.json"))["g1_s"] / steps

from anpr.training.train import GPU_PHASES
n_g2 = GPU_PHASES[-1].n_train * float(sys.argv[4] if len(sys.argv) > 4 else 1)
per_epoch = 1.6 * step_s * math.ceil(n_g2 / 128)  # 4x the batch: assume 1.6x the step
left = start + budget - time.time() - 30
print(max(1, min(20, int(left / per_epoch))))
PY
)
echo "g2: $epochs epochs" >&2
g1_run=$(ls -d "$out"/runs/g1/*/ | tail -1)
train --phases g2 --train-only --loader-workers "$cores" --weights "${g1_run}last.keras" \
    --epochs "$epochs" --deadline $((start + budget))
