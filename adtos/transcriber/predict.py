"""Running a model over whole tracks, and the transcriber users call."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from adtos.fileio import write_text_atomic

from adtos.transcriber.checkpoint import load_checkpoint, model_from_checkpoint
from adtos.transcriber.config import RunFolderError, TrainConfig
from adtos.transcriber.features import (DEFAULT_SETTINGS, FeatureSettings, compute_features,
                                        features_of_file)
from adtos.transcriber.metrics import WINDOW
from adtos.transcriber.package import MODEL_FILE, model_dir
from adtos.transcriber.peaks import pick_all
from adtos.vocab import CLASSES


def resolve_device(device: str) -> str:
    import torch  # lazy: torch takes seconds to import

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA GPU "
                         f"(torch {torch.__version__}); use --device auto or cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    return device


def track_logits(model, features: np.ndarray, device: str = "cpu",
                 chunk_frames: int = 60_000) -> np.ndarray:
    """Logits (frames, classes) of one whole track, float32.

    The GRUs see the whole track at once (up to `chunk_frames`, 10 minutes at
    100 fps; longer tracks are cut into chunks of that length).
    """
    import torch  # lazy: torch takes seconds to import

    model.eval()
    outputs = []
    with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.float16,
                                         enabled=device == "cuda"):
        for start in range(0, features.shape[0], chunk_frames):
            chunk = torch.from_numpy(np.array(features[start:start + chunk_frames],
                                              dtype=np.float32))  # a writable copy of the mmap
            outputs.append(model(chunk.unsqueeze(0).to(device)).float()[0].cpu().numpy())
    return np.concatenate(outputs)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def bce_sums(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Summed binary cross-entropy per class over frames, computed stably from logits.
    Frames a label policy ignores (target < 0, adtos.transcriber.labels) add nothing."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    # BCE(sigmoid(x), y) = max(x, 0) - x·y + log(1 + exp(-|x|))
    return ((np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))) * (y >= 0)).sum(axis=0)


def load_run_model(run_dir: str | os.PathLike, checkpoint: str = "best", device: str = "cpu"):
    """(model on `device`, the run's TrainConfig) of a run folder; clear errors for what is
    missing. The run's own width is checked: a checkpoint copied in from elsewhere fails."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"run folder not found: {run_dir}")
    config = TrainConfig.from_json_file(run_dir / "config.json")
    path = run_dir / "checkpoints" / f"{checkpoint}.pt"
    if (run_dir / MODEL_FILE).is_file() and not path.exists():  # a packaged model
        path = run_dir / MODEL_FILE
    model = model_from_checkpoint(load_checkpoint(path, device), path, width=config.width)
    return model.to(device), config


def save_thresholds(run_dir: str | os.PathLike, thresholds, source: str) -> None:
    data = {"classes": list(CLASSES), "thresholds": [float(t) for t in thresholds],
            "tuned_on": source, "window_s": WINDOW}
    write_text_atomic(Path(run_dir) / "thresholds.json", json.dumps(data, indent=2) + "\n")


def load_thresholds(run_dir: str | os.PathLike) -> list[float]:
    path = Path(run_dir) / "thresholds.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; finish training, or run adtos evaluate on "
                                "the run, which tunes them on its validation set")
    data = json.loads(path.read_text())
    if data.get("classes") != list(CLASSES):
        raise ValueError(f"{path}: thresholds are for classes {data.get('classes')}, "
                         f"expected {list(CLASSES)}")
    return [float(t) for t in data["thresholds"]]



class DrumTranscriber:
    """Audio in, drum onsets per class out, with a trained model and its thresholds.

        transcriber = DrumTranscriber.from_run("runs/x")
        onsets = transcriber("song.wav")          # {"BD": array([0.51, ...]), "SD": ..., ...}

    Like a madmom processor it is built once and called per file; the steps are
    features (madmom's log-filtered spectrogram) → CRNN → sigmoid → peak picking
    with the per-class thresholds tuned on the run's validation set.
    """

    def __init__(self, model, thresholds, device: str = "cpu",
                 settings: FeatureSettings = DEFAULT_SETTINGS):
        if len(thresholds) != len(CLASSES):
            raise ValueError(f"expected {len(CLASSES)} thresholds ({', '.join(CLASSES)}), "
                             f"got {len(thresholds)}")
        self.model, self.device, self.settings = model.to(device), device, settings
        self.thresholds = [float(t) for t in thresholds]

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike, checkpoint: str = "best",
                 device: str = "auto") -> "DrumTranscriber":
        """The run's best (or last) checkpoint and RUN_DIR/thresholds.json."""
        device = resolve_device(device)
        model, _ = load_run_model(run_dir, checkpoint, device)
        return cls(model, load_thresholds(run_dir), device)

    @classmethod
    def from_model(cls, name: str | os.PathLike, device: str = "auto") -> "DrumTranscriber":
        """A packaged model: NAME under the repository's models/, or a path to such a folder."""
        return cls.from_run(model_dir(name), device=device)

    def features(self, audio) -> np.ndarray:
        """Features of an audio file path, or of mono audio at the model's sample rate."""
        if isinstance(audio, (str, os.PathLike)):
            path = Path(audio)
            if not path.is_file():
                raise FileNotFoundError(f"audio file not found: {path}")
            return features_of_file(path, self.settings)
        return compute_features(np.asarray(audio), self.settings)

    def activations(self, audio) -> np.ndarray:
        """Per-frame class activations in [0, 1]: float64 (frames, classes)."""
        return sigmoid(track_logits(self.model, self.features(audio), self.device))

    def onsets(self, audio) -> tuple[np.ndarray, np.ndarray]:
        """(onset times in seconds, class indices), sorted by time."""
        return pick_all(self.activations(audio), self.thresholds, self.settings.fps)

    def __call__(self, audio) -> dict[str, np.ndarray]:
        times, labels = self.onsets(audio)
        return {name: times[labels == index] for index, name in enumerate(CLASSES)}
