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
    "detail": pl.String,
}


@dataclass(frozen=True)
class DisclosureResult:
    """A table after disclosure control, and the rule applied to each of its cells."""

    published: pl.DataFrame
    audit: pl.DataFrame


def round_to_base(values: pl.Expr, base: int) -> pl.Expr:
    """Round counts to the nearest multiple of ``base``, halves up (12.5 -> 15)."""
    return ((values.cast(pl.Float64) / base + 0.5).floor() * base).cast(pl.Int64)


def _lonely_margins(cells: pl.DataFrame, margins: pl.DataFrame, counts: Sequence[str]):
    """Each (margin, count) holding exactly one suppressed cell, with the cells that could
    become its complement (unsuppressed on that count)."""
    parts = []
    for count in counts:
        state = margins.join(
            cells.select("_cell", pl.col(f"_sup_{count}").alias("_sup")), on="_cell"
        )
        lonely = (
            state.group_by("margin")
            .agg(pl.col("_sup").sum().alias("_n"))
            .filter(pl.col("_n") == 1)
            .select("margin")
        )
        parts.append(
            state.join(lonely, on="margin")
            .filter(~pl.col("_sup"))
            .select("margin", "_cell", pl.lit(count).alias("_count"))
        )
    return pl.concat(parts)


def _choose_complements(cells: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """One complement per lonely margin, ranked so that few cells protect many margins.

    The ranking, in order: a cell outside the protected (headline) groups; a series (the same
    cell in other months) already suppressed, so every month shows the same pattern; the cell
    that closes the most lonely margins at once; the series with the fewest people over all
    months (the same choice in every month); then position, for determinism.
    """
    any_hidden = pl.any_horizontal(pl.col("^_sup_.*$"))
    series_hidden = (
        cells.select("_series", any_hidden.alias("_h"))
        .group_by("_series")
        .agg(pl.col("_h").any().alias("_series_hidden"))
    )
    coverage = candidates.group_by("_cell").agg(pl.len().alias("_coverage"))
    ranked = (
        candidates.join(coverage, on="_cell")
        .join(cells.select("_cell", "_series", "_protected", "_series_size"), on="_cell")
        .join(series_hidden, on="_series")
        .sort(
            ["_protected", "_series_hidden", "_coverage", "_series_size", "_cell"],
            descending=[False, True, True, False, False],
        )
    )
    return (
        ranked.group_by(["margin", "_count"], maintain_order=True)
        .first()
        .group_by("_cell", maintain_order=True)
        .agg(pl.col("margin").first().alias("_margin"))
    )


def _secondary(cells: pl.DataFrame, margins: pl.DataFrame, counts: Sequence[str]) -> pl.DataFrame:
    """Add suppressions until no margin holds exactly one suppressed count.

    Each round suppresses (the whole row of) one complement per lonely margin, chosen by
    :func:`_choose_complements`; rounds repeat because a complement can leave another
    margin it belongs to with a lone suppression.
    """
    while True:
        candidates = _lonely_margins(cells, margins, counts)
        if candidates.height == 0:
            return cells
        chosen = _choose_complements(cells, candidates)
        cells = cells.join(chosen, on="_cell", how="left")
        hit = pl.col("_margin").is_not_null()
        cells = cells.with_columns(
            *(pl.col(f"_sup_{count}") | hit for count in counts),
            pl.when(hit & pl.col("_rule").is_null())
            .then(pl.lit("secondary_margin"))
            .otherwise(pl.col("_rule"))
            .alias("_rule"),
            pl.when(hit & pl.col("_detail").is_null())
            .then(
                pl.concat_str(
                    pl.lit("complement so a lone suppressed cell in margin "),
                    pl.col("_margin"),
                    pl.lit(" cannot be worked out by subtraction"),
                )
            )
            .otherwise(pl.col("_detail"))
            .alias("_detail"),
        ).drop("_margin")


def _primary(
    frame: pl.DataFrame,
    counts: Sequence[str],
    numerator: str | None,
    denominator: str | None,
    *,
    min_count: int,
    zero_safe: bool,
) -> pl.DataFrame:
    """Rules 1 and 2: small counts, a suppressed denominator, a small complement."""
    small = [pl.col(c).is_null() | (pl.col(c) < min_count) for c in counts]
    if zero_safe:
        # A zero in a flow table says nobody was removed: it reveals nothing about anyone.
        small = [
            rule & (pl.col(c).is_null() | (pl.col(c) != 0))
            for rule, c in zip(small, counts, strict=True)
        ]
    frame = frame.with_columns(
        *(rule.alias(f"_sup_{c}") for rule, c in zip(small, counts, strict=True)),
        *(rule.alias(f"_own_{c}") for rule, c in zip(small, counts, strict=True)),
        pl.lit(None, dtype=pl.String).alias("_rule"),
        pl.lit(None, dtype=pl.String).alias("_detail"),
        pl.lit(None, dtype=pl.String).alias("_complement"),
    )
    if denominator is not None:
        # A suppressed denominator hides the whole row.
        frame = frame.with_columns(
            *(pl.col(f"_sup_{c}") | pl.col(f"_sup_{denominator}") for c in counts)
        )
    if numerator is not None and denominator is not None:
        complement = (pl.col(denominator) - pl.col(numerator)) < min_count
        frame = frame.with_columns(
            pl.when(complement & ~pl.col(f"_sup_{numerator}"))
            .then(pl.lit("complement_below_min"))
            .alias("_complement"),
            (pl.col(f"_sup_{numerator}") | complement).alias(f"_sup_{numerator}"),
        )
    return frame


def _publish_values(
    frame: pl.DataFrame,
    counts: Sequence[str],
    rates: Sequence[str],
    rate_sources: Sequence[str],
    *,
    rounding_base: int,
    decimals: int,
) -> pl.DataFrame:
    """Rules 4 and 5: hide suppressed values, round the rest, mark each row's status."""
    rate_hidden = pl.any_horizontal([pl.lit(False), *(pl.col(f"_sup_{c}") for c in rate_sources)])
    frame = frame.with_columns(rate_hidden.alias("_sup_rate"))
    any_count = pl.any_horizontal(f"_sup_{count}" for count in counts)
    return frame.with_columns(
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
    series: Sequence[str] | None = None,
    protected: pl.Expr | None = None,
    zero_safe: bool = False,
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
    series
        Columns naming the same cell in every month (e.g. table, group, estimate): secondary
        suppression prefers the same complement in every month of a series.
    protected
        True for cells to keep published where any other complement will do (the headline
        groups and totals).
    zero_safe
        Publish zeros (a flow table's "nobody removed" reveals nothing about anyone).
    min_count, rounding_base, decimals
        The thresholds of the rules (10, 5 and 1 in the study).

    Returns
    -------
    DisclosureResult
        ``published``: ``cells`` with suppressed values null, counts rounded, rates rounded
        and a ``status`` column (``published`` or ``[c]``); ``audit``: ``table``, ``cell``,
        ``measure``, ``rule``, ``action`` and ``detail`` for every count and rate.
    """
    counts = list(counts)
    frame = cells.with_row_index("_cell").with_columns(pl.col("_cell").cast(pl.Int64))
    frame = _primary(
        frame, counts, numerator, denominator, min_count=min_count, zero_safe=zero_safe
    )
    if margins is not None and margins.height:
        series_id = (
            pl.concat_str([pl.col(c).cast(pl.String) for c in series], separator="|")
            if series
            else pl.col("_cell").cast(pl.String)
        )
        frame = frame.with_columns(
            series_id.alias("_series"),
            (protected if protected is not None else pl.lit(False)).alias("_protected"),
        ).with_columns(pl.sum_horizontal(counts).sum().over("_series").alias("_series_size"))
        links = margins.select(pl.col("margin").cast(pl.String), pl.col("cell").cast(pl.Int64))
        frame = _secondary(frame, links.rename({"cell": "_cell"}), counts)
    rate_sources = [c for c in (numerator, denominator) if c is not None]
    published = _publish_values(
        frame, counts, rates, rate_sources, rounding_base=rounding_base, decimals=decimals
    )
    audit = _audit(published, table, keys, counts, rates, decimals, min_count, denominator)
    internal = [c for c in published.columns if c.startswith("_")]
    return DisclosureResult(published=published.drop(internal), audit=audit)


def _cell_label(keys: Sequence[str]) -> pl.Expr:
    return pl.concat_str(
        [pl.concat_str([pl.lit(f"{key}="), pl.col(key).cast(pl.String)]) for key in keys],
        separator="; ",
        ignore_nulls=True,
    )


def _count_reason(count: str, denominator: str | None, min_count: int) -> tuple[pl.Expr, pl.Expr]:
    """The rule that decided one count of a row, and a sentence saying why."""
    own = pl.col(f"_own_{count}")
    denominator_hidden = (
        pl.col(f"_own_{denominator}") if denominator and denominator != count else pl.lit(False)
    )
    cases = [
        (
            ~pl.col(f"_sup_{count}") & (pl.col(count) == 0),
            "published",
            "a zero: nobody removed at this step, which reveals nothing about any person",
        ),
        (~pl.col(f"_sup_{count}"), "rounded", "published, rounded"),
        (own, "count_below_min", f"fewer than {min_count} people"),
        (
            pl.col("_complement").is_not_null(),
            "complement_below_min",
            f"fewer than {min_count} people in the group are not receiving, so the count would "
            "reveal them",
        ),
        (denominator_hidden, "denominator_suppressed", "its row's total is suppressed"),
    ]
    rule = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    detail = pl.when(cases[0][0]).then(pl.lit(cases[0][2]))
    for condition, name, why in cases[1:]:
        rule = rule.when(condition).then(pl.lit(name))
        detail = detail.when(condition).then(pl.lit(why))
    rule = rule.otherwise(pl.col("_rule").fill_null("secondary_margin"))
    return rule, detail.otherwise(pl.col("_detail"))


def _audit(
    frame: pl.DataFrame,
    table: str,
    keys: Sequence[str],
    counts: Sequence[str],
    rates: Sequence[str],
    decimals: int,
    min_count: int,
    denominator: str | None,
) -> pl.DataFrame:
    """One row per count and rate of every cell: the rule applied and why."""
    cell = _cell_label(keys)
    # Tables controlled together (margins cross them) carry their own names per row.
    table_column = [pl.col("table")] if "table" in frame.columns else []
    action = {True: pl.lit("suppressed"), False: pl.lit("published")}
    parts = []
    for count in counts:
        rule, detail = _count_reason(count, denominator, min_count)
        parts.append(
            frame.select(
                *table_column,
                cell.alias("cell"),
                pl.lit(count).alias("measure"),
                rule.alias("rule"),
                pl.when(pl.col(f"_sup_{count}"))
                .then(action[True])
                .otherwise(action[False])
                .alias("action"),
                detail.alias("detail"),
            )
        )
    for rate in rates:
        hidden = pl.col("_sup_rate")
        parts.append(
            frame.select(
                *table_column,
                cell.alias("cell"),
                pl.lit(rate).alias("measure"),
                pl.when(hidden)
                .then(pl.lit("rate_suppressed"))
                .otherwise(pl.lit(f"rounded_{decimals}dp"))
                .alias("rule"),
                pl.when(hidden).then(action[True]).otherwise(action[False]).alias("action"),
                pl.when(hidden)
                .then(pl.lit("its numerator or denominator is suppressed"))
                .otherwise(pl.lit(f"published to {decimals} decimal places"))
                .alias("detail"),
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
    cell = _cell_label(keys)
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
                pl.when(pl.col("_hidden"))
                .then(pl.lit("built from a suppressed cell, so it could reveal it"))
                .otherwise(pl.lit(f"published to {decimals} decimal places"))
                .alias("detail"),
            )
            for value in values
        ]
    ).with_columns(pl.lit(table).alias("table"))
    return DisclosureResult(
        published=published.drop("_hidden"),
        audit=audit.select(list(AUDIT_SCHEMA)).cast(AUDIT_SCHEMA),
    )
