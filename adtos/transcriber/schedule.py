"""Learning-rate schedule: linear warm-up from 0, then exponential decay.

lr(step) = peak · step / warmup                       for step < warmup
lr(step) = peak · decay_factor ^ ((step - warmup) / decay_steps)   afterwards
so the rate falls by ×0.1 (the default factor) every `decay_steps` steps.
"""

from __future__ import annotations


def learning_rate(step: int, peak: float = 5e-4, warmup_steps: int = 128,
                  decay_steps: int = 8192, decay_factor: float = 0.1) -> float:
    if step < warmup_steps:
        return peak * step / warmup_steps
    return peak * decay_factor ** ((step - warmup_steps) / decay_steps)
