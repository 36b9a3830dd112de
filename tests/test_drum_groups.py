"""One drum render per track: the dry drum stem is the sum of its class groups, and the
audibility measure reads those groups (adtos.presets.sampler, adtos.render.audibility)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pretty_midi
import pytest
import soundfile

from adtos.presets.sampler import KitSampler, sum_groups
from adtos.presets.model import Preset
from adtos.presets.synth import SoundfontBank
from adtos.render import render_tracks
from adtos.render.audibility import HIT_WINDOW_S, measure_audibility, render_groups
from adtos.render.worker import _on_nearest_block
from kit_fixtures import SR, write_hydrogen_kit
from test_render_support import drum_instrument, kit, patch, write_track, write_tracks_table

# FluidSynth: the group renders' sum differs from one render of the whole part
# by voice-slot gain ramps (a recycled slot ramps from its previous note's level
# over the first 64-sample block); measured -35 to -38 dB of the part's energy
# on TimGM6mb's kits (docs/render.md gives the figures per kit family).
FLUIDSYNTH_GROUP_SUM_DB = -30.0


@pytest.fixture
def kit_dir(tmp_path, monkeypatch):
    write_hydrogen_kit(tmp_path / "kits" / "TestKit")
    monkeypatch.setenv("ADTOS_KIT_PATH", str(tmp_path / "kits"))
    return tmp_path / "kits"


def sampled(**source) -> Preset:
    # Per-hit gain and detune drawn: the draws the groups must share with the stem.
    fields = {"hit_gain_db": 3.0, "hit_detune_cents": 20.0, **source}
    return Preset(role="drums", source={"type": "kit", "format": "hydrogen", "kit": "TestKit",
                                        **fields})


def part(*hits: tuple[float, int, int]) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(0, is_drum=True, name="drums")
    instrument.notes = [pretty_midi.Note(v, p, t, t + 0.01) for t, p, v in hits]
    return instrument


def busy_part() -> pretty_midi.Instrument:
    """Every class, round-robin snares, open hats choked by closed ones, simultaneous hits."""
    hits = []
    for i in range(32):
        t = 0.1 + 0.125 * i
        hits.append((t, 42 if i % 4 else 46, 70 + i))
        if i % 4 == 0:
            hits.append((t, 36, 120 - i))
        if i % 4 == 2:
            hits.append((t, 38, 60 + 2 * i))
        if i % 8 == 5:
            hits.append((t, 45, 100))
        if i % 16 == 0:
            hits.append((t, 49, 110))
    return part(*hits)


def test_sampled_groups_sum_to_the_stem_bit_exact(kit_dir):
    sampler = KitSampler(SR)
    notes = busy_part()
    groups = sampler.render_groups(sampled(), notes, 5.0)
    assert sorted(groups) == ["BD", "CY", "HH", "SD", "TT"]
    stem = sampler.render(sampled(), notes, 5.0, planar=True)
    assert np.array_equal(sum_groups(groups, stem.shape[1]), stem)
    # Each group holds its class's hits only: the kick group is silent where no kick is.
    first_kick_gap = int(0.2 * SR), int(0.5 * SR)  # kicks at 0.1 and 0.6 s, 60 Hz, 0.3 s long
    assert np.abs(groups["BD"][:, first_kick_gap[0] + int(0.25 * SR):first_kick_gap[1]]).max() == 0


def test_sampled_groups_cut_open_hats_as_the_stem_does(kit_dir):
    # An open hat (1.5 s of noise) at 0.1 s, a closed one at 0.5 s: the choke is resolved
    # over the whole part before the split, so the hat group holds the cut open hat.
    sampler = KitSampler(SR)
    notes = part((0.1, 46, 100), (0.5, 42, 100), (0.5, 36, 100))
    groups = sampler.render_groups(sampled(), notes, 3.0)
    after_closed = groups["HH"][:, int(0.7 * SR):]  # past the closed hat (80 ms) and the fade
    assert np.abs(after_closed).max() == 0


def test_audibility_of_sampled_hits_is_measured_on_the_stem_samples(kit_dir, tmp_path):
    """Kick, snare and hat struck together, with a drawn per-hit gain, detune and the
    snare's round robin: each hit's level_db is the level of its own samples in the stem
    (its group as the stem holds it, at the stem's gain). Before, the audibility measure
    rendered each group again with a seed drawn from the group's notes: other gains (up
    to 2 x 3 dB apart) and detunes, so simultaneous hits shared the stem's energy wrongly."""
    import pyarrow.parquet as pq

    hits = []
    for i in range(8):  # 0.75 s apart: no hit's tail reaches the next hit of its class
        t = 0.5 + 0.75 * i
        hits += [(t, 36, 70 + 7 * i), (t, 38, 60 + 8 * i), (t, 42, 90)]
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    midi.instruments.append(part(*hits))
    folder = tmp_path / "tracks"
    write_track(folder, "train00000", midi)
    write_tracks_table(folder, ["train00000"])
    out = tmp_path / "out"
    report = render_tracks(folder, [sampled()], out, workers=1, progress=False)
    assert not report.failed, report.failed
    record = pq.read_table(out / "render.parquet").to_pylist()[0]
    gain = 10 ** ((record["drums_lufs_after"] - record["drums_lufs_before"]) / 20)
    n = int(round(record["duration"] * SR))
    groups = KitSampler(SR).render_groups(sampled(), midi.instruments[0], n / SR)
    dry = sum_groups(groups, n)
    # What the measure gives on the groups the sampler plays (the stem is the dry sum at
    # its loudness gain: no effects), against what the render wrote (1 decimal).
    starts = np.array([int(round(t * SR)) for t, _, _ in hits])  # every hit on its own sample
    notes = np.array([note for _, note, _ in hits])
    truth = measure_audibility(starts, notes, np.array([v for _, _, v in hits]), groups, dry,
                               dry * np.float32(gain), None, SR)
    lines = [r.split("\t") for r in (out / "annotations" / "train00000.txt").read_text().splitlines()]
    assert len(lines) == len(hits)
    written = {(round(float(r[0]), 3), int(r[1])): (float(r[4]), float(r[5])) for r in lines}
    for (time, note, _), level, smr in zip(hits, truth.level_db, truth.smr_db):
        assert written[(round(time, 3), note)][0] == pytest.approx(level, abs=0.051), (time, note)
        assert written[(round(time, 3), note)][1] == pytest.approx(smr, abs=0.051), (time, note)
    # The groups hold the stem's draws: each hit measures within a little of its own
    # samples' level (simultaneous hits interfere within a band, which the share cannot
    # split exactly), not the up to 6 dB of another draw.
    window = int(round(HIT_WINDOW_S * SR))
    for k, (time, note, _) in enumerate(hits):
        mono = groups[{36: "BD", 38: "SD", 42: "HH"}[note]].astype(np.float64).mean(axis=0)
        own = 10 * np.log10(np.mean((gain * mono[starts[k]:starts[k] + window]) ** 2))
        assert truth.level_db[k] == pytest.approx(own, abs=0.5)


def test_fluidsynth_groups_sum_to_a_whole_render_within_tolerance():
    bank = SoundfontBank(SR)
    notes = drum_instrument(8.0)
    for t in (1.0, 3.0, 5.0):
        notes.notes += [pretty_midi.Note(90, 46, t, t + 0.05), pretty_midi.Note(100, 49, t, t + 0.05),
                        pretty_midi.Note(80, 45, t + 0.25, t + 0.3)]
    notes = _on_nearest_block(notes, SR)
    n = 9 * SR
    for program in (0, 25):
        preset = kit(program)
        whole = bank.render(preset, notes, 9.0, planar=True).astype(np.float64)
        groups = render_groups(partial(bank.render, preset, planar=True), notes, n, SR)
        assert sorted(groups) == ["BD", "CY", "HH", "SD", "TT"]
        difference = sum_groups(groups, n).astype(np.float64) - whole
        error_db = 10 * np.log10((difference ** 2).sum() / (whole ** 2).sum())
        assert error_db < FLUIDSYNTH_GROUP_SUM_DB, (program, error_db)


# Per-class drum stems, read back from 16-bit files: each file's rounding is about
# -101 dBFS of noise, so six stems summed sit about -70 dB under a -23 LUFS drum stem.
DRUM_STEMS_SUM_DB = -60.0


def drum_stems_track(tmp_path, drum_notes):
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    midi.instruments.append(drum_notes)
    piano = pretty_midi.Instrument(0, name="piano")
    piano.notes = [pretty_midi.Note(80, p, 0.5, 3.0) for p in (60, 64, 67)]
    midi.instruments.append(piano)
    folder = tmp_path / "tracks"
    write_track(folder, "train00000", midi)
    write_tracks_table(folder, ["train00000"])
    return folder


def read_planar(path):
    audio, _ = soundfile.read(path, dtype="float64", always_2d=True)
    return audio.T


def test_drum_stems_sum_to_the_drum_stem_in_the_mix(kit_dir, tmp_path):
    from adtos.cli import main
    from adtos.presets import save_presets
    from adtos.render.mix import MixOptions

    # A linear chain (a high-pass, a peak EQ and the convolution room) and a drawn
    # balance: the class stems carry the drum stem's loudness gain and mix gain.
    linear = sampled(hit_gain_db=1.0)
    linear = Preset(role="drums", source=linear.source, effects=[
        {"type": "HighpassFilter", "cutoff_frequency_hz": 40.0},
        {"type": "PeakFilter", "cutoff_frequency_hz": 800.0, "gain_db": 4.0, "q": 1.0},
        {"type": "Room", "decay_s": 0.5, "wet_level": 0.2, "dry_level": 0.9, "seed": 3}])
    folder = drum_stems_track(tmp_path, busy_part())
    out = tmp_path / "out"
    report = render_tracks(folder, [linear, patch("piano", 0)], out, workers=1, stems=True,
                           drum_stems=True, mix=MixOptions(balance_db=(-6.0, -6.0)),
                           progress=False)
    assert not report.failed, report.failed
    stems = out / "drum_stems" / "train00000"
    assert sorted(p.name for p in stems.iterdir()) == [f"{c}.flac" for c in
                                                        ("BD", "CY", "HH", "SD", "TT")]
    total = sum(read_planar(p) for p in stems.iterdir())
    drums = read_planar(out / "stems" / "train00000" / "drums.flac")
    error_db = 10 * np.log10(((drums - total) ** 2).sum() / (drums ** 2).sum())
    assert error_db < DRUM_STEMS_SUM_DB
    import pyarrow.parquet as pq

    record = pq.read_table(out / "render.parquet").to_pylist()[0]
    assert record["drum_stems"] == "BD,CY,HH,SD,TT" and record["drum_stems_gain"] == 1.0
    assert record["drum_stems_residual_db"] < -100  # in float32, before the files' rounding

    # On the command line, with a FluidSynth kit whose compressor runs on the sum: the
    # stems are written, and how far their sum is from the drum stem is recorded.
    squeezed = kit(0, effects=[{"type": "Compressor", "threshold_db": -30.0, "ratio": 6.0}])
    save_presets([squeezed], tmp_path / "lib.jsonl")
    assert main(["render", str(folder), "--presets", str(tmp_path / "lib.jsonl"), "--out",
                 str(tmp_path / "cli"), "--workers", "1", "--voices", "drums", "--drum-stems",
                 "--no-progress"]) == 0
    record = pq.read_table(tmp_path / "cli" / "render.parquet").to_pylist()[0]
    assert record["drum_stems"] == "BD,CY,HH,SD,TT"
    assert -60.0 < record["drum_stems_residual_db"] < 0.0, record["drum_stems_residual_db"]
    assert (tmp_path / "cli" / "drum_stems" / "train00000" / "HH.flac").is_file()


def test_the_card_lists_drum_stems_and_says_renders_changed(tmp_path):
    from adtos.build.card import render_card
    from adtos.build.manifest import build_manifest
    from test_build_parts import render_table, tracks_table, write_audio

    write_audio(tmp_path, ["train00000", "train00001", "val00000"])
    manifest = build_manifest(tracks_table(), render_table(), tmp_path, voices=("drums",),
                              quantized=False)
    plain = render_card(manifest, name="tiny", libraries=[("gmd", "groove", 10)])
    assert "drum_stems/" not in plain and "## Renderer changes" in plain
    assert "issue #23" in plain
    card = render_card(manifest, name="tiny", libraries=[("gmd", "groove", 10)],
                       drum_stems=True, stems=True)
    assert "`drum_stems/<track_id>/<CLASS>.flac`" in card and "`stems/<track_id>/<voice>.flac`" in card
