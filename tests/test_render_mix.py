"""The mix levers: drawn drums/accompaniment balance and the master bus.

Real FluidSynth renders of small generated tracks; levels are measured with
pyloudnorm itself on the written files, not with the renderer's own meter.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pyloudnorm
import pytest
import soundfile

from adtos.render import render_tracks
from adtos.render.loudness import MIX_CEILING
from adtos.render.mix import MixOptions, draw_mix, master_bus
from test_render_support import make_tracks, small_library

BALANCE = (-12.0, 0.0)
MASTER_LUFS = (-16.0, -9.0)


def render(root, name, mix, seed=0, stems=False):
    out = root / name
    report = render_tracks(root / "tracks", small_library(), out, workers=1, progress=False,
                           stems=stems, mix=mix, seed=seed)
    assert not report.failed
    return out, {row["track_id"]: row for row in pq.read_table(out / "render.parquet").to_pylist()}


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    ids = make_tracks(root / "tracks", n=3, seconds=4.0, voices=4)
    return root, ids


@pytest.fixture(scope="module")
def balanced(tracks):
    root, ids = tracks
    return render(root, "balanced", MixOptions(balance_db=BALANCE), stems=True)


def loudness(path):
    audio, sr = soundfile.read(path, dtype="float64")
    return pyloudnorm.Meter(sr).integrated_loudness(audio)


def test_drawn_balance_is_in_its_range_and_heard_on_the_stems(tracks, balanced):
    root, ids = tracks
    out, rows = balanced
    drawn = []
    for track_id in ids:
        row = rows[track_id]
        assert BALANCE[0] <= row["balance_db"] <= BALANCE[1]
        stems = out / "stems" / track_id
        drums = loudness(stems / "drums.flac")
        accompaniment = sum(soundfile.read(stems / f"{v}.flac", dtype="float64")[0]
                            for v in ("piano", "bass", "guitar"))
        rest = pyloudnorm.Meter(44100).integrated_loudness(accompaniment)
        # 16-bit files and a different meter: a tenth of an LU.
        assert drums - rest == pytest.approx(row["balance_db"], abs=0.1)
        assert drums == pytest.approx(-23.0, abs=0.1)  # the drums keep the stem loudness
        drawn.append(row["balance_db"])
    assert len(set(drawn)) == len(drawn)  # drawn per track, not one setting


def test_the_flat_mix_records_no_balance_and_sums_equal_stems(tracks):
    root, ids = tracks
    out, rows = render(root, "flat", MixOptions(), stems=True)
    for track_id in ids:
        assert rows[track_id]["balance_db"] is None and rows[track_id]["master_lufs"] is None
        assert loudness(out / "stems" / track_id / "piano.flac") == pytest.approx(-23.0, abs=0.1)


def test_same_seed_same_mix_other_seed_other_draws(tracks, balanced):
    root, ids = tracks
    out, rows = balanced
    again, rows_again = render(root, "balanced-again", MixOptions(balance_db=BALANCE))
    assert [rows[i]["audio_sha256"] for i in ids] == [rows_again[i]["audio_sha256"] for i in ids]
    assert [draw_mix(i, 0, MixOptions()) for i in ids] != [draw_mix(i, 1, MixOptions()) for i in ids]
    assert draw_mix(ids[0], 0, MixOptions()) == draw_mix(ids[0], 0, MixOptions())


def test_master_reaches_the_drawn_loudness_and_never_clips(tracks):
    root, ids = tracks
    out, rows = render(root, "mastered", MixOptions(balance_db=BALANCE, master=True,
                                                    master_lufs=MASTER_LUFS))
    for track_id in ids:
        row = rows[track_id]
        assert MASTER_LUFS[0] <= row["master_lufs_target"] <= MASTER_LUFS[1]
        audio, sr = soundfile.read(out / "audio" / f"{track_id}.flac", dtype="float64")
        measured = pyloudnorm.Meter(sr).integrated_loudness(audio)
        assert measured == pytest.approx(row["master_lufs_target"], abs=0.5)
        assert row["master_lufs"] == pytest.approx(row["master_lufs_target"], abs=0.1)
        assert np.max(np.abs(audio)) <= MIX_CEILING + 1 / 32768
        assert set(json.loads(row["master_params"])) >= {"comp_ratio", "low_shelf_db"}


def test_master_bus_on_a_peaky_mix_reaches_or_reports_what_it_reached():
    """Sparse drum-like bursts: the limiter meets -20 and -12 LUFS; when it cannot
    reach -8 it says the loudness it reached, not the target. Never a clipped sample."""
    sr = 44100
    rng = np.random.default_rng(3)
    mix = np.zeros((2, sr * 6), dtype=np.float32)
    for start in range(0, mix.shape[1] - sr // 2, sr // 4):
        burst = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600.0) * rng.uniform(0.05, 0.9)
        mix[:, start:start + 4000] += burst.astype(np.float32)
    meter = pyloudnorm.Meter(sr)
    for target in (-20.0, -12.0, -8.0):
        draw = draw_mix("loud", 0, MixOptions(master_lufs=(target, target)))
        out, drive, level = master_bus(mix, sr, draw)
        measured = meter.integrated_loudness(out.T.astype(np.float64))
        assert measured == pytest.approx(level, abs=0.1)
        if target > -10:
            assert level <= target + 0.1
        else:
            assert measured == pytest.approx(target, abs=0.5)
        assert np.max(np.abs(out)) <= MIX_CEILING + 1e-6


def test_each_lever_switches_off_alone(tracks, balanced):
    """Master without balance: the same drawn loudness; balance without master: no master columns."""
    root, ids = tracks
    out, balance_only = balanced
    master_out, master_only = render(root, "master-only", MixOptions(master=True,
                                                                      master_lufs=MASTER_LUFS))
    both_out, both = render(root, "both", MixOptions(balance_db=BALANCE, master=True,
                                                     master_lufs=MASTER_LUFS))
    for track_id in ids:
        assert master_only[track_id]["balance_db"] is None
        assert balance_only[track_id]["master_lufs"] is None
        assert both[track_id]["balance_db"] == balance_only[track_id]["balance_db"]
        assert both[track_id]["master_lufs_target"] == master_only[track_id]["master_lufs_target"]
        assert master_only[track_id]["drum_preset"] == both[track_id]["drum_preset"]


def test_bad_mix_options_are_refused():
    with pytest.raises(ValueError, match="balance_db"):
        MixOptions(balance_db=(3.0, -3.0))
    with pytest.raises(ValueError, match="master_lufs"):
        MixOptions(master_lufs=(-10.0, 2.0))


def test_cli_draws_the_mix_and_refuses_a_bad_range(tracks, capsys):
    from adtos.cli import main
    from adtos.presets import save_presets

    root, ids = tracks
    save_presets(small_library(), root / "presets.jsonl")
    out = root / "cli"
    assert main(["render", str(root / "tracks"), "--presets", str(root / "presets.jsonl"),
                 "--out", str(out), "--workers", "1", "--no-progress", "--voices", "drums", "piano",
                 "--balance-db", "-9", "-3", "--master", "--master-lufs", "-14", "-12"]) == 0
    for row in pq.read_table(out / "render.parquet").to_pylist():
        assert -9 <= row["balance_db"] <= -3 and -14 <= row["master_lufs_target"] <= -12
    assert main(["render", str(root / "tracks"), "--presets", str(root / "presets.jsonl"),
                 "--out", str(root / "bad"), "--balance-db", "3", "-3"]) == 2
    assert "--balance-db: expected [low, high]" in capsys.readouterr().err
