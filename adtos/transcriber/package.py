"""Packaged models: a trained run reduced to what transcription needs, under models/NAME/.

    models/NAME/
      model.pt          the best checkpoint's weights and model_info (no optimizer)
      thresholds.json   per-class peak-picking thresholds, tuned on synthetic validation
      config.json       the run's training options (a record of how it was trained)
      README.md         the model card: data, recipe, figures from results.json

`adtos transcribe --model NAME AUDIO…` and `adtos evaluate --model NAME --test …`
read such a folder; `export_model(RUN_DIR, models/NAME)` writes one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from adtos.fileio import write_text_atomic
from adtos.transcriber.checkpoint import load_checkpoint, save_checkpoint
from adtos.transcriber.config import RunFolderError
from adtos.vocab import CLASSES

# The repository's models/ folder (beside the adtos package).
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MODEL_FILE = "model.pt"


def model_dir(name: str | os.PathLike) -> Path:
    """The folder of a packaged model: a path to one, or a NAME under models/."""
    path = Path(name)
    if (path / MODEL_FILE).is_file():
        return path
    candidate = MODELS_DIR / str(name)
    if (candidate / MODEL_FILE).is_file():
        return candidate
    known = sorted(p.parent.name for p in MODELS_DIR.glob(f"*/{MODEL_FILE}"))
    raise RunFolderError(f"no packaged model {str(name)!r}: expected {path}/{MODEL_FILE} or "
                         f"{candidate}/{MODEL_FILE}; available: {', '.join(known) or 'none'}")


def export_model(run_dir: str | os.PathLike, out_dir: str | os.PathLike,
                 name: str | None = None, about: str = "") -> Path:
    """Write a finished run's best model as a packaged model folder; return the folder.

    `about` (Markdown) is added to the model card: what the training data is, how
    the model was chosen, its licence.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    for needed in ("checkpoints/best.pt", "thresholds.json", "config.json", "results.json"):
        if not (run_dir / needed).is_file():
            raise RunFolderError(f"{run_dir}/{needed} not found: export needs a finished run")
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    out_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out_dir / MODEL_FILE, {"model": checkpoint["model"],
                                           "model_info": checkpoint["model_info"]})
    for file_name in ("thresholds.json", "config.json"):
        shutil.copyfile(run_dir / file_name, out_dir / file_name)
    results = json.loads((run_dir / "results.json").read_text())
    write_text_atomic(out_dir / "README.md", model_card(name or out_dir.name, results,
                                                        json.loads((run_dir / "config.json")
                                                                   .read_text()), about))
    return out_dir


def model_card(name: str, results: dict, config: dict, about: str = "") -> str:
    """A short model card from the run's results.json and config.json, then `about`."""
    result = results["result"]
    lines = [f"# {name}", "",
             "A CRNN drum transcriber (5 classes: BD, SD, TT, HH, CY) trained by `adtos train`.", "",
             "## Training", "",
             f"- training data: `{config.get('train')}`; validation: `{config.get('val')}`",
             f"- width {config.get('width')}, {result['params']:,} parameters, "
             f"{result['steps']} steps (best at step {results.get('best_step')}), "
             f"stopped by {result.get('stopped_by') or 'the end of training'}",
             f"- recipe `{config.get('recipe', 'paper')}`: batch {config.get('batch_size')} × "
             f"{config.get('snippet_seconds')} s, learning rate {config.get('learning_rate')}, "
             f"{config.get('gru_layers', 3)} GRU layer(s), spectral-flux channel "
             f"{'on' if config.get('flux') else 'off'}, seed {config.get('seed')}; "
             f"label policy `{config.get('label_policy', 'none')}`",
             "- peak-picking thresholds tuned on the validation set only: "
             + ", ".join(f"{c} {results['thresholds'][c]:.2f}" for c in CLASSES), "",
             "## Figures (onset F within 50 ms, summed over tracks; BCE per frame)", "",
             "| set | tracks | BCE | " + " | ".join(f"F {c}" for c in CLASSES) + " | F all |",
             "|---|---|---|" + "---|" * (len(CLASSES) + 1)]
    for set_name, scores in results["sets"].items():
        f = scores["onsets"]
        lines.append(f"| {set_name} (`{scores.get('spec', '')}`) | {scores['tracks']} | "
                     f"{scores['bce']['mean']:.4f} | "
                     + " | ".join(f"{f[c]['f_measure']:.3f}" for c in CLASSES)
                     + f" | {f['all']['f_measure']:.3f} |")
    lines += ["", "Use: `adtos transcribe --model NAME AUDIO… --out DIR`, or from Python "
              "`DrumTranscriber.from_model(NAME)(\"song.wav\")`.", ""]
    if about:
        lines += [about.strip(), ""]
    return "\n".join(lines)
