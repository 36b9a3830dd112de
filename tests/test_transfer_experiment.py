"""benchmarks/transfer_experiment.sh and tools/transfer_report.py (issue #14): the baseline config,
the shell script's syntax, and the report's tables and merged sweep table."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

from adtos.presets import load_presets

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("BD", "SD", "TT", "HH", "CY")


def _report_module():
    spec = importlib.util.spec_from_file_location("transfer_report",
                                                  REPO / "tools" / "transfer_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_baseline_library_is_soundfont_only():
    presets = load_presets(REPO / "presets" / "soundfont_only.jsonl")
    drums = [p for p in presets if p.role == "drums"]
    assert len(drums) == 512
    assert {p.source["type"] for p in drums} == {"soundfont"}


def test_script_parses():
    subprocess.run(["bash", "-n", str(REPO / "benchmarks" / "transfer_experiment.sh")], check=True)


def _set(f: float, bce: float) -> dict:
    onsets = {c: {"f_measure": f, "precision": f, "recall": 1.0, "f_measure_mean_track": f}
              for c in (*CLASSES, "all")}
    return {"onsets": onsets, "bce": {**{c: bce for c in CLASSES}, "mean": bce}}


def test_report_tables_and_one_minus_f(tmp_path):
    report = _report_module()
    run = tmp_path / "runs" / "new-s0"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"label_policy": "default", "width": 0.25}))
    (run / "results.json").write_text(json.dumps({
        "result": {"steps": 200}, "best_step": 150,
        "sets": {"val": _set(0.5, 0.09), "mdb": _set(0.25, 0.07)}}))
    rows = report.run_rows(tmp_path / "runs")
    assert len(rows) == 2 * 6
    table = report.markdown(rows)
    assert table.splitlines()[2].startswith("| new-s0 | mdb | 200 (150) |")  # MDB rows first
    assert "**0.250**" in table and "0.0700" in table

    sweep = tmp_path / "sweeps" / "new-s0"
    sweep.mkdir(parents=True)
    with (sweep / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["dataset", "variant", "n", "f_measure_mdb"])
        writer.writeheader()
        writer.writerow({"dataset": "new", "variant": "seed0", "n": "1", "f_measure_mdb": "0.3"})
    merged = report.merge_sweeps(tmp_path / "sweeps", tmp_path)
    with merged.open() as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["one_minus_f_mdb"]) == 0.7
