"""`adtos sweep`: real (tiny) trainings on a generated dataset, the results table,
resuming, the best width per n, and the sweep config."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from adtos.scaling.config import (SweepConfig, SweepConfigError, SweepDataset, default_sizes,
                                  load_sweep_config, parse_sweep_config)
from adtos.scaling.sweep import plan_runs, result_columns, run_sweep, write_best
from adtos.scaling.table import read_table, write_csv

TINY_TRAINING = dict(batch_size=2, snippet_seconds=1.0, warmup_steps=1, val_every=2, workers=0,
                     feature_workers=0, patience=3)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    from adtos.transcriber.toy import make_toy_dataset

    # Three training tracks in manifest order toy00000..toy00002, one validation track.
    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", tracks=4, seconds=3.0, seed=3)


def tiny_config(toy: Path, **changes) -> SweepConfig:
    config = SweepConfig(datasets=[SweepDataset(name="toy", variant="4voices", path=str(toy))],
                         sizes=[1, 2], widths=[0.25], seed=0, device="cpu",
                         tests={"t": f"adtos:{toy}"}, train_options=dict(TINY_TRAINING, max_steps=2),
                         bootstrap=10)
    for name, value in changes.items():
        setattr(config, name, value)
    return config


@pytest.fixture(scope="module")
def swept(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    report = run_sweep(tiny_config(toy), out, progress=False)
    return out, report


def settings_of(toy: Path, **changes) -> str:
    from adtos.scaling.sweep import run_settings, settings_hash

    config = tiny_config(toy, **changes)
    return settings_hash(run_settings(config, config.datasets[0]))


def test_sweep_writes_one_row_per_run_with_every_column(swept, toy):
    out, report = swept
    tag = settings_of(toy)
    assert report.trained == [("toy", "4voices", "1", "0.25", tag), ("toy", "4voices", "2", "0.25", tag)]
    columns, rows = read_table(out / "results.csv")
    assert columns == result_columns(["t"])
    for column in ("test_loss_t", "test_loss_t_BD", "test_loss_CY", "f_measure_t_HH",
                   "f_measure", "params", "val_loss", "wall_time_s"):
        assert column in columns
    assert [(r["n"], r["width"], r["train_tracks"], r["steps"]) for r in rows] == [
        ("1", "0.25", "1", "2"), ("2", "0.25", "2", "2")]
    for row in rows:
        assert int(row["params"]) > 1000
        assert 0 < float(row["val_loss"]) < 2 and 0 < float(row["test_loss_t"]) < 2
        assert row["test_loss"] == row["test_loss_t"]  # one test set: the mean is that set
        assert 0 <= float(row["f_measure_t"]) <= 1
        assert (out / row["run_dir"] / "results.json").is_file()
    assert rows[0]["run_dir"] == f"runs/toy-4voices/{tag}/n0001-w0.25"
    assert (rows[0]["settings"], rows[0]["max_steps"], rows[0]["batch_size"]) == (tag, "2", "2")


def test_first_n_tracks_are_the_first_of_the_train_split(swept, toy):
    import json

    out, _ = swept
    config = json.loads((out / f"runs/toy-4voices/{settings_of(toy)}/n0002-w0.25/config.json")
                        .read_text())
    assert config["train_tracks"] == ["toy00000", "toy00001"]
    assert config["width"] == 0.25 and config["max_steps"] == 2


def test_sweep_fits_the_best_table(swept):
    out, report = swept
    _, best = read_table(out / "best.csv")
    assert [row["n"] for row in best] == ["1", "2"]
    _, fits = read_table(out / "fit" / "fit.csv")
    assert fits[0]["y"] == "test_loss" and fits[0]["status"].startswith("too few points")
    assert (out / "fit" / "test_loss.png").is_file()


def test_rerun_skips_finished_runs(swept, toy):
    out, _ = swept
    before = (out / "results.csv").read_bytes()
    report = run_sweep(tiny_config(toy), out, progress=False, fit=False)
    assert report.trained == [] and len(report.skipped_done) == 2
    assert (out / "results.csv").read_bytes() == before


def test_lost_rows_are_read_back_and_a_stopped_run_is_continued(swept, toy, tmp_path, caplog):
    out = tmp_path / "copy"
    shutil.copytree(swept[0], out)
    _, old_rows = read_table(out / "results.csv")
    (out / "results.csv").unlink()
    # n=2 stopped midway: its results.json is gone but its last checkpoint (step 2) is there.
    (out / f"runs/toy-4voices/{settings_of(toy)}/n0002-w0.25/results.json").unlink()
    with caplog.at_level(logging.INFO, logger="adtos"):
        report = run_sweep(tiny_config(toy), out, progress=False, fit=False)
    assert len(report.trained) == 2
    _, rows = read_table(out / "results.csv")
    assert rows[0]["val_loss"] == old_rows[0]["val_loss"]  # read back, not retrained
    assert rows[0]["steps"] == rows[1]["steps"] == "2"
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(name == "adtos.scaling.sweep" and "n=1 width=0.25: finished earlier" in message
               for name, message in logged)
    assert any(name == "adtos.scaling.sweep" and "n=2 width=0.25: resuming the stopped run" in message
               for name, message in logged)
    assert any(name == "adtos.transcriber.train" and message.startswith("resuming")
               for name, message in logged)


def test_a_rerun_with_other_settings_trains_afresh_and_is_not_fitted_with_the_first(toy, tmp_path,
                                                                                    capsys):
    # The case: --max-steps 8 into the folder of a --max-steps 32 sweep printed
    # "already done" and fitted one curve over runs of both. Here 4 after 8: on the
    # loaded 2-core machine a 32-step run did not finish in 12 minutes.
    from adtos.cli import main

    out = tmp_path / "out"
    common = ["sweep", "--train", str(toy), "--name", "toy", "--out", str(out), "--sizes", "1",
              "--widths", "0.25", "--batch-size", "2", "--val-every", "2",
              "--option", "snippet_seconds=1.0", "--option", "workers=0",
              "--option", "feature_workers=0", "--option", "warmup_steps=1",
              "--device", "cpu", "--no-progress", "--bootstrap", "0"]
    assert main([*common, "--max-steps", "8"]) == 0
    assert "1 run(s) trained, 0 already done" in capsys.readouterr().out
    assert main([*common, "--max-steps", "4"]) == 0
    captured = capsys.readouterr()
    assert "1 run(s) trained, 0 already done" in captured.out
    assert "[adtos sweep] warning: " in captured.err
    assert "also holds runs with other settings" in captured.err
    assert "[adtos sweep] [1/1] toy-default n=1 width=0.25: training" in captured.err
    _, rows = read_table(out / "results.csv")
    assert [(r["n"], r["max_steps"], r["steps"]) for r in rows] == [("1", "8", "8"),
                                                                     ("1", "4", "4")]
    assert rows[0]["settings"] != rows[1]["settings"]
    assert rows[0]["run_dir"] != rows[1]["run_dir"]  # nothing read back from the other settings
    _, best = read_table(out / "best.csv")
    assert len(best) == 2  # the best width per n within each settings, not across them
    _, fits = read_table(out / "fit" / "fit.csv")
    assert sorted(f["group"] for f in fits) == sorted(f"toy/default/{r['settings']}" for r in rows)
    # The same settings again: nothing to train.
    assert main([*common, "--max-steps", "4"]) == 0
    assert "0 run(s) trained, 1 already done" in capsys.readouterr().out


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(toy, tmp_path):
    broken = SweepDataset(name="broken", variant="x", path=str(toy), val=str(tmp_path / "nowhere"))
    config = tiny_config(toy, sizes=[1], datasets=[broken], tests={})
    report = run_sweep(config, tmp_path / "out", progress=False, fit=False)
    assert report.trained == [] and len(report.failed) == 1
    _, errors = read_table(tmp_path / "out" / "errors.csv")
    assert errors[0]["dataset"] == "broken" and "nowhere" in errors[0]["reason"]


def test_best_keeps_lowest_validation_loss_per_n(tmp_path):
    columns = result_columns([])
    rows = [dict(dataset="d", variant="v", n=n, width=w, val_loss=loss)
            for n, w, loss in [(1, 0.5, 0.9), (1, 1, 0.8), (2, 0.5, 0.6), (2, 1, 0.7),
                               (4, 0.5, ""), (4, 1, 0.5)]]
    rows.insert(0, dict(dataset="a", variant="v", n=8, width=1, val_loss=0.1))
    write_csv(rows, columns, tmp_path / "results.csv")
    best = write_best(tmp_path / "results.csv", tmp_path / "best.csv")
    assert [(r["dataset"], r["n"], r["width"]) for r in best] == [
        ("a", "8", "1"), ("d", "1", "1"), ("d", "2", "0.5"), ("d", "4", "1")]


def test_default_sizes_are_powers_of_two_then_the_whole_set():
    assert default_sizes(8) == [1, 2, 4, 8]
    assert default_sizes(10) == [1, 2, 4, 8, 10]
    assert default_sizes(100, n_max=64) == [1, 2, 4, 8, 16, 32, 64]
    assert default_sizes(0) == []


def test_plan_skips_n_beyond_the_pool():
    dataset = SweepDataset(name="d", variant="v", path="p")
    config = SweepConfig(datasets=[dataset], sizes=[1, 2, 4], widths=[0.5, 1.0])
    runs, too_large = plan_runs(config, {"d-v": ["a", "b", "c"]})
    assert [(r.n, r.width, r.train_tracks) for r in runs] == [
        (1, 0.5, ["a"]), (1, 1.0, ["a"]), (2, 0.5, ["a", "b"]), (2, 1.0, ["a", "b"])]
    assert too_large == ["d-v: n=4 but only 3 training tracks"]


def test_config_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "sweep.toml"
    path.write_text("""
[sweep]
n = [4, 1, 2]
widths = [1, 0.5]
val = "../data/val"
[train]
max_steps = 10
[tests]
mdb = "mdb:../data/mdb_drums"
[[datasets]]
name = "gmd"
variant = "drums"
path = "../data/gmd"
subset = "p8.txt"
reference = true
""")
    config = load_sweep_config(path)
    assert config.sizes == [1, 2, 4] and config.widths == [0.5, 1.0]
    assert config.tests == {"mdb": f"mdb:{tmp_path / 'data' / 'mdb_drums'}"}
    dataset = config.datasets[0]
    assert dataset.path == str(tmp_path / "data" / "gmd")
    assert dataset.subset == str(tmp_path / "configs" / "p8.txt")
    assert dataset.val == str(tmp_path / "data" / "val") and dataset.reference
    assert config.train_options == {"max_steps": 10}


def test_config_lists_every_problem():
    data = {"sweep": {"n": [0, 2], "widths": "1", "colour": 1},
            "train": {"width": 2, "learning_rat": 1},
            "datasets": [{"name": "a", "path": "x"}, {"name": "a", "path": "y"}, {"name": "b"}]}
    with pytest.raises(SweepConfigError) as error:
        parse_sweep_config(data, Path("."))
    message = str(error.value)
    for expected in ("[sweep] n: expected a list of positive integers",
                     "[sweep] widths: expected a list of positive numbers",
                     "[sweep] colour: unknown key",
                     "[train] width: set by the sweep itself",
                     "[train] learning_rat: not a training option",
                     "dataset 'a' variant 'default' is listed twice",
                     "[[datasets]] #3 path: expected the dataset folder"):
        assert expected in message


def test_cli_sweep_without_config_or_dataset_says_so(tmp_path, capsys):
    from adtos.cli import main

    assert main(["sweep", "--out", str(tmp_path)]) == 2
    assert "give a sweep CONFIG or --train DATASET" in capsys.readouterr().err


def test_cli_sweep_runs_from_the_command_line(toy, tmp_path, capsys):
    from adtos.cli import main

    code = main(["sweep", "--train", str(toy), "--out", str(tmp_path / "out"), "--sizes", "1",
                 "--widths", "0.25", "--max-steps", "1", "--batch-size", "2", "--val-every", "1",
                 "--option", "snippet_seconds=1.0", "--option", "workers=0",
                 "--option", "feature_workers=0", "--device", "cpu", "--no-progress",
                 "--bootstrap", "0"])
    assert code == 0
    output = capsys.readouterr().out
    assert "best width per n" in output and "1 run(s) trained" in output
    _, rows = read_table(tmp_path / "out" / "results.csv")
    assert rows[0]["dataset"] == "ds" and rows[0]["variant"] == "default"
    assert rows[0]["test_loss"] == ""  # no test set given


def test_a_run_locked_by_another_process_is_left_to_it(toy, tmp_path):
    import subprocess
    import sys
    import time

    out = tmp_path / "shared"
    lock = out / ".locks" / f"toy-4voices-{settings_of(toy)}-n0002-w0.25.lock"
    lock.parent.mkdir(parents=True)
    # Another sweep process holds n = 2: a separate process, as on a second GPU.
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                               "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
                               "time.sleep(120)", str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        first = run_sweep(tiny_config(toy), out, progress=False, fit=False)
    finally:
        holder.kill()
        holder.wait()
    tag = settings_of(toy)
    assert first.trained == [("toy", "4voices", "1", "0.25", tag)]
    assert first.busy == [("toy", "4voices", "2", "0.25", tag)]
    # The holder is gone (a crash, here): its lock went with it, and a rerun finishes n = 2.
    time.sleep(0.1)
    second = run_sweep(tiny_config(toy), out, progress=False, fit=False)
    assert second.trained == [("toy", "4voices", "2", "0.25", tag)] and not second.busy
    _, rows = read_table(out / "results.csv")
    assert sorted(r["n"] for r in rows) == ["1", "2"]


def test_concurrent_appends_lose_no_row(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "results.csv"
    with ProcessPoolExecutor(4) as pool:
        list(pool.map(_append_many, [(path, k) for k in range(4)]))
    _, rows = read_table(path)
    assert sorted(int(r["i"]) for r in rows) == list(range(4 * 25))


def _append_many(args) -> None:
    from adtos.scaling.sweep import append_row

    path, k = args
    for i in range(25):
        append_row(path, {"i": str(k * 25 + i)}, ["i"])


def test_errors_of_other_processes_are_kept_and_fixed_runs_drop_out(toy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_csv([{"dataset": "other", "variant": "v", "n": "8", "width": "1", "settings": "abc",
                "reason": "GPU fell off"},
               {"dataset": "toy", "variant": "4voices", "n": "1", "width": "0.25",
                "settings": settings_of(toy, tests={}), "reason": "failed in an earlier call"}],
              ["dataset", "variant", "n", "width", "settings", "reason"], out / "errors.csv")
    broken = SweepDataset(name="broken", variant="x", path=str(toy), val=str(tmp_path / "nowhere"))
    good = SweepDataset(name="toy", variant="4voices", path=str(toy))
    run_sweep(tiny_config(toy, sizes=[1], datasets=[good, broken], tests={}), out,
              progress=False, fit=False)
    _, errors = read_table(out / "errors.csv")
    assert [(e["dataset"], e["n"]) for e in errors] == [("other", "8"), ("broken", "1")]
