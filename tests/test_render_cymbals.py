"""The cymbals lever: hi-hats and cymbals set against the rest of the kit per track
(adtos.render.mix.shape_cymbals), applied before the dry drum stem is summed, so the
labels' levels describe the hats as the mix has them."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from adtos.annotations import read_annotation_columns
from adtos.render import render_tracks
from adtos.render.mix import (CYMBAL_SHELF_HZ, MixOptions, draw_mix, shape_cymbals)
from test_render_support import make_tracks, small_library

LEVEL = (-12.0, -6.0)


def render(root, name, mix):
    out = root / name
    report = render_tracks(root / "tracks", small_library(), out, workers=1, progress=False,
                           voices=["drums"], mix=mix, seed=0)
    assert not report.failed
    return out, {row["track_id"]: row for row in pq.read_table(out / "render.parquet").to_pylist()}


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    root = tmp_path_factory.mktemp("cymbals")
    return root, make_tracks(root / "tracks", n=3, seconds=4.0, voices=1)


def test_the_lever_changes_no_other_draw():
    on = MixOptions(balance_db=(-12.0, 0.0), master=True, cymbals_db=LEVEL, cymbals_shelf_db=(-9.0, 0.0))
    off = MixOptions(balance_db=(-12.0, 0.0), master=True)
    for track_id in ("a", "b", "c"):
        drawn_on, drawn_off = draw_mix(track_id, 0, on), draw_mix(track_id, 0, off)
        assert LEVEL[0] <= drawn_on.cymbals_db <= LEVEL[1]
        assert -9.0 <= drawn_on.cymbals_shelf_db <= 0.0
        for field in ("balance_db", "master_lufs", "comp_ratio", "limiter_release_ms"):
            assert getattr(drawn_on, field) == getattr(drawn_off, field)


def test_shape_cymbals_scales_hats_and_cymbals_only():
    rng = np.random.default_rng(0)
    groups = {name: rng.standard_normal((2, 44100)).astype(np.float32) for name in ("BD", "HH", "CY")}
    options = MixOptions(cymbals_db=LEVEL)
    draw = draw_mix("t", 0, options)
    shaped = shape_cymbals(groups, draw, options, 44100)
    assert shaped["BD"] is groups["BD"]
    for name in ("HH", "CY"):
        np.testing.assert_allclose(shaped[name], groups[name] * 10 ** (draw.cymbals_db / 20), rtol=1e-6)
    assert shape_cymbals(groups, draw, MixOptions(), 44100) is groups  # off: untouched
    with pytest.raises(ValueError, match="drawn mix parameters"):
        shape_cymbals(groups, None, options, 44100)


def test_the_shelf_darkens_above_its_corner_and_leaves_the_lows():
    sr = 44100
    noise = np.random.default_rng(1).standard_normal((2, sr * 2)).astype(np.float32)
    options = MixOptions(cymbals_shelf_db=(-9.0, -9.0))
    shaped = shape_cymbals({"HH": noise}, draw_mix("t", 0, options), options, sr)["HH"]
    spectrum = lambda x: np.abs(np.fft.rfft(x[0])) ** 2  # noqa: E731
    freqs = np.fft.rfftfreq(noise.shape[1], 1 / sr)
    ratio_db = lambda band: 10 * np.log10(spectrum(shaped)[band].sum() / spectrum(noise)[band].sum())  # noqa: E731
    assert ratio_db(freqs > 3 * CYMBAL_SHELF_HZ) == pytest.approx(-9.0, abs=0.7)
    assert ratio_db((freqs > 50) & (freqs < 800)) == pytest.approx(0.0, abs=0.2)


def test_labels_follow_the_drawn_level_and_the_record_says_it(tracks):
    """Against the same render without the lever, a hi-hat's level_db moves by the drawn
    gain more than a kick's does (the stem is normalized again, which moves both)."""
    root, ids = tracks
    plain_out, plain = render(root, "plain", MixOptions())
    shaped_out, shaped = render(root, "shaped", MixOptions(cymbals_db=LEVEL))
    checked = 0
    for track_id in ids:
        assert plain[track_id]["cymbals_db"] is None and plain[track_id]["cymbals_shelf_db"] is None
        drawn = shaped[track_id]["cymbals_db"]
        assert LEVEL[0] <= drawn <= LEVEL[1] and shaped[track_id]["cymbals_shelf_db"] is None
        assert drawn == pytest.approx(draw_mix(track_id, 0, MixOptions(cymbals_db=LEVEL)).cymbals_db)
        _, _, before_classes, before = read_annotation_columns(plain_out / "annotations" / f"{track_id}.txt")
        _, _, _, after = read_annotation_columns(shaped_out / "annotations" / f"{track_id}.txt")
        classes = np.array([{"42": "HH", "46": "HH", "44": "HH", "36": "BD"}.get(n, "-")
                            for n in before_classes])
        moved = after["level_db"] - before["level_db"]
        if not ((classes == "HH").any() and (classes == "BD").any()):
            continue
        shift = np.median(moved[classes == "HH"]) - np.median(moved[classes == "BD"])
        assert shift == pytest.approx(drawn, abs=0.5)
        checked += 1
    assert checked


def test_bad_ranges_are_refused(tracks, capsys):
    from adtos.cli import main
    from adtos.presets import save_presets

    with pytest.raises(ValueError, match="cymbals_db"):
        MixOptions(cymbals_db=(0.0, -6.0))
    with pytest.raises(ValueError, match="cymbals_shelf_db"):
        MixOptions(cymbals_shelf_db=(-30.0, 0.0))
    root, _ = tracks
    save_presets(small_library(), root / "presets.jsonl")
    assert main(["render", str(root / "tracks"), "--presets", str(root / "presets.jsonl"),
                 "--out", str(root / "cli"), "--no-progress", "--cymbals-db", "0", "-6"]) == 2
    assert "--cymbals-db" in capsys.readouterr().err
    assert not (root / "cli").exists()
