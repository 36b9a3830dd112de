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
#   nokits     new, presets from `adtos presets --no-sampled-kits` (recorded kits off)
#   novar      new, presets from `adtos presets --variation-share 0` (per-piece variation off:
#              the sampled kits stay whole, the other drum presets are soundfont composites)
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
#   presets  the two ablation preset libraries into $WORK/presets (seconds; sampled kits
#            are checked once, about a minute)
#   build    every dataset of $DATASETS into $DATA/<name>, $TRAIN_TRACKS + $VAL_TRACKS tracks
#            of $DURATION s (the configs' relative paths are staged in $WORK so that they
#            resolve to $ADTOS_SHARED_DATA)
#   pack     benchmarks/pack_features.py for each dataset (features only, float16 + xz) and
#            MDB Drums (--audio) into $PACKED; prints the size of each and the minutes of
#            training audio per MiB
#   setup    install $WHEELS into $SITE and unpack $PACKED/* into $DATA (GPU machine)
#   untrained  --max-steps 0 on baseline and new (thresholds tuned on their own validation)
#   train    one `adtos train` per entry of $RUNS_SPEC ("run:dataset:policy", policy '-'
#            meaning the default) with $TRAIN_OPTIONS, seeds $SEEDS, each tested on MDB Drums
#   sweep    `adtos sweep $SWEEP_CONFIG` on baseline and new, sizes $SWEEP_SIZES, widths
#            $SWEEP_WIDTHS, seeds $SEEDS, into $SWEEP_OUT/<dataset>-s<seed>
#   report   benchmarks/transfer_report.py: tables (per-class F, P, R, BCE on MDB and on the
#            synthetic validation set, and the untrained baselines), the sweep rows merged with
#            a 1 - F column, `adtos fit` on the MDB loss and on 1 - F, grouped by dataset so
#            that both curves are on one plot; all into $RESULTS_DIR
#
# Honesty: thresholds are tuned and early stopping decided on each dataset's own synthetic
# validation split; MDB Drums is only tested on.
#
# ---- What fits on the GPU machine (one H200, at most 10 min a call, ~12 min of device
# time in all after start-up; 64 MiB carried per call) ----
# Measured on the dev machine (benchmarks/RESULTS.md, "Transfer"): a packed dataset costs
# 0.63 MiB per minute of audio (float16 + xz features), MDB Drums with its audio 5.6 MiB,
# the wheels 4.3 MiB. So one call carries about (64 - 10) / 0.63 = 85 minutes of training
# audio. The full 64 + 16 x 60 s recipe (80 min, ~50 MiB) fits once per call; nine
# datasets do not. The plan that fits, three calls, each with .transfer and .whl carried:
#   call 1 (~8 min): baseline + new at 64 + 16 x 60 s: untrained, train (width 1, seeds 0 1,
#                    new+policy-none, new+hh44), with STEPS capped at 3000 (early stopping
#                    decides before that on the H100 run: 7,040 steps in 2.9 min)
#   call 2 (~8 min): the five built ablations at 16 + 4 x 60 s each (5 x 20 min = 63 MiB:
#                    pack them with TRAIN_TRACKS=16 VAL_TRACKS=4), width 1, one seed
#   call 3 (~8 min): the sweep of baseline and new (n = 1 ... 64, width 1, seeds 0 1:
#                    28 runs, 4 at once under MPS as issue #8's sweep did in 322 s for 7)
# If a call is cut, its RESULTS_DIR still gets what finished (report runs on EXIT).
#
# On the dev machine (the same script, CPU, small: see RESULTS.md):
#   WORK=/tmp/transfer DATASETS="baseline new" TRAIN_TRACKS=16 VAL_TRACKS=4 DURATION=30 \
#       bash benchmarks/transfer_experiment.sh presets build pack
# On the GPU machine, with the pack and the wheels carried (.transfer, .whl):
#   PACKED=.transfer WHEELS=.whl RESULTS_DIR=$OUT DEVICE=cuda \
#       bash benchmarks/transfer_experiment.sh setup untrained train report
set -euo pipefail

WORK=${WORK:-/tmp/adtos_transfer}
DATA=${DATA:-$WORK/datasets}
PACKED=${PACKED:-}
WHEELS=${WHEELS:-.whl}
SITE=${SITE:-/tmp/adtos_site}
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
PYTHON=${PYTHON:-python3}

REPO=$PWD
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
mkdir -p "$WORK" "$DATA" "$RESULTS_DIR" "$RUNS"

adtos() { "$PYTHON" -m adtos "$@"; }
stamp() { echo "=== $* ($(date -u +%H:%M:%S))"; }
mdb_spec() {
    if [ -n "$MDB" ]; then echo "mdb=mdb:$MDB"
    elif [ -d "$DATA/mdb_drums" ]; then echo "mdb=mdb:$DATA/mdb_drums"
    else echo "mdb=mdb:${ADTOS_SHARED_DATA:?set MDB or ADTOS_SHARED_DATA}/mdb_drums"; fi
}
policy_of() { [ "$1" = "-" ] && echo default || echo "$1"; }
# baseline is trained without the audibility policy, as before it existed
dataset_policy() { [ "$1" = baseline ] && echo none || echo default; }

presets() {
    stamp presets
    mkdir -p "$WORK/presets"
    adtos presets --no-sampled-kits --out "$WORK/presets/nokits.jsonl"
    adtos presets --variation-share 0 --out "$WORK/presets/novar.jsonl"
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
        "$PYTHON" benchmarks/pack_features.py pack "$DATA/$name" "$PACKED/$name"
    done
    rm -rf "${PACKED:?}/mdb_drums"
    "$PYTHON" benchmarks/pack_features.py pack "$(mdb_spec | sed 's/^mdb=//')" "$PACKED/mdb_drums" --audio
    "$PYTHON" - "$PACKED" "$DATASETS" "$TRAIN_TRACKS" "$VAL_TRACKS" "$DURATION" <<'EOF'
import sys
from pathlib import Path
packed, names = Path(sys.argv[1]), sys.argv[2].split()
minutes = (int(sys.argv[3]) + int(sys.argv[4])) * float(sys.argv[5]) / 60
print("packed      MiB   minutes  MiB/min")
for name in names + ["mdb_drums"]:
    mib = sum(p.stat().st_size for p in (packed / name).rglob("*") if p.is_file()) / 2**20
    per = f"{mib / minutes:8.3f}" if name != "mdb_drums" else "       -"
    print(f"{name:<10}{mib:7.2f}{minutes if name != 'mdb_drums' else 0:9.1f} {per}")
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
        "$PYTHON" benchmarks/pack_features.py unpack "${path%/}" "$DATA/$(basename "$path")"
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
    # shellcheck disable=SC2086
    adtos train --train "$DATA/$dataset" --val "$DATA/$dataset" --test "$(mdb_spec)" \
        --out "$RUNS/$name" --device "$DEVICE" --label-policy "$policy" --no-progress \
        $TRAIN_OPTIONS "$@" | tail -n 16
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
    local spec name dataset policy seed
    for seed in $SEEDS; do
        for spec in $RUNS_SPEC; do
            IFS=: read -r name dataset policy <<<"$spec"
            [ -d "$DATA/$dataset" ] || { echo "train: no dataset $dataset, $name skipped"; continue; }
            run_train "$name-s$seed" "$dataset" "$(policy_of "$policy")" --max-steps "$STEPS" --seed "$seed"
        done
    done
}

sweep() {
    local dataset seed
    for dataset in $SWEEP_DATASETS; do
        for seed in $SEEDS; do
            stamp "sweep $dataset seed $seed"
            # shellcheck disable=SC2086
            adtos sweep "$SWEEP_CONFIG" --train "$DATA/$dataset" --name "$dataset" \
                --variant "seed$seed" --seed "$seed" --test "$(mdb_spec)" --sizes "$SWEEP_SIZES" \
                --widths "$SWEEP_WIDTHS" --device "$DEVICE" --out "$SWEEP_OUT/$dataset-s$seed" \
                --option "label_policy=$(dataset_policy "$dataset")" --no-fit --no-progress \
                $SWEEP_OPTIONS
        done
    done
}

report() {
    stamp report
    "$PYTHON" benchmarks/transfer_report.py --runs "$RUNS" --sweeps "$SWEEP_OUT" --out "$RESULTS_DIR"
}

for step in "$@"; do
    case "$step" in
        presets|build|pack|setup|untrained|train|sweep|report) "$step" ;;
        *) echo "unknown step: $step" >&2; exit 2 ;;
    esac
done
stamp done
