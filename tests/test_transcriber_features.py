"""Features: the madmom spectrogram's shape and timing, and the on-disk cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from adtos.datasets import Track
from adtos.transcriber.data import load_snippet, plan_batch, prepare_tracks
from adtos.transcriber.features import (DEFAULT_SETTINGS, N_BANDS, FeatureSettings,
                                        cached_features, compute_features, feature_cache_path,
                                        open_features)

SR = 44100


def _click_track(tmp_path, name="click", seconds=3.0, clicks=(0.5, 1.25, 2.0)):
    import soundfile as sf

    audio = np.zeros(int(seconds * SR), dtype=np.float32)
    rng = np.random.default_rng(0)
    for t in clicks:
        start = int(round(t * SR))
        audio[start:start + 2000] += rng.standard_normal(2000).astype(np.float32) * np.exp(
            -np.arange(2000) / 300)
    path = tmp_path / f"{name}.flac"
    sf.write(path, audio, SR)
    return Track(name, path, np.asarray(clicks), np.zeros(len(clicks), dtype=np.int64)), audio


def test_spectrogram_has_84_bands_100_fps_and_onsets_on_their_frame(tmp_path):
    _, audio = _click_track(tmp_path)
    features = compute_features(audio)
    assert features.shape == (int(np.ceil(audio.size / 441)), N_BANDS) == (300, 84)
    assert features.dtype == np.float32 and features.min() >= 0  # log10(1 + |X|)
    flux = np.maximum(np.diff(features.sum(axis=1), prepend=0.0), 0)
    onset_frames = np.sort(np.argsort(flux)[-3:])
    # frame i is centred on sample 441·i: each click shows up at round(t·100) (±1)
    assert np.abs(onset_frames - np.array([50, 125, 200])).max() <= 1


def test_compute_features_rejects_bad_input():
    with pytest.raises(ValueError, match="mono"):
        compute_features(np.zeros((100, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="empty"):
        compute_features(np.zeros(0, dtype=np.float32))


def test_cache_is_keyed_by_audio_and_settings_and_reused(tmp_path):
    track, audio = _click_track(tmp_path)
    cache = tmp_path / "cache"
    path = cached_features(track, cache)
    assert path.parent == cache and path.suffix == ".npy"
    assert not list(cache.glob(".*"))  # no temporary file left behind
    stamp = os.stat(path).st_mtime_ns
    assert cached_features(track, cache) == path and os.stat(path).st_mtime_ns == stamp  # reused
    cached = open_features(path)
    assert isinstance(cached, np.memmap)
    np.testing.assert_array_equal(cached, compute_features(track.load_audio()))  # FLAC is 16 bit
    other_settings = FeatureSettings(fmin=30.0)
    assert feature_cache_path("abc", cache, other_settings) != feature_cache_path("abc", cache)
    # the manifest's audio hash, when the reader gives it, is used instead of hashing the file
    track.metadata["audio_sha256"] = "0" * 64
    assert cached_features(track, cache) == feature_cache_path("0" * 64, cache, DEFAULT_SETTINGS)


def test_unreadable_audio_is_skipped_and_reported(tmp_path):
    good, _ = _click_track(tmp_path, "good")
    bad_path = tmp_path / "bad.flac"
    bad_path.write_bytes(b"not audio")
    bad = Track("bad", bad_path, [], [])
    prepared, errors = prepare_tracks([good, bad], tmp_path / "cache", progress=False)
    assert [t.track_id for t in prepared] == ["good"] and prepared[0].n_frames == 300
    assert errors[0][0] == "bad"


def test_snippets_are_reproducible_and_padded(tmp_path):
    track, _ = _click_track(tmp_path)
    prepared, _ = prepare_tracks([track], tmp_path / "cache", progress=False)
    plan = plan_batch(seed=3, step=7, track_frames=[300, 50], batch_size=16, snippet_frames=100)
    assert np.array_equal(plan, plan_batch(3, 7, [300, 50], 16, 100))
    assert not np.array_equal(plan, plan_batch(3, 8, [300, 50], 16, 100))
    assert plan[plan[:, 0] == 0, 1].max() <= 200 and (plan[plan[:, 0] == 1, 1] == 0).all()
    features, targets = load_snippet(prepared[0], 250, 100, fps=100)
    assert features.shape == (100, 84) and (features[50:] == 0).all()
    features, targets = load_snippet(prepared[0], 100, 100, fps=100)
    assert targets[25, 0] == 1 and targets.sum() == 1  # the click at 1.25 s


def _mdb_layout(root, audio_source):
    """A one-track folder in MDB Drums' layout (a real dataset kind, not an ADTOS build)."""
    import shutil

    (root / "annotations" / "class").mkdir(parents=True)
    (root / "audio" / "full_mix").mkdir(parents=True)
    (root / "annotations" / "class" / "Song_class.txt").write_text("0.5\tKD\n1.0\tSD\n")
    shutil.copy(audio_source, root / "audio" / "full_mix" / "Song_MIX.flac")
    return root


def test_feature_cache_is_never_written_into_a_data_folder(tmp_path, monkeypatch):
    from adtos.datasets.mdb import MIXES
    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.features import default_cache_dir
    from adtos.transcriber.toy import make_toy_dataset
    from adtos.transcriber.train import prepare_set

    monkeypatch.delenv("ADTOS_FEATURE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    user_cache = tmp_path / "xdg" / "adtos" / "features"
    build = make_toy_dataset(tmp_path / "build", tracks=2, seconds=1.0)
    assert default_cache_dir(build, "adtos") == build / ".features"
    # a folder of annotations without a build table, and any other kind, even writable
    monkeypatch.setitem(MIXES, "full_mix", "_MIX.flac")
    mdb = _mdb_layout(tmp_path / "mdb", build / "audio" / "toy00000.flac")
    assert default_cache_dir(mdb, "mdb") == user_cache
    assert default_cache_dir(build, "mdb") == user_cache
    # a read-only build folder: root may write there, but must not
    build.chmod(0o555)
    try:
        assert default_cache_dir(build, "adtos") == user_cache
    finally:
        build.chmod(0o755)

    before = sorted(p.relative_to(mdb) for p in mdb.rglob("*"))
    config = TrainConfig(train="", val="", out="", feature_workers=0, progress=False)
    prepared, _ = prepare_set(config, f"mdb:{mdb}", "test")
    assert len(prepared) == 1 and prepared[0].features().shape[1] == N_BANDS
    assert sorted(p.relative_to(mdb) for p in mdb.rglob("*")) == before   # nothing written
    assert len(list(user_cache.glob("*.npy"))) == 1
