"""Publish the study's tables: monthly age-standardised benefit receipt by deprivation,
ethnicity, health and age, with disclosure control.

The stage entry point is :func:`analyse_run`; the building blocks a reader may want to reuse
are re-exported here.
"""

from analysis.config import AnalysisConfig
from analysis.disclosure import apply_disclosure_control
from analysis.inputs import AnalysisInputError
from analysis.population import build_study_population
from analysis.rates import age_standardised_rates, standard_weights
from analysis.run import analyse_run, estimate_all, publish

__all__ = [
    "AnalysisConfig",
    "AnalysisInputError",
    "age_standardised_rates",
    "analyse_run",
    "apply_disclosure_control",
    "build_study_population",
    "estimate_all",
    "publish",
    "standard_weights",
]
