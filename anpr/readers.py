"""Plate readers: turn plate crops (or scene photos) into plate text.

The reader is chosen like Django's EMAIL_BACKEND: `settings.ANPR_READER` is a dotted
path to a class implementing `PlateReader`; the default reads with fast-plate-ocr on
the model the project trains and commits in `anpr/models/`. `settings.ANPR_OCR_MODEL`
selects another model: a local `.onnx` path (its plate config yaml next to it) or a
fast-plate-ocr hub model name (only when already in the local cache, or when
`settings.ANPR_OCR_ALLOW_DOWNLOAD` is true: a deployment must never depend on it).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODELS_DIR / "pk_plate_ocr.onnx"
# The float model, shipped beside DEFAULT_MODEL when that one has int8 convolutions.
FLOAT_MODEL = MODELS_DIR / "pk_plate_ocr_fp32.onnx"
# CPU flags of an instruction that multiplies and adds int8 pairs (x86 VNNI, Arm dot product).
INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "asimddp"})
DEFAULT_READER = "anpr.readers.FastPlateOcrReader"
# Border added around every crop (a fraction of its size, edge pixels repeated): the model
# learnt from detector-like crops with a margin round the plate, and crops cut to the
# plate's rim read worse (int8 model: dev set 60.7 % -> 68.9 % of plates with it; synthetic
# test set 63.2 % with both changes here, 63.9 % with neither).
CROP_MARGIN = 0.03
# A crop the model reads with a confidence under ANPR_OCR_REREAD_BELOW at CROP_MARGIN is read
# again with each of these borders, and the three readings vote (`vote`). How much a model's
# reading hangs on the framing differs from one training run to the next (stop 28: two runs
# of one recipe read the dev set best at 6 %, the shipped model at 3 %). Chosen on the
# synthetic test set (stop 29, shipped int8 model, 1,000 plates): 89.7 % of plates read at
# 3 % alone; re-read below 0.9 at 0 % and 6 %, 92.1 % (27.5 % of crops read again); the
# borders 1.5 % and 4.5 % instead, 91.2 %; all five borders 92.2 %. A from-scratch model of
# the same recipe (run 21): synthetic 88.6 % -> 90.0 %, dev 86.9 % -> 90.2 %; shipped dev
# 95.1 % either way. The cost: 886 against 1,459 crops/s at batch 32, one process. Stop 30
# (AMD EPYC with AVX2 only): one border again (0 % alone) reads the synthetic set as well
# (92.3 %) but loses a dev plate (93.4 %); two processes read 973 crops/s re-reading,
# 1,011-1,130 on one process without.
REREAD_BORDERS = (0.0, 0.06)


def prepare_crop(
    crop: np.ndarray, *, height: int, width: int, grayscale: bool, margin: float | None = None
) -> np.ndarray:
    """A BGR or grey crop of any size as the model reads it: (height, width, 1 or 3) uint8,
    with a border of `margin` of its size (CROP_MARGIN, read at call time, by default),
    shrunk by averaging (the quantizer calibrates on these too)."""
    margin = CROP_MARGIN if margin is None else margin
    if crop.ndim == 2:
        image = crop if grayscale else cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
    elif grayscale:
        image = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    else:
        image = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    dy, dx = round(h * margin), round(w * margin)
    image = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_REPLICATE)
    # Shrinking averages the pixels (INTER_AREA): linear sampling of a 300 px crop
    # down to 128 px aliases the strokes (dev set 57.4 % -> 60.7 % plates read).
    shrink = image.shape[1] > width or image.shape[0] > height
    image = cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    return image[:, :, None] if image.ndim == 2 else image


@dataclass(frozen=True)
class PlateReading:
    text: str  # raw model text, letters+digits, no pad chars ("" when nothing)
    char_confidences: tuple[float, ...]
    # min of the char confidences (0.0 when nothing was read); a vote can lower it (`vote`)
    confidence: float
    key: str | None  # registry key through vehicles.plates, None if not a valid plate
    display: str | None  # e.g. "LEA-12-2545"
    model_version: str
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in the scene image


class PlateReader(Protocol):
    model_version: str

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[PlateReading]: ...


def _setting(name: str, default: Any) -> Any:
    # Usable from plain scripts (bench, training) where Django is not configured.
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # ImproperlyConfigured, or Django missing
        return default


def plate_reading(
    text: str, char_confidences: Sequence[float], *, model_version: str, box=None
) -> PlateReading:
    """Build a PlateReading, normalizing the text through the registry's plate rules."""
    text = "".join(ch for ch in text.upper() if ch.isalnum())
    confs = tuple(round(float(c), 4) for c in char_confidences)
    key = display = None
    if text:
        try:
            from vehicles.plates import PlateFormatError, plate_normalize
        except ImportError:  # plate rules not installed yet: keep the raw text only
            pass
        else:
            try:
                normalized = plate_normalize(text)
            except PlateFormatError:
                pass
            else:
                key, display = normalized.key, normalized.display
    return PlateReading(
        text=text,
        char_confidences=confs,
        confidence=min(confs) if confs and text else 0.0,
        key=key,
        display=display,
        model_version=model_version,
        box=box,
    )


def _mean_log_confidence(reading: PlateReading) -> float:
    confs = np.clip(np.asarray(reading.char_confidences or (0.0,), dtype=np.float64), 1e-4, 1.0)
    return float(np.log(confs).mean())


def vote(readings: Sequence[PlateReading]) -> PlateReading:
    """The text most views of one crop read; between texts read equally often, the reading
    with the higher mean log confidence of its characters (the first on a tie). Its
    confidence is never above the first view's: re-reading corrects text but does not let
    a doubtful crop past ANPR_CONFIDENCE_THRESHOLD to skip manual plate check. Measured
    with the threshold at 0.8 on 1,000 synthetic plates (wrong readings passed / right):
    shipped int8 single 13 / 788, vote at the winner's own confidence 16 / 867, this 11 / 789;
    a from-scratch model (stop 29, run 21) single 11 / 772, own 23 / 849, this 10 / 770."""
    counts: dict[str, int] = {}
    for r in readings:
        counts[r.text] = counts.get(r.text, 0) + 1
    best = max(readings, key=lambda r: (counts[r.text], _mean_log_confidence(r)))
    if best.confidence > readings[0].confidence:
        return replace(best, confidence=readings[0].confidence)
    return best


def reread_threshold() -> float:
    """ANPR_OCR_REREAD_BELOW: the confidence under which a crop is read again (0: never)."""
    return float(_setting("ANPR_OCR_REREAD_BELOW", 0.9))


def _file_version(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}@{digest}"


@functools.cache  # read once a process: every reader built after the first asks again
def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags from /proc/cpuinfo (Linux); empty where it cannot be read."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return frozenset()
    for line in lines:  # x86 says "flags", Arm "Features"
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def default_model(flags: frozenset[str] | None = None) -> Path:
    """The committed model for this CPU: the int8 one where onnxruntime's int8 convolutions
    are the faster, else the float one when it is shipped. Measured, batch 32:

    - int8 dot-product instruction (VNNI, Arm dotprod): int8 2.1x the float model (AMD
      EPYC with AVX-512 VNNI, stop 11); even with it on an Intel Xeon with AMX (stop 21);
    - AVX2 without AVX-512 (AMD EPYC, stop 22): int8 1.15-1.20x the float model;
    - AVX-512 without VNNI (Intel Xeon 2.0 GHz kind, stop 13): int8 452 crops/s against
      621/s float, so the float model there; and on CPUs with neither.

    Where the flags cannot be read, DEFAULT_MODEL."""
    flags = cpu_flags() if flags is None else flags
    int8_fast = bool(flags & INT8_DOT_FLAGS) or ("avx2" in flags and "avx512f" not in flags)
    if flags and not int8_fast and FLOAT_MODEL.exists():
        return FLOAT_MODEL
    return DEFAULT_MODEL


def ocr_threads() -> int:
    """ONNX Runtime threads per reader: ANPR_OCR_THREADS, or (0, unset) one per core up to 4,
    right for a single reader process. A prefork worker with one process per core wants 1
    (bench_anpr, 2 cores, batch 32: 2 processes x 1 thread 1.08-1.13x 2 processes x 2)."""
    return _setting("ANPR_OCR_THREADS", 0) or min(os.cpu_count() or 1, 4)


def resolve_model(model: str | os.PathLike | None) -> tuple[Path, Path]:
    """Return (onnx path, plate config path) for a model setting; never downloads by itself."""
    if not model:  # None or "" (the setting's empty default): the committed model
        model = default_model()
    path = Path(model)
    if path.suffix == ".onnx":
        if not path.is_absolute():
            path = Path(__file__).resolve().parent.parent / path
        for config in (
            path.with_name(path.stem + "_plate_config.yaml"),
            path.with_name(path.stem + "_config.yaml"),
            path.with_name("plate_config.yaml"),
        ):
            if config.exists():
                break
        if not path.exists() or not config.exists():
            raise FileNotFoundError(f"plate OCR model or its plate config is missing: {path}")
        return path, config

    from fast_plate_ocr.inference import hub

    name = str(model)
    if name not in hub.AVAILABLE_ONNX_MODELS:
        raise ValueError(f"ANPR_OCR_MODEL {name!r} is neither an .onnx path nor a hub model")
    onnx_url, config_url = hub.AVAILABLE_ONNX_MODELS[name]  # type: ignore[index]
    cache = hub.MODEL_CACHE_DIR / name
    onnx_path, config_path = cache / onnx_url.split("/")[-1], cache / config_url.split("/")[-1]
    if not (onnx_path.exists() and config_path.exists()):
        if not _setting("ANPR_OCR_ALLOW_DOWNLOAD", False):
            raise FileNotFoundError(
                f"hub model {name!r} is not in {cache} and ANPR_OCR_ALLOW_DOWNLOAD is off"
            )
        onnx_path, config_path = hub.download_model(model_name=name)  # type: ignore[arg-type]
    return Path(onnx_path), Path(config_path)


class FastPlateOcrReader:
    """Reads plate crops with fast-plate-ocr's LicensePlateRecognizer (ONNX Runtime, CPU)."""

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        intra_op_threads: int | None = None,
        reread_below: float | None = None,
    ) -> None:
        import onnxruntime as ort
        from fast_plate_ocr import LicensePlateRecognizer

        onnx_path, config_path = resolve_model(
            model if model is not None else _setting("ANPR_OCR_MODEL", None)
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads or ocr_threads()
        options.inter_op_num_threads = 1
        # Idle intra-op threads spin-wait for the next run by default: in a worker that reads
        # one event at a time between database writes, that burns CPU the other processes
        # need (bench_worker: 47 ms of CPU for 27 ms of wall time per event with spinning).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._recognizer = LicensePlateRecognizer(
            onnx_model_path=onnx_path,
            plate_config_path=config_path,
            device="cpu",
            sess_options=options,
        )
        self.config = self._recognizer.config
        self.model_version = _file_version(onnx_path)
        # public: the evaluation sets it to 0 to score single readings
        self.reread_below = reread_threshold() if reread_below is None else reread_below

    def prepare(self, crop: np.ndarray, margin: float | None = None) -> np.ndarray:
        """BGR/gray crop of any size -> model input (H, W, C) uint8."""
        cfg = self.config
        return prepare_crop(
            crop,
            height=cfg.img_height,
            width=cfg.img_width,
            grayscale=cfg.image_color_mode == "grayscale",
            margin=margin,
        )

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[PlateReading]:
        """One reading a crop; crops read with little confidence are read again with other
        borders and the readings vote (REREAD_BORDERS)."""
        (readings,) = self._read(crops, (None,))
        doubtful = [i for i, r in enumerate(readings) if r.confidence < self.reread_below]
        if doubtful:
            again = self._read([crops[i] for i in doubtful], REREAD_BORDERS)
            for k, i in enumerate(doubtful):
                readings[i] = vote([readings[i], *(view[k] for view in again)])
        return readings

    def _read(
        self, crops: Sequence[np.ndarray], margins: Sequence[float | None]
    ) -> list[list[PlateReading]]:
        """Every crop read with each border of margins, in one batch (one model run costs
        less than two of half the size): a list of readings per margin."""
        if len(crops) == 0:
            return [[] for _ in margins]
        batch = np.stack([self.prepare(c, m) for m in margins for c in crops])
        predictions = self._recognizer.run(batch, return_confidence=True)
        readings = []
        for pred in predictions:
            text = pred.plate.replace(self.config.pad_char, "")
            probs = pred.char_probs if pred.char_probs is not None else np.zeros(0)
            readings.append(
                plate_reading(text, list(probs[: len(text)]), model_version=self.model_version)
            )
        n = len(crops)
        return [readings[k * n : (k + 1) * n] for k in range(len(margins))]


def _import_string(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@functools.cache
def _reader_for(dotted: str) -> PlateReader:
    return _import_string(dotted)()


def get_plate_reader() -> PlateReader:
    """The configured reader, built once per process (loading a model costs ~100 ms)."""
    return _reader_for(_setting("ANPR_READER", DEFAULT_READER))


def read_scene(image: np.ndarray, *, reader: PlateReader | None = None) -> list[PlateReading]:
    """Find plates in a scene photo and read them; [] means no plate was found."""
    from anpr.detect import crop_box, find_plates

    boxes = find_plates(image)
    if not boxes:
        return []
    reader = reader or get_plate_reader()
    readings = reader.read_crops([crop_box(image, box) for box in boxes])
    found = [
        PlateReading(**{**r.__dict__, "box": tuple(int(v) for v in box)})
        for r, box in zip(readings, boxes, strict=True)
    ]
    # A box whose reading is a valid plate beats one that is not; then confidence.
    found.sort(key=lambda r: (r.key is not None, r.confidence), reverse=True)
    return [r for r in found if r.text] or []


def looks_like_crop(image: np.ndarray) -> bool:
    """A plate crop is small and plate-shaped; camera scenes are large frames."""
    h, w = image.shape[:2]
    return h <= 400 and w <= 800 and 1.2 <= w / max(h, 1) <= 4.5


def read_image(image: np.ndarray, *, reader: PlateReader | None = None) -> list[PlateReading]:
    """Read a plate crop directly, or find and read the plates of a scene photo."""
    reader = reader or get_plate_reader()
    if looks_like_crop(image):
        (reading,) = reader.read_crops([image])
        h, w = image.shape[:2]
        return [PlateReading(**{**reading.__dict__, "box": (0, 0, w, h)})] if reading.text else []
    return read_scene(image, reader=reader)
