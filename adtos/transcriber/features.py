"""Input features: madmom's log-filtered spectrogram of the mono mix, cached per track.

The settings are the paper's (and Vogl's, and ADTOF's): 44.1 kHz mono, frames of
2048 samples at 100 frames/s, a logarithmic filterbank with 12 bands per octave
from 20 Hz to 20 kHz, log magnitude log10(1 + |X|). With madmom's defaults
(`unique_filters=True`, which merges the low bands that would fall onto the
same FFT bin) that filterbank has exactly 84 bands; `N_BANDS` records it and a
test checks it.

A track's features are computed once and stored as `.npy` in a cache folder
(`<dataset>/.features/` for an ADTOS build folder, the per-user cache
`~/.cache/adtos/features` for every other dataset), named by the SHA-256 of the audio hash and
the settings, so a changed file or a changed setting never reads stale
features. Training opens them with `np.load(mmap_mode="r")`: only the frames of
a snippet are read from disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from adtos.fileio import atomic_path, sha256_file

N_BANDS = 84


@dataclass(frozen=True)
class FeatureSettings:
    sample_rate: int = 44100
    fps: int = 100
    frame_size: int = 2048
    bands_per_octave: int = 12
    fmin: float = 20.0
    fmax: float = 20000.0
    log_mul: float = 1.0
    log_add: float = 1.0

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


DEFAULT_SETTINGS = FeatureSettings()


def _processor(settings: FeatureSettings):
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.signal import FramedSignalProcessor, SignalProcessor
    from madmom.audio.spectrogram import (FilteredSpectrogramProcessor,
                                          LogarithmicSpectrogramProcessor)
    from madmom.audio.stft import ShortTimeFourierTransformProcessor
    from madmom.processors import SequentialProcessor

    return SequentialProcessor([
        SignalProcessor(num_channels=1, sample_rate=settings.sample_rate),
        FramedSignalProcessor(frame_size=settings.frame_size, fps=settings.fps),
        ShortTimeFourierTransformProcessor(),
        FilteredSpectrogramProcessor(filterbank=LogarithmicFilterbank,
                                     num_bands=settings.bands_per_octave,
                                     fmin=settings.fmin, fmax=settings.fmax,
                                     norm_filters=True, unique_filters=True),
        LogarithmicSpectrogramProcessor(mul=settings.log_mul, add=settings.log_add),
    ])


def compute_features(audio: np.ndarray, settings: FeatureSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Log-filtered spectrogram of mono audio at `settings.sample_rate`: float32 (frames, bands).

    There are ceil(len(audio) / hop) frames; frame i is centred on sample i·hop,
    so frame i covers time i / fps, which is how targets are placed too.
    """
    from madmom.audio.signal import Signal
    from threadpoolctl import threadpool_limits

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"compute_features expects mono audio of shape (n,), got {audio.shape}")
    if audio.size == 0:
        raise ValueError("compute_features got empty audio")
    signal = Signal(audio, sample_rate=settings.sample_rate)
    # One BLAS thread: tracks are spread over processes, and the filterbank's
    # small matrix product gains nothing from threads. With OpenBLAS's default
    # of one thread per core, 16 cores made it 16x more CPU for the same result.
    with threadpool_limits(limits=1, user_api="blas"):
        return np.ascontiguousarray(_processor(settings)(signal), dtype=np.float32)


def features_of_file(path: str | os.PathLike, settings: FeatureSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Features of any audio file (mixed to mono, resampled), without caching."""
    from adtos.datasets.audio import load_audio

    return compute_features(load_audio(path, sr=settings.sample_rate, mono=True), settings)


BUILD_TABLES = ("manifest.parquet", "render.parquet")  # what adtos build / render write


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/adtos/features`, by default `~/.cache/adtos/features`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "adtos" / "features"


def _writable(folder: Path) -> bool:
    """Whether `folder` is meant to be written: a write bit set, on a file system mounted
    read-write, and writable by us. `os.access` alone says yes to root on `dr-xr-xr-x`."""
    import stat

    try:
        mode = folder.stat().st_mode
        read_only_mount = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return bool(stat.S_IMODE(mode) & 0o222) and not read_only_mount and os.access(folder, os.W_OK)


def default_cache_dir(dataset_root: str | os.PathLike, kind: str = "adtos") -> Path:
    """Where a dataset's features are cached unless the user says otherwise.

    Only an ADTOS build folder (kind `adtos` with the manifest or render table
    that `adtos build`/`render` write) that is writable gets `<dataset>/.features`;
    every other dataset, above all a real test set such as MDB Drums, uses the
    per-user cache, so that nothing is ever written into a data folder.
    `$ADTOS_FEATURE_CACHE` overrides both (one folder for every dataset is fine:
    the file names are content hashes).
    """
    if os.environ.get("ADTOS_FEATURE_CACHE"):
        return Path(os.environ["ADTOS_FEATURE_CACHE"])
    root = Path(dataset_root)
    if root.is_file():
        root = root.parent
    is_build = kind == "adtos" and any((root / table).is_file() for table in BUILD_TABLES)
    if is_build and _writable(root):
        return root / ".features"
    return user_cache_dir()


def feature_cache_path(audio_sha256: str, cache_dir: str | os.PathLike,
                       settings: FeatureSettings = DEFAULT_SETTINGS) -> Path:
    digest = hashlib.sha256((audio_sha256 + "\n" + settings.key()).encode()).hexdigest()
    return Path(cache_dir) / f"{digest}.npy"


def track_audio_sha256(track) -> str:
    """The manifest's `audio_sha256` when the reader provides it, else the file's hash."""
    known = track.metadata.get("audio_sha256") if track.metadata else None
    if known:
        return str(known)
    if track.audio_path is None:
        raise FileNotFoundError(f"track {track.track_id} has no audio")
    return sha256_file(track.audio_path)


def cached_features(track, cache_dir: str | os.PathLike,
                    settings: FeatureSettings = DEFAULT_SETTINGS) -> Path:
    """Path of the track's feature file, computing and writing it (atomically) if missing."""
    path = feature_cache_path(track_audio_sha256(track), cache_dir, settings)
    if not path.exists():
        features = compute_features(track.load_audio(sr=settings.sample_rate, mono=True), settings)
        with atomic_path(path) as tmp:
            np.save(tmp, features)
    return path


def open_features(path: str | os.PathLike) -> np.ndarray:
    """A read-only memory map of a cached feature file."""
    return np.load(path, mmap_mode="r")
