"""The CRNN transcriber: convolutional blocks over (time, frequency), then
bidirectional GRUs over time, then one sigmoid per class and frame.

Layout (after Vogl et al. 2018 and Zehren et al. 2023), for width w:

    input (batch, frames, 84 bands)
    2 conv blocks, each: [3×3 conv → batch norm → ReLU] × 2 → max-pool 1×3 over
        frequency → dropout; 32·w then 64·w filters; 84 → 28 → 9 bands
    3 bidirectional GRU layers of 64·w units per direction
    linear → 5 logits per frame (the sigmoid is applied by `predict`; training
        uses BCE-with-logits, which is the same loss computed stably)

Time is never pooled, so there is one output per input frame. The width scales
filters and units together; the parameter count grows about as w², from about
2·10^5 at w = 0.7 to 1.6·10^7 at w ≈ 6 (`parameter_count` tells exactly).

Three options of the CPU recipe (`adtos train --recipe cpu`, docs/transcriber.md),
all off in the paper's model, so that its checkpoints load and train as before:

- `flux`: a second input channel, the positive first-order difference of the
  log spectrogram over time (spectral flux per band, as Vogl et al. feed their
  drum CRNNs): an onset is a rise, and the model need not learn the difference;
- `input_norm`: a batch norm over the input's bands (each band of each channel
  to zero mean and unit variance, with running statistics for inference), so
  the loud low bands do not dominate the first convolution;
- `prior`: the output bias starts at the log-odds of `prior` (a frame is an onset
  about 1 % of the time), so the first hundred steps are not spent learning
  the base rates (Lin et al. 2017, "Focal loss", the prior initialization).
`gru_layers` sets the depth of the recurrent part (the paper: 3).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from adtos.transcriber.features import N_BANDS
from adtos.vocab import CLASSES


def _scaled(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=(1, 3)),  # pool frequency only: keep every frame
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class CRNN(nn.Module):
    def __init__(self, width: float = 1.0, n_bands: int = N_BANDS, n_classes: int = len(CLASSES),
                 gru_layers: int = 3, dropout: float = 0.3, flux: bool = False,
                 input_norm: bool = False, prior: float | None = None):
        super().__init__()
        if gru_layers < 1:
            raise ValueError(f"gru_layers must be at least 1, got {gru_layers}")
        if prior is not None and not 0.0 < prior < 1.0:
            raise ValueError(f"prior must be a probability in (0, 1), got {prior}")
        self.width, self.n_bands, self.n_classes = float(width), int(n_bands), int(n_classes)
        self.gru_layers, self.flux, self.input_norm = int(gru_layers), bool(flux), bool(input_norm)
        filters = (_scaled(32, width), _scaled(64, width))
        units = _scaled(64, width)
        # affine=False: a fixed standardization; the first convolution learns the scale.
        channels = 2 if flux else 1
        self.norm = nn.BatchNorm1d(channels * n_bands, affine=False) if input_norm else None
        self.conv = nn.Sequential(ConvBlock(channels, filters[0], dropout),
                                  ConvBlock(filters[0], filters[1], dropout))
        pooled_bands = n_bands // 3 // 3
        self.gru = nn.GRU(filters[1] * pooled_bands, units, num_layers=gru_layers,
                          batch_first=True, bidirectional=True,
                          dropout=dropout if gru_layers > 1 else 0.0)
        self.out = nn.Linear(2 * units, n_classes)
        if prior is not None:
            with torch.no_grad():
                self.out.bias.fill_(math.log(prior / (1.0 - prior)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(batch, frames, bands) log spectrogram -> (batch, frames, classes) logits."""
        x = features.unsqueeze(1)                         # (batch, 1, frames, bands)
        if self.flux:
            # onsets are rises: the positive difference to the previous frame, 0 at frame 0
            rise = torch.relu(features[:, 1:] - features[:, :-1])
            rise = torch.cat([torch.zeros_like(features[:, :1]), rise], dim=1)
            x = torch.stack([features, rise], dim=1)      # (batch, 2, frames, bands)
        if self.norm is not None:
            batch, channels, frames, bands = x.shape
            x = x.permute(0, 1, 3, 2).reshape(batch, channels * bands, frames)
            x = self.norm(x).reshape(batch, channels, bands, frames).permute(0, 1, 3, 2)
        x = self.conv(x)                                  # (batch, filters, frames, bands')
        x = x.permute(0, 2, 1, 3).flatten(2)              # (batch, frames, filters·bands')
        x, _ = self.gru(x)
        return self.out(x)

    def architecture(self) -> dict:
        """What a checkpoint must record to rebuild this model (see checkpoint.model_info)."""
        return {"gru_layers": self.gru_layers, "flux": self.flux, "input_norm": self.input_norm}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
