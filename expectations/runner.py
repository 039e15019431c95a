"""Run a suite's parts through Great Expectations and reduce the results to outcomes.

Each part becomes a GX ``ExpectationSuite`` validated by a ``ValidationDefinition`` on a
whole-dataframe batch of an ephemeral data context (nothing is written by GX itself).
Results are reduced to ``Outcome`` records that carry no personal identifiers: offending
rows are shown by record id, and values only for columns that are not identifying.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import numbers
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import great_expectations as gx
import polars as pl
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations.frames import to_pandas
from expectations.suites.base import IDENTIFYING_COLUMNS, Check, Part, SuiteDefinition

logger = logging.getLogger(__name__)

_RUNS = itertools.count(1)
_HIDDEN_KWARGS = {"column", "column_A", "column_B", "column_list", "result_format", "batch_id"}


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation, safe to log, show and store."""

    suite: str
    part: str
    check: str
    family: str
    severity: str
    expectation_type: str
    columns: str
    rule: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: str | None = None
    sample: tuple[str, ...] = ()
    error: str | None = None
    rows: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def describe(self) -> str:
        """One line for an error message: name, rule, counts and a few record ids."""
        parts = [f"{self.check} [{self.family}] {self.expectation_type}"]
        if self.columns:
            parts.append(f"on {self.columns}")
        if self.rule:
            parts.append(f"({self.rule})")
        if self.error:
            parts.append(f": error: {self.error}")
        elif self.unexpected_count is not None:
            parts.append(f": {self.unexpected_count:,} of {self.element_count:,} rows fail")
        elif self.observed is not None:
            parts.append(f": observed {self.observed}")
        if self.sample:
            parts.append(f"; e.g. {', '.join(self.sample)}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (without the row positions)."""
        record = {name: getattr(self, name) for name in self.__dataclass_fields__}
        record.pop("rows")
        record["sample"] = list(self.sample)
        return record


@dataclass(frozen=True)
class SuiteResult:
    """Every outcome of one suite run on one set of frames."""

    suite: str
    description: str
    outcomes: tuple[Outcome, ...]
    rows: dict[str, int]
    seconds: float

    @property
    def evaluated(self) -> int:
        return len(self.outcomes)

    @property
    def failed_critical(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def failed_warning(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def success(self) -> bool:
        return not self.failed_critical


@cache
def _batch_definition() -> Any:
    """One ephemeral GX context per process, with a whole-dataframe pandas batch."""
    # An ephemeral context announces the temporary docs folder it never uses; users cannot
    # act on that line, so it is kept out of the run's log.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    # GX draws tqdm bars per metric batch; pipelines log instead.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )


def run_suite(
    definition: SuiteDefinition,
    frames: dict[str, pl.DataFrame],
    *,
    sample_size: int = 5,
    keep_rows: bool = False,
) -> SuiteResult:
    """Validate the frames against every part of a suite whose frame is given.

    Parameters
    ----------
    definition
        The suite.
    frames
        Frames by the name each part expects; parts whose frame is missing are skipped.
    sample_size
        Offending record ids kept per failing expectation.
    keep_rows
        Keep the positions of every failing row (for quarantine); otherwise only a sample.
    """
    started = time.perf_counter()
    batch = _batch_definition()
    context = batch.data_asset.datasource.data_context
    outcomes: list[Outcome] = []
    rows: dict[str, int] = {}
    for part in definition.parts:
        frame = frames.get(part.frame)
        if frame is None:
            continue
        rows[part.name] = frame.height
        gx_suite = definition.gx_suite(part)
        gx_suite.name = f"{gx_suite.name}.{next(_RUNS)}"
        suite = context.suites.add(gx_suite)
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
        )
        result_format = {
            "result_format": "COMPLETE" if keep_rows else "SUMMARY",
            "partial_unexpected_count": sample_size,
            "return_unexpected_index_query": False,
        }
        result = validation.run(
            batch_parameters={"dataframe": to_pandas(frame)}, result_format=result_format
        )
        context.validation_definitions.delete(suite.name)
        context.suites.delete(suite.name)
        by_name = {check.name: check for check in part.checks}
        for item in result.results:
            check = by_name[item.expectation_config.meta["check"]]
            outcomes.append(_outcome(definition.name, part, check, item, frame, sample_size))
    order = {
        (part.name, check.name): i
        for i, (part, check) in enumerate(
            (part, check) for part in definition.parts for check in part.checks
        )
    }
    outcomes.sort(key=lambda o: order[(o.part, o.check)])
    seconds = time.perf_counter() - started
    failed = sum(not o.success for o in outcomes)
    logger.info(
        "Suite %s: %d expectations, %d failed, %.1f s",
        definition.name,
        len(outcomes),
        failed,
        seconds,
    )
    return SuiteResult(definition.name, definition.description, tuple(outcomes), rows, seconds)


def _outcome(
    suite: str, part: Part, check: Check, item: Any, frame: pl.DataFrame, sample_size: int
) -> Outcome:
    config = item.expectation_config
    kwargs = dict(config.kwargs)
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += list(kwargs.get("column_list") or [])
    rule = _rule(kwargs)
    base = {
        "suite": suite,
        "part": part.name,
        "check": check.name,
        "family": check.family,
        "severity": check.severity,
        "expectation_type": config.type,
        "columns": ", ".join(columns),
        "rule": rule,
    }
    error = _exception_message(item.exception_info)
    if error is not None:
        return Outcome(**base, success=False, error=error)
    result = item.result or {}
    observed = result.get("observed_value")
    positions: list[int] = list(
        result.get("unexpected_index_list") or result.get("partial_unexpected_index_list") or []
    )
    positions = [int(p) for p in positions if isinstance(p, numbers.Integral)]
    sample: list[str] = []
    if not item.success and positions:
        sample = _sample(frame, part, columns, positions[:sample_size])
    elif not item.success and "details" in result:
        sample = [_short(result["details"])]
    return Outcome(
        **base,
        success=bool(item.success),
        element_count=result.get("element_count"),
        unexpected_count=result.get("unexpected_count"),
        unexpected_percent=result.get("unexpected_percent"),
        observed=None if observed is None else _short(observed),
        sample=tuple(sample),
        rows=tuple(positions) if "unexpected_index_list" in result else (),
    )


def _sample(frame: pl.DataFrame, part: Part, columns: list[str], positions: list[int]) -> list[str]:
    """Describe offending rows by record id, plus the value when it is not identifying."""
    shown = [c for c in part.id_columns if c in frame.columns]
    values = [
        c
        for c in columns
        if c in frame.columns
        and c not in IDENTIFYING_COLUMNS
        and c not in shown
        and frame.schema[c] != pl.Date
    ]
    if not shown and not values:
        return [f"row {position}" for position in positions]
    picked = frame[positions].select([*shown, *values])
    lines = []
    for position, row in zip(positions, picked.iter_rows(named=True), strict=True):
        ids = "/".join(str(row[c]) for c in shown) if shown else f"row {position}"
        extra = ", ".join(f"{c}={row[c]!r}" for c in values)
        lines.append(f"{ids} ({extra})" if extra else ids)
    return lines


def _rule(kwargs: dict[str, Any]) -> str:
    parts = []
    for key, value in kwargs.items():
        if key in _HIDDEN_KWARGS or value is None:
            continue
        if key == "row_condition":
            parts.append(f"where {_condition(value)}")
            continue
        parts.append(f"{key}={_short(value)}")
    return ", ".join(parts)


def _condition(value: Any) -> str:
    """Render a GX row condition (object or its serialised dict) as ``a == 'b' and ...``."""
    if hasattr(value, "dict"):
        value = value.dict()
    if not isinstance(value, dict):
        return str(value)
    if "conditions" in value:
        joiner = f" {value.get('type', 'and')} "
        return joiner.join(_condition(c) for c in value["conditions"])
    column = value.get("column", {})
    name = column.get("name") if isinstance(column, dict) else getattr(column, "name", column)
    return f"{name} {value.get('operator')} {value.get('parameter')!r}"


def _short(value: Any, limit: int = 160) -> str:
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    elif isinstance(value, list | tuple | set):
        text = "[" + ", ".join(_short(v, limit) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message")).replace("Error: ", "")
    return None
