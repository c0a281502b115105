"""ANPR figures: accuracy, throughput and memory of the plate reader, against Tesseract 5.

    make bench BENCH=anpr      (or: .venv/bin/python tests/bench/bench_anpr.py [--quick])

Prints plate accuracy (exact letters+digits) and character accuracy on a synthetic
test set (a seed never used for training) and on ../shared/datasets/pk-plates-dev when
present; crops/s at batch 1 and 32; scene photos/s including plate finding; the peak
resident memory of a reader process. The same figures for Tesseract 5 (Debian
`tesseract-ocr`, one process per image, as a user without a plate model would run it)
are measured in the same run when the binary is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from anpr.detect import _iou, crop_box, find_plates  # noqa: E402
from anpr.imaging import image_decode  # noqa: E402
from anpr.training.evaluate import (  # noqa: E402
    DEV_SET,
    load_dev_set,
    reader_texts,
    score_reader,
    synth_test_set,
)

PLATE_WORDS = re.compile(r"ICT-ISLAMABAD|ISLAMABAD|PUNJAB|SINDH|KARACHI|ICT|GOVT")


def _rate(fn, items: list, batch: int, min_seconds: float) -> float:
    """Items per second calling fn on batches, for at least min_seconds."""
    fn(items[:batch])  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        for i in range(0, len(items) - batch + 1, batch):
            fn(items[i : i + batch])
            done += batch
            if time.perf_counter() - started >= min_seconds:
                break
    return done / (time.perf_counter() - started)


# ---------------------------------------------------------------------------- readers


MODELS = REPO / "anpr" / "models"


def fast_plate_ocr(model: Path | None = None, **options):
    from anpr.readers import FastPlateOcrReader

    reader = FastPlateOcrReader(model, **options)
    return reader, reader_texts(reader)


def tesseract_read_one(crop: np.ndarray) -> str:
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    scale = 120 / gray.shape[0]
    gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    ok, png = cv2.imencode(".png", gray)
    out = (
        subprocess.run(
            [
                "tesseract",
                "stdin",
                "stdout",
                "--psm",
                "6",
                "-l",
                "eng",
                "-c",
                "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
            ],
            input=png.tobytes(),
            capture_output=True,
            timeout=30,
            check=False,
        )
        .stdout.decode(errors="replace")
        .upper()
    )
    # The words printed on plates are not part of the number; a user would drop them too.
    out = PLATE_WORDS.sub(" ", out)
    return "".join(ch for ch in out if ch.isalnum())


def tesseract_read(crops):
    return [tesseract_read_one(c) for c in crops]


# ---------------------------------------------------------------------------- figures


def scenes(n: int, seed: int = 424242):
    from anpr.synth import plate_image, random_plate_text, render_scene

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        text = random_plate_text(rng)
        scene, box = render_scene(plate_image(text, rng), rng=rng)
        ok, jpg = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 85])
        out.append((jpg.tobytes(), box, text.key))
    return out


def scene_figures(read, items, *, min_seconds: float) -> dict:
    def one(item):
        data, _, _ = item
        image = image_decode(data, max_pixels=40_000_000)
        boxes = find_plates(image)
        texts = read([crop_box(image, b) for b in boxes]) if boxes else []
        return boxes, texts

    found = correct = 0
    for item in items:
        boxes, texts = one(item)
        if boxes and _iou(boxes[0], item[1]) > 0.5:
            found += 1
        if item[2] in texts[:1] or (texts and item[2] in texts):
            correct += 1
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        one(items[done % len(items)])
        done += 1
    return {
        "scenes_per_s": done / (time.perf_counter() - started),
        "find_rate": found / len(items),
        "read_rate": correct / len(items),
    }


def _worker_rate(args: tuple) -> tuple[int, float, float]:
    """One reader process: crops read between the shared start and end."""
    crops, batch, start_at, seconds, model, threads = args
    from anpr.readers import FastPlateOcrReader

    reader = FastPlateOcrReader(model, intra_op_threads=threads)
    reader.read_crops(crops[:batch])  # warm-up
    while time.time() < start_at:
        time.sleep(0.001)
    done, t0 = 0, time.monotonic()  # one system-wide clock: spans compare across processes
    while time.monotonic() - t0 < seconds:
        for i in range(0, len(crops) - batch + 1, batch):
            reader.read_crops(crops[i : i + batch])
            done += batch
    return done, t0, time.monotonic()


def parallel_rate(
    crops: list,
    *,
    batch: int,
    processes: int,
    seconds: float,
    model: Path | None = None,
    threads: int = 1,
) -> float:
    """Crops/s of `processes` reader processes with `threads` ONNX Runtime threads each, as
    a Celery worker with --concurrency=N runs them (ANPR_OCR_THREADS per process)."""
    import multiprocessing as mp

    start_at = time.time() + 8.0  # every process has loaded its model by then
    with mp.get_context("spawn").Pool(processes) as pool:
        results = pool.map(
            _worker_rate, [(crops, batch, start_at, seconds, model, threads)] * processes
        )
    # Over the wall span from the first start to the last end: a process that started late
    # (slow model load) lowers the rate instead of being counted as if it overlapped.
    return sum(r[0] for r in results) / (max(r[2] for r in results) - min(r[1] for r in results))


def reader_rss_mb(seconds: float) -> float:
    """Peak RSS of a fresh process that loads the reader and reads scenes (a worker's load)."""
    code = (
        "import resource, time, numpy as np, cv2\n"
        "from anpr.readers import get_plate_reader, read_image\n"
        "from anpr.synth import plate_image, random_plate_text, render_scene\n"
        "r = get_plate_reader(); rng = np.random.default_rng(1)\n"
        "imgs = [render_scene(plate_image(random_plate_text(rng), rng), rng=rng)[0] for _ in range(8)]\n"
        "crops = [cv2.resize(i, (160, 80)) for i in imgs] * 4\n"
        f"t = time.time()\nwhile time.time() - t < {seconds}:\n"
        "    [read_image(i, reader=r) for i in imgs]; r.read_crops(crops)\n"
        # VmHWM, not ru_maxrss: Linux folds the forking parent's size into ru_maxrss at exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "print(int(hwm[0].split()[1]) / 1024 if hwm else "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def report(
    name: str, read, *, synth_items, dev_items, crops, scene_items, batch_sizes, min_seconds
):
    print(f"\n== {name}")
    s = score_reader(read, synth_items)
    print(f"synthetic test set: n={s.n} plate_acc={s.plate_acc:.3f} char_acc={s.char_acc:.3f}")
    if dev_items:
        d = score_reader(read, dev_items)
        print(f"real dev set:       n={d.n} plate_acc={d.plate_acc:.3f} char_acc={d.char_acc:.3f}")
        for file, label, got in d.errors[:12]:
            print(f"    {file}: {label} read as {got or '(nothing)'}")
    else:
        print(f"real dev set:       not present at {DEV_SET.resolve()}, skipped")
    for b in batch_sizes:
        print(f"crops/s at batch {b:>2}: {_rate(read, crops, b, min_seconds):8.1f}")
    sf = scene_figures(read, scene_items, min_seconds=min_seconds)
    print(
        f"scenes/s with plate finding: {sf['scenes_per_s']:.1f} "
        f"(plate found {sf['find_rate']:.0%}, plate read right {sf['read_rate']:.0%}, 1280x720 JPEG)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sets, shorter timings")
    parser.add_argument(
        "--baseline-model",
        type=Path,
        default=None,
        help="another .onnx (e.g. the previous model, from git show) measured in the same run",
    )
    args = parser.parse_args()
    n_synth = 300 if args.quick else 1000
    min_seconds = 1.5 if args.quick else 4.0

    synth_items = synth_test_set(n_synth)
    dev_items = load_dev_set()
    crops = [item[1] for item in synth_items[:256]]
    scene_items = scenes(30 if args.quick else 60)

    from anpr.readers import (
        DEFAULT_MODEL,
        FLOAT_MODEL,
        INT8_DOT_FLAGS,
        cpu_flags,
        default_model,
        ocr_threads,
    )

    reader, read = fast_plate_ocr()
    model_path = default_model()  # the file anpr.readers.default_model picks for this CPU
    print(f"CPU int8 dot-product flags: {sorted(cpu_flags() & INT8_DOT_FLAGS) or 'none'}")
    files = sorted(MODELS.glob("*.onnx"))
    print(
        f"model {reader.model_version} (the default for this CPU), "
        f"{model_path.stat().st_size / 1e6:.2f} MB; model files "
        f"{', '.join(f'{f.name} {f.stat().st_size / 1e6:.2f} MB' for f in files)} = "
        f"{sum(f.stat().st_size for f in files) / 1e6:.2f} MB; cpus={os.cpu_count()}"
    )
    report(
        "fast-plate-ocr (anpr/models)",
        read,
        synth_items=synth_items,
        dev_items=dev_items,
        crops=crops,
        scene_items=scene_items,
        batch_sizes=(1, 32),
        min_seconds=min_seconds,
    )
    # The same reader without its re-reading of doubtful crops (ANPR_OCR_REREAD_BELOW=0),
    # same run: what the re-reading costs and gains.
    single, single_read = fast_plate_ocr(reread_below=0.0)
    for name, items in (("synthetic test set", synth_items), ("real dev set", dev_items)):
        if items:
            doubtful = sum(
                r.confidence < reader.reread_below
                for i in range(0, len(items), 64)
                for r in single.read_crops([c[1] for c in items[i : i + 64]])
            )
            print(
                f"{name}: {doubtful} of {len(items)} crops read again (confidence < "
                f"{reader.reread_below})"
            )
    report(
        "fast-plate-ocr (anpr/models), single readings (no re-reading)",
        single_read,
        synth_items=synth_items,
        dev_items=dev_items,
        crops=crops,
        scene_items=scene_items[:20],
        batch_sizes=(32,),
        min_seconds=min_seconds,
    )
    procs = os.cpu_count() or 1
    for b in (1, 32):
        rate = parallel_rate(crops, batch=b, processes=procs, seconds=min_seconds)
        print(f"crops/s at batch {b:>2}, {procs} processes x 1 thread: {rate:8.1f}")
    # What a worker with -c <cpus> does when each process also takes the reader's default
    # thread count (ANPR_OCR_THREADS unset): threads oversubscribe the cores.
    auto = ocr_threads()
    if auto > 1:
        rate = parallel_rate(crops, batch=32, processes=procs, seconds=min_seconds, threads=auto)
        print(f"crops/s at batch 32, {procs} processes x {auto} threads: {rate:8.1f}")
    print(f"peak RSS of a reader process: {reader_rss_mb(3.0):.0f} MB")

    # The other committed model (float where int8 is the default, or the reverse), same run.
    other = FLOAT_MODEL if model_path == DEFAULT_MODEL else DEFAULT_MODEL
    baselines = [other] if other.exists() else []
    if args.baseline_model:  # e.g. the model this one replaces, for a same-run ratio
        baselines.append(args.baseline_model)
    for model in baselines:  # the same figures for other models, in the same run
        base_reader, base_read = fast_plate_ocr(model)
        print(f"\nbaseline: {model} {base_reader.model_version}")
        report(
            f"fast-plate-ocr {model.name}",
            base_read,
            synth_items=synth_items,
            dev_items=dev_items,
            crops=crops,
            scene_items=scene_items[:20],
            batch_sizes=(1, 32),
            min_seconds=min_seconds,
        )
        for b in (1, 32):
            rate = parallel_rate(crops, batch=b, processes=procs, seconds=min_seconds, model=model)
            print(f"crops/s at batch {b:>2}, {procs} processes x 1 thread: {rate:8.1f}")

    if shutil.which("tesseract"):
        version = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True
        ).stdout.split("\n")[0]
        report(
            f"Tesseract baseline ({version}, psm 6, whitelist A-Z0-9)",
            tesseract_read,
            synth_items=synth_items[:200],
            dev_items=dev_items,
            crops=crops[:64],
            scene_items=scene_items[:20],
            batch_sizes=(1,),
            min_seconds=min_seconds,
        )
    else:
        print(
            "\nTesseract baseline: `tesseract` not installed (apt-get install tesseract-ocr), skipped"
        )
    print(
        f"\npeak RSS of this bench process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
