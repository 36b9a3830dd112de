#!/usr/bin/env bash
# The GPU figures of benchmarks/RESULTS.md (issue #7): bench_transcriber.py on CUDA, and the
# default-width CRNN (width 1, batch 32, warm-up 128, validation every 128 steps) trained on
# the 64 + 16-track GMD + POP909 build of configs/adtos.toml, tested on MDB Drums' full mixes,
# against the untrained baseline (--max-steps 0, same options).
#
# Run from the repository root on a machine with a CUDA GPU, python3 with torch, numpy,
# scipy, pyarrow and tqdm, but neither the data nor the other packages ADTOS needs:
#
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=out bash benchmarks/gpu_experiment.sh setup bench smoke baseline
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=out STEPS=N bash benchmarks/gpu_experiment.sh setup train
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=out bash benchmarks/gpu_experiment.sh setup bench1t
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=out SWEEP_PARALLEL=4 SWEEP_MPS=1 \
#       bash benchmarks/gpu_experiment.sh setup sweep                  # issue #8, see `sweep`
#
# How it was invoked for RESULTS.md (2026-11-23, one H100 machine of the device tool, three
# calls, each with .gpu and .whl carried and the command prefixed by `set -o pipefail;`):
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=$OUT bash benchmarks/gpu_experiment.sh setup bench smoke baseline 2>&1 | tee $OUT/log
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=$OUT STEPS=15360 TRAIN_LIMIT_S=520 bash benchmarks/gpu_experiment.sh setup train 2>&1 | tee $OUT/log
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=$OUT bash benchmarks/gpu_experiment.sh setup bench1t 2>&1 | tee $OUT/log
# STEPS=15360 is about 8 minutes at the smoke run's rate with validations; early stopping
# (patience 25) ended that run before it.
# The scaling sweep (issue #8, 2026-11-23, one call, 322 s for the seven runs with 4 processes
# under CUDA MPS), with .gpu and .whl carried:
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=$OUT SWEEP_PARALLEL=4 SWEEP_MPS=1 SWEEP_LIMIT_S=505 \
#       SWEEP_OPTIONS="--option workers=2 --option feature_workers=2" \
#       bash benchmarks/gpu_experiment.sh setup sweep 2>&1 | tee $OUT/log
# and its second seed (02:03 UTC, one call, 308 s), with a copy of the config holding seed = 1
# (sed 's/^seed = 0/seed = 1/' configs/sweep_gpu_mdb.toml > .gpu/sweep_gpu_mdb_seed1.toml):
#   PACKED=.gpu WHEELS=.whl RESULTS_DIR=$OUT SWEEP_CONFIG=.gpu/sweep_gpu_mdb_seed1.toml \
#       SWEEP_PARALLEL=4 SWEEP_MPS=1 SWEEP_LIMIT_S=480 \
#       SWEEP_OPTIONS="--option workers=2 --option feature_workers=2" \
#       bash benchmarks/gpu_experiment.sh setup sweep 2>&1 | tee $OUT/log
#
# PACKED was made on the dev machine, where the dataset and MDB Drums are, with
#   python tools/pack_features.py pack DATASET .gpu/adtos             (features, no audio)
#   python tools/pack_features.py pack mdb:MDB_DRUMS .gpu/mdb_drums --audio   (FLAC)
# and WHEELS holds, for CPython 3.12 on x86-64 Linux: soundfile 0.14.0 (bundles libsndfile),
# cffi 2.1.1, pycparser 3.12, mir_eval 0.8.2, decorator 5.3.1, mido 1.3.3, and
# madmom-onnx 0.17.dev0 built from its sdist without its pretrained models
# (0.17.dev0+nomodels; ADTOS uses only its spectrogram code).
#
# Steps (arguments, run in the order given):
#   setup     install WHEELS into $SITE, unpack PACKED into $DATA (features as float32 .npy)
#   bench     benchmarks/bench_transcriber.py --device cuda (defaults, as RESULTS.md's CPU runs),
#             then again with --steps 50 --workers 8 (the loader processes training uses there)
#   bench1t   the benchmark again with OMP/OpenBLAS/MKL limited to one thread (feature CPU time)
#   smoke     128 training steps (one validation) to check the run and measure its rate
#   baseline  the untrained model, thresholds tuned on validation (--max-steps 0)
#   train     STEPS steps; if it is still running after TRAIN_LIMIT_S seconds it is stopped
#             like Ctrl-C (last.pt saved) and finished with --resume --max-steps <step reached>
#   sweep     adtos sweep SWEEP_CONFIG (default configs/sweep_gpu_mdb.toml: n = 1 ... 64, width 1,
#             MDB Drums test) on the unpacked data, into SWEEP_OUT. The runs are independent, so
#             SWEEP_PARALLEL sweep processes take the sizes from a queue (largest n first), each
#             as `adtos sweep CONFIG --sizes N` on the same output folder; with SWEEP_MPS=1 the
#             CUDA MPS daemon is started first so that their kernels can share the GPU (if it
#             does not start, at most 2 processes time-share it instead). Runs still going
#             SWEEP_LIMIT_S seconds after the step began are stopped like Ctrl-C, and no run
#             starts with less than SWEEP_MIN_START_S left. When every size has finished, one
#             more `adtos sweep CONFIG` over all sizes (nothing left to train) writes results.csv
#             (rows lost to two processes rewriting it at once are read back from results.json)
#             and best.csv; `adtos fit` is left to the caller. RESULTS_DIR gets sweep.tar.gz
#             (SWEEP_OUT without checkpoints, one log per run in logs/) and sweep_best_pt.tar.gz
#             (the best checkpoints). SWEEP_FROM names an earlier call's sweep.tar.gz to go on
#             from: its finished runs are not redone, the others start again (their checkpoints
#             did not travel). Options for this machine only, not the recipe, go in
#             SWEEP_OPTIONS, e.g. "--option workers=2".
set -euo pipefail

PACKED=${PACKED:-.gpu}
WHEELS=${WHEELS:-.whl}
SITE=${SITE:-/tmp/adtos_site}
DATA=${DATA:-/tmp/adtos_data}
RESULTS_DIR=${RESULTS_DIR:-gpu_out}
RUNS=${RUNS:-/tmp/adtos_runs}
STEPS=${STEPS:-}
SWEEP_CONFIG=${SWEEP_CONFIG:-configs/sweep_gpu_mdb.toml}
SWEEP_OUT=${SWEEP_OUT:-/tmp/adtos_sweep}
SWEEP_NAME=${SWEEP_NAME:-gmd-pop909}
SWEEP_VARIANT=${SWEEP_VARIANT:-4voices}
SWEEP_SIZES=${SWEEP_SIZES:-64 32 16 8 4 2 1}
SWEEP_WIDTH=${SWEEP_WIDTH:-1}
SWEEP_PARALLEL=${SWEEP_PARALLEL:-1}
SWEEP_MPS=${SWEEP_MPS:-0}
SWEEP_LIMIT_S=${SWEEP_LIMIT_S:-500}
SWEEP_MIN_START_S=${SWEEP_MIN_START_S:-150}
SWEEP_FROM=${SWEEP_FROM:-}
SWEEP_OPTIONS=${SWEEP_OPTIONS:-}
TRAIN_LIMIT_S=${TRAIN_LIMIT_S:-510}
PYTHON=${PYTHON:-python3}

export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
export ADTOS_SHARED_DATA="$DATA"    # bench_transcriber.py times features on $DATA/mdb_drums
mkdir -p "$RESULTS_DIR" "$RUNS"

adtos() { "$PYTHON" -m adtos "$@"; }
stamp() { echo "=== $* ($(date -u +%H:%M:%S))"; }
# The recipe's defaults (batch 32, 4 s snippets, warm-up 128, validation every 128, patience
# 25, seed 0, loader processes = half the cores up to 8) with the data and device named.
common=(--train "$DATA/adtos" --val "$DATA/adtos" --test "mdb=mdb:$DATA/mdb_drums"
        --device cuda --seed 0 --no-progress)

setup() {
    stamp setup
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$WHEELS"/*.whl
    "$PYTHON" tools/pack_features.py unpack "$PACKED/adtos" "$DATA/adtos"
    "$PYTHON" tools/pack_features.py unpack "$PACKED/mdb_drums" "$DATA/mdb_drums"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    echo "cores: $(nproc); /dev/shm: $(df -h /dev/shm | tail -1)"
    "$PYTHON" - <<'EOF'
import sys, numpy, scipy, torch, madmom, soundfile, mir_eval
print("python", sys.version.split()[0], "| torch", torch.__version__, "cuda", torch.version.cuda,
      "cudnn", torch.backends.cudnn.version(), "|", torch.cuda.get_device_name(),
      "| numpy", numpy.__version__, "scipy", scipy.__version__, "| madmom", madmom.__version__,
      "soundfile", soundfile.__version__, "libsndfile", soundfile.__libsndfile_version__,
      "mir_eval", mir_eval.__version__)
EOF
}

bench() {
    stamp "bench_transcriber.py --device cuda"
    "$PYTHON" benchmarks/bench_transcriber.py --device cuda
    # the loader as training runs it here (8 processes on 16 cores), more steps timed
    stamp "bench_transcriber.py --device cuda --steps 50 --workers 8"
    "$PYTHON" benchmarks/bench_transcriber.py --device cuda --steps 50 --workers 8
}

bench1t() {
    # bench_transcriber.py counts process CPU time; on a many-core machine numpy's BLAS
    # threads add their (partly idle) CPU time to the feature timing. The same run with one
    # thread per library gives the per-core figure that compares with the 2-core dev machine.
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core)' || true
    "$PYTHON" -c "import numpy; numpy.show_runtime()"
    stamp "bench_transcriber.py --device cuda, one BLAS/OpenMP thread"
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        "$PYTHON" benchmarks/bench_transcriber.py --device cuda
}

# One `adtos train` into $RUNS/NAME with the recipe's defaults and --max-steps STEPS, timed.
timed_train() {
    local name=$1 steps=$2 start=$SECONDS
    stamp "$name: --max-steps $steps"
    rm -rf "$RUNS/$name"
    adtos train "${common[@]}" --out "$RUNS/$name" --max-steps "$steps"
    echo "$name wall: $((SECONDS - start)) s"
}

smoke() { timed_train smoke128 128; cat "$RUNS/smoke128/metrics.csv"; }

baseline() { timed_train untrained 0; }

train() {
    [ -n "$STEPS" ] || { echo "train: set STEPS" >&2; return 2; }
    stamp "train: $STEPS steps"
    rm -rf "$RUNS/trained"
    local start=$SECONDS status=0
    timeout --foreground -s INT "$TRAIN_LIMIT_S" "$PYTHON" -m adtos train "${common[@]}" \
        --out "$RUNS/trained" --max-steps "$STEPS" || status=$?
    if [ "$status" -ne 0 ]; then
        # stopped by the time limit (Ctrl-C saves last.pt): evaluate what was reached
        local reached
        reached=$("$PYTHON" -c "import torch, sys; print(torch.load(sys.argv[1], \
weights_only=True)['state']['step'])" "$RUNS/trained/checkpoints/last.pt")
        echo "train: exit status $status after $((SECONDS - start)) s; finishing at step $reached"
        adtos train --resume "$RUNS/trained" --max-steps "$reached" --no-progress
    fi
    echo "train wall: $((SECONDS - start)) s"
    cat "$RUNS/trained/metrics.csv"
}

sweep_run_dir() { printf '%s/runs/%s-%s/n%04d-w%s' "$SWEEP_OUT" "$SWEEP_NAME" "$SWEEP_VARIANT" "$1" "$SWEEP_WIDTH"; }

sweep_next() {
    # the next size of the queue that no worker has claimed yet (mkdir is atomic)
    local n
    for n in $sweep_todo; do
        if mkdir "$SWEEP_OUT/.claims/n$n" 2>/dev/null; then echo "$n"; return 0; fi
    done
    return 1
}

sweep_worker() {
    local n left status
    while n=$(sweep_next); do
        left=$((sweep_deadline - SECONDS))
        if [ "$left" -lt "$SWEEP_MIN_START_S" ]; then
            echo "sweep: worker $1: n=$n not started, ${left} s left"
            continue
        fi
        stamp "sweep: worker $1 starts n=$n (${left} s left)"
        status=0
        # shellcheck disable=SC2086
        timeout --foreground -s INT -k 60 "$left" "$PYTHON" -m adtos sweep "$SWEEP_CONFIG" \
            --train "$DATA/adtos" --name "$SWEEP_NAME" --variant "$SWEEP_VARIANT" \
            --test "mdb=mdb:$DATA/mdb_drums" --sizes "$n" --out "$SWEEP_OUT" --no-fit \
            --no-progress $SWEEP_OPTIONS >"$SWEEP_OUT/logs/n$n.log" 2>&1 || status=$?
        stamp "sweep: worker $1 ends n=$n, exit status $status"
    done
}

sweep() {
    stamp "sweep: $SWEEP_CONFIG into $SWEEP_OUT"
    local start=$SECONDS n parallel=$SWEEP_PARALLEL mps=0 monitor missing=""
    sweep_deadline=$((SECONDS + SWEEP_LIMIT_S))
    mkdir -p "$SWEEP_OUT"
    if [ -n "$SWEEP_FROM" ]; then
        tar -xzf "$SWEEP_FROM" -C "$SWEEP_OUT"
        echo "sweep: going on from $SWEEP_FROM"
    fi
    rm -rf "$SWEEP_OUT/.claims"
    mkdir -p "$SWEEP_OUT/.claims" "$SWEEP_OUT/logs"
    sweep_todo=""
    for n in $SWEEP_SIZES; do
        if [ -f "$(sweep_run_dir "$n")/results.json" ]; then
            echo "sweep: n=$n finished earlier"
        else
            rm -rf "$(sweep_run_dir "$n")"   # a stopped run starts again: no last.pt travelled
            sweep_todo="$sweep_todo $n"
        fi
    done
    echo "sweep: to run:${sweep_todo:- nothing}"
    if [ "$SWEEP_MPS" = 1 ]; then
        if command -v nvidia-cuda-mps-control >/dev/null && nvidia-cuda-mps-control -d \
            && timeout 120 "$PYTHON" -c "import torch; a = torch.randn(512, 512, device='cuda'); \
print('sweep: MPS probe', float((a @ a).abs().sum()) > 0)"; then
            mps=1
            echo "sweep: CUDA MPS daemon started"
        else
            echo "sweep: no CUDA MPS; the processes time-share the GPU"
            if command -v nvidia-cuda-mps-control >/dev/null; then
                echo quit | nvidia-cuda-mps-control || true
            fi
            [ "$parallel" -le 2 ] || parallel=2   # the GRU keeps the GPU busy: little to share
        fi
    fi
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 20 \
        >"$SWEEP_OUT/logs/gpu_utilization.csv" 2>&1 &
    monitor=$!
    echo "sweep: $parallel process(es); runs stop at $SWEEP_LIMIT_S s; none starts with" \
         "less than $SWEEP_MIN_START_S s left"
    local workers=()
    for ((n = 1; n <= parallel; n++)); do
        sweep_worker "$n" &
        workers+=($!)
    done
    wait "${workers[@]}"
    kill "$monitor" 2>/dev/null || true
    if [ "$mps" = 1 ]; then echo quit | nvidia-cuda-mps-control || true; fi
    for n in $SWEEP_SIZES; do
        [ -f "$(sweep_run_dir "$n")/results.json" ] || missing="$missing $n"
    done
    if [ -n "$missing" ]; then
        echo "sweep: not finished:$missing (go on with SWEEP_FROM=<this call's sweep.tar.gz>)"
    else
        stamp "sweep: every size finished; results.csv and best.csv"
        "$PYTHON" -m adtos sweep "$SWEEP_CONFIG" --train "$DATA/adtos" --name "$SWEEP_NAME" \
            --variant "$SWEEP_VARIANT" --test "mdb=mdb:$DATA/mdb_drums" --out "$SWEEP_OUT" \
            --no-fit --no-progress
    fi
    "$PYTHON" - "$SWEEP_OUT" <<'EOF'
import json, sys
from pathlib import Path
print("run steps best_step stopped_by val_bce mdb_bce mdb_F wall_s")
for path in sorted(Path(sys.argv[1]).glob("runs/*/*/results.json")):
    data = json.loads(path.read_text())
    r = data["result"]
    print(path.parent.name, r["steps"], data.get("best_step"), r["stopped_by"],
          f"{r['val_loss']:.5f}", f"{r['test_loss']['mdb']:.5f}",
          f"{r['test_f']['mdb']['all']:.3f}", f"{r['wall_time_s']:.0f}")
EOF
    echo "sweep wall: $((SECONDS - start)) s"
}

pack_results() {
    # run folders without last.pt (optimizer state), for the record
    tar -czf "$RESULTS_DIR/runs.tar.gz" -C "$RUNS" --exclude=last.pt .
    if [ -d "$SWEEP_OUT" ]; then
        tar -czf "$RESULTS_DIR/sweep.tar.gz" -C "$SWEEP_OUT" --exclude='*.pt' --exclude=.claims .
        (cd "$SWEEP_OUT" && { find runs -name best.pt 2>/dev/null || true; }) \
            | tar -czf "$RESULTS_DIR/sweep_best_pt.tar.gz" -C "$SWEEP_OUT" -T -
    fi
}
trap pack_results EXIT

for step in "$@"; do
    case "$step" in
        setup|bench|bench1t|smoke|baseline|train|sweep) "$step" ;;
        *) echo "unknown step: $step" >&2; exit 2 ;;
    esac
done
stamp done
