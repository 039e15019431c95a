"""Training the Splink model: prior, u by random sampling, m by expectation maximisation.

Term frequencies come from a population frequency table (:func:`linkage.sql_steps.frequency_tables`)
rather than from the stacked inputs, whose counts would be dominated by the largest source
and inflated by its duplicates.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from linkage import model
from linkage.errors import ConvergenceError

logger = logging.getLogger(__name__)


@dataclass
class TrainingReport:
    """What training did, for the run summary and the quality report."""

    prior: float = 0.0
    sessions: list[dict[str, Any]] = field(default_factory=list)
    untrained: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """True when every EM session that ran converged (skipped ones are None)."""
        return all(s["converged"] is not False for s in self.sessions)


FREQUENCY_FOLDER = "term_frequencies"
"""In a run's ``linkage/`` folder: the population frequency table of each term-frequency
column (``<column>.parquet``), as the model was trained and scored with."""


def write_frequency_tables(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    """Save :func:`linkage.sql_steps.frequency_tables`: one file per column, keeping each
    column's type."""
    folder.mkdir(parents=True, exist_ok=True)
    for column, table in tables.items():
        table.write_parquet(folder / f"{column}.parquet")


def read_frequency_tables(folder: Path) -> dict[str, pl.DataFrame] | None:
    """The tables :func:`write_frequency_tables` saved, or None when there are none."""
    if not folder.is_dir():
        return None
    tables = {path.stem: pl.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}
    return tables or None


def register_frequencies(
    linker: Any,
    db_api: Any,
    tables: dict[str, pl.DataFrame],
    *,
    suffix: str = "",
) -> None:
    """Register population term-frequency tables for every term-frequency column.

    ``tables`` are :func:`linkage.sql_steps.frequency_tables`, by column.
    """
    # Only the columns this model adjusts: a model for fewer roles has fewer comparisons.
    used = {c.unquote().name for c in linker._settings_obj._term_frequency_columns}
    for column in [c for c in model.TF_COLUMNS if c in used]:
        registered = db_api.register(
            tables[column].to_arrow(), table_name=f"population_tf_{column}{suffix}"
        )
        linker.table_management.register_term_frequency_lookup(registered, column)


def _max_change(history: list[Any]) -> float:
    """Largest absolute change of any m or u probability, or the prior, in the last step."""
    if len(history) < 2:
        return float("inf")
    before, after = history[-2], history[-1]
    change = abs(
        after.probability_two_random_records_match - before.probability_two_random_records_match
    )
    for cc_before, cc_after in zip(before.comparisons, after.comparisons, strict=True):
        for lb, la in zip(cc_before.comparison_levels, cc_after.comparison_levels, strict=True):
            if lb.is_null_level:
                continue
            for attr in ("m_probability", "u_probability"):
                vb, va = getattr(lb, attr), getattr(la, attr)
                if vb is not None and va is not None:
                    change = max(change, abs(va - vb))
    return change


def check_convergence(
    session: Any,
    *,
    rule: str,
    max_iterations: int,
    tolerance: float,
    on_failure: Literal["raise", "warn"],
) -> dict[str, Any]:
    """Check that an EM session stopped because it converged, not at its iteration limit.

    Raises
    ------
    ConvergenceError
        When ``on_failure`` is ``"raise"`` and the session did not converge; with ``"warn"``
        a ``RuntimeWarning`` is issued instead.
    """
    history = session._core_model_settings_history
    iterations = len(history) - 1
    change = _max_change(history)
    converged = change < tolerance
    record = {
        "blocking_rule": rule,
        "iterations": iterations,
        "final_max_change": change,
        "converged": converged,
    }
    if not converged:
        message = (
            f"EM blocked on '{rule}' did not converge in {iterations} iterations "
            f"(last change {change:.2g} >= {tolerance:g}); raise em_max_iterations"
        )
        if on_failure == "raise":
            raise ConvergenceError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        logger.warning(message)
    return record


def estimate_prior(linker: Any, roles: Collection[str] | None = None) -> float:
    """Re-estimate the prior on the data at hand (it depends on the data's size).

    Used when a saved model is reused: its m and u probabilities carry over to new data,
    but the probability that two random records match does not. The saved value is kept
    when the deterministic rules find no match at all.
    """
    # Splink has no public module for its exceptions in this version.
    from splink.internals.exceptions import SplinkException

    saved = linker._settings_obj._probability_two_random_records_match
    rules = model.prior_rules(roles)
    try:
        if rules:
            linker.training.estimate_probability_two_random_records_match(
                rules, recall=model.PRIOR_RECALL
            )
    except (ValueError, SplinkException):
        linker._settings_obj._probability_two_random_records_match = saved
    prior = linker._settings_obj._probability_two_random_records_match
    if not 0 < prior < 1:
        linker._settings_obj._probability_two_random_records_match = saved
    return linker._settings_obj._probability_two_random_records_match


def _em_session(
    linker: Any,
    rule: str,
    *,
    em_max_pairs: float,
    max_iterations: int,
    on_no_convergence: Literal["raise", "warn"],
) -> dict[str, Any]:
    """One EM session, or a record of why it was skipped (too few pairs in its block)."""
    from splink.internals.exceptions import EMTrainingException

    try:
        session = linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs
        )
    except EMTrainingException as exc:
        reason = f"skipped: its block holds too few record pairs to train on ({exc})"
        logger.warning("EM session blocked on '%s' %s", rule, reason)
        return {
            "blocking_rule": rule,
            "iterations": 0,
            "final_max_change": None,
            "converged": None,
            "skipped": reason,
        }
    return check_convergence(
        session,
        rule=rule,
        max_iterations=max_iterations,
        tolerance=linker._settings_obj.training_settings.em_convergence,
        on_failure=on_no_convergence,
    )


class _ConfiguredMaxPairs(logging.Filter):
    """Drops Splink's notice that ``max_pairs`` is at its default: here it is always the
    configured ``linkage.u_max_pairs`` (1e6 by default, chosen for the run-time budget and
    recorded with the model), and a user cannot act on a warning about a default they set."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "default value for `max_pairs`" not in record.getMessage()


def estimate_u(linker: Any, *, max_pairs: float, seed: int) -> None:
    """u probabilities from ``max_pairs`` random record pairs (Splink's random sampling)."""
    splink_training = logging.getLogger("splink.internals.linker_components.training")
    quiet = _ConfiguredMaxPairs()
    splink_training.addFilter(quiet)
    try:
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    finally:
        splink_training.removeFilter(quiet)
    logger.info("u probabilities estimated from %s random record pairs", f"{max_pairs:,.0f}")


def train(
    linker: Any,
    *,
    seed: int,
    u_max_pairs: float,
    em_max_pairs: float,
    max_iterations: int,
    on_no_convergence: Literal["raise", "warn"] = "warn",
    roles: Collection[str] | None = None,
) -> TrainingReport:
    """Estimate the prior, the u probabilities and the m probabilities, in that order.

    The m probabilities come from one EM session per rule of
    :func:`linkage.model.training_rules` for the mapped ``roles``; each session leaves the
    comparisons its rule blocks on untouched, so every comparison that can be trained is
    trained by at least one session. A session whose block holds no pairs is skipped and
    the reason recorded, never raised.
    """
    report = TrainingReport()
    report.prior = estimate_prior(linker, roles)
    estimate_u(linker, max_pairs=u_max_pairs, seed=seed)
    for rule in model.training_rules(roles):
        report.sessions.append(
            _em_session(
                linker,
                rule,
                em_max_pairs=em_max_pairs,
                max_iterations=max_iterations,
                on_no_convergence=on_no_convergence,
            )
        )
    untrained = model.untrainable_comparisons(roles)
    if untrained:
        report.untrained = untrained
        logger.warning(
            "No training session can estimate %s: every rule the mapped roles allow blocks "
            "on them; Splink's starting m values are used",
            ", ".join(untrained),
        )
    return report
