"""The training driver's pieces that run without TensorFlow: data drawing and the CLI it calls."""

from __future__ import annotations

import csv
import sys

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

    annotations = tmp_path / "data" / "g1" / "annotations-3-11.csv"
    with annotations.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert all((annotations.parent / row["image_path"]).is_file() for row in rows)
    assert all(row["plate_text"].isalnum() for row in rows)
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
    assert (tmp_path / "data" / "g1" / "annotations-200-11.csv").exists()


def test_the_cli_compiles_the_step_when_asked(monkeypatch):
    monkeypatch.setenv("ANPR_TRAIN_JIT", "1")
    assert train._cli() == [sys.executable, "-m", "anpr.training.fpo_cli"]
    monkeypatch.delenv("ANPR_TRAIN_JIT")
    assert "anpr.training.fpo_cli" not in train._cli()
