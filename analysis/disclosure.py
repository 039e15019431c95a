"""Statistical disclosure control of published tables (STUDY.md section 7).

Rules, in the order applied (each named in the audit log):

1. ``count_below_min``: a count of people below ``min_count`` (zero included: a published
   zero tells every member of a group they share an attribute) is suppressed as ``[c]``; a
   suppressed denominator suppresses the whole row.
2. ``complement_below_min``: when the people *not* receiving (denominator minus numerator)
   are fewer than ``min_count``, the numerator is suppressed, since it and the denominator
   would reveal them.
3. ``secondary_margin``: within every margin (a set of cells that add up, including the
   total cell itself), one suppressed cell alone could be recovered by subtraction, so the
   unsuppressed cell with the smallest count is suppressed too (the whole row), repeated until
   no margin holds exactly one suppressed cell.
4. ``rate_suppressed``: a rate (and its interval) whose numerator or denominator is
   suppressed is suppressed.
5. ``rounded``: published counts are rounded to the nearest ``rounding_base`` (from unrounded
   values, halves up); rates to ``decimals`` places.

Inputs are unrounded counts of people (spine ids), never records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

SUPPRESSED = "[c]"
PUBLISHED = "published"
AUDIT_SCHEMA = {
    "table": pl.String,
    "cell": pl.String,
    "measure": pl.String,
    "rule": pl.String,
    "action": pl.String,
}


@dataclass(frozen=True)
class DisclosureResult:
    """A table after disclosure control, and the rule applied to each of its cells."""

    published: pl.DataFrame
    audit: pl.DataFrame


def round_to_base(values: pl.Expr, base: int) -> pl.Expr:
    """Round counts to the nearest multiple of ``base``, halves up (12.5 -> 15)."""
    return ((values.cast(pl.Float64) / base + 0.5).floor() * base).cast(pl.Int64)


def _secondary(
    cells: pl.DataFrame, margins: pl.DataFrame, counts: Sequence[str]
) -> tuple[pl.DataFrame, int]:
    """Add suppressions until no margin holds exactly one suppressed count; return rounds."""
    rounds = 0
    while True:
        chosen: set[int] = set()
        for count in counts:
            state = margins.join(
                cells.select("_cell", pl.col(f"_sup_{count}").alias("_sup"), pl.col(count)),
                on="_cell",
            )
            lonely = (
                state.group_by("margin")
                .agg(pl.col("_sup").sum().alias("_n"))
                .filter(pl.col("_n") == 1)
                .select("margin")
            )
            if lonely.height == 0:
                continue
            candidates = (
                state.join(lonely, on="margin")
                .filter(~pl.col("_sup"))
                .sort([count, "_cell"])
                .group_by("margin", maintain_order=True)
                .first()
            )
            chosen.update(candidates["_cell"].to_list())
        if not chosen:
            return cells, rounds
        rounds += 1
        hit = pl.col("_cell").is_in(sorted(chosen))
        cells = cells.with_columns(
            *(pl.col(f"_sup_{count}") | hit for count in counts),
            pl.when(hit & pl.col("_rule").is_null())
            .then(pl.lit("secondary_margin"))
            .otherwise(pl.col("_rule"))
            .alias("_rule"),
        )


def apply_disclosure_control(
    cells: pl.DataFrame,
    *,
    table: str,
    keys: Sequence[str],
    counts: Sequence[str] = ("people", "recipients"),
    numerator: str | None = "recipients",
    denominator: str | None = "people",
    rates: Sequence[str] = (),
    margins: pl.DataFrame | None = None,
    min_count: int = 10,
    rounding_base: int = 5,
    decimals: int = 1,
) -> DisclosureResult:
    """Suppress, round and audit one table of counts of people (and rates built on them).

    Parameters
    ----------
    cells
        One row per cell: the ``keys`` columns, unrounded ``counts`` and ``rates``.
    table
        The table's name, for the audit log.
    keys
        Columns that identify a cell (used in the audit log).
    counts
        Columns holding counts of people.
    numerator, denominator
        The counts the rates are built from (``None`` when the table has no rates).
    rates
        Rate columns (percentages and their limits), suppressed with their counts.
    margins
        Optional ``margin`` (an id) and ``cell`` (row position in ``cells``): each margin is
        a set of cells whose counts add up (the total cell included).
    min_count, rounding_base, decimals
        The thresholds of the rules (10, 5 and 1 in the study).

    Returns
    -------
    DisclosureResult
        ``published``: ``cells`` with suppressed values null, counts rounded, rates rounded
        and a ``status`` column (``published`` or ``[c]``); ``audit``: ``table``, ``cell``,
        ``measure``, ``rule``, ``action`` for every count and rate.
    """
    counts = list(counts)
    frame = cells.with_row_index("_cell").with_columns(pl.col("_cell").cast(pl.Int64))
    rules = [
        pl.when(pl.col(count).is_null() | (pl.col(count) < min_count)).then(True).otherwise(False)
        for count in counts
    ]
    frame = frame.with_columns(
        *(rule.alias(f"_sup_{count}") for rule, count in zip(rules, counts, strict=True)),
        pl.lit(None, dtype=pl.String).alias("_rule"),
    )
    if denominator is not None:
        # A suppressed denominator hides the whole row.
        frame = frame.with_columns(
            *(pl.col(f"_sup_{count}") | pl.col(f"_sup_{denominator}") for count in counts)
        )
    if numerator is not None and denominator is not None:
        complement = (pl.col(denominator) - pl.col(numerator)) < min_count
        frame = frame.with_columns(
            pl.when(complement & ~pl.col(f"_sup_{numerator}"))
            .then(pl.lit("complement_below_min"))
            .alias("_complement"),
            (pl.col(f"_sup_{numerator}") | complement).alias(f"_sup_{numerator}"),
        )
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_complement"))
    if margins is not None and margins.height:
        links = margins.select(pl.col("margin").cast(pl.String), pl.col("cell").cast(pl.Int64))
        frame, _ = _secondary(frame, links.rename({"cell": "_cell"}), counts)
    any_count = pl.any_horizontal(f"_sup_{count}" for count in counts)
    rate_hidden = pl.lit(False)
    for column in (numerator, denominator):
        if column is not None:
            rate_hidden = rate_hidden | pl.col(f"_sup_{column}")
    frame = frame.with_columns(rate_hidden.alias("_sup_rate"))
    published = frame.with_columns(
        *(
            pl.when(pl.col(f"_sup_{count}"))
            .then(None)
            .otherwise(round_to_base(pl.col(count), rounding_base))
            .alias(count)
            for count in counts
        ),
        *(
            pl.when(pl.col("_sup_rate"))
            .then(None)
            .otherwise(pl.col(rate).round(decimals))
            .alias(rate)
            for rate in rates
        ),
        pl.when(any_count | (pl.col("_sup_rate") if rates else pl.lit(False)))
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.lit(PUBLISHED))
        .alias("status"),
    )
    audit = _audit(published, table, keys, counts, rates, decimals)
    return DisclosureResult(
        published=published.drop(
            "_cell", "_rule", "_complement", "_sup_rate", *(f"_sup_{c}" for c in counts)
        ),
        audit=audit,
    )


def _audit(
    frame: pl.DataFrame,
    table: str,
    keys: Sequence[str],
    counts: Sequence[str],
    rates: Sequence[str],
    decimals: int,
) -> pl.DataFrame:
    cell = pl.concat_str(
        [pl.concat_str([pl.lit(f"{key}="), pl.col(key).cast(pl.String)]) for key in keys],
        separator="; ",
        ignore_nulls=True,
    )
    # Tables controlled together (margins cross them) carry their own names per row.
    table_column = [pl.col("table")] if "table" in frame.columns else []
    parts = []
    for count in counts:
        rule = (
            pl.when(~pl.col(f"_sup_{count}"))
            .then(pl.lit("rounded"))
            .when(pl.col("_rule").is_not_null())
            .then(pl.col("_rule"))
            .when(pl.col("_complement").is_not_null())
            .then(pl.col("_complement"))
            .otherwise(pl.lit("count_below_min"))
        )
        parts.append(
            frame.select(
                *table_column,
                cell.alias("cell"),
                pl.lit(count).alias("measure"),
                rule.alias("rule"),
                pl.when(pl.col(f"_sup_{count}"))
                .then(pl.lit("suppressed"))
                .otherwise(pl.lit("published"))
                .alias("action"),
            )
        )
    for rate in rates:
        parts.append(
            frame.select(
                *table_column,
                cell.alias("cell"),
                pl.lit(rate).alias("measure"),
                pl.when(pl.col("_sup_rate"))
                .then(pl.lit("rate_suppressed"))
                .otherwise(pl.lit(f"rounded_{decimals}dp"))
                .alias("rule"),
                pl.when(pl.col("_sup_rate"))
                .then(pl.lit("suppressed"))
                .otherwise(pl.lit("published"))
                .alias("action"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    audit = pl.concat(parts)
    if "table" not in audit.columns:
        audit = audit.with_columns(pl.lit(table).alias("table"))
    return audit.select(list(AUDIT_SCHEMA)).cast(AUDIT_SCHEMA)


def suppress_derived(
    frame: pl.DataFrame,
    *,
    table: str,
    keys: Sequence[str],
    hidden: pl.Expr,
    values: Sequence[str],
    decimals: int = 1,
) -> DisclosureResult:
    """Suppress statistics derived from suppressed cells (a change, a gap, an index).

    Parameters
    ----------
    frame
        The derived table.
    table, keys
        The table's name and the columns identifying a row, for the audit log.
    hidden
        True where any cell the statistic is built from is suppressed.
    values
        The derived numeric columns, rounded to ``decimals`` places when published.
    """
    marked = frame.with_columns(hidden.fill_null(True).alias("_hidden"))
    published = marked.with_columns(
        *(
            pl.when(pl.col("_hidden")).then(None).otherwise(pl.col(v).round(decimals)).alias(v)
            for v in values
        ),
        pl.when(pl.col("_hidden"))
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.lit(PUBLISHED))
        .alias("status"),
    )
    cell = pl.concat_str(
        [pl.concat_str([pl.lit(f"{key}="), pl.col(key).cast(pl.String)]) for key in keys],
        separator="; ",
        ignore_nulls=True,
    )
    audit = pl.concat(
        [
            marked.select(
                cell.alias("cell"),
                pl.lit(value).alias("measure"),
                pl.when(pl.col("_hidden"))
                .then(pl.lit("derived_from_suppressed"))
                .otherwise(pl.lit(f"rounded_{decimals}dp"))
                .alias("rule"),
                pl.when(pl.col("_hidden"))
                .then(pl.lit("suppressed"))
                .otherwise(pl.lit("published"))
                .alias("action"),
            )
            for value in values
        ]
    ).with_columns(pl.lit(table).alias("table"))
    return DisclosureResult(
        published=published.drop("_hidden"),
        audit=audit.select(list(AUDIT_SCHEMA)).cast(AUDIT_SCHEMA),
    )
