"""How many different drum sounds a preset library really holds, per class.

A library of 512 drum presets can hold far fewer drum *sounds*: GM soundfonts
share their samples across kit programs, composite kits only recombine them, and
an effect chain is not a new drum. Each drum preset is rendered dry (its effect
chain removed) by the renderer's own synthesis, one hit per piece at velocity 100
(kick 36, snare 38, closed hi-hat 42, open hi-hat 46, crash 49), and each hit
is reduced to a 64-band log spectrum of its first 186 ms (`hit_spectrum`).
Two hits whose spectra have a cosine similarity above 0.995 are the same sound.

`distinct_sounds` counts them by leader clustering in library order: a hit
joins the first earlier representative it is near-identical to, else it becomes
a representative, so the representatives are pairwise distinct (no two above
the threshold). `connected_sounds` is the conservative count: the connected
components of the near-identical graph, where a chain of small steps (a sample
retuned by 10, 20, 30... cents) is one sound.

Which sources contribute is measured by counting again on subsets of the hits:
the base kits alone, the hits without per-piece variation ("recorded"), and
each source family (soundfont kits, sampled kits).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from adtos.fileio import write_csv_atomic
from adtos.plotting import pyplot, save_figure
from adtos.presets.model import NOTE_PIECE, Preset
from adtos.presets.sampler import preset_player

# The pieces measured: the most common GM note of each, as in the issue that
# introduced this report (closed and open hi-hat apart: they are different sounds).
DIVERSITY_NOTES: dict[str, int] = {"kick": 36, "snare": 38, "closed_hihat": 42,
                                   "open_hihat": 46, "crash": 49}
HIT_VELOCITY = 100
SAMPLE_RATE = 44100
WINDOW = 8192  # samples: the first 186 ms at 44.1 kHz, attack and early decay
N_BANDS = 64
F_MIN, F_MAX = 30.0, 16000.0  # band edges, log-spaced; above 16 kHz is mostly empty in SF2s
LOG_FLOOR = 1e-5  # added before the log, relative to the loudest band (-100 dB)
SIMILARITY = 0.995  # cosine above this: the same sound


def hit_spectrum(hit: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A hit's 64-band log magnitude spectrum over its first `WINDOW` samples.

    `hit` is (samples,) or (samples, channels), starting at the onset. Channels
    are averaged; the hit is zero-padded to the window, transformed without a window function
    (a taper would remove the attack, which is most of what tells drums apart),
    and the magnitudes are summed in log-spaced bands from 30 Hz to 16 kHz
    (scaled with the sample rate's window so 48 kHz audio gives the same bands).
    """
    hit = np.asarray(hit, dtype=np.float64)
    if hit.ndim == 2:
        hit = hit.mean(axis=1)
    if hit.ndim != 1:
        raise ValueError(f"a hit must be (samples,) or (samples, channels), got {hit.shape}")
    n = int(round(WINDOW * sample_rate / SAMPLE_RATE))
    frame = np.zeros(n)
    frame[:min(n, len(hit))] = hit[:n]
    if not np.isfinite(frame).all() or np.sqrt(np.mean(frame ** 2)) < 1e-9:
        raise ValueError("the hit is silent (RMS below 1e-9 in its first 186 ms) or not finite")
    magnitude = np.abs(np.fft.rfft(frame))
    bins = np.searchsorted(np.fft.rfftfreq(n, 1.0 / sample_rate),
                           np.geomspace(F_MIN, F_MAX, N_BANDS + 1))
    # A band narrower than one bin (the lowest ones) takes the bin it falls in.
    bands = np.array([magnitude[lo:max(hi, lo + 1)].sum() for lo, hi in zip(bins[:-1], bins[1:])])
    log_bands = np.log(bands + LOG_FLOOR * bands.max())
    # The mean is removed so that the cosine compares spectral shape alone: on
    # raw log values it would depend on the level and the units (a constant
    # offset pulls every cosine towards 1).
    return log_bands - log_bands.mean()


def _unit(spectra: np.ndarray) -> np.ndarray:
    spectra = np.asarray(spectra, dtype=np.float64)
    if spectra.ndim != 2:
        raise ValueError(f"spectra must be (sounds, bands), got shape {spectra.shape}")
    norms = np.linalg.norm(spectra, axis=1, keepdims=True)
    return spectra / np.where(norms > 0, norms, 1.0)


def distinct_sounds(spectra: np.ndarray, threshold: float = SIMILARITY) -> np.ndarray:
    """Leader clustering: for each row, the index of its representative row.

    Rows are taken in order; a row whose cosine similarity to an earlier
    representative exceeds `threshold` joins the first such one, else it is a
    representative itself. The number of distinct sounds is the number of
    representatives, `len(np.unique(result))`.
    """
    unit = _unit(spectra)
    leaders: list[int] = []
    labels = np.empty(len(unit), dtype=np.int64)
    for i, row in enumerate(unit):
        if leaders:
            similar = unit[leaders] @ row > threshold
            if similar.any():
                labels[i] = leaders[int(np.argmax(similar))]
                continue
        leaders.append(i)
        labels[i] = i
    return labels


def connected_sounds(spectra: np.ndarray, threshold: float = SIMILARITY) -> int:
    """The number of connected components of the near-identical graph."""
    from scipy.sparse.csgraph import connected_components  # lazy: scipy is slow to import

    unit = _unit(spectra)
    if len(unit) == 0:
        return 0
    count, _ = connected_components(unit @ unit.T > threshold, directed=False)
    return int(count)


# -- rendering ----------------------------------------------------------------------------


def dry_preset(preset: Preset) -> Preset:
    """The preset without its effect chain (everything else, variation included, kept)."""
    data = preset.to_json()
    data.update(effects=[], id="")
    return Preset.from_json(data)


def render_hit(bank: Any, preset: Preset, note: int, velocity: int = HIT_VELOCITY,
               sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One hit of `note` rendered by `bank` (the renderer's synthesis): (WINDOW, 2)."""
    import pretty_midi  # lazy: only the report's renders need it

    instrument = pretty_midi.Instrument(program=0, is_drum=True)
    instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=note, start=0.0, end=0.1))
    # as the renderer does: sampled kits by the native sampler, the others by `bank`
    return preset_player(preset, bank, sample_rate).render(preset, instrument, WINDOW / sample_rate)


@dataclass
class SoundOrigin:
    """Where one preset's sound for one piece comes from."""

    kit: str  # the kit that plays it: "<soundfont> <bank>:<program>" or a sampled kit's name
    family: str  # "soundfont" or "sampled"
    base: bool  # the preset is a whole kit, not a composite
    varied: bool  # per-piece variation changes this piece's sound


def sound_origin(preset: Preset, note: int) -> SoundOrigin:
    """The kit, source family and variation behind `note` in a drum preset."""
    note = preset.remap.get(note, note)
    piece = NOTE_PIECE.get(note)
    source = preset.pieces.get(piece, preset.source) if piece else preset.source
    if preset.sampled:
        family, kit = "sampled", f"{source['format']}:{source['kit']}"
        chosen = preset.source.get("instruments", {}).get(str(note))
        if chosen and piece not in preset.pieces:
            kit += f" [{chosen}]"
    else:
        family, kit = "soundfont", f"{source['soundfont']} {source['bank']}:{source['program']}"
    tuned = float(preset.pieces[piece].get("tune_cents", 0.0)) if piece in preset.pieces else 0.0
    varied = bool(preset.variation.get("pieces", {}).get(piece)) or tuned != 0.0
    return SoundOrigin(kit=kit, family=family, base=not preset.pieces, varied=varied)


# -- the report ---------------------------------------------------------------------------

# Subsets counted separately: name -> which hits take part.
SUBSETS: dict[str, Callable[[SoundOrigin], bool]] = {
    "all": lambda o: True,
    "recorded (no variation)": lambda o: not o.varied,
    "base kits alone": lambda o: o.base and not o.varied,
    "soundfont kits": lambda o: o.family == "soundfont",
    "sampled kits": lambda o: o.family == "sampled",
    "soundfont kits, no variation": lambda o: o.family == "soundfont" and not o.varied,
    "sampled kits, no variation": lambda o: o.family == "sampled" and not o.varied,
}


@dataclass
class DiversityReport:
    """Spectra, origins and distinct-sound counts of a library's drum presets."""

    preset_ids: list[str]
    spectra: dict[str, np.ndarray]  # piece -> (presets, N_BANDS)
    origins: dict[str, list[SoundOrigin]]
    threshold: float = SIMILARITY
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (preset id, reason)

    def counts(self) -> list[dict[str, Any]]:
        """One row per piece and subset: sounds, distinct, connected groups, kits."""
        rows = []
        for piece in DIVERSITY_NOTES:
            for subset, keep in SUBSETS.items():
                mask = np.array([keep(o) for o in self.origins[piece]], dtype=bool)
                spectra = self.spectra[piece][mask] if mask.size else self.spectra[piece]
                labels = distinct_sounds(spectra, self.threshold)
                kits = {o.kit for o, m in zip(self.origins[piece], mask) if m}
                rows.append({"piece": piece, "note": DIVERSITY_NOTES[piece], "subset": subset,
                             "sounds": int(mask.sum()), "distinct": len(np.unique(labels)),
                             "connected": connected_sounds(spectra, self.threshold),
                             "kits": len(kits)})
        return rows

    def table(self) -> dict[str, dict[str, int]]:
        """subset -> piece -> distinct sounds."""
        out: dict[str, dict[str, int]] = {}
        for row in self.counts():
            out.setdefault(row["subset"], {})[row["piece"]] = row["distinct"]
        return out


def measure_diversity(presets: Iterable[Preset], bank: Any = None, *,
                      sample_rate: int = SAMPLE_RATE, threshold: float = SIMILARITY,
                      progress: bool = True) -> DiversityReport:
    """Render every drum preset's five pieces dry and measure their spectra.

    `bank` renders a preset like the renderer does (default: a new
    `SoundfontBank`). A preset that fails to render is skipped and listed in
    `report.skipped`; the others are measured.
    """
    drums = [p for p in presets if p.role == "drums"]
    if not drums:
        raise ValueError("the library has no drum presets to measure")
    if bank is None:
        from adtos.presets.synth import SoundfontBank  # in the worker: each process its own synth

        bank = SoundfontBank(sample_rate)

    ids: list[str] = []
    spectra: dict[str, list[np.ndarray]] = {piece: [] for piece in DIVERSITY_NOTES}
    origins: dict[str, list[SoundOrigin]] = {piece: [] for piece in DIVERSITY_NOTES}
    skipped: list[tuple[str, str]] = []
    for preset in tqdm(drums, desc="rendering drum hits", unit="preset", disable=not progress):
        dry = dry_preset(preset)
        try:
            rows = {piece: hit_spectrum(render_hit(bank, dry, note, sample_rate=sample_rate),
                                        sample_rate)
                    for piece, note in DIVERSITY_NOTES.items()}
        except Exception as error:  # one bad preset must not lose the whole report
            skipped.append((preset.id, f"{type(error).__name__}: {error}"))
            continue
        ids.append(preset.id)
        for piece, row in rows.items():
            spectra[piece].append(row)
            origins[piece].append(sound_origin(preset, DIVERSITY_NOTES[piece]))
    if not ids:
        raise ValueError(f"no drum preset could be rendered; first error: {skipped[0][1]}")
    return DiversityReport(ids, {p: np.stack(s) for p, s in spectra.items()}, origins,
                           threshold, skipped)


def write_diversity(report: DiversityReport, stem: str | os.PathLike) -> list[Path]:
    """`<stem>.diversity.csv` (counts), `<stem>.sounds.csv` (every hit), `<stem>.diversity.png`."""
    stem = Path(stem)
    rows = report.counts()
    counts_csv = stem.with_name(stem.name + ".diversity.csv")
    write_csv_atomic(counts_csv, list(rows[0]), rows)

    sounds_csv = stem.with_name(stem.name + ".sounds.csv")
    sounds = []
    for piece, note in DIVERSITY_NOTES.items():
        labels = distinct_sounds(report.spectra[piece], report.threshold)
        for i, (preset_id, origin) in enumerate(zip(report.preset_ids, report.origins[piece])):
            sounds.append([preset_id, piece, note, origin.kit, origin.family, int(origin.base),
                           int(origin.varied), report.preset_ids[labels[i]]])
    write_csv_atomic(sounds_csv, ["preset_id", "piece", "note", "kit", "family", "base", "varied",
                                  "representative"], sounds)

    plot = stem.with_name(stem.name + ".diversity.png")
    save_figure(_plot(rows, report.threshold), plot)
    return [counts_csv, sounds_csv, plot]


def _plot(rows: list[dict[str, Any]], threshold: float):
    plt = pyplot()
    pieces = list(DIVERSITY_NOTES)
    shown = ["all", "recorded (no variation)", "sampled kits, no variation",
             "soundfont kits, no variation", "base kits alone"]
    value = {(r["piece"], r["subset"]): r["distinct"] for r in rows}
    figure, axis = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(shown)
    x = np.arange(len(pieces))
    for k, subset in enumerate(shown):
        heights = [value[(p, subset)] for p in pieces]
        bars = axis.bar(x + (k - (len(shown) - 1) / 2) * width, heights, width, label=subset)
        axis.bar_label(bars, fontsize=7)
    axis.set_xticks(x, [f"{p.replace('_', ' ')}\n(note {DIVERSITY_NOTES[p]})" for p in pieces])
    axis.set_ylabel("distinct sounds")
    axis.set_title(f"Distinct drum sounds per piece (dry, velocity {HIT_VELOCITY}, "
                   f"cosine > {threshold} on {N_BANDS}-band log spectra)", fontsize=9)
    axis.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    return figure
