"""Peak picking at the edges of a track, and against madmom's OnsetPeakPickingProcessor
on real activations (the spectral flux of MDB Drums mixes)."""

from __future__ import annotations

import numpy as np
import pytest

from adtos.transcriber.peaks import local_maxima, pick_all, pick_peaks

FPS = 100


def test_an_activation_that_starts_high_gives_no_onset_at_zero():
    falling = np.array([0.95, 0.9, 0.7, 0.3, 0.1, 0.1, 0.1, 0.8, 0.2, 0.1])
    assert pick_peaks(falling, 0.5).tolist() == [0.07]
    flat = np.full(20, 0.9)                      # high everywhere: nothing rises
    assert local_maxima(flat).size == 0 and pick_peaks(flat, 0.5).size == 0
    activations = np.tile(falling[:, None], (1, 5))   # a network's edge response, every class
    times, labels = pick_all(activations, 0.5)
    assert 0.0 not in times.tolist() and times.tolist() == [0.07] * 5
    # a rise to the last frame is still an onset: it began inside the track
    assert pick_peaks(np.array([0.1, 0.1, 0.1, 0.4, 0.9]), 0.5).tolist() == [0.04]
    assert local_maxima(np.zeros(0)).size == 0


def _spectral_flux(path) -> np.ndarray:
    """madmom-style spectral flux of our features, scaled to [0, 1]: a real onset activation.
    Frame 0's flux is the whole first spectrum (the frame before is taken as silence)."""
    from adtos.transcriber.features import features_of_file

    features = features_of_file(path)
    flux = np.r_[features[0].sum(), np.maximum(np.diff(features, axis=0), 0).sum(axis=1)]
    return flux / flux.max()


@pytest.fixture(scope="module")
def reggae(shared_data):
    root = shared_data / "mdb_drums"
    audio = root / "audio" / "full_mix" / "MusicDelta_Reggae_MIX.wav"
    if not audio.is_file():
        pytest.skip(f"{audio} not found")
    annotated = np.loadtxt(root / "annotations" / "class" / "MusicDelta_Reggae_class.txt",
                           usecols=0)
    return _spectral_flux(audio), annotated


@pytest.mark.shared_data
def test_a_real_track_that_starts_with_sound_gets_no_onset_at_zero(reggae):
    from madmom.features.onsets import peak_picking

    activation, annotated = reggae
    # the excerpt starts mid-sound: frame 0 is the largest flux of the track and it falls from there
    assert activation[0] == 1.0 and activation[1] < 0.5 and annotated.min() > 0.0
    assert 0 in peak_picking(activation, 0.2, pre_max=2, post_max=2)   # zero-padded: a peak at 0
    onsets = pick_peaks(activation, 0.2)
    assert onsets.size > 10 and onsets[0] > 0.0


@pytest.mark.shared_data
@pytest.mark.parametrize("threshold", [0.1, 0.15, 0.25])
def test_peaks_equal_madmoms_onset_peak_picking_but_for_the_first_frame(reggae, threshold):
    """OnsetPeakPickingProcessor with ±20 ms moving maximum and 10 ms combination is our
    ±2-frame maximum kept 2 frames apart; it differs only where it pads the edges with 0."""
    from madmom.features.onsets import OnsetPeakPickingProcessor

    activation, _ = reggae
    madmom = OnsetPeakPickingProcessor(threshold=threshold, pre_max=0.02, post_max=0.02,
                                       combine=0.01, fps=FPS)(activation)
    ours = pick_peaks(activation, threshold, FPS)
    madmom_frames = set(np.round(madmom * FPS).astype(int).tolist())
    ours_frames = set(np.round(ours * FPS).astype(int).tolist())
    assert len(ours_frames) > 10
    assert ours_frames <= madmom_frames
    assert madmom_frames - ours_frames <= {0}
