"""Which loops may play together, and the distance that chooses among them.

distance = compatibility cost + usage term + noise

- compatibility: tempo ratio deviation (0 at the master's tempo, growing to
  0.5 at half the tolerance and no further: a later section's master from the
  same theme may change tempo, at that price), genre mismatch (0 same or unknown, 0.5 related, 1 unrelated),
  mode mismatch with the track key (0.5), a fill where a beat is wanted (1),
  another theme than the voice's previous loop (0.5);
- usage: usage_weight * uses / mean uses of the role in this build, so a
  library is covered evenly and the most used loop stays near the mean;
- noise: uniform in [0, selection_noise), so that the draw is among the
  candidates nearest to the best one, not always the same loop.

Hard constraints (never relaxed): same split, same meter, tempo within the
tolerance, a length whose least common multiple with the master's fits in a
section. Candidates are kept sorted by tempo per (meter, bars), so a tempo
window is two binary searches.
"""

from __future__ import annotations

import numpy as np

from adtos.assemble.library import LoopLibrary

FILL_COST = 1.0
MODE_COST = 0.5
THEME_COST = 0.5
SAME_LOOP_COST = 1.0
TEMPO_COST_CAP = 0.5   # what a tempo change between sections costs at most

# Genres that share a family sound plausible together (cost 0.5 instead of 1).
GENRE_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"pop", "rock", "punk", "metal", "country", "blues", "indie", "dance", "soul",
               "funk", "rnb", "hiphop", "reggae", "gospel", "disco", "electronic"}),
    frozenset({"funk", "soul", "hiphop", "rnb", "reggae", "gospel", "neworleans", "afrobeat",
               "highlife", "disco"}),
    frozenset({"jazz", "swing", "bossa", "latin", "afrocuban", "samba", "neworleans", "blues",
               "fusion"}),
    frozenset({"latin", "afrocuban", "afrobeat", "highlife", "middleeastern", "reggae"}),
)


def _genre_root(genre: str) -> str:
    # GMD styles look like "latin-brazilian-samba" or "funk/groove1".
    return genre.replace("/", "-").split("-")[0].replace("_", "").replace(" ", "").replace("&", "n")


def genre_cost_matrix(genres: list[str]) -> np.ndarray:
    roots = [_genre_root(g) for g in genres]
    n = len(genres)
    cost = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            if not roots[i] or not roots[j] or roots[i] == roots[j]:
                cost[i, j] = 0.0
            elif any(roots[i] in f and roots[j] in f for f in GENRE_FAMILIES):
                cost[i, j] = 0.5
    return cost


class TempoPool:
    """Loops of one role and split, sorted by tempo within each (meter, bars)."""

    def __init__(self, library: LoopLibrary, members: np.ndarray):
        self.groups: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.size = len(members)
        keys = np.stack([library.meter[members], library.bars[members]], axis=1) if len(members) \
            else np.zeros((0, 2), dtype=np.int64)
        for meter, bars in sorted({tuple(k) for k in keys.tolist()}):
            group = members[(library.meter[members] == meter) & (library.bars[members] == bars)]
            order = np.argsort(library.tempo[group], kind="stable")
            self.groups[(meter, bars)] = (group[order], library.tempo[group][order])

    def window(self, meter: int, bars_ok, tempo: float, tolerance: float) -> np.ndarray:
        """Loops of this meter whose bars pass `bars_ok` and whose tempo is within tolerance."""
        found = []
        for (m, bars), (loops, tempi) in self.groups.items():
            if m != meter or not bars_ok(bars):
                continue
            lo = np.searchsorted(tempi, tempo * (1 - tolerance), side="left")
            hi = np.searchsorted(tempi, tempo * (1 + tolerance), side="right")
            if hi > lo:
                found.append(loops[lo:hi])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def count_in_window(self, meter: np.ndarray, master_bars: np.ndarray, tempo: np.ndarray,
                        tolerance: float, max_bars: int) -> np.ndarray:
        """For many masters at once: how many loops could layer on each."""
        counts = np.zeros(len(meter), dtype=np.int64)
        for (m, bars), (_, tempi) in self.groups.items():
            fits = (meter == m) & (np.lcm(master_bars, bars) <= max_bars)
            if fits.any():
                lo = np.searchsorted(tempi, tempo[fits] * (1 - tolerance), side="left")
                hi = np.searchsorted(tempi, tempo[fits] * (1 + tolerance), side="right")
                counts[fits] += hi - lo
        return counts


class Selector:
    """Draws loops by distance and counts their uses over one build."""

    def __init__(self, library: LoopLibrary, usage_weight: float, noise: float,
                 tolerance: float):
        self.library = library
        self.usage_weight = usage_weight
        self.noise = noise
        self.tolerance = tolerance
        self.uses = np.zeros(len(library), dtype=np.int64)
        self.genre_cost = genre_cost_matrix(library.genre_names)
        self._role_uses = np.zeros(len(library.role_names), dtype=np.int64)
        self._role_size = np.maximum(np.bincount(library.role, minlength=len(library.role_names)), 1)

    def set_pool_size(self, role: int, size: int) -> None:
        """Mean uses are taken over the loops that can be drawn (one split), not the index."""
        self._role_size[role] = max(int(size), 1)

    def draw(self, rng: np.random.Generator, candidates: np.ndarray, *, tempo: float | None = None,
             genre: int | None = None, mode: int | None = None, theme: int | None = None,
             avoid: int | None = None) -> int:
        lib = self.library
        cost = FILL_COST * lib.is_fill[candidates]
        if tempo is not None:   # capped: a later master may change tempo, at a price
            deviation = np.abs(lib.tempo[candidates] / tempo - 1.0) / self.tolerance
            cost = cost + np.minimum(deviation, TEMPO_COST_CAP)
        if genre is not None:
            cost = cost + self.genre_cost[genre, lib.genre[candidates]]
        if mode is not None and mode >= 0:
            loop_mode = lib.key_mode[candidates]
            cost = cost + MODE_COST * ((loop_mode >= 0) & (loop_mode != mode))
        if theme is not None:
            cost = cost + THEME_COST * (lib.theme[candidates] != theme)
        if avoid is not None:
            cost = cost + SAME_LOOP_COST * (candidates == avoid)
        role = lib.role[candidates[0]]
        mean_uses = max(self._role_uses[role] / self._role_size[role], 1.0)
        cost = cost + self.usage_weight * self.uses[candidates] / mean_uses
        cost = cost + rng.random(len(candidates)) * self.noise
        chosen = int(candidates[int(np.argmin(cost))])
        self.uses[chosen] += 1
        self._role_uses[role] += 1
        return chosen

    def release(self, loop: int) -> None:
        """Undo the count of a loop that was drawn but is not played after all."""
        self.uses[loop] -= 1
        self._role_uses[self.library.role[loop]] -= 1
