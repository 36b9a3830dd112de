"""Build stage: one TOML config → a dataset folder; variants; preset-ablation subsets.

    from adtos.build import load_config, build_dataset
    report = build_dataset(load_config("configs/demo.toml"), "out/demo")
"""

from adtos.build.config import BuildConfig, config_to_toml, load_config, parse_config
from adtos.build.pipeline import BuildReport, build_dataset
from adtos.build.subset import Subset, select_subset
from adtos.build.variants import build_variant, parse_variants, variant_dir

__all__ = ["BuildConfig", "BuildReport", "Subset", "build_dataset", "build_variant",
           "config_to_toml", "load_config", "parse_config", "parse_variants", "select_subset",
           "variant_dir"]
