"""Training data: cached features of whole tracks, and batches of random snippets.

Reproducibility on resume is kept simple: the snippets of training step k are
drawn from a generator seeded with (seed, k), in whatever process loads them.
The sampler's whole state is therefore (seed, next step), which the checkpoint
stores; worker processes can prefetch ahead without changing what any step sees,
and a resumed run sees exactly the batches the uninterrupted run would have.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from adtos.transcriber.features import DEFAULT_SETTINGS, FeatureSettings, cached_features
from adtos.transcriber.targets import frame_targets


@dataclass
class PreparedTrack:
    """What training needs of a track: where its features are and its onsets."""

    track_id: str
    feature_path: str
    n_frames: int
    onsets: np.ndarray
    labels: np.ndarray
    values: np.ndarray | None = None  # per-onset target under a label policy (None: all 1)

    def features(self) -> np.ndarray:
        return np.load(self.feature_path, mmap_mode="r")

    def targets(self, fps: float, widen: int = 0) -> np.ndarray:
        return frame_targets(self.onsets, self.labels, self.n_frames, fps, widen=widen,
                             values=self.values)


# (audio path, size, mtime, cache folder, settings) -> (feature path, frames), so that a
# process training many models (a scaling sweep) hashes each audio file only once.
_PREPARED: dict[tuple, tuple[str, int]] = {}


def _memo_key(track, cache_dir, settings) -> tuple | None:
    if track.audio_path is None:
        return None
    try:
        stat = os.stat(track.audio_path)
    except OSError:
        return None
    return (str(track.audio_path), stat.st_size, stat.st_mtime_ns, str(cache_dir), settings)


def _prepare_one(args) -> tuple[str, str | None, int, str | None]:
    track, cache_dir, settings = args
    try:
        path = cached_features(track, cache_dir, settings)
        n_frames = int(np.load(path, mmap_mode="r").shape[0])
        return track.track_id, str(path), n_frames, None
    except Exception as error:  # one unreadable file must not end a long run
        return track.track_id, None, 0, f"{type(error).__name__}: {error}"


def prepare_tracks(tracks, cache_dir, settings: FeatureSettings = DEFAULT_SETTINGS,
                   workers: int = 0, desc: str = "features", progress: bool = True,
                   policy=None) -> tuple[list[PreparedTrack], list[tuple[str, str]]]:
    """Compute (or find) every track's cached features.

    `policy` (adtos.transcriber.labels.LabelPolicy) decides each onset's target;
    None keeps every annotated onset at 1.

    Returns the prepared tracks in input order and (track_id, reason) for the
    tracks whose audio could not be read; those are skipped, not fatal.
    """
    from tqdm import tqdm

    tracks = list(tracks)
    keys = [_memo_key(track, cache_dir, settings) for track in tracks]
    done = {}
    for index, key in enumerate(keys):
        if key in _PREPARED and os.path.exists(_PREPARED[key][0]):
            done[index] = (tracks[index].track_id, *_PREPARED[key], None)
    todo = [i for i in range(len(tracks)) if i not in done]
    jobs = [(tracks[i], cache_dir, settings) for i in todo]
    if workers and workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(tqdm(pool.map(_prepare_one, jobs, chunksize=4), total=len(jobs),
                                desc=desc, leave=False, disable=not progress))
    else:
        results = [_prepare_one(job) for job in tqdm(jobs, desc=desc, leave=False,
                                                             disable=not progress)]
    done.update(zip(todo, results))
    prepared, errors = [], []
    for index, track in enumerate(tracks):
        track_id, path, n_frames, error = done[index]
        if error is not None:
            errors.append((track_id, error))
            continue
        if keys[index] is not None:
            _PREPARED[keys[index]] = (path, n_frames)
        if policy is None:
            onsets, labels, values = np.asarray(track.onsets), np.asarray(track.labels), None
        else:
            onsets, labels, values = policy.targets(track)
        prepared.append(PreparedTrack(track_id, path, n_frames, onsets, labels, values))
    return prepared, errors


def plan_batch(seed: int, step: int, track_frames: np.ndarray, batch_size: int,
               snippet_frames: int) -> np.ndarray:
    """(batch_size, 2) int64 rows of (track index, first frame) for training step `step`.

    Tracks are drawn uniformly, then a start uniformly among the positions where
    the snippet fits (0 when the track is shorter than a snippet).
    """
    rng = np.random.default_rng([seed, step])
    track_frames = np.asarray(track_frames, dtype=np.int64)
    tracks = rng.integers(0, len(track_frames), size=batch_size)
    last_start = np.maximum(track_frames[tracks] - snippet_frames, 0)
    starts = (rng.random(batch_size) * (last_start + 1)).astype(np.int64)
    return np.stack([tracks, starts], axis=1)


def load_snippet(track: PreparedTrack, start: int, snippet_frames: int, fps: float,
                 widen: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets of frames start .. start + snippet_frames - 1, zero-padded."""
    features = track.features()[start:start + snippet_frames]
    if features.shape[0] < snippet_frames:  # short track: pad with silence (log(1 + 0) = 0)
        pad = np.zeros((snippet_frames - features.shape[0], features.shape[1]), np.float32)
        features = np.concatenate([features, pad])
    targets = frame_targets(track.onsets, track.labels, snippet_frames, fps, widen=widen,
                            start=start, values=track.values)
    if start + snippet_frames > track.n_frames:  # no targets in the padding
        targets[max(track.n_frames - start, 0):] = 0.0
    return np.ascontiguousarray(features, dtype=np.float32), targets


class SnippetBatches:
    """A map-style torch dataset whose item k is the whole batch of training step k."""

    def __init__(self, tracks: list[PreparedTrack], seed: int, batch_size: int,
                 snippet_frames: int, fps: float, widen: int = 0):
        self.tracks, self.seed, self.batch_size = tracks, seed, batch_size
        self.snippet_frames, self.fps, self.widen = snippet_frames, fps, widen
        self.track_frames = np.array([t.n_frames for t in tracks], dtype=np.int64)

    def __getitem__(self, step: int):
        import torch

        plan = plan_batch(self.seed, step, self.track_frames, self.batch_size, self.snippet_frames)
        pairs = [load_snippet(self.tracks[i], int(start), self.snippet_frames, self.fps,
                              self.widen) for i, start in plan]
        features = torch.from_numpy(np.stack([f for f, _ in pairs]))
        targets = torch.from_numpy(np.stack([t for _, t in pairs]))
        return features, targets


def batch_loader(batches: SnippetBatches, first_step: int, workers: int, pin_memory: bool = False,
                 seed: int = 0):
    """Batches for steps first_step, first_step + 1, ... loaded by `workers` processes.

    The loader gets its own torch generator: otherwise starting it would draw
    from torch's global generator, and a resumed run's dropout masks would
    differ from the uninterrupted run's.
    """
    import torch

    options = dict(batch_size=None, sampler=itertools.count(first_step), num_workers=workers,
                   pin_memory=pin_memory, generator=torch.Generator().manual_seed(seed))
    if workers > 0:
        options.update(prefetch_factor=4, persistent_workers=False)
    return torch.utils.data.DataLoader(batches, **options)
