"""Label policies: which onsets become targets, soft targets, or frames left out of the loss."""

from __future__ import annotations

import numpy as np
import pytest

from adtos.datasets.track import Track
from adtos.errors import ConfigError
from adtos.transcriber.labels import (DEFAULT_POLICY, IGNORE, IGNORE_FRAMES, NO_POLICY,
                                      LabelPolicy, don_t_care, masked_bce, parse_policy)
from adtos.transcriber.targets import frame_targets
from adtos.vocab import CLASSES

BD, SD, TT, HH, CY = range(5)


def track():
    # time, class, GM note, smr_db, level_db
    rows = [(0.10, BD, 36, 20.0, -15.0),
            (0.30, SD, 38, -12.0, -40.0),   # under the mix
            (0.50, SD, 38, -4.0, -30.0),    # 4 dB above SD's minimum below
            (0.70, HH, 44, 15.0, -35.0),    # pedal hi-hat, clearly audible
            (0.90, HH, 42, -20.0, -50.0),   # closed hat buried
            (1.10, CY, 49, 30.0, -20.0)]
    t, c, n, smr, level = map(np.array, zip(*rows))
    return Track("t", None, t, c, notes=n, smr_db=smr, level_db=level)


def test_drop_removes_exactly_the_onsets_below_their_class_minimum():
    policy = LabelPolicy(below="drop", min_db={"SD": -8.0, "HH": -8.0})
    onsets, labels, values = policy.targets(track())
    assert onsets.tolist() == [0.10, 0.50, 0.70, 1.10]
    assert labels.tolist() == [BD, SD, HH, CY] and values.tolist() == [1, 1, 1, 1]


def test_soft_gives_the_amplitude_ratio_to_the_minimum():
    policy = LabelPolicy(below="soft", min_db={c: -8.0 for c in CLASSES})
    onsets, _, values = policy.targets(track())
    assert onsets.size == 6
    expected = [1, 10 ** (-4 / 20), 1, 1, 10 ** (-12 / 20), 1]
    assert values == pytest.approx(expected)


def test_ignore_marks_the_onsets_and_the_pedal_hihat_follows_its_note_action():
    policy = LabelPolicy(below="ignore", min_db={c: -8.0 for c in CLASSES}, notes={44: "ignore"})
    onsets, _, values = policy.targets(track())
    assert values.tolist() == [1, IGNORE, 1, IGNORE, IGNORE, 1]
    as_hh = LabelPolicy(below="ignore", min_db={c: -8.0 for c in CLASSES}, notes={44: "HH"})
    assert as_hh.targets(track())[2].tolist() == [1, IGNORE, 1, 1, IGNORE, 1]
    dropped = LabelPolicy(notes={44: "drop"}).targets(track())
    assert 0.70 not in dropped[0].tolist() and dropped[0].size == 5


def test_the_figure_can_be_the_stem_level():
    policy = LabelPolicy(below="drop", figure="level_db", min_db={c: -45.0 for c in CLASSES})
    assert policy.targets(track())[0].tolist() == [0.10, 0.30, 0.50, 0.70, 1.10]


def test_a_track_without_figures_keeps_every_onset():
    real = Track("mdb", None, [0.1, 0.2], [SD, HH])
    onsets, labels, values = DEFAULT_POLICY.targets(real)
    assert onsets.tolist() == [0.1, 0.2] and values.tolist() == [1, 1]
    assert NO_POLICY.targets(track())[2].tolist() == [1] * 6


def test_frame_targets_set_soft_values_and_ignore_zones():
    onsets, labels, values = np.array([0.10, 0.30, 0.30]), np.array([BD, SD, HH]), \
        np.array([1.0, 0.25, IGNORE])
    targets = frame_targets(onsets, labels, 50, 100.0, values=values)
    assert targets[10, BD] == 1.0 and targets[30, SD] == 0.25
    assert (targets[30 - IGNORE_FRAMES:30 + IGNORE_FRAMES + 1, HH] == IGNORE).all()
    assert targets[30 + IGNORE_FRAMES + 1, HH] == 0.0
    assert np.count_nonzero(targets) == 2 + 2 * IGNORE_FRAMES + 1
    # A kept onset wins over an ignored one in the same frame and class.
    both = frame_targets(np.array([0.3, 0.3]), np.array([SD, SD]), 50, 100.0,
                         values=np.array([IGNORE, 1.0]))
    assert both[30, SD] == 1.0 and both[29, SD] == IGNORE
    # Without values: the plain targets.
    assert np.array_equal(frame_targets(onsets, labels, 50, 100.0),
                          frame_targets(onsets, labels, 50, 100.0, values=np.ones(3)))


def test_masked_bce_leaves_ignored_frames_out_and_is_plain_bce_otherwise():
    torch = pytest.importorskip("torch")
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    plain = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert masked_bce(logits, plain).item() == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(logits, plain).item())
    masked = torch.tensor([[1.0, 0.0], [IGNORE, 1.0]])
    keep = torch.tensor([True, True, False, True])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.flatten()[keep], masked.flatten()[keep])
    assert masked_bce(logits, masked).item() == pytest.approx(expected.item())


def test_don_t_care_hides_ignored_frames_from_peak_picking_and_references():
    class Prepared:
        onsets = np.array([0.1, 0.3, 0.5])
        labels = np.array([SD, SD, SD])
        values = np.array([1.0, IGNORE, 0.2])

    targets = frame_targets(Prepared.onsets, Prepared.labels, 60, 100.0, values=Prepared.values)
    activation = np.full((60, 5), 0.9, dtype=np.float32)
    hidden, reference = don_t_care(activation, targets, Prepared)
    assert (hidden[28:33, SD] == 0).all() and hidden[10, SD] == pytest.approx(0.9)
    assert reference.tolist() == [True, False, False]


def test_parse_policy_reads_the_command_line_form():
    policy = parse_policy("below=soft; figure=level_db; min_db=-50; SD=-45; 44=HH; 46=ignore")
    assert policy.below == "soft" and policy.figure == "level_db"
    assert policy.min_db["SD"] == -45.0 and policy.min_db["BD"] == -50.0
    assert policy.notes == {44: "keep", 46: "ignore"}
    assert parse_policy("default") is DEFAULT_POLICY and parse_policy("none") is NO_POLICY
    assert LabelPolicy.from_dict(policy.to_dict()) == policy
    for bad in ("below=maybe", "XX=-3", "SD=loud", "44=sometimes", "min_db"):
        with pytest.raises(ConfigError):
            parse_policy(bad)


def test_the_sweep_config_and_old_run_folders_take_a_policy(tmp_path):
    import json

    from adtos.scaling.config import SweepConfigError, parse_sweep_config
    from adtos.transcriber.config import TrainConfig

    base = {"datasets": [{"name": "d", "variant": "v", "path": "ds"}]}
    good = parse_sweep_config({**base, "train": {"label_policy": "below=soft;min_db=-8"}}, tmp_path)
    assert good.train_options["label_policy"] == "below=soft;min_db=-8"
    with pytest.raises(SweepConfigError, match="label_policy"):
        parse_sweep_config({**base, "train": {"label_policy": "below=sometimes"}}, tmp_path)
    # A run folder written before policies existed resumes with every onset taught.
    old = TrainConfig("a", "b", "c").__dict__ | {}
    old.pop("label_policy")
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert TrainConfig.from_json_file(tmp_path / "config.json").label_policy == "none"
    assert TrainConfig("a", "b", "c").label_policy == "default"


# -- the grammar: every key has an effect (issue #21) -----------------------------------------

def test_a_partial_policy_starts_from_the_default():
    assert parse_policy("below=ignore") == DEFAULT_POLICY
    soft = parse_policy("below=soft")
    assert soft.min_db == DEFAULT_POLICY.min_db and soft.notes == DEFAULT_POLICY.notes
    lower = parse_policy("min_db=-8")
    assert lower.below == "ignore" and lower.min_db == {c: -8.0 for c in CLASSES}
    assert lower.targets(track())[2].tolist() == [1, IGNORE, 1, IGNORE, IGNORE, 1]
    assert parse_policy("44=HH") == LabelPolicy(below="ignore", min_db=DEFAULT_POLICY.min_db,
                                                notes={44: "keep"})
    # a class's own minimum wins over min_db, whichever comes first
    assert parse_policy("SD=-3;min_db=-9").min_db == {**{c: -9.0 for c in CLASSES}, "SD": -3.0}
    assert parse_policy("below=keep;44=drop") == LabelPolicy(notes={44: "drop"})


@pytest.mark.parametrize("text, words", [
    ("200=drop", "note 200 is not a MIDI note"),
    ("56=drop", "note 56 is not a note of the 5-class vocabulary"),
    ("43=HH", "note 43 is a TT note"),
    ("44=SD", "note 44 is a HH note"),
    ("below=keep;min_db=-5", "min_db would do nothing"),
    ("below=keep;figure=level_db", "figure would do nothing"),
    ("figure=level_db", "figure=level_db needs its own minimums"),
    ("SD=-5;SD=-6", "SD is given twice"),
    ("min_db=inf", "min_db needs a number in dB"),
    ("below=", "is not KEY=VALUE"),
    (";", "empty"),
])
def test_out_of_range_notes_and_settings_without_effect_are_refused(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_policy(text)


@pytest.mark.parametrize("text", ["default", "none", "below=soft;SD=-6;44=HH;46=ignore",
                                  "below=drop;figure=level_db;min_db=-50;CY=-40",
                                  "below=keep;44=drop"])
def test_the_spelled_out_policy_reads_back_to_the_same_policy(text):
    policy = parse_policy(text)
    assert parse_policy(policy.describe()) == policy
    assert LabelPolicy.from_dict(policy.to_dict()) == policy
    assert parse_policy("default").describe() == "below=ignore;figure=smr_db;min_db=-5;44=ignore"


# -- in a training run ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from adtos.transcriber.toy import make_toy_dataset

    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", tracks=2, seconds=2.0, seed=1)


def test_the_resolved_policy_is_logged_at_the_start_and_stored_in_the_run(toy, tmp_path, caplog,
                                                                          one_torch_thread):
    import json
    import logging

    from adtos.transcriber.config import TrainConfig
    from adtos.transcriber.train import train

    caplog.set_level(logging.INFO, logger="adtos")
    train(TrainConfig(train=str(toy), val=str(toy), out=str(tmp_path / "run"), max_steps=0,
                      width=0.25, batch_size=2, snippet_seconds=0.5, workers=0,
                      feature_workers=0, progress=False, label_policy="below=soft;44=HH"))
    resolved = "below=soft;figure=smr_db;min_db=-5;44=keep"
    first = [r.getMessage() for r in caplog.records if r.name.startswith("adtos")][0]
    assert first == f"label policy: {resolved}"
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["label_policy"] == resolved
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["label_policy"] == "below=soft;44=HH"  # as given, for --resume


@pytest.mark.parametrize("args, words", [
    (["--label-policy", "200=drop"], "note 200 is not a MIDI note"),
    (["--label-policy", "below=sometimes"], "below must be one of"),
    (["--test", "mdb=mdb:{missing}"], "missing"),
])
def test_an_argument_error_leaves_no_run_folder(toy, tmp_path, capsys, args, words):
    from adtos.cli import main

    run = tmp_path / "run"
    args = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    code = main(["train", "--train", str(toy), "--val", str(toy), "--out", str(run),
                 "--max-steps", "1", "--workers", "0", "--feature-workers", "0",
                 "--no-progress", *args])
    assert code == 2
    assert words in capsys.readouterr().err
    assert not run.exists()
