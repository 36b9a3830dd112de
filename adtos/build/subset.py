"""Preset-ablation subsets: P drum presets × at most R tracks each.

The paper varies how many drum presets a training set holds and how often
each is reused without rebuilding anything: a subset is a query on the
manifest. Presets are ranked by first use, in track-id order, so the first
P presets of a dataset are the same whatever P is asked for, and a subset
with more presets contains every subset with fewer (for the same R).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adtos.errors import ConfigError
from adtos.fileio import write_text_atomic


@dataclass
class Subset:
    track_ids: list[str]
    presets_available: int  # distinct drum presets in the split
    presets_selected: list[str]  # the first P presets by first use
    tracks_per_preset: dict[str, int] = field(default_factory=dict)  # selected tracks per preset
    tracks_available: int = 0  # tracks of the split
    presets_requested: int = 0  # P asked for
    reuse_requested: int | None = None  # R asked for (None: every track of the presets)

    def shortfall(self) -> str:
        """What of the requested P × R the dataset cannot give ("" when all of it).

        A subset named p16_r2 that holds one track per preset is another point of
        the ablation; the caller refuses or warns with this message.
        """
        problems = []
        if len(self.presets_selected) < self.presets_requested:
            problems.append(f"{self.presets_requested} drum presets requested, the split has "
                            f"{self.presets_available}")
        if self.reuse_requested is not None:
            short = {p: c for p, c in self.tracks_per_preset.items() if c < self.reuse_requested}
            if short:
                most = max(self.tracks_per_preset.values(), default=0)
                problems.append(
                    f"reuse {self.reuse_requested} requested, but {len(short)} of the "
                    f"{len(self.tracks_per_preset)} selected presets have fewer tracks "
                    f"(at most {most} per preset here)")
        if not problems:
            return ""
        return ("; ".join(problems) + ". Build the dataset for the ablation with "
                "configs/ablation_presets.toml, whose training tracks cycle through every "
                "drum preset (train = presets x reuse)")

    def summary(self) -> str:
        counts = sorted(self.tracks_per_preset.values())
        lines = [
            f"split has {self.tracks_available} tracks with {self.presets_available} drum presets",
            f"selected {len(self.presets_selected)} presets (first by first use in track order), "
            f"{len(self.track_ids)} tracks",
        ]
        if counts:
            lines.append(f"tracks per preset: min {counts[0]}, max {counts[-1]}, "
                         f"mean {sum(counts) / len(counts):.2f}")
        return "\n".join(lines)


def select_subset(manifest: pa.Table, drum_presets: int, reuse: int | None = None,
                  split: str = "train") -> Subset:
    """Track ids of `split` whose drum preset is among the first `drum_presets`
    presets (ranked by first use in track-id order), at most `reuse` per preset.

    The ids come back in track-id order. Asking for more presets or more reuse
    than exist selects what there is; `Subset.shortfall()` says what is missing
    and `Subset.summary()` what was selected.
    """
    if drum_presets < 1:
        raise ValueError(f"drum_presets must be >= 1, got {drum_presets}")
    if reuse is not None and reuse < 1:
        raise ValueError(f"reuse must be >= 1, got {reuse}")
    for column in ("track_id", "split", "drum_preset"):
        if column not in manifest.column_names:
            raise ValueError(f"manifest has no {column!r} column (columns: "
                             f"{', '.join(manifest.column_names)})")
    rows = sorted(
        (tid, preset) for tid, s, preset in zip(manifest.column("track_id").to_pylist(),
                                                manifest.column("split").to_pylist(),
                                                manifest.column("drum_preset").to_pylist())
        if s == split and preset is not None
    )
    ranked: list[str] = []
    for _, preset in rows:
        if preset not in ranked:
            ranked.append(preset)
    chosen = ranked[:drum_presets]
    wanted = set(chosen)
    per_preset = {p: 0 for p in chosen}
    track_ids = []
    for tid, preset in rows:
        if preset in wanted and (reuse is None or per_preset[preset] < reuse):
            per_preset[preset] += 1
            track_ids.append(tid)
    return Subset(track_ids=track_ids, presets_available=len(ranked), presets_selected=chosen,
                  tracks_per_preset=per_preset, tracks_available=len(rows),
                  presets_requested=drum_presets, reuse_requested=reuse)


def read_manifest(dataset_dir: str | os.PathLike) -> pa.Table:
    path = Path(dataset_dir) / "manifest.parquet"
    if not path.is_file():
        raise ConfigError(f"{path}: no manifest; is {dataset_dir} a dataset built by `adtos build`?")
    return pq.read_table(path)


def write_track_list(track_ids: list[str], path: str | os.PathLike) -> None:
    """One track id per line: the `PATH:LIST.txt` form the dataset readers accept."""
    write_text_atomic(path, "".join(f"{tid}\n" for tid in track_ids))
