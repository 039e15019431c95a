"""The suites, one per data contract, by name."""

from __future__ import annotations

from collections.abc import Callable

from expectations.config import ExpectationsConfig
from expectations.errors import UnknownSuiteError
from expectations.suites.base import Check, Part, SuiteDefinition
from expectations.suites.linkage import linkage_suite
from expectations.suites.published import (
    is_rate_table,
    published_other_suite,
    published_rates_suite,
    published_substance_suite,
)
from expectations.suites.sources import (
    census_suite,
    dwp_benefit_spells_suite,
    dwp_customers_suite,
    gp_conditions_suite,
    gp_registrations_suite,
)

#: Source extract name to its suite builder, in pipeline order.
SOURCE_SUITES: dict[str, Callable[..., SuiteDefinition]] = {
    "census": census_suite,
    "gp_registrations": gp_registrations_suite,
    "gp_conditions": gp_conditions_suite,
    "dwp_customers": dwp_customers_suite,
    "dwp_benefit_spells": dwp_benefit_spells_suite,
}


def build_suite(name: str, config: ExpectationsConfig) -> SuiteDefinition:
    """Build a suite by name, without the run-dependent checks (row counts).

    Raises
    ------
    UnknownSuiteError
        The name is not a suite; the message lists the valid names.
    """
    if name in SOURCE_SUITES:
        return SOURCE_SUITES[name](config)
    if name == "linkage":
        return linkage_suite(config)
    if name == "published":
        return published_rates_suite(config)
    raise UnknownSuiteError(f"Unknown suite '{name}'; valid suites are: {', '.join(suite_names())}")


def suite_names() -> list[str]:
    """Every suite name, in pipeline order."""
    return [*SOURCE_SUITES, "linkage", "published"]


__all__ = [
    "SOURCE_SUITES",
    "Check",
    "Part",
    "SuiteDefinition",
    "build_suite",
    "is_rate_table",
    "linkage_suite",
    "published_other_suite",
    "published_rates_suite",
    "published_substance_suite",
    "suite_names",
]
