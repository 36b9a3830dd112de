"""Reading assembled-tracks folders and splitting a track's MIDI into voices."""

from __future__ import annotations

import io

import mido
import pretty_midi
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adtos.render.inputs import RenderInputError, load_voices, midi_with_voices, read_tracks
from test_render_support import make_tracks


def test_read_tracks_lists_tracks_with_their_split(tmp_path):
    ids = make_tracks(tmp_path, n=2, seconds=2.0, voices=2)
    tracks = read_tracks(tmp_path)
    assert [t.track_id for t in tracks] == ids
    assert tracks[0].split == "train"
    assert tracks[0].midi_path == tmp_path / "midi" / f"{ids[0]}.mid"


def test_read_tracks_errors_name_the_file_and_what_is_expected(tmp_path):
    with pytest.raises(RenderInputError, match="not a folder"):
        read_tracks(tmp_path / "nowhere")
    with pytest.raises(RenderInputError, match="tracks.parquet: missing"):
        read_tracks(tmp_path)
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "tracks.parquet")
    with pytest.raises(RenderInputError, match="no `track_id` column"):
        read_tracks(tmp_path)
    pq.write_table(pa.table({"track_id": ["a", "a"]}), tmp_path / "tracks.parquet")
    with pytest.raises(RenderInputError, match="duplicate track ids"):
        read_tracks(tmp_path)
    (tmp_path / "tracks.parquet").write_text("not parquet")
    with pytest.raises(RenderInputError, match="not a readable Parquet"):
        read_tracks(tmp_path)


def test_load_voices_by_instrument_name(tmp_path):
    make_tracks(tmp_path, n=1, seconds=2.0, voices=3)
    midi, voices = load_voices(tmp_path / "midi" / "train00000.mid")
    assert sorted(voices) == ["bass", "drums", "piano"]
    assert voices["drums"].is_drum and voices["drums"].notes


def test_a_broken_midi_file_is_a_value_error(tmp_path):
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(ValueError, match="does not parse"):
        load_voices(path)


def test_drum_part_alone_keeps_the_tempo_map_and_note_times(tmp_path):
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    drums = pretty_midi.Instrument(0, is_drum=True, name="drums")
    drums.notes.append(pretty_midi.Note(100, 36, 1.234, 1.3))
    piano = pretty_midi.Instrument(0, name="piano")
    piano.notes.append(pretty_midi.Note(100, 60, 0.5, 1.0))
    midi.instruments += [drums, piano]
    path = tmp_path / "t.mid"
    midi.write(str(path))
    out = tmp_path / "drums.mid"
    out.write_bytes(midi_with_voices(path, {"drums"}))
    alone = pretty_midi.PrettyMIDI(str(out))
    assert [i.name for i in alone.instruments] == ["drums"]
    original = pretty_midi.PrettyMIDI(str(path))
    assert alone.instruments[0].notes[0].start == original.instruments[0].notes[0].start
    assert alone.get_tempo_changes()[1][0] == pytest.approx(100.0)
    assert mido.MidiFile(str(out)).ticks_per_beat == mido.MidiFile(str(path)).ticks_per_beat


def test_midi_with_voices_copies_tracks_byte_for_byte(tmp_path):
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    for name, pitch in (("drums", 36), ("piano", 60), ("bass", 40)):
        instrument = pretty_midi.Instrument(0, is_drum=name == "drums", name=name)
        instrument.notes.append(pretty_midi.Note(100, pitch, 0.5, 1.0))
        midi.instruments.append(instrument)
    path = tmp_path / "t.mid"
    midi.write(str(path))
    assert midi_with_voices(path, {"drums", "piano", "bass"}) == path.read_bytes()
    two = midi_with_voices(path, {"piano", "bass"})
    assert len(two) < path.stat().st_size and two[:4] == b"MThd"
    assert [i.name for i in pretty_midi.PrettyMIDI(io.BytesIO(two)).instruments] == ["piano", "bass"]
    path.write_bytes(path.read_bytes()[:-7])  # truncated inside the last track
    with pytest.raises(ValueError, match="t.mid"):
        midi_with_voices(path, {"drums"})
