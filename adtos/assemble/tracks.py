"""`assemble_tracks`: loop index -> track MIDI, drum annotations, tracks.parquet.

Tracks are planned one after another because the usage term depends on what
earlier tracks used; each track draws from its own Generator seeded with
(seed, track number), so a track's randomness does not depend on the noise
drawn for another.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from adtos.assemble.harmony import key_name
from adtos.assemble.library import LoopLibrary
from adtos.assemble.options import AssembleOptions
from adtos.assemble.plan import TrackPlan, TrackPlanner
from adtos.assemble.write import WrittenTrack, write_track
from adtos.fileio import atomic_path, write_bytes_atomic, write_text_atomic

LOOP_STRUCT = pa.struct([
    ("loop_id", pa.string()),      # "" for a bass line made from the harmony
    ("section", pa.int32()),
    ("voice", pa.string()),
    ("start_sec", pa.float64()),
    ("start_qn", pa.float64()),
    ("repeats", pa.int32()),
    ("derived", pa.bool_()),
    ("transpose", pa.int8()),
])

TRACKS_SCHEMA = pa.schema([
    ("track_id", pa.string()),
    ("split", pa.string()),
    ("seed", pa.int64()),
    ("track_index", pa.int32()),
    ("duration", pa.float64()),            # seconds actually written (to a bar line)
    ("requested_duration", pa.float64()),
    ("voices", pa.int32()),
    ("voice_names", pa.list_(pa.string())),
    ("quantize", pa.bool_()),
    ("theme", pa.string()),
    ("genre", pa.string()),
    ("meter", pa.string()),                # first section
    ("section_meters", pa.list_(pa.string())),
    ("key", pa.string()),                  # "" for drums only or unknown
    ("tempo", pa.float64()),               # first section, bpm
    ("section_tempi", pa.list_(pa.float64())),
    ("section_bars", pa.list_(pa.int32())),
    ("section_start_sec", pa.list_(pa.float64())),
    ("loops", pa.list_(LOOP_STRUCT)),
    ("derived_voices", pa.list_(pa.string())),
    ("libraries", pa.list_(pa.string())),
    ("midi_path", pa.string()),            # relative to the tracks folder
    ("annotation_path", pa.string()),
    ("drum_onsets", pa.int32()),
])


def _track_row(track_id: str, index: int, plan: TrackPlan, written: WrittenTrack,
               library: LoopLibrary, options: AssembleOptions) -> dict:
    sections = [s for s, tick in zip(plan.sections, written.section_ticks)
                if tick < round(plan.end_qn * options.resolution)]
    loops = [{"loop_id": "" if p.loop < 0 else str(library.loop_id[p.loop]), "section": p.section,
              "voice": p.voice, "start_sec": start_sec, "start_qn": p.start_qn,
              "repeats": p.repeats, "derived": p.derived, "transpose": p.transpose}
             for p, start_sec in zip(plan.placements, written.placement_sec)
             if p.start_qn < plan.end_qn]
    used = sorted({library.library_names[library.library[p.loop]] for p in plan.placements if p.loop >= 0})
    return {
        "track_id": track_id, "split": options.split, "seed": options.seed, "track_index": index,
        "duration": written.end_sec, "requested_duration": float(options.duration),
        "voices": int(options.voices), "voice_names": list(options.voice_names),
        "quantize": bool(options.quantize),
        "theme": library.theme_names[plan.theme], "genre": library.genre_names[plan.genre],
        "meter": sections[0].meter, "section_meters": [s.meter for s in sections],
        "key": key_name(*plan.key) if plan.key else "",
        "tempo": sections[0].tempo, "section_tempi": [s.tempo for s in sections],
        "section_bars": [s.bars for s in sections],
        "section_start_sec": written.section_sec[: len(sections)],
        "loops": loops, "derived_voices": plan.derived_voices, "libraries": used,
        "midi_path": f"midi/{track_id}.mid", "annotation_path": f"annotations/{track_id}.txt",
        "drum_onsets": written.drum_onsets,
    }


def assemble_tracks(loops: pa.Table, out_dir: str | os.PathLike, options: AssembleOptions, *,
                    sources: list[str] | None = None, progress: bool = False) -> pa.Table:
    """Assemble `options.tracks` tracks from a loop index table into `out_dir`.

    `loops` is a loop index (one or several concatenated). Everything the
    library cannot satisfy raises AssembleError before a file is written.
    Returns the tracks table, also written to `out_dir/tracks.parquet`.
    """
    library = LoopLibrary.from_table(loops)
    planner = TrackPlanner(library, options)
    out = Path(out_dir)
    (out / "midi").mkdir(parents=True, exist_ok=True)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    rows = []
    for index in tqdm(range(options.tracks), desc="assemble", unit="track", disable=not progress):
        rng = np.random.default_rng([options.seed, index])
        plan = planner.plan(rng, float(options.duration))
        written = write_track(plan, options.resolution, options.quantize)
        track_id = options.track_id(index)
        write_bytes_atomic(out / "midi" / f"{track_id}.mid", written.midi)
        write_text_atomic(out / "annotations" / f"{track_id}.txt", written.annotation)
        rows.append(_track_row(track_id, index, plan, written, library, options))
    table = pa.Table.from_pylist(rows, schema=TRACKS_SCHEMA)
    with atomic_path(out / "tracks.parquet") as tmp:
        pq.write_table(table, tmp)
    uses = planner.selector.uses
    summary = {
        "options": options.to_dict(),
        "sources": [str(s) for s in (sources or [])],
        "loops_in_index": len(library),
        "loops_used": int((uses > 0).sum()),
        # Rows left out: bars < 1, bar_qn or tempo not > 0, a meter like 4/4 not found, no notes.
        "invalid_loops": int((~library.valid).sum()),
        "invalid_loop_examples": [str(i) for i in library.loop_id[~library.valid][:5]],
        "derived_voices": planner.derived_voices,
    }
    write_text_atomic(out / "assemble.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return table
