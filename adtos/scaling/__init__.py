"""Scaling curves: how the loss on real music falls as synthetic training data grows.

    from adtos.scaling import fit_power_law
    fit = fit_power_law(n, loss)          # L(n) = α·n^-β + γ, γ = the transfer gap

`adtos sweep` trains one model per (n, width) and writes a result table;
`adtos fit` fits and plots the curves of any such table.
"""

from adtos.scaling.curves import CurvesReport, fit_curves
from adtos.scaling.fit import PowerLawFit, fit_power_law

__all__ = ["CurvesReport", "PowerLawFit", "fit_curves", "fit_power_law"]
