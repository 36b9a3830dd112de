"""Which preset plays which voice of which track.

The paper's preset ablation needs every preset used about equally often, and
a preset heard with many different partners: a model must not learn that
"this snare always comes with that piano". So presets are dealt like cards:
each role has its own pool, shuffled with a seed; track k of a split takes
card k of the current shuffle, and every pass through the pool (a "cycle")
uses a fresh shuffle, chosen among a few seeded ones so that no combination
of presets repeats while the pools allow it. Within a cycle no preset repeats, so uses differ by at
most one across the pool, and because the roles are reshuffled independently
the combination of the other voices changes from cycle to cycle.

The assignment depends only on the seed, the preset library, the track ids and
their splits, never on which voices are rendered: the 1-voice and 4-voice
variants of one track keep the same drum preset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from adtos.presets.discover import preset_role

# Lead and bridge come last: a role's deal depends only on the roles before it,
# so adding them changed no earlier voice's presets.
VOICES: tuple[str, ...] = ("drums", "piano", "bass", "guitar", "lead", "bridge")

# The column name of each voice's preset in render.parquet and the manifest.
PRESET_COLUMN: dict[str, str] = {"drums": "drum_preset", "piano": "piano_preset",
                                  "bass": "bass_preset", "guitar": "guitar_preset",
                                  "lead": "lead_preset", "bridge": "bridge_preset"}

# Splits whose tracks must only hear held-out presets.
HELD_OUT_SPLITS = frozenset({"val", "validation", "test"})


def preset_pool(presets: Sequence[Any], role: str, held_out: bool) -> list[Any]:
    """The presets a voice of `role` may use, sorted by id.

    When the library has both a train and a val pool for the role, training
    tracks use train (and unpooled) presets and held-out tracks use val (and
    unpooled) presets; otherwise every preset of the role is allowed. A pitched
    role with no preset of its own falls back to presets marked `other`. The
    `other` presets of a library made before the lead and bridge roles existed
    play those roles by their GM program (adtos.presets.discover.preset_role).
    """
    candidates = [p for p in presets if preset_role(p) == role]
    if not candidates and role != "drums":
        candidates = [p for p in presets if p.role == "other"]
    pools = {p.pool for p in candidates}
    if {"train", "val"} <= pools:
        excluded = "train" if held_out else "val"
        candidates = [p for p in candidates if p.pool != excluded]
    return sorted(candidates, key=lambda p: p.id)


def assign_presets(
    track_ids: Iterable[str],
    presets: Sequence[Any],
    *,
    splits: Mapping[str, str | None] | None = None,
    seed: int = 0,
) -> dict[str, dict[str, str | None]]:
    """Map each track id to {voice: preset id} for every voice in VOICES.

    `splits` maps track id to its split (`train`, `val`, `test`); held-out
    splits are dealt separately, from the held-out pool. A voice whose pool is
    empty gets None (rendering such a voice is then a per-track error).
    """
    splits = splits or {}
    ids = sorted(set(track_ids))
    groups: dict[bool, list[str]] = {False: [], True: []}
    for track_id in ids:
        split = (splits.get(track_id) or "").lower()
        groups[split in HELD_OUT_SPLITS].append(track_id)

    assignment: dict[str, dict[str, str | None]] = {track_id: {} for track_id in ids}
    for held_out, group in groups.items():
        pools = [[p.id for p in preset_pool(presets, role, held_out)] for role in VOICES]
        dealt = _deal(pools, len(group), seed, held_out)
        for k, track_id in enumerate(group):
            assignment[track_id] = {role: dealt[r][k] for r, role in enumerate(VOICES)}
    return assignment


# Shuffles tried per cycle in search of one that repeats no earlier combination.
SHUFFLE_TRIES = 16


def _deal(pools: list[list[str]], n_tracks: int, seed: int, held_out: bool
          ) -> list[list[str | None]]:
    """Deal each role's pool over track positions 0..n_tracks-1, cycle by cycle.

    Drums are a plain series of seeded shuffles. Each later role picks, per
    cycle, among a few seeded shuffles the first that repeats no combination
    of the roles before it (else the one repeating fewest). A position's preset
    depends only on earlier positions, so appending tracks changes no earlier
    track's presets; for that, each role is dealt over whole cycles, and the
    earlier roles over enough positions to cover them.
    """
    sizes = [max(len(pool), 1) for pool in pools]
    lengths = [0] * len(pools)
    needed = max(n_tracks, 1)
    for r in reversed(range(len(pools))):
        lengths[r] = -(-needed // sizes[r]) * sizes[r]  # whole cycles
        needed = lengths[r]

    dealt: list[list[str | None]] = []
    for r, pool in enumerate(pools):
        if not pool:
            dealt.append([None] * lengths[r])
            continue
        seen: set[tuple] = set()
        series: list[str | None] = []
        for cycle in range(lengths[r] // len(pool)):
            start = cycle * len(pool)
            prefixes = [tuple(dealt[q][start + i] for q in range(r)) for i in range(len(pool))]
            best, best_repeats = None, None
            for attempt in range(SHUFFLE_TRIES if r else 1):
                rng = np.random.default_rng([seed, r, int(held_out), cycle, attempt])
                order = [pool[j] for j in rng.permutation(len(pool))]
                combos = [prefix + (preset,) for prefix, preset in zip(prefixes, order)]
                repeats = sum(combo in seen for combo in combos) + len(combos) - len(set(combos))
                if best_repeats is None or repeats < best_repeats:
                    best, best_repeats = (order, combos), repeats
                if repeats == 0:
                    break
            order, combos = best
            seen.update(combos)
            series.extend(order)
        dealt.append(series)
    return [series[:n_tracks] for series in dealt]
