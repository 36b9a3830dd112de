"""Running a model over whole tracks."""

from __future__ import annotations

import numpy as np


def resolve_device(device: str) -> str:
    import torch

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
    import torch

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
