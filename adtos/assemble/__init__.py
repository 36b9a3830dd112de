"""Assemble themed multi-voice tracks from a loop index.

    from adtos.assemble import AssembleOptions, assemble_tracks
    tracks = assemble_tracks(loops, "out/tracks", AssembleOptions(tracks=100, duration=180))

Writes `midi/<id>.mid` (one instrument per voice), `annotations/<id>.txt`
(drum onsets: time, GM note, class) and `tracks.parquet`; see
docs/ARCHITECTURE.md, "Assembled tracks".
"""

from adtos.assemble.options import AssembleError, AssembleOptions
from adtos.assemble.tracks import TRACKS_SCHEMA, assemble_tracks
from adtos.assemble.write import quantize_track_file

__all__ = ["AssembleError", "AssembleOptions", "assemble_tracks", "quantize_track_file", "TRACKS_SCHEMA"]
