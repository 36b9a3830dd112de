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
"""

from __future__ import annotations

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
                 gru_layers: int = 3, dropout: float = 0.3):
        super().__init__()
        self.width, self.n_bands, self.n_classes = float(width), int(n_bands), int(n_classes)
        filters = (_scaled(32, width), _scaled(64, width))
        units = _scaled(64, width)
        self.conv = nn.Sequential(ConvBlock(1, filters[0], dropout),
                                  ConvBlock(filters[0], filters[1], dropout))
        pooled_bands = n_bands // 3 // 3
        self.gru = nn.GRU(filters[1] * pooled_bands, units, num_layers=gru_layers,
                          batch_first=True, bidirectional=True, dropout=dropout)
        self.out = nn.Linear(2 * units, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(batch, frames, bands) log spectrogram -> (batch, frames, classes) logits."""
        x = self.conv(features.unsqueeze(1))              # (batch, filters, frames, bands')
        x = x.permute(0, 2, 1, 3).flatten(2)              # (batch, frames, filters·bands')
        x, _ = self.gru(x)
        return self.out(x)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
