"""`render_tracks`: an assembled-tracks folder + a preset library → rendered audio.

    OUT/audio/<id>.flac, stems/<id>/<voice>.flac and drum_stems/<id>/<CLASS>.flac (optional),
    annotations/<id>.txt and .mid, midi/<id>.mid, render.parquet, render_errors.csv

A render can be stopped at any moment and started again: every file is
written under a temporary name and renamed when whole, and a track counts as
done when its record (written last) and its audio exist. A restart removes the
temporary leftovers and renders only the tracks that are not done.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adtos.fileio import atomic_path, folder_lock, remove_partials, write_csv_atomic, write_text_atomic
from adtos.kits.library import resolve_kit
from adtos.kits.model import KitError
from adtos.presets import load_presets
from adtos.presets.soundfonts import resolve_soundfont
from adtos.render.assign import PRESET_COLUMN, VOICES, assign_presets
from adtos.render.executors import start_local_workers, run_ray, run_local
from adtos.render.inputs import RenderInputError, read_tracks
from adtos.render.mix import MIX_COLUMNS, MixOptions, draw_mix
from adtos.render.worker import (DRUM_STEMS_DIR, RECORDS_DIR, RenderOptions, TrackJob,
                                 TrackResult, audio_path, record_path)

FORMATS = ("flac", "wav")
EXECUTORS = ("local", "ray")
SETTINGS_FILE = "settings.json"


@dataclass
class RenderReport:
    out_dir: Path
    rendered: list[str] = field(default_factory=list)  # rendered by this run
    skipped: list[str] = field(default_factory=list)  # already done by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (track_id, reason)


def render_tracks(
    tracks_dir: str | os.PathLike,
    presets: str | os.PathLike | Sequence[Any],
    out_dir: str | os.PathLike,
    *,
    voices: Sequence[str] | None = None,
    workers: int | None = None,
    executor: str = "local",
    address: str | None = None,
    sample_rate: int = 44100,
    fmt: str = "flac",
    stems: bool = False,
    target_lufs: float = -23.0,
    mix: MixOptions | None = None,
    drum_stems: bool = False,
    seed: int = 0,
    assignment: Mapping[str, Mapping[str, str]] | None = None,
    progress: bool = True,
) -> RenderReport:
    """Render every track of `tracks_dir` with presets from `presets` into `out_dir`.

    presets: a preset library file (`presets/NAME.jsonl`) or a list of Preset.
    voices: None renders every voice a track has; ("drums",) or ("drums", "piano")
        render fewer. The preset assignment does not depend on it.
    workers: processes (or Ray actors); None uses every CPU; 1 renders in this process.
    mix: how stems become the mix (adtos.render.mix.MixOptions): a drawn
        drums/accompaniment balance and a master bus; None is the flat mix.
    drum_stems: also write drum_stems/<id>/<CLASS>.<fmt>, one stem per drum class
        (BD, SD, TT, HH, CY, other) at its level in the mix (docs/render.md).
    assignment: optional {track_id: {voice: preset id}} overriding the seeded
        assignment for those tracks (an id absent from the library fails the track).
    Tracks that fail are listed in the report and in render_errors.csv; the
    others still finish.
    """
    voices = _check_options(voices, workers, executor, sample_rate, fmt, target_lufs)
    out = Path(out_dir)
    options = RenderOptions(out_dir=out, voices=voices, sample_rate=int(sample_rate), fmt=fmt,
                            stems=bool(stems), target_lufs=float(target_lufs),
                            mix=mix if mix is not None else MixOptions(),
                            drum_stems=bool(drum_stems))
    # One process per output folder; taking the lock also shows the folder is writable.
    with folder_lock(out, "adtos render"):
        if executor == "local" and (workers or _cpu_count()) > 1:
            start_local_workers()
        library = _load_library(presets)
        tracks = read_tracks(tracks_dir)
        return _render_locked(tracks, library, options, workers=workers, executor=executor,
                              address=address, seed=seed, assignment=assignment,
                              progress=progress)


def _render_locked(tracks, library, options: RenderOptions, *, workers, executor, address, seed,
                   assignment, progress) -> RenderReport:
    """render_tracks' work, once it holds the folder."""
    out, fmt = options.out_dir, options.fmt
    _check_settings(out, options, library, seed)
    for folder in [out, out / "audio", out / "annotations", out / "midi", out / RECORDS_DIR,
                   *((out / "stems").glob("*/") if (out / "stems").is_dir() else []),
                   *((out / DRUM_STEMS_DIR).glob("*/") if (out / DRUM_STEMS_DIR).is_dir()
                     else [])]:
        if folder.is_dir():
            remove_partials(folder)

    chosen = assign_presets([t.track_id for t in tracks], library,
                            splits={t.track_id: t.split for t in tracks}, seed=seed)
    for track_id, overrides in (assignment or {}).items():
        if track_id in chosen:
            chosen[track_id].update(overrides)

    report = RenderReport(out)
    jobs = []
    by_id = {p.id: p for p in library}
    for track in tracks:
        if _is_done(out, track.track_id, fmt):
            report.skipped.append(track.track_id)
            continue
        job_presets, missing = {}, {}
        for voice in VOICES:
            preset_id = chosen[track.track_id].get(voice)
            if preset_id is None:
                missing[voice] = f"no preset for voice {voice}: the library has none of role {voice}"
            elif preset_id not in by_id:
                missing[voice] = f"preset id {preset_id} ({voice}) not in the library"
            else:
                job_presets[voice] = by_id[preset_id]
        jobs.append(TrackJob(track.track_id, track.split, track.midi_path, track.annotation_path,
                             job_presets, missing, draw_mix(track.track_id, seed, options.mix)))
    check_soundfonts([p for job in jobs for p in job.presets.values()])

    _execute(jobs, options, workers, executor, address, report, progress)
    _write_outputs(out, [t.track_id for t in tracks], report)
    return report


def _execute(jobs, options, workers, executor, address, report, progress) -> None:
    from tqdm import tqdm  # lazy: render's workers import this package and need no tqdm

    # A resumed render counts from what is already there, and says so.
    done = len(report.skipped)
    bar = tqdm(total=done + len(jobs), initial=done, desc="render", unit="track",
               disable=not progress)
    if done and progress:
        bar.write(f"render: {done} already done, {len(jobs)} to render", file=sys.stderr)

    def on_result(result: TrackResult) -> None:
        if result.error is None:
            report.rendered.append(result.track_id)
        else:
            report.failed.append((result.track_id, result.error))
        bar.update(1)
        bar.set_postfix(failed=len(report.failed), refresh=False)

    try:
        if executor == "ray":
            run_ray(jobs, options, workers, address, on_result)
        else:
            run_local(jobs, options, workers or _cpu_count(), on_result)
    finally:
        bar.close()


def _is_done(out: Path, track_id: str, fmt: str) -> bool:
    return (record_path(out, track_id).is_file() and audio_path(out, track_id, fmt).is_file()
            and (out / "annotations" / f"{track_id}.txt").is_file())


def _write_outputs(out: Path, track_ids: list[str], report: RenderReport) -> None:
    """render.parquet from the done-records of the folder's tracks; render_errors.csv."""
    import pyarrow as pa  # lazy: render's workers import this package and need no pyarrow
    import pyarrow.parquet as pq

    rows = []
    for track_id in track_ids:
        path = record_path(out, track_id)
        if path.is_file():
            rows.append(json.loads(path.read_text()))
    table = pa.Table.from_pylist(rows, schema=_record_schema()) if rows else _record_schema().empty_table()
    with atomic_path(out / "render.parquet") as tmp:
        pq.write_table(table, tmp)
    write_csv_atomic(out / "render_errors.csv", ["track_id", "reason"], sorted(report.failed))


def _record_schema():
    import pyarrow as pa  # lazy: render's workers import this package and need no pyarrow

    fields = [("track_id", pa.string()), ("split", pa.string())]
    fields += [(PRESET_COLUMN[v], pa.string()) for v in VOICES]
    for voice in VOICES:
        fields += [(f"{voice}_lufs_before", pa.float64()), (f"{voice}_lufs_after", pa.float64()),
                   (f"{voice}_stem_gain", pa.float64())]
    fields += [("voices", pa.string()), ("mix_gain", pa.float64()), ("mix_gain_db", pa.float64()),
               ("mix_peak", pa.float64()), ("duration", pa.float64()), ("sample_rate", pa.int32()),
               ("format", pa.string()), ("audio_sha256", pa.string())]
    fields += [(name, pa.type_for_alias(kind)) for name, kind in MIX_COLUMNS.items()]
    # With drum_stems (null otherwise): the classes written, their shared clip-guard gain,
    # and how far their sum is from the drum stem (adtos.render.worker.write_drum_stems).
    fields += [("drum_stems", pa.string()), ("drum_stems_gain", pa.float64()),
               ("drum_stems_residual_db", pa.float64())]
    return pa.schema(fields)


def _load_library(presets) -> list[Any]:
    if isinstance(presets, (str, os.PathLike)):
        path = Path(presets)
        if not path.is_file():
            raise RenderInputError(f"{path}: preset library not found (expected presets/NAME.jsonl)")
        presets = load_presets(path)
    library = list(presets)
    if not library:
        raise RenderInputError("the preset library is empty")
    if not any(p.role == "drums" for p in library):
        raise RenderInputError("the preset library has no drum preset (role `drums`)")
    return library


def check_soundfonts(library: Sequence[Any], source: str | os.PathLike | None = None) -> None:
    """Every soundfont and sampled kit the presets play from can be found; else
    RenderInputError.

    Render checks the presets its tracks use before the first track (a missing
    soundfont used to fail every track that drew it, after the long work);
    build checks the whole library before indexing.
    """
    users: dict[tuple, set[str]] = {}
    for preset in library:
        for name in preset.soundfonts():
            users.setdefault(("soundfont", name), set()).add(preset.id)
        for fmt, name in preset.kits():
            users.setdefault((fmt, name), set()).add(preset.id)
    missing = []
    for (kind, name), ids in users.items():
        try:
            if kind == "soundfont":
                resolve_soundfont(name)
            else:
                resolve_kit(name, kind)
        except (FileNotFoundError, KitError) as error:
            missing.append(f"{error} (used by {len(ids)} presets, e.g. {min(ids)})")
    if missing:
        where = f"{source}: " if source is not None else ""
        raise RenderInputError(where + "; ".join(missing))


def _check_options(voices, workers, executor, sample_rate, fmt, target_lufs):
    if voices is not None:
        voices = tuple(voices)
        unknown = [v for v in voices if v not in VOICES]
        if unknown or not voices:
            raise RenderInputError(f"voices: expected some of {', '.join(VOICES)}, got {list(voices)}")
    if workers is not None and int(workers) < 1:
        raise RenderInputError(f"workers: expected at least 1, got {workers}")
    if executor not in EXECUTORS:
        raise RenderInputError(f"executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if fmt not in FORMATS:
        raise RenderInputError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if int(sample_rate) != sample_rate or not 8000 <= sample_rate <= 192000:
        raise RenderInputError(f"sample rate: expected an integer in 8000..192000 Hz, got {sample_rate}")
    if not -70.0 < target_lufs < 0.0:
        raise RenderInputError(f"target loudness: expected -70..0 LUFS, got {target_lufs}")
    return voices


def rendered_track_count(out_dir: str | os.PathLike) -> int:
    """How many tracks of a render folder have a done-record (0 for a folder not rendered yet).

    For callers that must know whether a render has started (adtos.build),
    without reading the records' layout themselves.
    """
    records = Path(out_dir) / RECORDS_DIR
    if not records.is_dir():
        return 0
    return sum(1 for p in records.glob("*.json") if p.name != SETTINGS_FILE)


def forget_render_settings(out_dir: str | os.PathLike) -> None:
    """Drop a render folder's recorded settings, so the next render records its own.

    Only meaningful while no track is rendered (rendered_track_count is 0):
    the settings then name inputs that were replaced, not audio that exists.
    """
    (Path(out_dir) / RECORDS_DIR / SETTINGS_FILE).unlink(missing_ok=True)


def _check_settings(out: Path, options: RenderOptions, library, seed: int) -> None:
    """Refuse to resume into a folder rendered with other settings (it would mix two renders)."""
    settings = {
        "voices": list(options.voices) if options.voices else None,
        "sample_rate": options.sample_rate,
        "format": options.fmt,
        "stems": options.stems,
        "target_lufs": options.target_lufs,
        "mix": options.mix.to_dict(),
        "seed": seed,
        "drum_stems": options.drum_stems,
        "library_sha256": hashlib.sha256("\n".join(sorted(p.id for p in library)).encode()).hexdigest(),
    }
    path = out / RECORDS_DIR / SETTINGS_FILE
    if path.is_file():
        previous = json.loads(path.read_text())
        previous.setdefault("mix", MixOptions().to_dict())  # renders made before the mix options
        previous.setdefault("drum_stems", False)  # and before the per-class drum stems
        changed = [f"{key}: {previous.get(key)!r} then, {value!r} now"
                   for key, value in settings.items() if previous.get(key) != value]
        if changed:
            raise RenderInputError(f"{out} holds a render made with other settings ({'; '.join(changed)}); "
                                   "render into a new folder, or rerun with the same settings to resume")
        return
    write_text_atomic(path, json.dumps(settings, indent=1, sort_keys=True))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
