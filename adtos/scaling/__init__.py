"""Scaling curves: how the loss on real music falls as synthetic training data grows.

    from adtos.scaling import fit_power_law
    fit = fit_power_law(n, loss)          # L(n) = α·n^-β + γ, γ = the transfer gap

    from adtos.scaling import load_sweep_config, run_sweep
    run_sweep(load_sweep_config("configs/sweep_demo.toml"), "out/sweep")

`adtos sweep` trains one model per (n, width) and writes a result table;
`adtos fit` fits and plots the curves of any such table.
"""

from adtos.scaling.config import SweepConfig, SweepDataset, load_sweep_config
from adtos.scaling.curves import CurvesReport, fit_curves
from adtos.scaling.fit import PowerLawFit, fit_power_law
from adtos.scaling.sweep import SweepReport, run_sweep

__all__ = ["CurvesReport", "PowerLawFit", "SweepConfig", "SweepDataset", "SweepReport",
           "fit_curves", "fit_power_law", "load_sweep_config", "run_sweep"]
