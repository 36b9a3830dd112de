"""Tables and curves of benchmarks/transfer_experiment.sh (issue #14).

    python tools/transfer_report.py --runs RUNS --sweeps SWEEPS --out OUT

RUNS holds `adtos train` run folders (results.json each); SWEEPS holds one `adtos sweep`
output folder per dataset and seed (results.csv each). Writes to OUT:

    transfer.md     per run: per-class F, precision, recall and BCE on MDB Drums and on the
                    run's synthetic validation set (untrained runs are the baselines); then
                    the runs NAME-sSEED grouped by NAME, mean ± sd over the seeds
    transfer.csv    the same, one row per run, set and class
    sweep.csv       every sweep's rows together, with `one_minus_f_mdb` = 1 - F on MDB
    fit_loss/, fit_f/  `adtos fit` of test_loss_mdb and of one_minus_f_mdb against n, one
                    curve per dataset and seed (all on one plot), best width per n
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

CLASSES = ("BD", "SD", "TT", "HH", "CY")


def run_rows(runs: Path) -> list[dict]:
    rows = []
    for path in sorted(runs.glob("*/results.json")):
        data = json.loads(path.read_text())
        config = json.loads((path.parent / "config.json").read_text())
        sets = dict(data["sets"])
        evaluation = path.parent / "evaluation.json"  # `adtos evaluate` after training
        if evaluation.is_file():
            for set_name, result in json.loads(evaluation.read_text()).items():
                sets.setdefault(set_name, result)
        for set_name, result in sets.items():
            for name in (*CLASSES, "all"):
                onsets = result["onsets"][name]
                rows.append({
                    "run": path.parent.name, "set": set_name, "class": name,
                    "steps": data["result"]["steps"], "best_step": data.get("best_step"),
                    "label_policy": config.get("label_policy", ""),
                    "width": config.get("width", ""),
                    "f": onsets["f_measure"], "precision": onsets["precision"],
                    "recall": onsets["recall"],
                    "bce": result["bce"][name if name != "all" else "mean"]})
    return rows


def markdown(rows: list[dict]) -> str:
    by_run: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        by_run.setdefault((row["run"], row["set"]), {})[row["class"]] = row
    lines = ["| run | set | steps (best) | " + " | ".join(f"{c} F" for c in CLASSES)
             + " | all F | P / R | BCE |", "|---" * (len(CLASSES) + 6) + "|"]
    for (run, set_name), classes in sorted(by_run.items(), key=lambda kv: (kv[0][1] != "mdb", kv[0])):
        a = classes["all"]
        lines.append(f"| {run} | {set_name} | {a['steps']} ({a['best_step']}) | "
                     + " | ".join(f"{classes[c]['f']:.3f}" for c in CLASSES)
                     + f" | **{a['f']:.3f}** | {a['precision']:.3f} / {a['recall']:.3f}"
                     + f" | {a['bce']:.4f} |")
    return "\n".join(lines) + "\n"


def seed_summary(rows: list[dict]) -> str:
    """Runs named NAME-sSEED grouped by NAME: mean and spread over the seeds of each F.

    Each cell is "mean ± sd" (sample standard deviation over seeds; "±  -" for one
    seed), the last column the range of the summed F, so that a reader sees whether
    two arms' difference exceeds what a different seed alone does.
    """
    import re
    import statistics

    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    seeds: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        match = re.fullmatch(r"(.+)-s(\d+)", row["run"])
        name, seed = (match.group(1), match.group(2)) if match else (row["run"], "")
        key = (name, row["set"])
        groups.setdefault(key, {}).setdefault(row["class"], []).append(row["f"])
        groups[key].setdefault(f"{row['class']}_p", []).append(row["precision"])
        groups[key].setdefault(f"{row['class']}_r", []).append(row["recall"])
        groups[key].setdefault(f"{row['class']}_bce", []).append(row["bce"])
        seeds.setdefault(key, set()).add(seed)

    def cell(values: list[float], digits: int = 3) -> str:
        mean = statistics.fmean(values)
        spread = f"{statistics.stdev(values):.{digits}f}" if len(values) > 1 else " -"
        return f"{mean:.{digits}f} ± {spread}"

    lines = ["| arm | set | seeds | " + " | ".join(f"{c} F" for c in CLASSES)
             + " | all F | all P | all R | BCE | all F range |", "|---" * (len(CLASSES) + 8) + "|"]
    for (name, set_name), values in sorted(groups.items(),
                                           key=lambda kv: (kv[0][1] != "mdb", kv[0])):
        f_all = values["all"]
        lines.append(f"| {name} | {set_name} | {len(seeds[(name, set_name)])} | "
                     + " | ".join(cell(values[c]) for c in CLASSES)
                     + f" | **{cell(f_all)}** | {cell(values['all_p'])} | {cell(values['all_r'])}"
                     + f" | {cell(values['all_bce'], 4)} | {min(f_all):.3f}–{max(f_all):.3f} |")
    return "\n".join(lines) + "\n"


def merge_sweeps(sweeps: Path, out: Path) -> Path | None:
    rows, columns = [], []
    for path in sorted(sweeps.glob("*/results.csv")):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                if row.get("f_measure_mdb"):
                    row["one_minus_f_mdb"] = f"{1 - float(row['f_measure_mdb']):.6g}"
                rows.append(row)
                columns += [c for c in row if c not in columns]
    if not rows:
        return None
    target = out / "sweep.csv"
    with target.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--sweeps", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_rows(args.runs)
    if rows:
        with (args.out / "transfer.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        table = markdown(rows) + "\nOver seeds (mean ± sd):\n\n" + seed_summary(rows)
        (args.out / "transfer.md").write_text(table)
        print(table)
    merged = merge_sweeps(args.sweeps, args.out)
    if merged is not None:
        # one curve per dataset and seed (variant = seed), best width per n by synthetic
        # validation loss; the fit's bootstrap gives β's interval
        for y, folder in (("test_loss_mdb", "fit_loss"), ("one_minus_f_mdb", "fit_f")):
            subprocess.run([sys.executable, "-m", "adtos", "fit", str(merged), "--x", "n",
                            "--y", y, "--group", "dataset,variant", "--best-by", "val_loss",
                            "--out", str(args.out / folder)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
