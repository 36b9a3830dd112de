#!/usr/bin/env bash
# Issue #21: is the fault suite (`make faults`) free of chance failures?
#
#   benchmarks/faults_repeat.sh [N] [--load]
#
# Clones the repository at HEAD into a temporary folder (a clean clone: no
# build outputs, caches or untracked files of this checkout), then runs the
# fault suite there N times in a row (default 20), each run in a fresh pytest
# process, and prints one line per run and a final "N passed, M failed" line.
# With --load, one CPU-burning process runs in the background for the whole
# time (a `stress`-like job on one core), so that the kill loops see the
# scheduling delays of a busy machine.
#
# The clone uses the Python of $ADTOS_PYTHON, else the checkout's .venv, else
# `python3` (it needs ADTOS's dependencies; ADTOS itself is imported from the
# clone through PYTHONPATH). Failing runs' output is kept under the temporary
# folder, whose path is printed. Exit status: 0 when every run passed.
set -u
runs=20
load=0
for arg in "$@"; do
    case "$arg" in
        --load) load=1 ;;
        ''|*[!0-9]*) echo "usage: $0 [N] [--load]" >&2; exit 2 ;;
        *) runs=$arg ;;
    esac
done

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
python=${ADTOS_PYTHON:-}
if [ -z "$python" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then python=$repo/.venv/bin/python; else python=python3; fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/adtos-faults.XXXXXX")
git clone -q --no-local "$repo" "$work/clone"
# Tests find the shared data as ../shared beside the repository root.
[ -e "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
echo "clone of $(git -C "$work/clone" rev-parse --short HEAD) in $work/clone; python $python"

burner=""
if [ "$load" = 1 ]; then
    "$python" -c 'while 1: pass' &
    burner=$!
    echo "background load: pid $burner burns one core"
fi
trap '[ -n "$burner" ] && kill "$burner" 2>/dev/null' EXIT

passed=0
failed=0
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    log="$work/run$i.log"
    if (cd "$work/clone" && PYTHONPATH="$work/clone" "$python" -m pytest -q -s -m faults \
            -p no:cacheprovider >"$log" 2>&1); then
        passed=$((passed + 1)); verdict=pass; rm -f "$log"
    else
        failed=$((failed + 1)); verdict="FAIL (log: $log)"
    fi
    echo "run $i/$runs: $verdict in $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
