#!/usr/bin/env bash
# Issue #14: does the new data (sampled kits, per-piece variation, audibility label policy,
# lead/bridge voices, drawn balance, master bus) teach a synthetic-only transcriber real
# drums better than the old recipe, which lever matters, and does the MDB loss fall with n?
#
# Datasets (built on the dev machine, where the data and soundfonts are):
#   baseline   configs/transfer_baseline.toml: presets/soundfont_only.jsonl (the library
#              before the sampled kits), 4 voices, flat mix, no master; trained with
#              --label-policy none (every onset taught)
#   new        configs/adtos.toml as it is; default label policy
#   nokits     new, presets/default.jsonl without its recorded-kit drum presets
#              (tools/derive_library.py --no-sampled-kits: the 178 soundfont kits stay)
#   hats       new, hi-hats and cymbals drawn 0 to 12 dB lower and 0 to 9 dB darker above 5 kHz
#              against the rest of the kit, per track (render.cymbals_db, cymbals_shelf_db)
#   novar      new, presets/default.jsonl with the recorded kits' per-piece variation removed
#              (tools/derive_library.py --no-variation: each kit as recorded)
#   nolead     new with --set tracks.lead=false (the bridge voice stays)
#   nobalance  new with --set render.balance_db=[] (every stem at the same loudness)
#   nomaster   new with --set render.master=false
# and two ablations that need no build, trained on `new`:
#   new+policy-none   --label-policy none            (audibility policy off)
#   new+hh44          --label-policy 'below=ignore;min_db=-5;44=HH'  (pedal hat taught as HH)
#
# Steps (arguments, run in the order given):
#   dev machine:  presets build pack
#   any machine:  setup (GPU machine: wheels + unpack)  untrained train sweep report
#
#   presets  the two ablation preset libraries into $WORK/presets, derived from
#            presets/default.jsonl (seconds)
#   build    every dataset of $DATASETS into $DATA/<name>, $TRAIN_TRACKS + $VAL_TRACKS tracks
#            of $DURATION s (the configs' relative paths are staged in $WORK so that they
#            resolve to $ADTOS_SHARED_DATA)
#   pack     tools/pack_features.py for each dataset (features only, float16 + xz) and
#            MDB Drums (--audio) into $PACKED; prints the size of each and the minutes of
#            training audio per MiB
#   setup    install $WHEELS into $SITE and unpack $PACKED/* into $DATA (GPU machine)
#   untrained  --max-steps 0 on baseline and new (thresholds tuned on their own validation)
#   train    one `adtos train` per entry of $RUNS_SPEC ("run:dataset:policy", policy '-'
#            meaning the default) with $TRAIN_OPTIONS, seeds $SEEDS, each tested on MDB Drums
#            (full mixes, `mdb`, and the drum-only stems, `mdbdrums`)
#   sweep    `adtos sweep $SWEEP_CONFIG` on baseline and new, sizes $SWEEP_SIZES, widths
#            $SWEEP_WIDTHS, seeds $SEEDS, into $SWEEP_OUT/<dataset>-s<seed>
#   report   tools/transfer_report.py: tables (per-class F, P, R, BCE on MDB and on the
#            synthetic validation set, and the untrained baselines), the sweep rows merged with
#            a 1 - F column, `adtos fit` on the MDB loss and on 1 - F, grouped by dataset so
#            that both curves are on one plot; all into $RESULTS_DIR
#
# Honesty: thresholds are tuned and early stopping decided on each dataset's own synthetic
# validation split; MDB Drums is only tested on.
#
# ---- What fits on the GPU machine (one H200, 16 cores; at most 10 min a call; ~12 min of
# device time in all after start-up; 64 MiB carried per call, working tree included) ----
# Measured on the dev machine (benchmarks/RESULTS.md, "Transfer", 2026-11-29): a packed
# dataset costs 0.554 MiB per minute of audio (baseline) and 0.614 MiB/min (new: the master
# bus and the denser mix compress less), features float16 + xz, annotations and MIDI
# included; MDB Drums with its audio 4.98 MiB; the working tree 3.7 MiB; the wheels of
# gpu_experiment.sh's header a few MiB. So one call carries about (64 - 3.7 - 5 - 3) / 0.614
# = 85 minutes of training audio: baseline and new at 64 + 16 tracks of 30 s (2 x 40 min,
# 47 MiB) fit in one call, at 60 s (the configs' 80 min each, 98 MiB) they do not.
# Unpacked data under benchmarks/out/ (ignored by git) stays on a warm machine between calls,
# so a second call need not carry it again.
#
# Dev machine, once (CPU; datasets, preset libraries and packs; nothing here is committed):
#   WORK=benchmarks/out/transfer TRAIN_TRACKS=64 VAL_TRACKS=16 DURATION=30 \
#       DATASETS="baseline new" PACKED=.transfer bash benchmarks/transfer_experiment.sh presets build pack
#   WORK=benchmarks/out/transfer TRAIN_TRACKS=16 VAL_TRACKS=4 DURATION=30 \
#       DATASETS="new nokits novar nolead nobalance nomaster" PACKED=.transfer_ablations \
#       DATA=benchmarks/out/transfer/small bash benchmarks/transfer_experiment.sh build pack
# (the second line's `new` is the ablations' reference, built at their size)
# Device calls (run tool, carry [".transfer", ".whl"], resp. [".transfer_ablations", ".whl"]),
# each well under 10 min at the H100's rate (7,040 width-1 steps in 2.9 min; issue #8's
# sweep: 7 runs in 322 s, 4 at once under MPS):
#   1 (~6 min) baseline vs new and the two label-policy ablations, two seeds (8 runs), 3 at once:
#   WORK=benchmarks/out/transfer PACKED=.transfer WHEELS=.whl RESULTS_DIR=$OUT DEVICE=cuda \
#     PARALLEL=3 MPS=1 STEPS=3000 LIMIT_S=540 RUNS_SPEC="baseline:baseline:none new:new:- \
#     new-policy-none:new:none new-hh44:new:below=ignore;min_db=-5;44=HH" \
#     bash benchmarks/transfer_experiment.sh setup untrained train
#   2 (~6 min) the sweep, n = 1, 4, 16, 64, both datasets, two seeds, 4 at once:
#   WORK=benchmarks/out/transfer PACKED= RESULTS_DIR=$OUT DEVICE=cuda PARALLEL=4 MPS=1 \
#     SWEEP_SIZES=1,4,16,64 SWEEP_OPTIONS="--max-steps 1500 --option workers=2" LIMIT_S=540 \
#     bash benchmarks/transfer_experiment.sh sweep
#   3 (next session: the ablations, ~5 min; carry .transfer_ablations):
#   WORK=benchmarks/out/transfer PACKED=.transfer_ablations WHEELS=.whl RESULTS_DIR=$OUT \
#     DATA=benchmarks/out/transfer/small DEVICE=cuda PARALLEL=3 MPS=1 SEEDS=0 STEPS=3000 \
#     RUNS_SPEC="new-small:new:- nokits:nokits:- novar:novar:- nolead:nolead:- \
#     nobalance:nobalance:- nomaster:nomaster:-" bash benchmarks/transfer_experiment.sh setup train
# Calls 1 and 2 fit in 12 minutes of device time; call 3 does not fit with them and the full
# sweep n = 1 ... 64 with 6000-step runs (28 runs) needs about 20 more minutes.
#
# On the dev machine the same script ran at CPU scale (RESULTS.md, "Transfer"):
#   WORK=/tmp/transfer DATASETS="baseline new" TRAIN_TRACKS=16 VAL_TRACKS=4 DURATION=30 \
#       bash benchmarks/transfer_experiment.sh build
#   WORK=/tmp/transfer DEVICE=cpu SEEDS=0 STEPS=200 PARALLEL=2 SWEEP_DATASETS="baseline new" \
#       RUNS_SPEC="baseline:baseline:none new:new:-" TRAIN_OPTIONS="--width 0.25 --batch-size 8 \
#       --warmup-steps 32 --val-every 50 --workers 0" \
#       bash benchmarks/transfer_experiment.sh untrained train report
set -euo pipefail

WORK=${WORK:-/tmp/adtos_transfer}
DATA=${DATA:-$WORK/datasets}
PACKED=${PACKED:-}
WHEELS=${WHEELS:-.whl}
SITE=${SITE:-$WORK/site}
RESULTS_DIR=${RESULTS_DIR:-$WORK/results}
RUNS=${RUNS:-$WORK/runs}
SWEEP_OUT=${SWEEP_OUT:-$WORK/sweep}
MDB=${MDB:-}
DATASETS=${DATASETS:-baseline new nokits novar nolead nobalance nomaster}
TRAIN_TRACKS=${TRAIN_TRACKS:-64}
VAL_TRACKS=${VAL_TRACKS:-16}
DURATION=${DURATION:-60.0}
BUILD_WORKERS=${BUILD_WORKERS:-}
DEVICE=${DEVICE:-cuda}
SEEDS=${SEEDS:-0 1}
STEPS=${STEPS:-3000}
# the recipe's defaults (width 1, batch 32, 4 s, warm-up 128, validation every 128,
# patience 25); on CPU e.g. TRAIN_OPTIONS="--width 0.25 --batch-size 8 --warmup-steps 32
# --val-every 50 --workers 0"
TRAIN_OPTIONS=${TRAIN_OPTIONS:-}
HH44_POLICY='below=ignore;min_db=-5;44=HH'
RUNS_SPEC=${RUNS_SPEC:-"baseline:baseline:none new:new:- new-policy-none:new:none
new-hh44:new:$HH44_POLICY nokits:nokits:- novar:novar:- nolead:nolead:- nobalance:nobalance:-
nomaster:nomaster:-"}
SWEEP_CONFIG=${SWEEP_CONFIG:-configs/sweep_gpu_mdb.toml}
SWEEP_DATASETS=${SWEEP_DATASETS:-baseline new}
SWEEP_SIZES=${SWEEP_SIZES:-1,2,4,8,16,32,64}
SWEEP_WIDTHS=${SWEEP_WIDTHS:-1}
SWEEP_OPTIONS=${SWEEP_OPTIONS:-}
PARALLEL=${PARALLEL:-1}
MPS=${MPS:-0}
LIMIT_S=${LIMIT_S:-540}
PYTHON=${PYTHON:-python3}

REPO=$PWD
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
mkdir -p "$WORK" "$DATA" "$RESULTS_DIR" "$RUNS"

adtos() { "$PYTHON" -m adtos "$@"; }
# Training commands stop like Ctrl-C (last.pt saved) LIMIT_S seconds after the script began,
# so that a call of the device tool (10 min at most) ends with its results written.
deadline=$((SECONDS + LIMIT_S))
limited() {
    local left=$((deadline - SECONDS))
    [ "$left" -gt 30 ] || { echo "skipped, ${left} s left: $*"; return 0; }
    timeout --foreground -s INT -k 30 "$left" "$@" || echo "exit status $? (stopped or failed): $*"
}
# at most PARALLEL of the queued jobs at once (bash jobs; the GPU is shared between them)
jobs_started=0
queue() {
    if [ "$jobs_started" -ge "$PARALLEL" ]; then wait -n || true; else jobs_started=$((jobs_started + 1)); fi
    "$@" &
}
start_mps() {
    # CUDA MPS lets the processes' kernels share the GPU (gpu_experiment.sh's sweep measured it)
    [ "$MPS" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null || return 0
    nvidia-cuda-mps-control -d && echo "CUDA MPS daemon started" || echo "no CUDA MPS"
}
stop_mps() { [ "$MPS" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null && { echo quit | nvidia-cuda-mps-control || true; }; return 0; }
stamp() { echo "=== $* ($(date -u +%H:%M:%S))"; }
mdb_spec() {
    if [ -n "$MDB" ]; then echo "mdb=mdb:$MDB"
    elif [ -d "$DATA/mdb_drums" ]; then echo "mdb=mdb:$DATA/mdb_drums"
    else echo "mdb=mdb:${ADTOS_SHARED_DATA:?set MDB or ADTOS_SHARED_DATA}/mdb_drums"; fi
}
# MDB Drums' drum-only stems, same annotations: what the accompaniment hides vs what the
# model misses in the drums themselves
# (absent where MDB travelled packed, without them)
mdb_drum_only_tests() {
    local path
    path=$(mdb_spec | sed 's/^mdb=mdb://')
    [ -d "$path/audio/drum_only" ] && echo "--test mdbdrums=mdb_drum_only:$path" || true
}
policy_of() { [ "$1" = "-" ] && echo default || echo "$1"; }
# baseline is trained without the audibility policy, as before it existed
dataset_policy() { [ "$1" = baseline ] && echo none || echo default; }

presets() {
    stamp presets
    mkdir -p "$WORK/presets"
    # derived from the committed library, so that only the lever differs from `new`
    # (`adtos presets --no-sampled-kits` would draw every preset again)
    "$PYTHON" tools/derive_library.py presets/default.jsonl "$WORK/presets/nokits.jsonl" --no-sampled-kits
    "$PYTHON" tools/derive_library.py presets/default.jsonl "$WORK/presets/novar.jsonl" --no-variation
}

# The configs' library paths are relative (../../shared/data/...); stage copies where they
# resolve to $ADTOS_SHARED_DATA, with ../presets pointing at the repository's presets.
stage_configs() {
    local stage="$WORK/stage"
    mkdir -p "$stage/repo/configs" "$stage/shared"
    ln -sfn "${ADTOS_SHARED_DATA:?set ADTOS_SHARED_DATA}" "$stage/shared/data"
    ln -sfn "$REPO/presets" "$stage/repo/presets"
    cp "$REPO"/configs/adtos.toml "$REPO"/configs/transfer_baseline.toml "$stage/repo/configs/"
    echo "$stage/repo/configs"
}

build_args() {
    local configs=$1 name=$2
    case "$name" in
        baseline)  echo "$configs/transfer_baseline.toml" ;;
        new)       echo "$configs/adtos.toml" ;;
        nokits)    echo "$configs/adtos.toml --set presets.library=\"$WORK/presets/nokits.jsonl\"" ;;
        novar)     echo "$configs/adtos.toml --set presets.library=\"$WORK/presets/novar.jsonl\"" ;;
        nolead)    echo "$configs/adtos.toml --set tracks.lead=false" ;;
        nobalance) echo "$configs/adtos.toml --set render.balance_db=[]" ;;
        nomaster)  echo "$configs/adtos.toml --set render.master=false" ;;
        # hi-hats and cymbals drawn lower and darker against the kit (the hi-hat study's lever)
        hats)      echo "$configs/adtos.toml --set render.cymbals_db=[-12.0,0.0] --set render.cymbals_shelf_db=[-9.0,0.0]" ;;
        *) echo "unknown dataset: $name" >&2; return 2 ;;
    esac
}

build() {
    local configs name start
    configs=$(stage_configs)
    for name in $DATASETS; do
        stamp "build $name"
        start=$SECONDS
        # shellcheck disable=SC2046
        eval adtos build $(build_args "$configs" "$name") --out "\"$DATA/$name\"" \
            --set tracks.train="$TRAIN_TRACKS" --set tracks.val="$VAL_TRACKS" \
            --set tracks.duration="$DURATION" ${BUILD_WORKERS:+--workers $BUILD_WORKERS}
        echo "build $name wall: $((SECONDS - start)) s"
    done
}

pack() {
    [ -n "$PACKED" ] || { echo "pack: set PACKED" >&2; return 2; }
    local name
    mkdir -p "$PACKED"
    for name in $DATASETS; do
        stamp "pack $name"
        rm -rf "${PACKED:?}/$name"
        "$PYTHON" tools/pack_features.py pack "$DATA/$name" "$PACKED/$name"
    done
    rm -rf "${PACKED:?}/mdb_drums"
    "$PYTHON" tools/pack_features.py pack "$(mdb_spec | sed 's/^mdb=//')" "$PACKED/mdb_drums" --audio
    "$PYTHON" - "$PACKED" "$DATASETS" <<'EOF'
import json, sys
from pathlib import Path
# minutes of audio from the packed feature shapes (frames / fps), MiB as carried
packed, names = Path(sys.argv[1]), sys.argv[2].split()
print("packed      MiB  minutes  MiB/min")
for name in names + ["mdb_drums"]:
    mib = sum(p.stat().st_size for p in (packed / name).rglob("*") if p.is_file()) / 2**20
    info = json.loads((packed / name / "pack.json").read_text())
    minutes = sum(f["shape"][0] for f in info["features"].values()) / info["settings"]["fps"] / 60
    per = f"{mib / minutes:8.3f}" if minutes else "       -"
    print(f"{name:<10}{mib:7.2f}{minutes:9.1f} {per}")
EOF
}

setup() {
    stamp setup
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$SITE" "$WHEELS"/*.whl
    fi
    local path
    for path in "$PACKED"/*/; do
        "$PYTHON" tools/pack_features.py unpack "${path%/}" "$DATA/$(basename "$path")"
    done
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
    fi
}

# one `adtos train` into $RUNS/NAME, timed; extra arguments go to adtos train
run_train() {
    local name=$1 dataset=$2 policy=$3 start=$SECONDS
    shift 3
    stamp "train $name on $dataset, label policy $policy"
    rm -rf "${RUNS:?}/$name"
    mkdir -p "$RUNS/logs"
    # shellcheck disable=SC2086
    limited "$PYTHON" -m adtos train --train "$DATA/$dataset" --val "$DATA/$dataset" \
        --test "$(mdb_spec)" $(mdb_drum_only_tests) --out "$RUNS/$name" --device "$DEVICE" --label-policy "$policy" \
        --no-progress $TRAIN_OPTIONS "$@" >"$RUNS/logs/$name.log" 2>&1
    tail -n 16 "$RUNS/logs/$name.log"
    echo "$name wall: $((SECONDS - start)) s"
}

untrained() {
    local dataset
    for dataset in $SWEEP_DATASETS; do
        [ -d "$DATA/$dataset" ] || continue
        run_train "untrained-$dataset" "$dataset" "$(dataset_policy "$dataset")" --max-steps 0 --seed 0
    done
}

train() {
    start_mps
    jobs_started=0
    local spec name dataset policy seed
    for seed in $SEEDS; do
        for spec in $RUNS_SPEC; do
            IFS=: read -r name dataset policy <<<"$spec"
            [ -d "$DATA/$dataset" ] || { echo "train: no dataset $dataset, $name skipped"; continue; }
            queue run_train "$name-s$seed" "$dataset" "$(policy_of "$policy")" --max-steps "$STEPS" --seed "$seed"
        done
    done
    wait
    stop_mps
}

sweep_one() {
    local dataset=$1 seed=$2 start=$SECONDS
    stamp "sweep $dataset seed $seed"
    mkdir -p "$SWEEP_OUT/logs"
    # shellcheck disable=SC2086
    limited "$PYTHON" -m adtos sweep "$SWEEP_CONFIG" --train "$DATA/$dataset" --name "$dataset" \
        --variant "seed$seed" --seed "$seed" --test "$(mdb_spec)" --sizes "$SWEEP_SIZES" \
        --widths "$SWEEP_WIDTHS" --device "$DEVICE" --out "$SWEEP_OUT/$dataset-s$seed" \
        --option "label_policy=$(dataset_policy "$dataset")" --no-fit --no-progress \
        $SWEEP_OPTIONS >"$SWEEP_OUT/logs/$dataset-s$seed.log" 2>&1
    echo "sweep $dataset seed $seed wall: $((SECONDS - start)) s"
}

sweep() {
    start_mps
    jobs_started=0
    local dataset seed
    for dataset in $SWEEP_DATASETS; do
        for seed in $SEEDS; do
            queue sweep_one "$dataset" "$seed"
        done
    done
    wait
    stop_mps
}

report() {
    stamp report
    "$PYTHON" tools/transfer_report.py --runs "$RUNS" --sweeps "$SWEEP_OUT" --out "$RESULTS_DIR"
}

trap report EXIT  # what finished is tabled even when a step fails or is cut

for step in "$@"; do
    case "$step" in
        presets|build|pack|setup|untrained|train|sweep) "$step" ;;
        report) ;;  # runs on EXIT
        *) echo "unknown step: $step" >&2; exit 2 ;;
    esac
done
stamp done
