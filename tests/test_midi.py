"""adtos.midi: the reader's typed events, the tempo map, the writers and the annotation format."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest

from adtos.annotations import format_annotations, read_annotations
from adtos.midi import (MidiFileError, NoteTrack, TempoMap, drum_onsets_file, midi_file_bytes,
                        parse_smf, read_midi_file, tempo_map_events, time_signature_event)

TPB = 480


def smf(*track_bodies: bytes, fmt: int = 1) -> bytes:
    header = b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") \
        + len(track_bodies).to_bytes(2, "big") + TPB.to_bytes(2, "big")
    return header + b"".join(b"MTrk" + len(b).to_bytes(4, "big") + b for b in track_bodies)


def test_program_change_is_a_typed_record_in_file_order(tmp_path):
    body = bytes([0x00, 0x90, 60, 100,        # C4 on program 0
                  0x00, 0xC0, 5,              # program 5
                  0x10, 0x90, 62, 100,        # D4 on program 5
                  0x10, 0x80, 60, 0, 0x00, 0x80, 62, 0,
                  0x00, 0xFF, 0x2F, 0x00])
    _, [track] = parse_smf(smf(body, fmt=0))
    assert [tuple(p) for p in track.programs] == [(0, 0, 5, 1)]  # before the 2nd note event
    path = tmp_path / "p.mid"
    path.write_bytes(smf(body, fmt=0))
    notes = read_midi_file(path).notes
    assert notes.pitch.tolist() == [60, 62] and notes.program.tolist() == [0, 5]


def test_running_status_survives_a_meta_event_as_in_mido(tmp_path):
    # A note-on, a marker, then a note-on in running status: mido reads it, so do we.
    body = bytes([0x00, 0x99, 36, 100, 0x00, 0xFF, 0x06, 0x01, 0x41,
                  0x10, 38, 90, 0x10, 36, 0, 0x00, 38, 0, 0x00, 0xFF, 0x2F, 0x00])
    path = tmp_path / "rs.mid"
    path.write_bytes(smf(body, fmt=0))
    ours = read_midi_file(path).notes
    theirs = [m for m in mido.MidiFile(str(path)) if m.type == "note_on" and m.velocity]
    assert ours.pitch.tolist() == [36, 38] == [m.note for m in theirs]
    # A sysex event cancels running status (the standard's rule): a data byte after it is refused.
    bad = bytes([0x00, 0x99, 36, 100, 0x00, 0xF0, 0x01, 0xF7, 0x10, 36, 0, 0x00, 0xFF, 0x2F, 0x00])
    path.write_bytes(smf(bad, fmt=0))
    with pytest.raises(MidiFileError, match="data byte without a status"):
        read_midi_file(path)


def test_tempo_map_is_pretty_midis_arithmetic(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=TPB)
    conductor = mido.MidiTrack()
    for delta, bpm in ((0, 97.3), (1931, 141.0), (777, 141.0), (3001, 60.5)):
        conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=delta))
    notes = mido.MidiTrack()
    ticks = np.random.default_rng(0).integers(0, 9000, 200)
    for tick in sorted(ticks):
        notes.append(mido.Message("note_on", note=60, velocity=90, time=0))
        notes.append(mido.Message("note_off", note=60, time=0))
    midi.tracks += [conductor, notes]
    path = tmp_path / "tempo.mid"
    midi.save(str(path))
    ours = read_midi_file(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    probe = np.arange(0, 9000, 7)
    assert np.array_equal(ours.seconds(probe), [pm.tick_to_time(int(t)) for t in probe])  # bit for bit
    assert ours.tempo_map.ticks.tolist() == [0, 1931, 5709]  # the repeated 141 bpm is dropped
    np.testing.assert_allclose(ours.tempo_map.ticks_at(ours.seconds(probe)), probe, atol=1e-6)


def test_tempo_map_defaults_and_last_event_at_a_tick_wins():
    tempo_map = TempoMap([(960, 600_000), (960, 400_000)], 480)
    assert tempo_map.ticks.tolist() == [0, 960]  # 120 bpm before the first change
    assert tempo_map.bpm.tolist() == [120.0, 150.0]
    assert tempo_map.seconds([960, 1440]).tolist() == [1.0, 1.4]
    with pytest.raises(ValueError, match="positive"):
        TempoMap([(0, 0)], 480)


def test_written_file_reads_back_note_for_note(tmp_path):
    rng = np.random.default_rng(1)
    on = np.sort(rng.integers(0, 20_000, 300))
    pitch = rng.integers(30, 90, 300)
    off = on + rng.integers(1, 500, 300)
    keep = np.unique(np.stack([on, pitch]), axis=1, return_index=True)[1]  # one onset per (tick, pitch)
    on, off, pitch = on[keep], off[keep], pitch[keep]
    velocity = rng.integers(1, 128, on.size)
    tempo_map = TempoMap([(0, 500_000), (7000, 420_000)], TPB)
    data = midi_file_bytes(TPB, [(0, time_signature_event("7/8"))] + tempo_map_events(tempo_map),
                           [NoteTrack("piano", 0, 4, on, off, pitch, velocity)], 21_000)
    path = tmp_path / "w.mid"
    path.write_bytes(data)
    midi = read_midi_file(path)
    assert midi.end_tick == 21_000 and midi.meter == "7/8" and midi.track_names == ["", "piano"]
    assert midi.tempo_map.ticks.tolist() == [0, 7000]
    got = sorted(zip(midi.notes.start_tick.tolist(), midi.notes.pitch.tolist(), midi.notes.velocity.tolist()))
    assert got == sorted(zip(on.tolist(), pitch.tolist(), velocity.tolist()))
    assert set(midi.notes.program.tolist()) == {4}


def test_drum_onsets_file_keeps_times_and_clips_repeated_notes(tmp_path):
    times = np.array([0.0, 0.05, 0.05, 0.5, 1.234567])
    notes = np.array([42, 42, 36, 38, 49])
    path = tmp_path / "d.mid"
    path.write_bytes(drum_onsets_file(times, notes, 100, hold_seconds=0.1))
    pm = pretty_midi.PrettyMIDI(str(path))
    [drums] = pm.instruments
    assert drums.is_drum and drums.name == "drums"
    got = sorted((n.start, n.pitch, n.end) for n in drums.notes)
    assert [p for _, p, _ in got] == [42, 36, 42, 38, 49]
    np.testing.assert_allclose([s for s, _, _ in got], np.sort(times), atol=0.5 / 960 * 0.5)
    hihat = [(s, e) for s, p, e in got if p == 42]
    assert hihat[0][1] == pytest.approx(hihat[1][0])  # held until the next hi-hat, not 0.1 s


def test_annotation_format_sorts_and_labels():
    text = format_annotations([0.5, 0.0, 1.0, 0.5], [38, 36, 39, 42])
    assert text == "0.000000\t36\tBD\n0.500000\t38\tSD\n0.500000\t42\tHH\n1.000000\t39\t-\n"
    with pytest.raises(ValueError, match="differ in length"):
        format_annotations([0.0], [36, 38])
    with pytest.raises(ValueError, match="0..127"):
        format_annotations([0.0], [128])


def test_annotations_round_trip(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(format_annotations([0.25, 0.125], [42, 36]))
    times, notes, written = read_annotations(path)
    assert times.tolist() == [0.125, 0.25] and notes.tolist() == [36, 42] and written == ["36", "42"]
    path.write_text("0.1\tkick\n")
    with pytest.raises(ValueError, match=str(path)):
        read_annotations(path)


def test_unreadable_files_name_the_file_and_the_reason(tmp_path):
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with pytest.raises(MidiFileError, match="empty.mid: zero-length file") as caught:
        read_midi_file(empty)
    assert caught.value.reason == "zero-length file"
    cut = tmp_path / "cut.mid"
    cut.write_bytes(smf(bytes([0x00, 0x90, 60]), fmt=0))
    with pytest.raises(MidiFileError, match="middle of an event"):
        read_midi_file(cut)
    with pytest.raises(MidiFileError, match="cannot read file"):
        read_midi_file(tmp_path / "missing.mid")
