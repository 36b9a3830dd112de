#!/usr/bin/env bash
# Issue #22: transfer you can see on a CPU. Baseline (configs/transfer_baseline.toml, every
# onset taught: --label-policy none) against new (configs/adtos.toml, default label policy),
# 32 + 8 tracks of 60 s each, both trained with `adtos train --recipe cpu`, three seeds each,
# tested on MDB Drums; the untrained models beside them. Thresholds and the best checkpoint
# come from each dataset's own synthetic validation split; MDB Drums is only tested on.
#
#   ADTOS_SHARED_DATA=../shared/data bash benchmarks/transfer_cpu.sh
#   # the levers against new, same seeds (datasets built by the same script):
#   ADTOS_SHARED_DATA=../shared/data DATASETS="new nokits novar" \
#       RUNS_SPEC="new:new:- nokits:nokits:- novar:novar:- new-policy-none:new:none" \
#       bash benchmarks/transfer_cpu.sh presets build train
#
# It is benchmarks/transfer_experiment.sh with CPU settings; any of that script's variables
# can be given (WORK, DATASETS, RUNS_SPEC, SEEDS, ...) and its steps named as arguments
# (default: build untrained train; the table is printed at the end, and written to
# $WORK/results/transfer.md). On the idle 2-core dev machine a build takes about 1.5 min
# and a training about 6 min; the whole default run about 45 min (benchmarks/RESULTS.md,
# "Transfer on a CPU").
set -euo pipefail
cd "$(dirname "$0")/.."

export WORK=${WORK:-benchmarks/out/transfer_cpu}
export DATASETS=${DATASETS:-baseline new}
export SWEEP_DATASETS=${SWEEP_DATASETS:-$DATASETS}
export TRAIN_TRACKS=${TRAIN_TRACKS:-32} VAL_TRACKS=${VAL_TRACKS:-8} DURATION=${DURATION:-60.0}
export DEVICE=cpu SEEDS=${SEEDS:-0 1 2} PARALLEL=${PARALLEL:-1}
export STEPS=${STEPS:-$("${PYTHON:-python3}" -c \
    'from adtos.transcriber.config import RECIPES; print(RECIPES["cpu"]["max_steps"])')}
# one loader process beside the one torch thread: the two cores of the dev machine
export TRAIN_OPTIONS=${TRAIN_OPTIONS:-"--recipe cpu --workers 1"}
export RUNS_SPEC=${RUNS_SPEC:-"baseline:baseline:none new:new:-"}
export LIMIT_S=${LIMIT_S:-86400}   # no device-call limit on the dev machine
# sweeps are not part of the CPU protocol; the report finds none
export SWEEP_OUT=${SWEEP_OUT:-$WORK/no_sweep}

if [ $# -eq 0 ]; then set -- build untrained train; fi
exec bash benchmarks/transfer_experiment.sh "$@"
