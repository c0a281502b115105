"""Score a plate reader on labelled crops: the real development set or synthetic plates.

    python -m anpr.training.evaluate [--model anpr/models/pk_plate_ocr.onnx] [--dev DIR] [--synth N]
                                     [--borders 0,0.015,0.03,0.045,0.06]

--borders scores each set again with the reader's border (CROP_MARGIN) set to each value:
how much a model's reading hangs on the crop's framing (stop 25: two models of one recipe
read 95 % and 88.5 % of the dev set at the 3 % border, and about 80 % each with none).

Runs in the runtime venv (no TensorFlow). Labels are printed plate texts
(`LEA-12-2545`); `?` marks an unreadable character, which matches anything.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

DEV_SET = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "pk-plates-dev"
SYNTH_TEST_SEED = 990_001  # never used for training data


def label_key(label: str) -> str:
    return "".join(ch for ch in label.upper() if ch.isalnum() or ch == "?")


def _distance(pred: str, label: str) -> int:
    """Levenshtein distance where '?' in the label matches any character."""
    prev = list(range(len(label) + 1))
    for i, p in enumerate(pred, 1):
        cur = [i]
        for j, lab in enumerate(label, 1):
            cost = 0 if lab in ("?", p) else 1
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost))
        prev = cur
    return prev[-1]


def plate_correct(pred: str, label: str) -> bool:
    return len(pred) == len(label) and all(
        lab in ("?", p) for p, lab in zip(pred, label, strict=True)
    )


@dataclass
class Score:
    n: int = 0
    plates_ok: int = 0
    chars_ok: float = 0.0
    chars: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (name, label, read)

    def add(self, name: str, pred: str, label: str) -> None:
        label = label_key(label)
        self.n += 1
        self.chars += len(label)
        self.chars_ok += max(0, len(label) - _distance(pred, label))
        if plate_correct(pred, label):
            self.plates_ok += 1
        else:
            self.errors.append((name, label, pred))

    @property
    def plate_acc(self) -> float:
        return self.plates_ok / self.n if self.n else 0.0

    @property
    def char_acc(self) -> float:
        return self.chars_ok / self.chars if self.chars else 0.0

    def summary(self) -> dict:
        return {
            "n": self.n,
            "plate_acc": round(self.plate_acc, 4),
            "char_acc": round(self.char_acc, 4),
        }


def load_dev_set(path: Path = DEV_SET) -> list[tuple[str, np.ndarray, str]]:
    """(file name, BGR crop, label) for every row of labels.csv; [] when absent."""
    labels = Path(path) / "labels.csv"
    if not labels.exists():
        return []
    rows = []
    with labels.open() as f:
        for row in csv.DictReader(f):
            image = cv2.imread(str(Path(path) / row["file"]), cv2.IMREAD_COLOR)
            if image is not None:
                rows.append((row["file"], image, row["plate"]))
    return rows


def synth_test_set(n: int, seed: int = SYNTH_TEST_SEED) -> list[tuple[str, np.ndarray, str]]:
    from anpr.synth import synth_plates

    return [(f"synth-{i}", s.image, s.text.key) for i, s in enumerate(synth_plates(n, seed=seed))]


def reader_texts(reader: Any) -> Callable[[Sequence[np.ndarray]], list[str]]:
    """A `PlateReader` as `score_reader` takes it: crops in, plate texts out."""

    def read(crops: Sequence[np.ndarray]) -> list[str]:
        return [r.text for r in reader.read_crops(crops)]

    return read


def score_reader(
    read: Callable[[Sequence[np.ndarray]], list[str]],
    items: list[tuple[str, np.ndarray, str]],
    *,
    batch: int = 64,
) -> Score:
    score = Score()
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        for (name, _, label), pred in zip(chunk, read([c[1] for c in chunk]), strict=True):
            score.add(name, pred, label)
    return score


@contextlib.contextmanager
def reader_border(fraction: float) -> Iterator[None]:
    """The reader pads crops by `fraction` of their size instead of CROP_MARGIN, for a while."""
    from anpr import readers

    saved = readers.CROP_MARGIN
    readers.CROP_MARGIN = fraction
    try:
        yield
    finally:
        readers.CROP_MARGIN = saved


def by_border(
    read: Callable[[Sequence[np.ndarray]], list[str]],
    items: list[tuple[str, np.ndarray, str]],
    borders: Sequence[float],
) -> dict[float, float]:
    """Plate accuracy on items with the reader's border at each value."""
    scores = {}
    for border in borders:
        with reader_border(border):
            scores[border] = round(score_reader(read, items).plate_acc, 4)
    return scores


def main() -> None:
    from anpr.readers import FastPlateOcrReader

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="onnx path (default: the committed model)")
    parser.add_argument("--dev", default=str(DEV_SET))
    parser.add_argument("--synth", type=int, default=1000, help="synthetic test plates")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--single", action="store_true", help="score single readings too (no re-reading)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--borders",
        default=None,
        help="comma-separated reader borders (fractions of the crop) to score each set at too",
    )
    args = parser.parse_args()
    borders = [float(b) for b in args.borders.split(",")] if args.borders else []

    reader = FastPlateOcrReader(args.model)
    read = reader_texts(reader)
    single = FastPlateOcrReader(args.model, reread_below=0.0)
    read_single = reader_texts(single)

    results: dict[str, object] = {
        "model_version": reader.model_version,
        "reread_below": reader.reread_below,
    }
    for name, items in (
        ("synthetic", synth_test_set(args.synth) if args.synth else []),
        ("dev", load_dev_set(Path(args.dev))),
    ):
        if not items:
            continue
        score = score_reader(read, items)
        results[name] = score.summary()
        if args.single:
            results[f"{name}_single"] = score_reader(read_single, items).summary()
        if borders:
            results[f"{name}_by_border"] = by_border(read_single, items, borders)
        if args.show_errors:
            for err in score.errors:
                print(name, *err)
    print(json.dumps(results) if args.json else results)


if __name__ == "__main__":
    main()
