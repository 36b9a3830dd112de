"""The diversity report: distinct drum sounds per piece, on TimGM6mb's kits."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from adtos.presets.diversity import (DIVERSITY_NOTES, connected_sounds, distinct_sounds,
                                     hit_spectrum, measure_diversity, render_hit,
                                     write_diversity)
from adtos.presets.model import Preset
from adtos.presets.synth import SoundfontBank


def _kit(program: int = 0, pieces=None, effects=None) -> Preset:
    return Preset(role="drums", source={"type": "soundfont", "soundfont": "TimGM6mb.sf2",
                                        "bank": 128, "program": program},
                  pieces=pieces or {}, effects=effects or [])


@pytest.fixture(scope="module")
def bank() -> SoundfontBank:
    return SoundfontBank(44100)


def test_spectrum_ignores_level_and_separates_pieces(bank):
    kick = render_hit(bank, _kit(), 36)
    snare = render_hit(bank, _kit(), 38)
    assert kick.shape == (8192, 2)
    a, b, c = hit_spectrum(kick), hit_spectrum(0.1 * kick), hit_spectrum(snare)
    assert a.shape == (64,)
    np.testing.assert_allclose(a, b, atol=1e-6)
    labels = distinct_sounds(np.stack([a, b, c]))
    assert labels.tolist() == [0, 0, 2]
    with pytest.raises(ValueError, match="silent"):
        hit_spectrum(np.zeros(8192))


def test_grouping_leader_versus_connected():
    # Three spectra on a chain: neighbours are near-identical, the ends are not.
    step = np.arccos(0.997)  # neighbours at cosine 0.997, the ends at 0.988
    e1, e2 = np.eye(64)[:2]
    chain = np.stack([np.cos(k * step) * e1 + np.sin(k * step) * e2 for k in range(3)])
    unit = chain / np.linalg.norm(chain, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > 0.995 and unit[1] @ unit[2] > 0.995 and unit[0] @ unit[2] < 0.995
    assert len(np.unique(distinct_sounds(chain))) == 2
    assert connected_sounds(chain) == 1


def test_report_counts_sources_and_drops_effects(bank, tmp_path):
    wet = {"type": "Distortion", "drive_db": 30.0}
    retuned_snare = {"snare": {"soundfont": "TimGM6mb.sf2", "bank": 128, "program": 25,
                               "tune_cents": 300}}
    presets = [_kit(0), _kit(0, effects=[wet]), _kit(0, pieces=retuned_snare)]
    report = measure_diversity(presets, bank, progress=False)
    table = report.table()
    # The effect chain is removed, so the first two presets are one sound per piece.
    assert table["all"]["kick"] == 1
    # The composite's snare comes from kit 25 (TR-808), retuned: a second snare,
    # counted as variation, not as a recorded sound.
    assert table["all"]["snare"] == 2
    assert table["recorded (no variation)"]["snare"] == 1
    assert table["base kits alone"]["snare"] == 1
    assert table["sampled kits"]["kick"] == 0
    paths = write_diversity(report, tmp_path / "lib")
    assert [p.name for p in paths] == ["lib.diversity.csv", "lib.sounds.csv", "lib.diversity.png"]
    rows = list(csv.DictReader(paths[0].open()))
    assert {r["piece"] for r in rows} == set(DIVERSITY_NOTES)
    sounds = list(csv.DictReader(paths[1].open()))
    assert len(sounds) == 3 * len(DIVERSITY_NOTES)
    assert paths[2].read_bytes()[:4] == b"\x89PNG"


def test_cli_writes_the_report_beside_the_library(tmp_path, capsys):
    from adtos.cli import main
    from adtos.presets.model import save_presets

    library = tmp_path / "small.jsonl"
    save_presets([_kit(0), _kit(25)], library)
    assert main(["presets", "--diversity", str(library)]) == 0
    out = capsys.readouterr().out
    assert "distinct sounds among 2 drum presets" in out
    assert (tmp_path / "small.diversity.csv").is_file()
    assert (tmp_path / "small.diversity.png").is_file()
    missing = tmp_path / "missing.jsonl"
    assert main(["presets", "--diversity", str(missing)]) != 0
    assert "missing.jsonl" in capsys.readouterr().err
