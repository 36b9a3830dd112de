"""Checkpoints: state dicts and plain-typed metadata, loadable with weights_only=True.

A checkpoint is a dict:
    model        the CRNN's state dict
    model_info   {"width": float, "classes": [str], "n_bands": int, "params": int,
                  "gru_layers": int, "flux": bool, "input_norm": bool}  (the last three
                  absent in checkpoints from before the CPU recipe: the paper's 3, False, False)
    optimizer, scaler, rng, state   (training checkpoints only; see train.py)
`torch.load(weights_only=True)` refuses anything but tensors and plain Python
containers, so a checkpoint cannot run code when it is opened.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

from adtos.errors import AdtosError
from adtos.fileio import atomic_path
from adtos.vocab import CLASSES


class CheckpointError(AdtosError, ValueError):
    """A checkpoint is missing, damaged, or does not fit the model it is loaded into."""


def save_checkpoint(path: str | os.PathLike, checkpoint: dict) -> None:
    import torch  # lazy: torch takes seconds to import

    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path: str | os.PathLike, device: str = "cpu") -> dict:
    """The checkpoint's dict; a CheckpointError that says what is wrong with the file.

    torch's own messages are not passed on: for a damaged file they read
    "[Errno 22] Invalid argument" or advise `weights_only=False`, which would
    let a file run code when it is opened.
    """
    import torch  # lazy: torch takes seconds to import

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; a torn copy is not one
        raise CheckpointError(f"cannot read checkpoint {path}: the file is damaged (truncated, "
                              "or not a PyTorch checkpoint); copy it again or retrain")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"cannot read checkpoint {path}: it holds Python objects besides "
                              "tensors and plain values, which no adtos checkpoint does; it is "
                              "damaged or not an adtos checkpoint, and is not opened because "
                              "opening it could run code") from None
    except Exception as error:  # noqa: BLE001 - torch raises many types for a torn archive
        raise CheckpointError(f"cannot read checkpoint {path}: the file is damaged "
                              f"({type(error).__name__}); copy it again or retrain") from None


def model_info(model) -> dict:
    from adtos.transcriber.model import parameter_count  # lazy: the model module imports torch

    return {"width": float(model.width), "classes": list(CLASSES), "n_bands": int(model.n_bands),
            "params": int(parameter_count(model)), **model.architecture()}


def model_from_checkpoint(checkpoint: dict, path: str | os.PathLike = "checkpoint",
                          width: float | None = None):
    """The CRNN stored in `checkpoint`; a clear error when it cannot be this model.

    `width`, when given, is the width the caller expects (e.g. a resumed
    run's configuration); a checkpoint of another width is refused.
    """
    from adtos.transcriber.model import CRNN  # lazy: the model module imports torch

    info = checkpoint.get("model_info")
    if not isinstance(info, dict) or "model" not in checkpoint:
        raise CheckpointError(f"{path}: not an adtos transcriber checkpoint "
                              "(expected keys 'model' and 'model_info')")
    if list(info.get("classes", [])) != list(CLASSES):
        raise CheckpointError(f"{path}: the model was trained for classes {info.get('classes')}, "
                              f"but this adtos uses {list(CLASSES)}; retrain the model")
    if width is not None and float(info["width"]) != float(width):
        raise CheckpointError(f"{path}: the checkpoint has width {info['width']}, the run asks "
                              f"for width {width}; use the same --width or a new run folder")
    # A checkpoint written before the CPU recipe's options lacks them: CRNN's defaults,
    # the paper's model, fill in.
    architecture = {key: info[key] for key in ("gru_layers", "flux", "input_norm") if key in info}
    model = CRNN(width=float(info["width"]), n_bands=int(info["n_bands"]),
                 n_classes=len(info["classes"]), **architecture)
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as error:
        first_line = str(error).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit a CRNN of width {info['width']} "
                              f"with {len(info['classes'])} classes: {first_line}") from error
    return model
