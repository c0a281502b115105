"""The plate reader on the committed model, read_scene, and the read_plates command."""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from anpr.readers import (
    DEFAULT_MODEL,
    FLOAT_MODEL,
    PlateReading,
    default_model,
    get_plate_reader,
    plate_reading,
    prepare_crop,
    read_image,
    read_scene,
)
from anpr.synth import plate_image, random_plate_text, render_scene, synth_plates

needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL.exists(), reason="no trained model in anpr/models/ yet"
)


@pytest.fixture(autouse=True)
def _real_reader(settings):
    """These tests are about the real reader (tests/anpr/conftest.py installs a fake one)."""
    from anpr.readers import _reader_for

    settings.ANPR_READER = "anpr.readers.FastPlateOcrReader"
    settings.ANPR_OCR_MODEL = ""
    _reader_for.cache_clear()
    yield
    _reader_for.cache_clear()


@pytest.fixture(scope="module")
def reader():
    from anpr.readers import FastPlateOcrReader

    return FastPlateOcrReader()


def test_plate_reading_normalizes_through_the_plate_rules():
    r = plate_reading("lea122545", [0.99] * 8 + [0.7], model_version="m@1")
    assert (r.text, r.key, r.display) == ("LEA122545", "LEA122545", "LEA-12-2545")
    assert r.confidence == 0.7
    bad = plate_reading("12", [0.9, 0.9], model_version="m@1")
    assert bad.key is None and bad.display is None and bad.text == "12"
    empty = plate_reading("", [], model_version="m@1")
    assert empty.confidence == 0.0 and empty.key is None


@needs_model
def test_reader_reads_synthetic_crops_in_a_batch(reader):
    samples = synth_plates(24, seed=31337)
    readings = reader.read_crops([s.image for s in samples])
    assert len(readings) == 24
    for s, r in zip(samples, readings, strict=True):
        assert isinstance(r, PlateReading)
        assert r.model_version == reader.model_version
        assert len(r.char_confidences) == len(r.text)
        assert all(0.0 <= c <= 1.0 for c in r.char_confidences)
    # Floors well under the model card's figures: this catches a broken model or a
    # preprocessing mismatch (colour order, size), not a small accuracy regression.
    from anpr.training.evaluate import Score

    score = Score()
    for s, r in zip(samples, readings, strict=True):
        score.add("", r.text, s.key)
    assert score.char_acc >= 0.7, score.summary()
    assert score.plates_ok >= 6, score.summary()


@needs_model
def test_reader_takes_grayscale_and_odd_sizes(reader):
    sample = synth_plates(1, seed=5)[0]
    gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
    tiny = cv2.resize(sample.image, (40, 20))
    assert len(reader.read_crops([gray, tiny, sample.image])) == 3
    assert reader.read_crops([]) == []


def test_prepare_adds_a_margin_and_averages_when_shrinking():
    # A black crop with a white band along its left edge: the repeated border widens the
    # band (20 of 200 px -> 26 of 212 px: 15-16 of 128 columns instead of 12-13).
    crop = np.zeros((100, 200), np.uint8)
    crop[:, :20] = 255
    image = prepare_crop(crop, height=64, width=128, grayscale=True)
    assert image.shape == (64, 128, 1)
    assert 15 <= int((image[32, :, 0] > 127).sum()) <= 16
    # One-pixel stripes shrunk 4x: averaging gives flat grey, point sampling would alias.
    stripes = np.zeros((256, 512), np.uint8)
    stripes[:, ::2] = 255
    middle = prepare_crop(stripes, height=64, width=128, grayscale=True)[8:-8, 8:-8, 0]
    assert middle.min() >= 110 and middle.max() <= 145
    # A colour model gets RGB: a blue BGR pixel comes out last.
    blue = np.zeros((40, 80, 3), np.uint8)
    blue[..., 0] = 255
    assert prepare_crop(blue, height=48, width=96, grayscale=False)[24, 48].tolist() == [0, 0, 255]


@needs_model
def test_reader_prepares_crops_at_its_model_input_size(reader):
    image = reader.prepare(np.zeros((100, 200, 3), np.uint8))
    assert image.shape == (reader.config.img_height, reader.config.img_width, 1)


def test_default_model_is_int8_where_its_convolutions_are_the_faster():
    assert default_model(frozenset({"avx512f", "avx512_vnni"})) == DEFAULT_MODEL
    assert default_model(frozenset({"avx2", "avx_vnni"})) == DEFAULT_MODEL
    assert default_model(frozenset({"asimd", "asimddp"})) == DEFAULT_MODEL
    assert default_model(frozenset({"sse4_2", "avx2", "fma"})) == DEFAULT_MODEL  # AVX2 only
    float_or_default = FLOAT_MODEL if FLOAT_MODEL.exists() else DEFAULT_MODEL
    assert default_model(frozenset({"sse4_2", "avx2", "avx512f"})) == float_or_default
    assert default_model(frozenset({"sse4_2"})) == float_or_default
    assert default_model(frozenset({"asimd"})) == float_or_default
    assert default_model(frozenset()) == DEFAULT_MODEL  # flags unknown: the shipped default


@pytest.mark.skipif(not FLOAT_MODEL.exists(), reason="no float model beside the default")
def test_the_reader_on_a_cpu_with_avx512_but_no_vnni_reads_with_the_float_model(monkeypatch):
    from anpr import readers

    monkeypatch.setattr(readers, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    reader = readers.FastPlateOcrReader()
    assert reader.model_version.startswith("pk_plate_ocr_fp32@")
    # Clean plates: the shipped float model read 20 of 20 of these; the floor catches a
    # wrong or broken model file, not a small accuracy change after a retrain.
    samples = synth_plates(10, seed=5, clean=True)
    readings = reader.read_crops([s.image for s in samples])
    assert sum(r.text == s.key for r, s in zip(readings, samples, strict=True)) >= 8


@needs_model
def test_the_reader_takes_its_thread_count_from_the_setting(settings):
    from anpr.readers import FastPlateOcrReader, ocr_threads

    def session_threads(reader):
        return reader._recognizer.model.get_session_options().intra_op_num_threads

    settings.ANPR_OCR_THREADS = 1
    assert session_threads(FastPlateOcrReader()) == 1
    assert session_threads(FastPlateOcrReader(intra_op_threads=2)) == 2  # an argument wins
    settings.ANPR_OCR_THREADS = 0  # unset: one per core, at most 4
    assert ocr_threads() == min(os.cpu_count() or 1, 4)


def test_get_plate_reader_is_cached_and_versioned():
    assert get_plate_reader() is get_plate_reader()
    assert get_plate_reader().model_version.startswith(default_model().stem + "@")


@needs_model
def test_read_scene_finds_and_reads_the_plate(reader):
    rng = np.random.default_rng(2024)
    text = random_plate_text(rng, "sindh")
    scene, box = render_scene(plate_image(text, rng), rng=rng, plate_width=220)
    readings = read_scene(scene, reader=reader)
    assert readings and readings[0].box is not None
    from anpr.detect import _iou
    from anpr.training.evaluate import _distance

    assert _iou(readings[0].box, box) > 0.5
    assert _distance(readings[0].text, text.key) <= 2, (readings[0].text, text.key)


def test_read_scene_without_a_plate_is_empty():
    class Never:
        model_version = "never"

        def read_crops(self, crops):
            raise AssertionError("nothing to read")

    assert read_scene(np.full((720, 1280, 3), 80, np.uint8), reader=Never()) == []


@needs_model
def test_read_image_treats_small_images_as_crops(reader):
    sample = synth_plates(1, seed=77, style="sindh")[0]
    (r,) = read_image(sample.image, reader=reader) or [None]
    assert r is not None and r.box == (0, 0, sample.image.shape[1], sample.image.shape[0])


@needs_model
def test_read_plates_command(tmp_path):
    rng = np.random.default_rng(8)
    texts = {}
    for n, style in enumerate(("sindh", "sindh", "islamabad", "punjab")):
        text = random_plate_text(rng, style)
        name = f"a{n}_plate.png"
        cv2.imwrite(str(tmp_path / name), cv2.resize(plate_image(text, rng), (200, 100)))
        texts[name] = text.display
    cv2.imwrite(str(tmp_path / "b_blank.jpg"), np.full((720, 1280, 3), 90, np.uint8))
    (tmp_path / "c_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("read_plates", str(tmp_path), "--csv", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0] == "file,plate,confidence"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == [str(tmp_path / n) for n in [*texts, "b_blank.jpg"]]
    plates = {Path(r[0]).name: r[1] for r in rows[:-1]}
    # Clean plates: most read exactly, in display form (LEA-12-2545); every confidence is
    # a probability. A broken model or a wrong preprocessing step reads none of them.
    right = [name for name, display in texts.items() if plates[name] == display]
    assert len(right) >= 3, (plates, texts)
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[:-1])
    assert rows[-1] == [str(tmp_path / "b_blank.jpg"), "", ""]
    assert "c_broken.jpg,error," in err.getvalue()


def test_scores_by_reader_border_use_each_border_and_restore_the_setting():
    from anpr import readers
    from anpr.training.evaluate import by_border

    crop = np.full((40, 100, 3), 200, np.uint8)
    items = [("a", crop, "LEA-12-2545"), ("b", crop, "AFR-420")]

    def read(crops):  # reads the first plate only where the reader pads by 3 %
        return ["LEA122545" if readers.CROP_MARGIN == 0.03 else "X"] + ["AFR420"] * (len(crops) - 1)

    assert by_border(read, items, [0.0, 0.03]) == {0.0: 0.5, 0.03: 1.0}
    assert readers.CROP_MARGIN == 0.03  # as before


def test_the_reader_pads_crops_by_the_border_in_force():
    from anpr import readers
    from anpr.training.evaluate import reader_border

    crop = np.zeros((100, 200), np.uint8)
    crop[1:-1, 1:-1] = 255  # a black rim one pixel wide
    with reader_border(0.0):
        bare = readers.prepare_crop(crop, height=100, width=200, grayscale=True)
    padded = readers.prepare_crop(crop, height=100, width=200, grayscale=True)
    assert bare[0, 100, 0] == 0  # the rim on the edge
    assert padded[0, 100, 0] < 128 and padded[3, 100, 0] < 128  # repeated rim rows
    assert padded[10, 100, 0] == 255
    # a margin given to the call wins over the setting (training draws each plate's own)
    assert (
        readers.prepare_crop(crop, height=100, width=200, grayscale=True, margin=0.0) == bare
    ).all()


def test_the_views_of_a_crop_vote_and_confidence_breaks_a_tie():
    from anpr.readers import vote

    def r(text, *confs):
        return plate_reading(text, confs, model_version="m@1")

    views = [r("LMK4549", *[0.9] * 7), r("LWK4549", *[0.6] * 7), r("LWK4549", *[0.5] * 7)]
    won = vote(views)  # two of three views, the more confident of the two
    assert (won.text, won.char_confidences) == ("LWK4549", views[1].char_confidences)
    assert won.confidence == 0.6  # below the first view's 0.9: kept
    # the winner is trusted no more than the first view, even when all views agree
    assert vote([views[2], views[0], views[1]]).confidence == 0.5
    agreed = [r("LWK4549", *[0.5] * 7), r("LWK4549", *[0.95] * 7), r("LWK4549", *[0.7] * 7)]
    assert vote(agreed).confidence == 0.5
    # three texts once each: the highest mean log confidence, not the highest minimum
    spiky = r("LEB007545", *[0.99] * 8, 0.3)
    even = r("LEB097545", *[0.7] * 9)
    assert vote([even, spiky, r("LEB00745", *[0.2] * 8)]).text == spiky.text
    assert vote([even, r("LEB097545", *[0.7] * 9)]) is even  # a tie: the first


@needs_model
def test_doubtful_crops_are_read_again_with_the_other_borders(monkeypatch):
    from anpr import readers

    reader = readers.FastPlateOcrReader(reread_below=0.9)
    seen: list[tuple[int, tuple]] = []
    views = {None: ("LMK4549", 0.5), 0.0: ("LWK4549", 0.6), 0.06: ("LWK4549", 0.55)}

    def fake_read(crops, margins):
        seen.append((len(crops), tuple(margins)))
        out = []
        for margin in margins:
            text, conf = views[margin]
            first = (
                [plate_reading("AFR420", [0.99] * 6, model_version="m@1")] if margin is None else []
            )
            rest = [plate_reading(text, [conf] * 7, model_version="m@1")] * (
                len(crops) - len(first)
            )
            out.append(first + rest)
        return out

    monkeypatch.setattr(reader, "_read", fake_read)
    crops = [np.zeros((40, 100, 3), np.uint8)] * 3
    assert [r.text for r in reader.read_crops(crops)] == ["AFR420", "LWK4549", "LWK4549"]
    # one read of all three; the two doubtful ones again at every border of REREAD_BORDERS,
    # in one batch
    assert seen == [(3, (None,)), (2, readers.REREAD_BORDERS)]
    seen.clear()
    reader.reread_below = 0.0  # off: single readings
    assert [r.text for r in reader.read_crops(crops)] == ["AFR420", "LMK4549", "LMK4549"]
    assert seen == [(3, (None,))]


@needs_model
def test_crops_read_at_several_borders_in_one_batch_come_back_per_border(reader):
    crops = [s.image for s in synth_plates(5, seed=4242)]
    margins = (None, 0.0, 0.06)
    together = reader._read(crops, margins)
    assert [len(view) for view in together] == [5, 5, 5]
    for margin, view in zip(margins, together, strict=True):
        (alone,) = reader._read(crops, (margin,))
        assert [r.text for r in view] == [r.text for r in alone]
        assert [r.confidence for r in view] == pytest.approx(
            [r.confidence for r in alone], abs=1e-4
        )
    assert reader._read([], margins) == [[], [], []]


@needs_model
def test_the_reader_takes_its_reread_threshold_from_the_setting(settings):
    from anpr.readers import FastPlateOcrReader

    settings.ANPR_OCR_REREAD_BELOW = 0.0
    assert FastPlateOcrReader().reread_below == 0.0
    assert FastPlateOcrReader(reread_below=0.5).reread_below == 0.5  # an argument wins
