"""The MIDI object model of ADTOS: one reader, one tempo map, one note array, one writer.

    from adtos.midi import read_midi_file
    midi = read_midi_file("take.mid")        # MidiFile; MidiFileError says why a file is unusable
    midi.notes.start_tick, midi.notes.pitch  # NoteArray: parallel arrays, one entry per note
    midi.seconds(midi.notes.start_tick)      # through midi.tempo_map (pretty_midi's arithmetic)

    parser   bytes → typed events per track (RawTrack, TempoChange, TimeSignature,
             KeySignature, ProgramChange); select_tracks copies track chunks
    tempo    TempoMap: ticks ↔ seconds
    notes    NoteArray, pair_notes
    file     MidiFile, read_midi_file, MidiFileError
    writer   NoteTrack, midi_file_bytes (format 1), encode_smf (format 0), meta events,
             drum_onsets_file (onsets in seconds → a drum MIDI file)
"""

from adtos.midi.file import (DEFAULT_TIME_SIGNATURE, MAX_QUARTER_NOTES, MidiFile, MidiFileError,
                             read_midi_file)
from adtos.midi.notes import NoteArray, pair_notes
from adtos.midi.parser import (KeySignature, ProgramChange, RawTrack, TempoChange, TimeSignature,
                               parse_smf, select_tracks)
from adtos.midi.tempo import DEFAULT_MPQN, TempoMap
from adtos.midi.writer import (NoteTrack, drum_onsets_file, encode_smf, key_signature_event, midi_file_bytes,
                               tempo_event, tempo_map_events, time_signature_event,
                               track_name_event)

__all__ = [
    "DEFAULT_MPQN", "DEFAULT_TIME_SIGNATURE", "KeySignature", "MAX_QUARTER_NOTES", "MidiFile",
    "MidiFileError", "NoteArray", "NoteTrack", "ProgramChange", "RawTrack", "TempoChange",
    "TempoMap", "TimeSignature", "drum_onsets_file", "encode_smf", "key_signature_event", "midi_file_bytes",
    "pair_notes", "parse_smf", "read_midi_file", "select_tracks", "tempo_event",
    "tempo_map_events", "time_signature_event", "track_name_event",
]
