"""A deterministic synthetic loop index with the real schema, for tests and
benchmarks that must run without a MIDI library (150,000 loops in seconds).

Drum loops are kick/snare/hi-hat grooves with human timing and velocity;
piano, bass and guitar loops play I-V-vi-IV (minor: i-VI-III-VII) in their
key. Loops come in themes of `theme_size` that share tempo, meter and genre.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from adtos.assemble.harmony import PITCH_CLASSES
from adtos.assemble.library import REQUIRED_COLUMNS

GENRES = ("rock", "funk", "pop", "jazz", "hiphop")
BAR_CHOICES = (1, 2, 4, 8)

# One bar of each meter: (onset qn, GM note) for drums.
_DRUM_BAR = {
    "4/4": [(0, 36), (1, 38), (2, 36), (2.5, 36), (3, 38)] + [(h / 2, 42) for h in range(8)],
    "3/4": [(0, 36), (1, 38), (2, 38)] + [(h / 2, 42) for h in range(6)],
    "6/8": [(0, 36), (1.5, 38)] + [(h / 2, 42) for h in range(6)],
}
_BAR_QN = {"4/4": 4.0, "3/4": 3.0, "6/8": 3.0}
_PROGRESSION = {0: (0, 7, 9, 5), 1: (0, 8, 3, 10)}


def _pitched_bar(role: str, bar_qn: float) -> list[tuple[float, float, int]]:
    """(onset, duration, chord tone index or -1 for root-in-bass) of one bar."""
    if role == "piano":
        return [(0.0, bar_qn * 0.9, t) for t in range(3)] + [(bar_qn / 2, bar_qn / 2 * 0.9, t) for t in range(3)]
    if role == "bass":
        return [(0.0, 0.9, -1), (bar_qn / 2, 0.9, -1)]
    return [(b, 0.45, t) for b in np.arange(0, bar_qn, 1.0) for t in range(3)]


def _group_notes(rng, role, meter, bars, n, tonic, mode):
    bar_qn = _BAR_QN[meter]
    if role == "drums":
        bar = _DRUM_BAR[meter]
        onset = np.array([o for o, _ in bar] * bars) + np.repeat(np.arange(bars) * bar_qn, len(bar))
        pitch = np.tile([p for _, p in bar], bars)
        dur = np.full(len(onset), 0.1)
        onset = np.tile(onset, (n, 1)) + rng.normal(0, 0.02, (n, len(onset)))
        keep = rng.random(onset.shape) > 0.1
        keep[:, 0] = True   # the downbeat kick
        pitch = np.tile(pitch, (n, 1))
        velocity = np.clip(rng.normal(90, 18, onset.shape), 1, 127)
    else:
        bar = _pitched_bar(role, bar_qn)
        onset = np.array([o for o, _, _ in bar] * bars) + np.repeat(np.arange(bars) * bar_qn, len(bar))
        dur = np.tile([d for _, d, _ in bar], bars)
        tone = np.tile([t for _, _, t in bar], bars)
        degree_of_bar = np.repeat(np.arange(bars) % 4, len(bar))
        progression = np.array([_PROGRESSION[m] for m in mode])            # (n, 4)
        minor_chord = np.array([[0, 1, 1, 0], [1, 0, 0, 0]])[mode]          # vi is minor, VI major
        root = tonic[:, None] + progression[:, degree_of_bar]
        interval = np.where(tone < 0, 0, np.where(
            (tone == 1) & (minor_chord[:, degree_of_bar] == 1), 3,
            np.array([0, 4, 7])[np.clip(tone, 0, 2)]))
        base = {"piano": 60, "bass": 36, "guitar": 52}[role]
        pitch = base + root % 12 + interval
        onset = np.tile(onset, (n, 1)) + rng.normal(0, 0.01, (n, len(onset)))
        keep = np.ones(onset.shape, dtype=bool)
        velocity = np.clip(rng.normal(75, 10, onset.shape), 1, 127)
        dur = np.tile(dur, (n, 1))
    onset = np.clip(onset, 0, bars * bar_qn - 1e-3)
    if role == "drums":
        dur = np.full(onset.shape, 0.1)
    counts = keep.sum(axis=1)
    return (counts, pitch[keep], onset[keep], dur[keep], np.rint(velocity[keep]))


def synthetic_loop_index(counts: dict[str, int] | None = None, *, seed: int = 0,
                         meters: tuple[str, ...] = ("4/4", "3/4"), theme_size: int = 4,
                         tempo_range: tuple[float, float] = (70.0, 160.0), val_share: float = 0.1,
                         library: str = "synthetic") -> pa.Table:
    """A loop index table (docs/ARCHITECTURE.md schema) of synthetic loops.

    counts: loops per role, e.g. {"drums": 40, "piano": 20}; default 40/20/10/10.
    """
    counts = counts or {"drums": 40, "piano": 20, "bass": 10, "guitar": 10}
    rng = np.random.default_rng(seed)
    columns: dict[str, list] = {name: [] for name in REQUIRED_COLUMNS}
    extra: dict[str, list] = {"source": [], "start_bar": [], "end_bar": []}
    offsets_parts, pitch_parts, onset_parts, dur_parts, vel_parts = [], [], [], [], []
    for role, total in counts.items():
        n_themes = max(1, -(-total // theme_size))
        theme = np.arange(total) // theme_size
        theme_tempo = rng.uniform(*tempo_range, n_themes)
        theme_meter = rng.integers(len(meters), size=n_themes)
        theme_genre = rng.integers(len(GENRES), size=n_themes)
        theme_split = np.where(rng.random(n_themes) < val_share, "val", "train")
        tempo = theme_tempo[theme] * rng.uniform(0.98, 1.02, total)
        meter_index = theme_meter[theme]
        bars = np.array(BAR_CHOICES)[rng.integers(len(BAR_CHOICES), size=total)]
        tonic = rng.integers(12, size=total)
        mode = rng.integers(2, size=total)
        order = np.lexsort((bars, meter_index))   # group rows so notes generate per group
        for m, b in sorted({(int(meter_index[i]), int(bars[i])) for i in range(total)}):
            rows = order[(meter_index[order] == m) & (bars[order] == b)]
            c, p, o, d, v = _group_notes(rng, role, meters[m], b, len(rows), tonic[rows], mode[rows])
            offsets_parts.append(c)
            pitch_parts.append(p)
            onset_parts.append(o)
            dur_parts.append(d)
            vel_parts.append(v)
            ids = rows.tolist()
            names = [f"{role}{t:05d}" for t in theme[rows].tolist()]
            genres = [GENRES[g] for g in theme_genre[theme[rows]].tolist()]
            splits = theme_split[theme[rows]].tolist()
            n = len(ids)
            columns["loop_id"] += [f"{library}/{role}/{i:06d}" for i in ids]
            columns["library"] += [library] * n
            columns["role"] += [role] * n
            columns["derived"] += [False] * n
            columns["genre"] += genres
            columns["theme"] += [f"{library}/{name}" for name in names]
            columns["split"] += splits
            columns["beat_type"] += ([("fill" if i % 7 == 6 else "beat") for i in ids]
                                     if role == "drums" else [""] * n)
            columns["tempo"] += tempo[rows].tolist()
            columns["meter"] += [meters[m]] * n
            columns["bars"] += [b] * n
            columns["bar_qn"] += [_BAR_QN[meters[m]]] * n
            columns["key"] += ([""] * n if role == "drums" else
                               [f"{PITCH_CLASSES[t]}:{'min' if md else 'maj'}"
                                for t, md in zip(tonic[rows].tolist(), mode[rows].tolist())])
            extra["source"] += [f"{name}.mid" for name in names]
            extra["start_bar"] += [0] * n
            extra["end_bar"] += [b] * n
    note_counts = np.concatenate(offsets_parts)
    offsets = pa.array(np.concatenate([[0], np.cumsum(note_counts)]).astype(np.int32))
    table = {name: pa.array(columns[name], type=REQUIRED_COLUMNS[name])
             for name in REQUIRED_COLUMNS if not name.startswith("note_")}
    table["note_pitch"] = pa.ListArray.from_arrays(offsets, pa.array(np.concatenate(pitch_parts).astype(np.int8)))
    table["note_start_qn"] = pa.ListArray.from_arrays(offsets, pa.array(np.concatenate(onset_parts).astype(np.float32)))
    table["note_dur_qn"] = pa.ListArray.from_arrays(offsets, pa.array(np.concatenate(dur_parts).astype(np.float32)))
    table["note_velocity"] = pa.ListArray.from_arrays(offsets, pa.array(np.concatenate(vel_parts).astype(np.int8)))
    table["note_count"] = pa.array(note_counts.astype(np.int32))
    table["source"] = pa.array(extra["source"])
    table["start_bar"] = pa.array(extra["start_bar"], type=pa.int32())
    table["end_bar"] = pa.array(extra["end_bar"], type=pa.int32())
    table["key_source"] = pa.array(["" if k == "" else "label" for k in columns["key"]])
    # The remaining contract columns, so that `adtos.index.read_loop_index` accepts the table.
    tempo = np.asarray(columns["tempo"])
    seconds = np.asarray(columns["bars"]) * np.asarray(columns["bar_qn"]) * 60.0 / tempo
    table["start_sec"] = pa.array(np.zeros(len(tempo)))
    table["end_sec"] = pa.array(seconds)
    onsets, velocities = np.concatenate(onset_parts), np.concatenate(vel_parts)
    starts = np.concatenate([[0], np.cumsum(note_counts)[:-1]])
    loop_of_note = np.repeat(np.arange(len(tempo)), note_counts)
    deviation_ms = np.abs(onsets - np.round(onsets * 4) / 4) * 60000.0 / tempo[loop_of_note]
    safe = np.maximum(note_counts, 1)
    mean_velocity = np.add.reduceat(velocities, starts) / safe
    table["timing_mad_ms"] = pa.array(np.add.reduceat(deviation_ms, starts) / safe)
    table["velocity_std"] = pa.array(np.sqrt(np.maximum(
        np.add.reduceat(velocities ** 2, starts) / safe - mean_velocity ** 2, 0)))
    seen = np.zeros((len(tempo), 128), dtype=bool)
    seen[loop_of_note, velocities.astype(np.int64)] = True
    distinct = seen.sum(axis=1)
    table["velocity_distinct"] = pa.array(distinct / safe)
    table["drummer"] = pa.array([""] * len(tempo))
    table["kind"] = pa.array(["synthetic"] * len(tempo))
    order = ["loop_id", "library", "source", "role", "derived", "genre", "theme", "split", "beat_type",
             "tempo", "meter", "bars", "bar_qn", "start_bar", "end_bar", "start_sec", "end_sec", "key",
             "key_source", "note_count", "timing_mad_ms", "velocity_std", "velocity_distinct",
             "note_pitch", "note_start_qn", "note_dur_qn", "note_velocity", "drummer", "kind"]
    return pa.table({name: table[name] for name in order})
