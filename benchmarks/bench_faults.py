"""Kill `adtos render` (SIGKILL) at seeded moments and count the processes it leaves behind.

    python benchmarks/bench_faults.py --kills 4

Runs whichever adtos is first on PYTHONPATH, so the same script measures a
version before and after a fix. Per kill: the run's child processes at the
kill, how many were still alive 5 s later, and whether the files under final
names are whole; then a second render started on the same folder while a
first one runs (does it stop, or render everything again?). Linux only (/proc).

Recorded in benchmarks/results/render.md, "Faults: kill loops and orphaned
workers"; the summary row "#17 faults" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# adtos as PYTHONPATH gives it, not this checkout: see above.
from adtos.render.testing import make_tracks, small_library
from adtos.workers import alive, descendants


def render_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "adtos", "render", str(root / "tracks"), "--presets",
            str(root / "lib.jsonl"), "--out", str(out), "--workers", "2", "--no-progress"]


def records(out: Path) -> int:
    folder = out / ".render"
    return sum(p.name != "settings.json" for p in folder.glob("*.json")) if folder.is_dir() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    from adtos.presets import save_presets

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_tracks(root / "tracks", n=8, seconds=3.0, voices=2)
        save_presets(small_library(), root / "lib.jsonl")
        out = root / "out"
        rows = []
        for _ in range(args.kills):
            before = records(out)
            process = subprocess.Popen(render_command(root, out), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            target = before + rng.randint(0, 2)
            while records(out) < target and process.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))
            if process.poll() is not None:
                rows.append({"kill": "missed (finished)"})
                continue
            children = descendants(process.pid)
            process.kill()
            process.wait()
            time.sleep(5.0)
            survivors = [c for c in children if alive(c)]
            for pid, _ in survivors:
                os.kill(pid, 9)
            rows.append({"children": len(children), "alive after 5 s": len(survivors),
                         "done": records(out)})
        # Two processes on one folder.
        other = root / "two"
        first = subprocess.Popen(render_command(root, other), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        while not (other / ".render" / "settings.json").is_file() and first.poll() is None:
            time.sleep(0.02)
        clock = time.monotonic()
        second = subprocess.run(render_command(root, other), capture_output=True, text=True)
        first.wait()
        print(json.dumps({"kills": rows,
                          "second process": {"rc": second.returncode,
                                             "seconds": round(time.monotonic() - clock, 1),
                                             "said": (second.stdout + second.stderr).strip()[-200:]}},
                         indent=1))


if __name__ == "__main__":
    main()
