"""benchmarks/transfer_experiment.sh and tools/transfer_report.py (issue #14): the baseline config,
the shell script's syntax, and the report's tables and merged sweep table."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
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
    # a set added later by `adtos evaluate` joins; one the training tested stays its own
    (run / "evaluation.json").write_text(json.dumps({"mdbdrums": _set(0.125, 0.05),
                                                     "mdb": _set(0.9, 0.01)}))
    later = report.run_rows(tmp_path / "runs")
    assert len(later) == 3 * 6
    assert {r["f"] for r in later if r["set"] == "mdb"} == {0.25}
    assert {r["f"] for r in later if r["set"] == "mdbdrums"} == {0.125}
    (run / "evaluation.json").unlink()
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


def test_derived_lever_libraries_change_only_the_lever(tmp_path):
    """tools/derive_library.py: no sampled kits drops exactly the recorded-kit drum
    presets; no variation strips their per-piece variation and keeps everything else."""
    for flag, name in (("--no-sampled-kits", "nokits"), ("--no-variation", "novar")):
        subprocess.run([sys.executable, str(REPO / "tools" / "derive_library.py"),
                        str(REPO / "presets" / "default.jsonl"), str(tmp_path / f"{name}.jsonl"),
                        flag], check=True, capture_output=True)
    library = load_presets(REPO / "presets" / "default.jsonl")
    nokits, novar = (load_presets(tmp_path / f"{n}.jsonl") for n in ("nokits", "novar"))
    kits = [p for p in library if p.role == "drums" and p.source["type"] == "kit"]
    assert kits and len(nokits) == len(library) - len(kits)
    assert {p.id for p in nokits} == {p.id for p in library} - {p.id for p in kits}
    varied = [p for p in kits if "pieces" in p.variation]
    assert varied and not any("pieces" in p.variation for p in novar)
    unvaried = {p.id for p in library if p not in varied}
    assert unvaried <= {p.id for p in novar}  # every other preset kept as it was
    stripped = {p.id: p for p in novar if p.id not in unvaried}
    assert all(p.source["type"] == "kit" and "velocity_exponent" in p.variation
               for p in stripped.values())
