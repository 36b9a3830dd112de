"""The scaling-law fit: recovery of known parameters, bounds, intervals, input checks,
and `adtos fit` on result tables."""

from __future__ import annotations

import csv

import matplotlib.pyplot as plt
import numpy as np
import pytest

from adtos.cli import main
from adtos.scaling.curves import fit_curves
from adtos.scaling.fit import fit_power_law
from adtos.scaling.table import collect_points, read_table

TRUE = {"alpha": 0.5, "beta": 0.4, "gamma": 0.08}


def noisy_curve(n: np.ndarray, alpha: float, beta: float, gamma: float, noise: float,
                seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (alpha * n ** -beta + gamma) * np.exp(rng.normal(0.0, noise, n.size))


def test_recovers_known_parameters_on_14_points_and_intervals_contain_them():
    n = 2.0 ** np.arange(14)  # 1 ... 8192 as in the paper
    loss = noisy_curve(n, **TRUE, noise=0.01, seed=1)
    fit = fit_power_law(n, loss, bootstrap=200, seed=0)
    for name, true in TRUE.items():
        assert getattr(fit, name) == pytest.approx(true, rel=0.05), name
        low, high = fit.ci[name]
        assert low <= true <= high, (name, low, high)
        assert low <= getattr(fit, name) <= high
    assert fit.n_points == 14
    assert 0 < fit.residual < 0.02  # RMS of 1% log noise
    assert fit.bootstrap_used > 150


def test_recovers_known_parameters_on_4_points():
    n = np.array([1.0, 8.0, 64.0, 512.0])
    loss = noisy_curve(n, **TRUE, noise=0.003, seed=2)
    fit = fit_power_law(n, loss, bootstrap=50, seed=0)
    for name, true in TRUE.items():
        assert getattr(fit, name) == pytest.approx(true, rel=0.05), name
    np.testing.assert_allclose(fit.predict(n), loss, rtol=0.01)


def test_gamma_zero_is_found_as_zero_not_negative():
    n = 2.0 ** np.arange(14)
    loss = noisy_curve(n, 0.6, 0.35, 0.0, noise=0.01, seed=4)
    fit = fit_power_law(n, loss, bootstrap=50, seed=0)
    assert fit.gamma >= 0.0
    # Noise can always be read as a little gap; it must stay small next to the loss.
    assert fit.gamma < 0.05 * loss.min()
    assert fit.ci["gamma"][0] == 0.0  # the interval holds "no gap"
    assert fit.alpha == pytest.approx(0.6, rel=0.05)
    assert fit.beta == pytest.approx(0.35, rel=0.05)


def test_flat_curve_stays_within_bounds():
    # A curve that has stopped falling cannot tell α from γ (β -> 0 makes α·n^-β a
    # constant too); the fit must still stay in bounds and follow the plateau.
    n = 2.0 ** np.arange(6, 12)
    loss = noisy_curve(n, 0.5, 2.0, 0.2, noise=0.002, seed=4)
    fit = fit_power_law(n, loss, bootstrap=0)
    assert fit.alpha > 0 and 0 < fit.beta <= 5 and 0 <= fit.gamma <= loss.min()
    np.testing.assert_allclose(fit.predict(n), 0.2, rtol=0.01)
    assert np.isnan(fit.ci["gamma"][0])  # no bootstrap, no interval


@pytest.mark.parametrize("n, loss, message", [
    ([1, 2], [0.5, 0.4], "too few points"),
    ([1, 1, 2, 2], [0.5, 0.5, 0.4, 0.4], "need at least 3 distinct n"),
    ([1, 2, 4], [0.5, 0.4], "same length"),
    ([1, 2, 4], [0.5, 0.0, 0.3], "loss must be finite and positive"),
    ([0, 2, 4], [0.5, 0.4, 0.3], "n must be finite and positive"),
    ([1, 2, 4], [0.5, np.nan, 0.3], "loss must be finite and positive"),
    ([[1, 2, 4]], [[0.5, 0.4, 0.3]], "1-D"),
])
def test_bad_input_is_refused_with_the_problem_named(n, loss, message):
    with pytest.raises(ValueError, match=message):
        fit_power_law(np.array(n, dtype=float), np.array(loss, dtype=float), bootstrap=0)


def test_same_seed_same_intervals():
    n = 2.0 ** np.arange(8)
    loss = noisy_curve(n, **TRUE, noise=0.02, seed=5)
    first = fit_power_law(n, loss, bootstrap=60, seed=7)
    again = fit_power_law(n, loss, bootstrap=60, seed=7)
    other = fit_power_law(n, loss, bootstrap=60, seed=8)
    assert first == again
    assert first.ci != other.ci


def write_table(path, rows, columns):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def wobble(n):
    """1% of deterministic noise: exact curves give zero-width bootstrap intervals."""
    return 1.0 + 0.01 * np.sin(3.0 * n)


def example_table(path):
    """Two synthetic variants with two widths per n, and a short real reference."""
    rows = []
    for variant, (alpha, beta, gamma) in {"4voices": (0.3, 0.5, 0.05), "drums": (0.35, 0.4, 0.09)}.items():
        for n in 2 ** np.arange(7):
            for width, worse in ((0.5, 1.3), (1.0, 1.0)):
                loss = (alpha * n ** -beta + gamma) * wobble(n)
                rows.append({"dataset": "gmd", "variant": variant, "n": n, "width": width,
                             "val_loss": loss * worse, "test_loss": loss * worse,
                             "test_loss_BD": 1.1 * loss * worse, "test_loss_SD": 0.9 * loss * worse})
    rows += [{"dataset": "real", "variant": "human", "n": 4, "val_loss": 0.2, "test_loss": 0.2},
             {"dataset": "real", "variant": "human", "n": 8, "val_loss": 0.15, "test_loss": -1},
             {"dataset": "real", "variant": "human", "n": 16, "val_loss": 0.1, "test_loss": ""}]
    columns = ["dataset", "variant", "n", "width", "val_loss", "test_loss", "test_loss_BD",
               "test_loss_SD"]
    write_table(path, rows, columns)
    return len(rows)


def test_collect_points_keeps_best_width_and_reports_bad_rows(tmp_path):
    table = tmp_path / "results.csv"
    example_table(table)
    columns, rows = read_table(table)
    groups, dropped = collect_points(rows, columns, x="n", y="test_loss",
                                     group_by=["dataset", "variant"], best_by="val_loss",
                                     reference=["real/human"])
    by_label = {group.label: group for group in groups}
    assert set(by_label) == {"gmd/4voices", "gmd/drums", "real/human"}
    voices = by_label["gmd/4voices"]
    np.testing.assert_array_equal(voices.x, 2.0 ** np.arange(7))
    np.testing.assert_allclose(voices.y, (0.3 * voices.x ** -0.5 + 0.05) * wobble(voices.x))  # width 1.0 won
    assert by_label["real/human"].reference and not voices.reference
    assert [(row.group, row.reason) for row in dropped] == [
        ("real/human", "test_loss = -1 is not positive"), ("real/human", "test_loss missing")]
    assert dropped[0].line == len(rows)  # header is line 1


def test_unknown_column_is_named(tmp_path):
    table = tmp_path / "results.csv"
    example_table(table)
    columns, rows = read_table(table)
    with pytest.raises(KeyError, match="'tracks'.*--x"):
        collect_points(rows, columns, x="tracks", y="test_loss", group_by=[])


def test_fit_curves_writes_fit_csv_and_plots(tmp_path):
    table = tmp_path / "results.csv"
    example_table(table)
    report = fit_curves(table, tmp_path / "fit", best_by="val_loss", per_class=True,
                        reference=["real/human"], bootstrap=20)
    columns, rows = read_table(report.fit_csv)
    assert columns[:2] == ["dataset", "variant"]
    assert [(row["y"], row["group"]) for row in rows] == [
        (y, group) for y in ("test_loss", "test_loss_BD", "test_loss_SD")
        for group in (("gmd/4voices", "gmd/drums", "real/human") if y == "test_loss"
                      else ("gmd/4voices", "gmd/drums"))]
    first = rows[0]
    assert float(first["gamma"]) == pytest.approx(0.05, rel=0.1)
    # 7 distinct n: the intervals are given, flagged as too narrow (benchmarks/experiments/fit_coverage.py).
    assert first["status"].startswith("intervals too narrow: from 7 distinct n")
    assert float(first["beta_low"]) <= float(first["beta"]) <= float(first["beta_high"])
    real = rows[2]
    assert real["status"].startswith("too few points") and real["alpha"] == ""
    assert real["reference"] == "true"
    assert [path.name for path in report.plots] == ["test_loss.png", "test_loss_BD.png",
                                                    "test_loss_SD.png"]
    for path in report.plots:  # a drawn figure: several colours, not a blank canvas
        image = plt.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 200
        assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 20


def test_fit_outputs_are_byte_identical_across_runs(tmp_path):
    table = tmp_path / "results.csv"
    example_table(table)
    for out in ("a", "b"):
        fit_curves(table, tmp_path / out, best_by="val_loss", bootstrap=20)
    for name in ("fit.csv", "test_loss.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_fit_on_a_table_from_elsewhere(tmp_path, capsys):
    # Someone else's table: other column names, no dataset/variant columns.
    table = tmp_path / "theirs.csv"
    n = 2 ** np.arange(1, 9)
    loss = 0.4 * n ** -0.3 + 0.1
    write_table(table, [{"tracks": a, "mdb_bce": b, "model": "crnn"} for a, b in zip(n, loss)]
                + [{"tracks": 512, "mdb_bce": "nan", "model": "crnn"}],
                ["tracks", "mdb_bce", "model"])
    code = main(["fit", str(table), "--x", "tracks", "--y", "mdb_bce", "--group", "model",
                 "--bootstrap", "20", "--out", str(tmp_path / "out")])
    assert code == 0
    captured = capsys.readouterr()
    assert "mdb_bce [crnn]: alpha=0.4" in captured.out
    assert "line 10 (crnn): mdb_bce = 'nan' is not a number" in captured.err
    _, rows = read_table(tmp_path / "out" / "fit.csv")
    assert rows[0]["model"] == "crnn" and float(rows[0]["gamma"]) == pytest.approx(0.1, rel=0.01)
    assert (tmp_path / "out" / "mdb_bce.png").is_file()


def test_cli_fit_names_a_missing_column(tmp_path, capsys):
    table = tmp_path / "results.csv"
    example_table(table)
    code = main(["fit", str(table), "--y", "test_los", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "column 'test_los' (from --y) not in the table" in capsys.readouterr().err


def test_rising_curve_is_flagged_not_read_as_a_gap(tmp_path, capsys):
    # What synthetic-to-real transfer can look like: the real test loss rises with n.
    n = 2.0 ** np.arange(7)
    loss = 0.055 * n ** 0.06 * np.exp(np.random.default_rng(3).normal(0, 0.01, n.size))
    fit = fit_power_law(n, loss, bootstrap=0)
    assert not fit.falls
    assert fit_power_law(n, 0.3 * n ** -0.4 + 0.05, bootstrap=0).falls
    table = tmp_path / "results.csv"
    write_table(table, [{"n": a, "test_loss": b} for a, b in zip(n, loss)], ["n", "test_loss"])
    assert main(["fit", str(table), "--bootstrap", "0", "--out", str(tmp_path / "out")]) == 0
    assert "warning: loss does not fall with n" in capsys.readouterr().out
    _, rows = read_table(tmp_path / "out" / "fit.csv")
    assert rows[0]["status"].startswith("loss does not fall with n")


def test_per_class_skips_losses_without_class_columns(tmp_path):
    table = tmp_path / "results.csv"
    example_table(table)
    report = fit_curves(table, tmp_path / "fit", ys=["test_loss", "val_loss"], per_class=True,
                        best_by="val_loss", bootstrap=0)
    assert list(report.fits) == ["test_loss", "val_loss", "test_loss_BD", "test_loss_SD"]
    with pytest.raises(ValueError, match="no per-class columns .*val_loss"):
        fit_curves(table, tmp_path / "fit2", ys=["val_loss"], per_class=True, bootstrap=0)


# What the points cannot support is flagged, never reported as a result (issue #16).

FLAT_3 = (np.array([1.0, 2.0, 4.0]), np.array([0.6510, 0.6503, 0.6496]))
# The recorded GPU sweep's synthetic validation BCE, seed 0 (benchmarks/results/scaling.md):
# a healthy curve that must stay "ok".
GPU_VAL_BCE = (2.0 ** np.arange(7), np.array([0.0679, 0.0570, 0.0512, 0.0467, 0.0387, 0.0335,
                                               0.0305]))


def test_flat_three_point_curve_gets_no_intervals_and_no_gap():
    # The curve of the issue: `status ok` with zero-width intervals excluding their
    # estimates and γ at an eighth of every observed loss.
    fit = fit_power_law(*FLAT_3, bootstrap=1000, seed=0)
    assert set(fit.warnings) == {"few_points", "gamma_extrapolated"}
    assert not fit.trustworthy and fit.gamma_extrapolated
    assert all(np.isnan(value) for interval in fit.ci.values() for value in interval)
    assert fit.bootstrap_used == 0
    assert "3 distinct n" in fit.warnings["few_points"]


def test_healthy_curves_stay_ok():
    # The GPU sweep's curve has 7 points: its intervals are given, flagged as too narrow
    # (benchmarks/experiments/fit_coverage.py); 14 points are ok.
    for n, loss, flags in (
            (*GPU_VAL_BCE, {"intervals_too_narrow"}),
            (2.0 ** np.arange(14), noisy_curve(2.0 ** np.arange(14), **TRUE, noise=0.01, seed=1),
             set())):
        fit = fit_power_law(n, loss, bootstrap=200, seed=0)
        assert set(fit.warnings) == flags and fit.trustworthy == (not flags)
        for name in ("alpha", "beta", "gamma"):
            low, high = fit.ci[name]
            assert low <= getattr(fit, name) <= high and high > low


def test_four_points_fit_but_get_no_intervals():
    n = np.array([1.0, 8.0, 64.0, 512.0])
    fit = fit_power_law(n, noisy_curve(n, **TRUE, noise=0.003, seed=2), bootstrap=50)
    assert list(fit.warnings) == ["few_points"]
    assert np.isnan(fit.ci["gamma"][0])
    assert fit.gamma == pytest.approx(TRUE["gamma"], rel=0.05)  # the estimate itself is kept
    # Without bootstrap no interval was asked for: nothing to flag.
    assert fit_power_law(n, noisy_curve(n, **TRUE, noise=0.003, seed=2), bootstrap=0).trustworthy


def test_zero_width_intervals_are_withheld():
    # A noise-free curve: every resample is fit exactly by the same α, β, γ.
    n = 2.0 ** np.arange(8)
    fit = fit_power_law(n, 0.3 * n ** -0.5 + 0.05, bootstrap=50, seed=0)
    assert list(fit.warnings) == ["intervals_collapse"]
    assert np.isnan(fit.ci["alpha"][0]) and fit.alpha == pytest.approx(0.3, rel=1e-4)


def test_an_interval_that_excludes_its_estimate_is_withheld():
    from adtos.scaling.fit import _interval_problem

    point = np.array([0.3, 0.5, 0.05])
    good = {"alpha": (0.25, 0.35), "beta": (0.4, 0.6), "gamma": (0.0, 0.08)}
    assert _interval_problem(good, point) is None
    assert _interval_problem({**good, "beta": (0.55, 0.6)}, point)[0] == "interval_excludes_estimate"
    assert _interval_problem({**good, "gamma": (0.0, 0.0)}, np.array([0.3, 0.5, 0.0])) is None


def test_gamma_far_below_a_curve_that_barely_falls_is_flagged():
    # 14 points, but the power term falls by 12% over n = 1..8192: γ is a guess.
    n = 2.0 ** np.arange(14)
    loss = noisy_curve(n, 0.5, 0.014, 0.05, noise=0.0005, seed=6)
    fit = fit_power_law(n, loss, bootstrap=100, seed=0)
    assert fit.falls and fit.gamma_extrapolated
    assert "not a measured gap" in fit.warnings["gamma_extrapolated"]


def test_fit_csv_plot_and_terminal_say_what_is_not_estimated(tmp_path, capsys):
    from adtos.scaling.plots import legend_label
    from adtos.scaling.table import GroupFit, GroupPoints

    table = tmp_path / "results.csv"
    write_table(table, [{"n": a, "test_loss": b} for a, b in zip(*FLAT_3)], ["n", "test_loss"])
    assert main(["fit", str(table), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "warning: gamma extrapolated" in out and "warning: no intervals: 3 distinct n" in out
    assert "[" not in out.split("\n")[0].split(":", 1)[1]  # no interval printed
    _, rows = read_table(tmp_path / "out" / "fit.csv")
    assert rows[0]["status"] != "ok" and "gamma extrapolated" in rows[0]["status"]
    assert rows[0]["gamma_low"] == rows[0]["gamma_high"] == ""
    item = GroupFit(GroupPoints(("",), "flat", *FLAT_3), fit_power_law(*FLAT_3, bootstrap=100))
    assert "γ extrapolated: no measured gap, not drawn" in legend_label(item, gamma_drawn=False)


@pytest.mark.parametrize("content", ["n,test_loss\n", "n,test_loss\n1,nan\n2,nan\n4,\n"])
def test_fit_of_an_empty_table_fails_and_keeps_the_earlier_fit(tmp_path, capsys, content):
    good = tmp_path / "good.csv"
    n = 2.0 ** np.arange(8)
    write_table(good, [{"n": a, "test_loss": b} for a, b in zip(n, noisy_curve(n, **TRUE, noise=0.01,
                                                                              seed=1))],
                ["n", "test_loss"])
    out = tmp_path / "out"
    assert main(["fit", str(good), "--bootstrap", "20", "--out", str(out)]) == 0
    before = (out / "fit.csv").read_bytes()
    empty = tmp_path / "empty.csv"
    empty.write_text(content)
    capsys.readouterr()
    assert main(["fit", str(empty), "--bootstrap", "20", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"{empty}" in error and "nothing to fit" in error
    assert (out / "fit.csv").read_bytes() == before


def test_plots_in_vector_formats_and_log_ticks_label_every_point(tmp_path):
    from adtos.plotting import log_ticks

    table = tmp_path / "results.csv"
    example_table(table)
    for fmt, magic in (("svg", b"<?xml"), ("pdf", b"%PDF")):
        report = fit_curves(table, tmp_path / fmt, best_by="val_loss", bootstrap=0,
                            plot_format=fmt)
        assert report.plots[0].suffix == f".{fmt}" and report.plots[0].read_bytes().startswith(magic)
    # The MDB points of the old scaling_gpu_mdb.png reached 0.09 above the last label, 0.05.
    ticks = log_ticks(0.0296, 0.0812)
    assert ticks[0] <= 0.0296 and ticks[-1] >= 0.0812 and len(ticks) >= 5
    assert log_ticks(1e-3, 2.0)[:2] == [0.001, 0.01]


def test_a_curve_with_a_single_n_is_plotted_without_warnings(tmp_path):
    # A sweep's first size, or a single model trained on real data: matplotlib warned
    # "identical low and high xlims" and widened the axis by its own rule.
    import warnings

    from adtos.plotting import log_ticks
    from adtos.scaling.plots import plot_scaling, x_axis
    from adtos.scaling.table import GroupFit, GroupPoints

    one = [GroupFit(GroupPoints(("synthetic",), "synthetic", np.array([4.0]), np.array([0.30])),
                    None, error="too few points to fit"),
           GroupFit(GroupPoints(("real",), "real", np.array([4.0]), np.array([0.25]),
                                reference=True), None, error="too few points to fit")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, groups in (("two", one), ("one", one[:1])):  # one group: one y, 0.3 a tick
            path = plot_scaling(groups, tmp_path / f"{name}.png")
            assert path.read_bytes().startswith(b"\x89PNG")
    ticks, (low, high) = x_axis(np.array([4.0, 4.0]))
    assert ticks == [2.0, 4.0, 8.0] and (low, high) == (2.0, 8.0)  # the point mid-axis
    # Several n keep their own ticks, the axis a little beyond the outermost points.
    ticks, (low, high) = x_axis(np.array([1.0, 2.0, 4.0]))
    assert ticks == [1.0, 2.0, 4.0] and low < 1.0 and high > 4.0
    # A single y that is itself a tick gets a tick either side (the y axis had no height).
    ticks = log_ticks(0.3, 0.3)
    assert ticks[0] < 0.3 < ticks[-1] and 0.3 in ticks
    assert log_ticks(0.25, 0.3)[0] <= 0.25 and log_ticks(0.25, 0.3)[-1] >= 0.3


def test_intervals_from_five_points_are_given_but_flagged_too_narrow(tmp_path, capsys):
    # At 5 distinct n the 95% interval undercovers (benchmarks/experiments/fit_coverage.py):
    # it is kept, but fit.csv, the terminal and the legend say it is too narrow.
    from adtos.scaling.fit import UNDERCOVERAGE
    from adtos.scaling.plots import legend_label
    from adtos.scaling.table import GroupFit, GroupPoints

    n = 2.0 ** np.arange(5)
    loss = noisy_curve(n, **TRUE, noise=0.02, seed=3)
    fit = fit_power_law(n, loss, bootstrap=60, seed=0)
    assert list(fit.warnings) == ["intervals_too_narrow"] and not fit.trustworthy
    assert UNDERCOVERAGE[5] in fit.warnings["intervals_too_narrow"]
    low, high = fit.ci["beta"]
    assert low <= fit.beta <= high and high > low  # the interval itself is kept
    label = legend_label(GroupFit(GroupPoints(("",), "five", n, loss), fit), gamma_drawn=True)
    assert label.endswith("; intervals too narrow")
    # Beyond the sizes measured to undercover the flag goes.
    more = 2.0 ** np.arange(max(UNDERCOVERAGE) + 1)
    assert fit_power_law(more, noisy_curve(more, **TRUE, noise=0.02, seed=3), bootstrap=60,
                         seed=0).warnings == {}
    # No bootstrap asked for: no interval, nothing to flag.
    assert fit_power_law(n, loss, bootstrap=0).warnings == {}

    table = tmp_path / "results.csv"
    write_table(table, [{"n": a, "test_loss": b} for a, b in zip(n, loss)], ["n", "test_loss"])
    assert main(["fit", str(table), "--bootstrap", "60", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "beta=" in out[0] and "[" in out[0]  # the interval is printed ...
    assert out[1].startswith("  warning: intervals too narrow: from 5 distinct n")  # ... flagged
    _, rows = read_table(tmp_path / "out" / "fit.csv")
    assert rows[0]["status"].startswith("intervals too narrow") and rows[0]["beta_low"] != ""
