"""Which annotated drum hits an onset detector trained on real recordings hears, by smr_db.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/audibility_listener.py DATASET [DATASET ...] \\
        [--listener cnn] [--cache DIR] [--plot docs/images/audibility_listener.png]

The label policy's minimum (adtos.transcriber.labels.DEFAULT_POLICY, min_db=-5)
is meant to sit where a listener hears about half of the annotated hits. This
checks it with a listener we can run here: madmom's onset detector (Schlüter &
Böck's CNN, or Böck's bidirectional RNN; both trained on real recordings), with
madmom's published peak-picking settings (those of its CNNOnsetDetector and
OnsetDetector programs). It reports onsets of any instrument, not drum
classes, so each hit is only counted where a detection can be attributed to
it: hits with no accompaniment note-on (piano, bass, guitar, lead, bridge:
every non-drum note of the track's MIDI in DATASET/midi/) within
±ISOLATION_S, and with --solo also no other drum note there.

A hit is heard when the listener reports an onset within ±WINDOW_S (25 ms,
madmom's onset-evaluation window; mir_eval's onset default is ±50 ms, wider
than the isolation radius would make safe). Per DATASET, printed as
Markdown: the detection rate per smr_db bin per class and pooled (the outer
bins are open: "< -25" holds everything below), the ceiling (the pooled rate
at smr_db >= --ceiling-db), the smr_db where the pooled curve falls to half of
the ceiling (linear between bin centres, scanning down from the top), and a
95 % bootstrap interval of that crossing over tracks. The false-alarm floor (the
share of probe times, every 10 ms where no note of any voice starts within
±ISOLATION_S, with a detection within ±WINDOW_S) is the floor the curve
falls to when a hit is not heard at all.

Question (issue #13): does the label policy's -5 dB minimum sit where a
listener trained on real recordings hears half of the hits? Answer
(benchmarks/results/audibility.md, "The label policy's -5 dB checked ..."):
yes; madmom's CNN hears half of its ceiling at -5.8 dB [-8.2, -3.3] on a build
with the mix levers on (-5.9 flat mix, -5.6 with the RNN; -7.4 [-11.5, -3.5] on
the merged presets), so the minimum was kept.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adtos.vocab import CLASSES  # noqa: E402

WINDOW_S = 0.025     # madmom.evaluation.onsets' window
ISOLATION_S = 0.050  # no other note-on this close: twice the window, so a detection of it misses
SMR_EDGES = np.arange(-30.0, 20.1, 5.0)
CEILING_DB = 10.0
VELOCITY_BANDS = [(1, 40), (40, 60), (60, 80), (80, 100), (100, 128)]
PEDAL_HIHAT = 44
MIN_BIN_ONSETS = 20  # a bin with fewer onsets gives no rate (too noisy to interpolate on)
# madmom's published settings: bin/CNNOnsetDetector and bin/OnsetDetector.
LISTENERS = {"cnn": {"threshold": 0.54, "smooth": 0.05},
             "rnn": {"threshold": 0.35, "smooth": 0.07}}
PEAK_PICKING = {"fps": 100, "pre_max": 0.01, "post_max": 0.01, "combine": 0.03}


# --------------------------------------------------------------------------
# Pure functions on arrays

def neighbour_counts(times: np.ndarray, others: np.ndarray, radius: float) -> np.ndarray:
    """How many of the sorted `others` lie within ±`radius` of each of `times`."""
    times, others = np.asarray(times, dtype=float), np.asarray(others, dtype=float)
    if np.any(np.diff(others) < 0):
        raise ValueError("others must be sorted")
    return (np.searchsorted(others, times + radius, side="right")
            - np.searchsorted(others, times - radius, side="left"))


def isolated(times: np.ndarray, accompaniment: np.ndarray, radius: float = ISOLATION_S,
             drums: np.ndarray | None = None) -> np.ndarray:
    """True for each of `times` with no accompaniment note-on within ±radius and,
    when `drums` (every drum note-on, the hit itself included) is given, no other
    drum note-on either."""
    keep = neighbour_counts(times, accompaniment, radius) == 0
    if drums is not None:
        keep &= neighbour_counts(times, drums, radius) <= 1
    return keep


def detected(times: np.ndarray, detections: np.ndarray, window: float = WINDOW_S) -> np.ndarray:
    """True for each of `times` with a detection within ±window."""
    return neighbour_counts(times, np.sort(detections), window) > 0


def quiet_probes(note_ons: np.ndarray, duration: float, radius: float = ISOLATION_S,
                 step: float = 0.01) -> np.ndarray:
    """Times every `step` s of [radius, duration - radius] with no note-on (any voice)
    within ±radius: where a detection is a false alarm."""
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration}")
    probes = np.arange(radius, duration - radius, step)
    return probes[neighbour_counts(probes, np.sort(note_ons), radius) == 0]


def bin_rates(smr_db: np.ndarray, heard: np.ndarray, edges: np.ndarray = SMR_EDGES
              ) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and detection rate per smr_db bin; the outer bins are open (everything
    under edges[1] is in the first, everything from edges[-2] up in the last).
    The rate is NaN in an empty bin."""
    index = np.clip(np.searchsorted(edges, smr_db, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    hits = np.bincount(index, weights=np.asarray(heard, dtype=float), minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts, np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def half_ceiling_crossing(centres: np.ndarray, rates: np.ndarray, ceiling: float) -> float:
    """The smr_db where the rate, scanned down from the highest bin, first falls
    under half of `ceiling`: linear between that bin's centre and the one above.
    NaN bins are skipped; NaN when the rate never falls under half, or already
    the highest bin is under it."""
    half = ceiling / 2
    valid = ~np.isnan(rates)
    centres, rates = np.asarray(centres)[valid], np.asarray(rates)[valid]
    for k in range(len(rates) - 1, 0, -1):
        if rates[k - 1] < half <= rates[k]:
            share = (half - rates[k - 1]) / (rates[k] - rates[k - 1])
            return float(centres[k - 1] + share * (centres[k] - centres[k - 1]))
        if rates[k] < half:
            return float("nan")
    return float("nan")


def bin_centres(edges: np.ndarray = SMR_EDGES) -> np.ndarray:
    """Centres of the bins (the open outer bins at the centre of their closed width)."""
    return (edges[:-1] + edges[1:]) / 2


@dataclass
class Curve:
    counts: np.ndarray
    rates: np.ndarray
    ceiling: float
    crossing: float


def curve(smr_db: np.ndarray, heard: np.ndarray, edges: np.ndarray = SMR_EDGES,
          ceiling_db: float = CEILING_DB, min_onsets: int = MIN_BIN_ONSETS) -> Curve:
    """Rates per bin (NaN under min_onsets), the ceiling and the half-ceiling crossing."""
    counts, rates = bin_rates(smr_db, heard, edges)
    rates = np.where(counts >= min_onsets, rates, np.nan)
    top = smr_db >= ceiling_db
    ceiling = float(np.mean(heard[top])) if top.sum() >= min_onsets else float("nan")
    return Curve(counts, rates, ceiling, half_ceiling_crossing(bin_centres(edges), rates, ceiling))


def bootstrap(per_track: list[tuple[np.ndarray, np.ndarray]], resamples: int = 1000, seed: int = 0,
              **curve_options) -> tuple[np.ndarray, np.ndarray]:
    """Crossings and per-bin rates of `resamples` resamplings of the tracks (with
    replacement), each track a (smr_db, heard) pair: shape (resamples,) and
    (resamples, bins)."""
    rng = np.random.default_rng(seed)
    crossings, rates = [], []
    for _ in range(resamples):
        pick = rng.integers(len(per_track), size=len(per_track))
        result = curve(np.concatenate([per_track[i][0] for i in pick]),
                       np.concatenate([per_track[i][1] for i in pick]), **curve_options)
        crossings.append(result.crossing)
        rates.append(result.rates)
    return np.array(crossings), np.array(rates)


# --------------------------------------------------------------------------
# Audio, MIDI and the listener

def accompaniment_onsets(midi_path: Path) -> np.ndarray:
    """Sorted note-on times of every non-drum instrument of a track's MIDI."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(midi_path))
    return np.sort([note.start for inst in midi.instruments if not inst.is_drum
                    for note in inst.notes])


class Listener:
    """madmom's onset detector with its published peak picking: audio file -> onset times."""

    def __init__(self, name: str = "cnn"):
        from madmom.features.onsets import (CNNOnsetProcessor, OnsetPeakPickingProcessor,
                                            RNNOnsetProcessor)

        self.name = name
        self.activation = {"cnn": CNNOnsetProcessor, "rnn": RNNOnsetProcessor}[name]()
        self.peaks = OnsetPeakPickingProcessor(**PEAK_PICKING, **LISTENERS[name])

    def __call__(self, audio_path: Path) -> tuple[np.ndarray, float]:
        """Onset times (s) and the duration (s) of the mono downmix."""
        import soundfile
        from madmom.audio.signal import Signal

        samples, sample_rate = soundfile.read(str(audio_path), dtype="float32", always_2d=True)
        signal = Signal(samples.mean(axis=1), sample_rate=sample_rate)
        return np.asarray(self.peaks(self.activation(signal)), dtype=float), len(signal) / sample_rate


def listen_cached(listener: Listener, track, cache: Path | None) -> tuple[np.ndarray, float]:
    """The listener's detections for a track, read from / written to `cache`, keyed by
    the audio's hash when the manifest has it."""
    if cache is None:
        return listener(track.audio_path)
    key = track.metadata.get("audio_sha256", "")[:16] or track.track_id
    path = cache / f"{listener.name}-{track.track_id}-{key}.npy"
    if path.is_file():
        stored = np.load(path)
        return stored[1:], float(stored[0])
    detections, duration = listener(track.audio_path)
    cache.mkdir(parents=True, exist_ok=True)
    from adtos.fileio import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, np.concatenate([[duration], detections]))
    return detections, duration


@dataclass
class TrackResult:
    labels: np.ndarray   # class index of each isolated hit
    smr_db: np.ndarray
    heard: np.ndarray
    annotated: int       # onsets in the 5 classes before the isolation filter
    offsets: np.ndarray  # nearest detection minus onset, heard hits only
    quiet: int           # probe times with no note-on near them
    false_alarms: int    # of those, with a detection within the window
    velocities: np.ndarray  # MIDI velocity of each isolated hit
    notes: np.ndarray       # GM note of each isolated hit


def analyse_track(track, detections: np.ndarray, duration: float, solo: bool,
                  leave_out: tuple[int, ...] = ()) -> TrackResult:
    accompaniment = accompaniment_onsets(track.audio_path.parent.parent / "midi"
                                         / f"{track.track_id}.mid")
    drums = np.sort(track.original_onsets) if solo else None
    keep = isolated(track.onsets, accompaniment, drums=drums) & ~np.isin(track.notes, leave_out)
    times = track.onsets[keep]
    heard = detected(times, detections)
    offsets = np.array([detections[np.argmin(np.abs(detections - t))] - t
                        for t in times[heard]]) if heard.any() else np.zeros(0)
    probes = quiet_probes(np.concatenate([accompaniment, track.original_onsets]), duration)
    return TrackResult(track.labels[keep], track.smr_db[keep], heard, track.onsets.size, offsets,
                       probes.size, int(detected(probes, detections).sum()),
                       track.velocities[keep], track.notes[keep])


# --------------------------------------------------------------------------
# Report

def bin_names(edges: np.ndarray = SMR_EDGES) -> list[str]:
    names = [f"{low:g} to {high:g}" for low, high in zip(edges[:-1], edges[1:])]
    names[0], names[-1] = f"< {edges[1]:g}", f">= {edges[-2]:g}"
    return names


def crossing_interval(per_track: list[tuple[np.ndarray, np.ndarray]], resamples: int,
                      ceiling_db: float) -> tuple[float, float, int, np.ndarray]:
    """95 % bootstrap interval of the half-ceiling crossing, how many resamples had
    none, and the per-bin 95 % band of the rate (shape (2, bins))."""
    crossings, rates = bootstrap(per_track, resamples, ceiling_db=ceiling_db)
    valid = crossings[~np.isnan(crossings)]
    low, high = np.percentile(valid, [2.5, 97.5]) if valid.size else (np.nan, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins stay NaN
        band = np.nanpercentile(rates, [2.5, 97.5], axis=0)
    return float(low), float(high), int(np.isnan(crossings).sum()), band


def report(name: str, results: list[TrackResult], resamples: int, ceiling_db: float) -> dict:
    labels = np.concatenate([r.labels for r in results])
    smr = np.concatenate([r.smr_db for r in results])
    heard = np.concatenate([r.heard for r in results])
    annotated = sum(r.annotated for r in results)
    offsets = np.concatenate([r.offsets for r in results])
    quiet = sum(r.quiet for r in results)
    print(f"\n### {name}\n")
    print(f"{len(results)} tracks; {labels.size} of {annotated} annotated onsets "
          f"({labels.size / max(annotated, 1):.1%}) isolated; heard {heard.mean():.1%}; "
          f"median offset of the detection {1000 * np.median(offsets):+.1f} ms; false-alarm floor "
          f"{sum(r.false_alarms for r in results) / max(quiet, 1):.1%} (of {quiet} probe times "
          f"with no note-on within ±{ISOLATION_S * 1000:.0f} ms)\n")
    pooled = curve(smr, heard, ceiling_db=ceiling_db)
    low, high, missing, band = crossing_interval([(r.smr_db, r.heard) for r in results],
                                                 resamples, ceiling_db)
    per_class, intervals = {}, {}
    for index, label in enumerate(CLASSES):
        per_class[label] = curve(smr[labels == index], heard[labels == index], ceiling_db=ceiling_db)
        intervals[label] = crossing_interval(
            [(r.smr_db[r.labels == index], r.heard[r.labels == index]) for r in results],
            resamples, ceiling_db)[:3]
    header = ["smr_db", *CLASSES, "pooled", "pooled 95 %", "onsets"]
    print("| " + " | ".join(header) + " |")
    print("|---" + "|---:" * (len(header) - 1) + "|")
    for b, bin_name in enumerate(bin_names()):
        cells = [f"{per_class[c].rates[b]:.2f} ({per_class[c].counts[b]})"
                 if not np.isnan(per_class[c].rates[b]) else f"— ({per_class[c].counts[b]})"
                 for c in CLASSES]
        pooled_cell = f"**{pooled.rates[b]:.2f}**" if not np.isnan(pooled.rates[b]) else "—"
        print(f"| {bin_name} | " + " | ".join(cells) + f" | {pooled_cell} | "
              f"{band[0, b]:.2f}–{band[1, b]:.2f} | {pooled.counts[b]} |")
    print(f"| ceiling (>= {ceiling_db:g}) | "
          + " | ".join(f"{per_class[c].ceiling:.2f}" if not np.isnan(per_class[c].ceiling) else "—"
                       for c in CLASSES)
          + f" | **{pooled.ceiling:.2f}** | | |")
    print("| half-ceiling crossing (dB) | " + " | ".join(
        f"{per_class[c].crossing:.1f} [{intervals[c][0]:.1f}, {intervals[c][1]:.1f}]"
        if not np.isnan(per_class[c].crossing) else "—" for c in CLASSES) + f" | **{pooled.crossing:.1f}** | {low:.1f} to {high:.1f} | |")
    print(f"\n95 % intervals over {resamples} resamplings of the tracks; resamples without a "
          f"crossing: pooled {missing}, " + ", ".join(f"{c} {intervals[c][2]}" for c in CLASSES))
    velocities = np.concatenate([r.velocities for r in results])
    print("\nheard per velocity band (the bands of the real-data transcriber's recall in "
          "design.md): " + ", ".join(
              f"{low}-{high - 1}: {heard[(velocities >= low) & (velocities < high)].mean():.2f}"
              for low, high in VELOCITY_BANDS if np.any((velocities >= low) & (velocities < high))))
    notes = np.concatenate([r.notes for r in results])
    hihat = labels == CLASSES.index("HH")
    for what, mine in (("pedal hi-hat (44)", hihat & (notes == PEDAL_HIHAT)),
                       ("other hi-hats", hihat & (notes != PEDAL_HIHAT))):
        if mine.any():
            counts, rates = bin_rates(smr[mine], heard[mine])
            print(f"{what}: {mine.sum()} isolated, heard {heard[mine].mean():.2f}, median smr_db "
                  f"{np.median(smr[mine]):.1f}; per bin: " + ", ".join(
                      f"{rate:.2f} ({n})" if n else "—" for rate, n in zip(rates, counts)))
    return {"name": name, "pooled": pooled, "band": band, "interval": (low, high)}


def plot(summaries: list[dict], path: Path, listener: str, policy_db: float | None) -> None:
    from adtos.plotting import FIGURE_SIZE, pyplot, save_figure

    plt = pyplot()
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    centres = bin_centres()
    for summary, colour in zip(summaries, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        pooled = summary["pooled"]
        axes.plot(centres, pooled.rates, "o-", color=colour,
                  label=f"{summary['name']}: half of ceiling at {pooled.crossing:.1f} dB "
                        f"[{summary['interval'][0]:.1f}, {summary['interval'][1]:.1f}]")
        axes.fill_between(centres, summary["band"][0], summary["band"][1], color=colour,
                          alpha=0.2, linewidth=0)
        axes.axhline(pooled.ceiling / 2, color=colour, linestyle=":", linewidth=1)
    if policy_db is not None:
        axes.axvline(policy_db, color="black", linestyle="--", linewidth=1,
                     label=f"label policy minimum ({policy_db:g} dB)")
    axes.set_xlabel("smr_db of the hit (5 dB bins; outer bins open)")
    axes.set_ylabel(f"share heard (madmom {listener.upper()} onsets within ±{WINDOW_S * 1000:.0f} ms)")
    axes.set_ylim(0, 1)
    axes.set_title("Isolated drum hits heard by a real-data onset detector")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    save_figure(figure, path)
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("datasets", nargs="+", metavar="DATASET",
                        help="ADTOS dataset folders (rendered with per-onset audibility)")
    parser.add_argument("--listener", choices=sorted(LISTENERS), default="cnn",
                        help="madmom's CNN (Schlüter & Böck 2014) or bidirectional RNN "
                             "(Eyben et al. 2010) onset detector (default: cnn)")
    parser.add_argument("--split", default=None, help="only this split (default: all tracks)")
    parser.add_argument("--solo", action="store_true",
                        help="also drop hits with another drum note within ±50 ms")
    parser.add_argument("--leave-out", type=int, nargs="+", default=[], metavar="NOTE",
                        help="GM notes not counted (e.g. 44: the pedal hi-hat, which the "
                             "default label policy ignores whatever its level)")
    parser.add_argument("--ceiling-db", type=float, default=CEILING_DB,
                        help="the ceiling is the pooled rate at smr_db >= this (default: 10)")
    parser.add_argument("--resamples", type=int, default=1000,
                        help="bootstrap resamples over tracks (default: 1000)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder keeping the listener's detections between runs")
    parser.add_argument("--plot", type=Path, default=None,
                        help="write the pooled curves of all datasets to this .png/.svg/.pdf")
    parser.add_argument("--names", nargs="+", default=None,
                        help="what to call each dataset in the tables and the plot "
                             "(default: the folder names)")
    parser.add_argument("--policy-db", type=float, default=-5.0,
                        help="the label policy minimum to mark on the plot (default: -5)")
    args = parser.parse_args()

    from tqdm import tqdm

    from adtos.datasets import load_dataset

    listener = Listener(args.listener)
    print(f"listener: madmom {args.listener.upper()} onsets, peak picking "
          f"{PEAK_PICKING | LISTENERS[args.listener]}; window ±{WINDOW_S * 1000:.0f} ms; "
          f"isolation ±{ISOLATION_S * 1000:.0f} ms from accompaniment"
          + (" and other drum notes" if args.solo else "")
          + (f"; GM notes {args.leave_out} left out" if args.leave_out else ""))
    names = args.names or [Path(folder).name for folder in args.datasets]
    if len(names) != len(args.datasets):
        parser.error(f"--names: {len(names)} names for {len(args.datasets)} datasets")
    summaries = []
    for folder, name in zip(args.datasets, names):
        dataset = load_dataset("adtos", folder)
        tracks = [t for t in dataset.tracks if t.smr_db is not None and t.audio_path is not None
                  and (args.split is None or t.split == args.split)]
        if not tracks:
            sys.exit(f"{folder}: no rendered track with measured audibility")
        results = []
        for track in tqdm(tracks, desc=f"listening to {name}", unit="track"):
            detections, duration = listen_cached(listener, track, args.cache)
            results.append(analyse_track(track, detections, duration, args.solo,
                                         tuple(args.leave_out)))
        summaries.append(report(name, results, args.resamples, args.ceiling_db))
    if args.plot is not None:
        plot(summaries, args.plot, args.listener, args.policy_db)


if __name__ == "__main__":
    main()
