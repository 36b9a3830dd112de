"""`adtos train`, `adtos evaluate`, `adtos transcribe`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _test_spec(text: str) -> tuple[str, str]:
    from adtos.datasets import DatasetSpec

    try:
        spec = DatasetSpec.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--test {text!r}: {error}") from None
    if spec.name is None:
        raise argparse.ArgumentTypeError(f"--test {text!r}: expected NAME=KIND:PATH, "
                                         "e.g. mdb=mdb:../shared/data/mdb_drums")
    return spec.name, str(text).partition("=")[2]


def _add_test_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--test", dest="tests", action="append", type=_test_spec, default=[],
                        metavar="NAME=KIND:PATH",
                        help="a test set, e.g. mdb=mdb:../shared/data/mdb_drums; repeat for more. "
                             "KIND is adtos, mdb, enst, rbma13 or adtof; an adtos dataset with a "
                             "'test' split contributes that split only")


def _one_line(error: Exception) -> str:
    """An error as one line; an OSError as its reason and file, without "[Errno N]"."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror.lower()}: {error.filename}"
    return str(error)


def _defaults(option: str) -> str:
    """'(paper: X, cpu: Y)': an option's value under each recipe, for --help."""
    from adtos.transcriber.config import RECIPES, TrainConfig

    paper = getattr(TrainConfig("", "", ""), option)
    return "(" + ", ".join(f"{name}: {values.get(option, paper)}"
                           for name, values in RECIPES.items()) + ")"


def register(subparsers) -> None:
    from adtos.transcriber.config import RECIPES, TrainConfig, default_workers

    d = TrainConfig("", "", "")
    p = subparsers.add_parser(
        "train", help="train a CRNN drum transcriber",
        description="Train a CRNN on 4 s snippets of a dataset's train split, validate every "
        "VAL_EVERY steps, stop after PATIENCE validations without improvement, then tune "
        "peak-picking thresholds on the validation set and report BCE and onset F-measure "
        "on every test set. Writes RUN_DIR/config.json, metrics.csv, checkpoints/{best,last}.pt, "
        "thresholds.json and results.json.")
    p.add_argument("--train", metavar="DATASET[:SUBSET_LIST]",
                   help="training data: [KIND:]PATH, optionally PATH:LIST.txt to train on the "
                        "track ids listed in a file; the 'train' split is used if there is one")
    p.add_argument("--val", metavar="DATASET",
                   help="validation data (its 'val' split if there is one); used for the loss "
                        "that decides early stopping and for tuning thresholds")
    _add_test_option(p)
    p.add_argument("--out", metavar="RUN_DIR", help="run folder to create")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR exactly where it stopped (model, optimizer, "
                        "learning-rate step, sampler, patience; a run stopped before its first "
                        "checkpoint starts again); other options are taken from its "
                        "config.json except --max-steps, --device, --workers and --test "
                        "(added to its test sets)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="paper",
                   help="named defaults for the options below; options given beside it "
                        "override it. 'paper': the paper's GPU recipe (width 1, 3 GRU layers, "
                        "batch 32 x 4 s, early stopping); 'cpu': learns onset positions in "
                        "minutes on a 2-core CPU (width 0.5, 1 GRU layer, a spectral-flux "
                        "input channel, input normalization, prior-initialized output, batch "
                        "16 x 2 s, 1,200 steps; docs/transcriber.md) (default %(default)s)")
    p.add_argument("--width", type=float, default=None,
                   help="width multiplier of filters and GRU units: 0.7 gives about 2e5 "
                        "parameters, 1 about 4.6e5, 6 about 1.6e7 " + _defaults("width"))
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop after this many training steps (paper: only early stopping; "
                        f"cpu: {RECIPES['cpu']['max_steps']})")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None,
                   help="auto picks CUDA with mixed precision when a GPU is present (default auto)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of weights and snippets "
                   "(default %(default)s)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="snippets per step " + _defaults("batch_size"))
    p.add_argument("--snippet-seconds", type=float, default=None,
                   help="snippet length " + _defaults("snippet_seconds"))
    p.add_argument("--lr", type=float, default=None,
                   help="peak Adam learning rate " + _defaults("learning_rate"))
    p.add_argument("--warmup-steps", type=int, default=None,
                   help="steps of linear warm-up from 0 " + _defaults("warmup_steps"))
    p.add_argument("--decay-steps", type=int, default=None,
                   help="after warm-up the rate falls by --decay-factor every this many steps "
                        + _defaults("decay_steps"))
    p.add_argument("--decay-factor", type=float, default=None, help=_defaults("decay_factor"))
    p.add_argument("--val-every", type=int, default=None,
                   help="steps between validations " + _defaults("val_every"))
    p.add_argument("--patience", type=int, default=None,
                   help="validations without improvement before stopping " + _defaults("patience"))
    p.add_argument("--gru-layers", type=int, default=None,
                   help="bidirectional GRU layers " + _defaults("gru_layers"))
    p.add_argument("--flux", action=argparse.BooleanOptionalAction, default=None,
                   help="add the positive first-order difference of the spectrogram (spectral "
                        "flux) as a second input channel " + _defaults("flux"))
    p.add_argument("--input-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="normalize each input band (batch norm without affine terms) "
                        + _defaults("input_norm"))
    p.add_argument("--prior", type=float, default=None,
                   help="start the output bias at this onset probability per frame "
                        "(paper: PyTorch's default init; cpu: "
                        f"{RECIPES['cpu']['prior']})")
    p.add_argument("--pos-weight", type=float, default=None,
                   help="weight of the onset frames' loss against the silent ones "
                        + _defaults("pos_weight"))
    p.add_argument("--workers", type=int, default=None,
                   help=f"loader processes; 0 loads in the main process (default {default_workers()})")
    p.add_argument("--feature-workers", type=int, default=default_workers(),
                   help="processes computing features before training (default %(default)s)")
    p.add_argument("--feature-cache", metavar="DIR", default=None,
                   help="feature cache folder for all datasets (default: <dataset>/.features "
                        "for a writable ADTOS build folder, else $XDG_CACHE_HOME/adtos/features "
                        "or ~/.cache/adtos/features; never a real dataset's folder; "
                        "$ADTOS_FEATURE_CACHE also sets it)")
    p.add_argument("--target-widen", type=int, default=None,
                   help="set ±N frames around each onset to 0.5 in the targets "
                        + _defaults("target_widen"))
    p.add_argument("--label-policy", default=d.label_policy, metavar="POLICY",
                   help="which annotated onsets are taught, from the per-onset audibility of "
                        "ADTOS renders: 'default' (onsets under the mix, signal-to-mask ratio "
                        "< -5 dB, and the pedal hi-hat 44 are ignored in the loss), 'none' "
                        "(every onset), or settings changing the default, such as "
                        "'below=soft;min_db=-10;SD=-6;44=HH' (below: drop, soft, ignore or "
                        "keep; figure: smr_db or level_db; NOTE: keep, drop, ignore or its own "
                        "class). Logged at the start and kept in results.json; applies to "
                        "the train and val sets (docs/transcriber.md) (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_train)

    p = subparsers.add_parser(
        "evaluate", help="BCE, precision, recall and F-measure of a trained run on test sets",
        description="Evaluate RUN_DIR's best checkpoint on test sets with the peak-picking "
        "thresholds tuned on its validation set (RUN_DIR/thresholds.json). A hit is an "
        "estimated onset within 50 ms of a reference onset of the same class. F is given "
        "summed over tracks and as a mean over tracks. Writes RUN_DIR/evaluation.json.")
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                   help="a training run folder (or use --model)")
    p.add_argument("--model", metavar="NAME",
                   help="a packaged model instead of a run: models/NAME/ or a path to one")
    _add_test_option(p)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="(default %(default)s)")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best",
                   help="which checkpoint (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_evaluate)

    p = subparsers.add_parser(
        "transcribe", help="write drum MIDI and onset text for audio files",
        description="Transcribe audio files with RUN_DIR's best checkpoint (or a packaged "
        "model, --model NAME): OUT/<name>.txt "
        "(time<TAB>GM note<TAB>class) and OUT/<name>.mid (a GM drum track). Any format "
        "soundfile reads, any sample rate (resampled to 44.1 kHz), mixed to mono.")
    p.add_argument("inputs", nargs="+", metavar="[RUN_DIR] AUDIO",
                   help="a training run folder, then audio files; with --model only audio files")
    p.add_argument("--model", metavar="NAME",
                   help="a packaged model instead of a run: models/NAME/ or a path to one")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="(default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_transcribe)


def run_train(args) -> int:
    from adtos.cli import CLIError
    from adtos.transcriber.config import TrainConfig, default_workers
    from adtos.transcriber.evaluate import format_report
    from adtos.transcriber.train import resume_training, train

    try:
        if args.resume:
            if args.out or args.train or args.val:
                raise CLIError("--resume takes its data and folder from RUN_DIR/config.json; "
                               "leave out --train, --val and --out")
            result = resume_training(args.resume, max_steps=args.max_steps, device=args.device,
                                     workers=args.workers, tests=dict(args.tests))
        else:
            missing = [o for o, v in (("--train", args.train), ("--val", args.val),
                                      ("--out", args.out)) if not v]
            if missing:
                raise CLIError(f"missing {', '.join(missing)} (or use --resume RUN_DIR)")
            config = TrainConfig.from_recipe(
                args.recipe, train=args.train, val=args.val, out=args.out,
                tests=dict(args.tests), width=args.width, max_steps=args.max_steps,
                seed=args.seed, device=args.device or "auto", batch_size=args.batch_size,
                snippet_seconds=args.snippet_seconds, learning_rate=args.lr,
                warmup_steps=args.warmup_steps, decay_steps=args.decay_steps,
                decay_factor=args.decay_factor, val_every=args.val_every,
                patience=args.patience, gru_layers=args.gru_layers, flux=args.flux,
                input_norm=args.input_norm, prior=args.prior, pos_weight=args.pos_weight,
                workers=default_workers() if args.workers is None else args.workers,
                feature_workers=args.feature_workers, feature_cache=args.feature_cache,
                target_widen=args.target_widen, label_policy=args.label_policy,
                progress=not args.no_progress)
            result = train(config)
    except (OSError, ValueError) as error:
        raise CLIError(_one_line(error)) from None
    # The run's result is the command's output (stdout, like `adtos evaluate`); what
    # happened on the way (resuming, the CPU time estimate) was logged to stderr.
    print(format_report(json.loads((Path(result.run_dir) / "results.json").read_text())["sets"]))
    print(f"{result.steps} steps, {result.params:,} parameters, validation BCE "
          f"{result.val_loss:.4f}; results in {result.run_dir}/results.json")
    return 0


def run_evaluate(args) -> int:
    from adtos.cli import CLIError
    from adtos.transcriber.evaluate import evaluate, format_report
    from adtos.transcriber.package import model_dir

    if not args.tests:
        raise CLIError("give at least one --test NAME=KIND:PATH")
    if bool(args.run_dir) == bool(args.model):
        raise CLIError("give either RUN_DIR or --model NAME")
    try:
        run_dir = model_dir(args.model) if args.model else args.run_dir
        results = evaluate(run_dir, dict(args.tests), device=args.device,
                           checkpoint=args.checkpoint, progress=not args.no_progress)
    except (OSError, ValueError) as error:
        raise CLIError(_one_line(error)) from None
    print(format_report(results))
    return 0


def run_transcribe(args) -> int:
    from adtos.cli import CLIError
    from adtos.transcriber.package import model_dir
    from adtos.transcriber.transcribe import transcribe

    if args.model:
        audio = args.inputs
    elif len(args.inputs) < 2:
        raise CLIError("give RUN_DIR and at least one AUDIO file (or --model NAME AUDIO…)")
    else:
        audio = args.inputs[1:]
    try:
        run_dir = model_dir(args.model) if args.model else args.inputs[0]
        written, skipped = transcribe(run_dir, audio, args.out, device=args.device,
                                      progress=not args.no_progress)
    except (OSError, ValueError) as error:
        raise CLIError(_one_line(error)) from None
    print(f"wrote {len(written)} transcriptions to {args.out}")
    for path, reason in skipped:
        print(f"adtos transcribe: skipped {path}: {reason}", file=sys.stderr)
    if skipped:
        print(f"adtos transcribe: {len(skipped)} of {len(skipped) + len(written)} files failed",
              file=sys.stderr)
    return 1 if skipped else 0
