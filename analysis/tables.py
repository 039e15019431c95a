"""Assemble the published tables from the estimates, with disclosure control applied."""

from __future__ import annotations

import polars as pl

from analysis.breakdowns import breakdowns
from analysis.config import AnalysisConfig
from analysis.disclosure import DisclosureResult, apply_disclosure_control, suppress_derived
from analysis.inequality import change_table, deprivation_inequality, ethnic_gaps
from analysis.rates import age_standardised_rates
from analysis.reference import MONTHS

#: Tables recomputed at every match threshold (the headline tables).
HEADLINE_TABLES = ("overall", "by_imd_quintile", "by_ethnic_group")
CELL_KEYS = ("table", "breakdown", "group", "month")
"""What names one cell of the monthly tables: one group of one table in one month."""
RATE_COLUMNS = ("crude_pct", "asr_pct", "asr_lower", "asr_upper")
COUNTS_AND_RATES = ("people", "recipients", *RATE_COLUMNS)
"""A cell's figures: people, recipients and the rates (percentages)."""
MONTHLY_COLUMNS = (*CELL_KEYS, "estimate", *COUNTS_AND_RATES, "low_reliability", "status")
"""The published monthly tables: each cell's figures for one ``estimate``, with their
disclosure control."""
#: Groups the study's main points name (STUDY.md section 1): kept published where any other
#: complement protects a margin as well.
HEADLINE_GROUPS = ("Bangladeshi", "Black Caribbean", "Pakistani")
#: Also spared: the reference group every ethnic gap is measured from.
REFERENCE_GROUPS = ("White British",)


def threshold_label(threshold: float) -> str:
    """The ``estimate`` label of a table recomputed at a match threshold."""
    return f"threshold_{threshold:g}"


def monthly_results(
    counts: pl.DataFrame,
    standard: pl.DataFrame,
    *,
    estimate: str,
    weighted: bool = False,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Unrounded monthly rates of every table and group for one estimate.

    Returns
    -------
    polars.DataFrame
        ``table``, ``breakdown``, ``group``, ``k``, ``month``, ``estimate``, ``people``,
        ``recipients``, the rates and ``asr_var``.
    """
    rates = age_standardised_rates(
        counts,
        ["table", "breakdown", "group", "k"],
        standard,
        weighted=weighted,
        confidence=confidence,
    )
    return rates.with_columns(
        pl.col("k").replace_strict(dict(enumerate(MONTHS)), return_dtype=pl.Date).alias("month"),
        pl.lit(estimate).alias("estimate"),
    )


def _group_order() -> pl.DataFrame:
    rows = [
        (spec.table, label, index)
        for spec in breakdowns()
        for index, label in enumerate(spec.labels)
    ]
    return pl.DataFrame(rows, schema=["table", "group", "_order"], orient="row")


def _estimate_order(estimates: pl.Series) -> dict[str, int]:
    fixed = {"linked": 0, "truth": 1, "ipw": 2, "calibrated": 3}
    extra = sorted(e for e in estimates.unique().to_list() if e not in fixed)
    return fixed | {e: len(fixed) + i for i, e in enumerate(extra)}


def sort_monthly(results: pl.DataFrame) -> pl.DataFrame:
    """Publication order: table, estimate, group (scheme order), month."""
    tables = {spec.table: i for i, spec in enumerate(breakdowns())}
    estimates = _estimate_order(results["estimate"])
    return (
        results.join(_group_order(), on=["table", "group"], how="left")
        .with_columns(
            pl.col("table").replace_strict(tables, default=99).alias("_t"),
            pl.col("estimate").replace_strict(estimates, default=99).alias("_e"),
        )
        .sort("_t", "_e", "_order", "month")
        .drop("_t", "_e", "_order")
    )


def monthly_margins(cells: pl.DataFrame) -> pl.DataFrame:
    """Every set of cells that add up: each partition with the overall total, and each
    nested group (an ethnic group within its high-level group, a decile within its
    quintile) with its parent. ``cell`` is the row position in ``cells``."""
    indexed = cells.select("table", "group", "estimate", "k").with_row_index("cell")
    key = pl.concat_str([pl.col("estimate"), pl.col("k").cast(pl.String)], separator="|")
    parts = []
    totals = indexed.filter(pl.col("table") == "overall")
    for spec in breakdowns():
        if spec.kind != "partition":
            continue
        members = indexed.filter(pl.col("table") == spec.table)
        margin = pl.concat_str([key, pl.lit(spec.table)], separator="|").alias("margin")
        parts.append(members.select(margin, "cell"))
        parts.append(totals.select(margin, "cell"))
        if spec.parent_table is None:
            continue
        parents = pl.DataFrame(
            {"group": list(spec.parents), "_parent": list(spec.parents.values())}
        )
        nested = members.join(parents, on="group", how="inner")
        nested_margin = pl.concat_str(
            [key, pl.lit(spec.table), pl.col("_parent")], separator="|"
        ).alias("margin")
        parts.append(nested.select(nested_margin, "cell"))
        parent_cells = indexed.filter(pl.col("table") == spec.parent_table).rename(
            {"group": "_parent"}
        )
        parts.append(parent_cells.select(nested_margin, "cell"))
    schema = {"margin": pl.String, "cell": pl.UInt32}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([part.cast(schema) for part in parts])


def publish_monthly(results: pl.DataFrame, config: AnalysisConfig) -> DisclosureResult:
    """Apply disclosure control to every monthly table at once (margins cross tables).

    One pass over every margin of every month: each table holds one category scheme, and a
    nested scheme (ethnic groups within their high-level group, deciles within quintiles)
    is suppressed jointly with its parent through the nested margins. Complements are the
    same group in every month of a series, and spare the headline groups and the totals.
    """
    cells = sort_monthly(results)
    result = apply_disclosure_control(
        cells,
        table="monthly",
        keys=["table", "group", "month", "estimate"],
        rates=RATE_COLUMNS,
        margins=monthly_margins(cells),
        series=["table", "group", "estimate"],
        protected=pl.col("group").is_in([*HEADLINE_GROUPS, *REFERENCE_GROUPS])
        | (pl.col("table") == "overall"),
        min_count=config.min_count,
        rounding_base=config.rounding_base,
        decimals=config.rate_decimals,
    )
    published = result.published.with_columns(
        pl.col("people").cast(pl.Int64), pl.col("recipients").cast(pl.Int64)
    )
    if "low_reliability" in published.columns:
        # The reliability flag says which side of 20 a count lies: hidden with the cell.
        published = published.with_columns(
            pl.when(pl.col("status") == "published").then(pl.col("low_reliability"))
        )
    return DisclosureResult(published=published, audit=result.audit)


def _with_status(results: pl.DataFrame, published: pl.DataFrame) -> pl.DataFrame:
    return results.join(
        published.select("table", "group", "month", "estimate", "status"),
        on=["table", "group", "month", "estimate"],
        how="left",
    )


def publish_change(
    results: pl.DataFrame, published: pl.DataFrame, config: AnalysisConfig
) -> DisclosureResult:
    """February 2020 against March 2021, suppressed where either month is."""
    change = change_table(_with_status(results, published), confidence=config.confidence_level)
    change = sort_monthly(change.with_columns(pl.lit(MONTHS[0]).alias("month"))).drop("month")
    return suppress_derived(
        change,
        table="change",
        keys=["table", "group", "estimate"],
        hidden=pl.col("hidden"),
        values=[
            "asr_before",
            "asr_during",
            "abs_change",
            "abs_change_lower",
            "abs_change_upper",
            "rel_change",
        ],
        decimals=config.rate_decimals,
    )


def publish_inequality(
    results: pl.DataFrame, published: pl.DataFrame, config: AnalysisConfig
) -> DisclosureResult:
    """Deprivation gap, ratio, SII and RII per month and estimate."""
    table = deprivation_inequality(
        _with_status(results, published), confidence=config.confidence_level
    )
    return suppress_derived(
        table.sort("estimate", "measure", "month"),
        table="inequality_deprivation",
        keys=["estimate", "measure", "month"],
        hidden=pl.col("hidden"),
        values=["value", "lower", "upper"],
        decimals=2,
    )


def publish_ethnic_gaps(
    results: pl.DataFrame, published: pl.DataFrame, config: AnalysisConfig
) -> DisclosureResult:
    """Each ethnic group's gap to White British, before and during the pandemic."""
    gaps = ethnic_gaps(_with_status(results, published), confidence=config.confidence_level)
    gaps = sort_monthly(
        gaps.with_columns(
            pl.lit("by_ethnic_group").alias("table"), pl.lit(MONTHS[0]).alias("month")
        )
    ).drop("table", "month")
    values = [c for c in gaps.columns if c.startswith("gap")]
    return suppress_derived(
        gaps,
        table="ethnic_gaps",
        keys=["estimate", "group"],
        hidden=pl.col("hidden"),
        values=values,
        decimals=config.rate_decimals,
    )


CORRECTIONS: tuple[str, ...] = ("ipw", "calibrated")
"""The corrected estimates published beside the linked one: inverse-probability weighted
(a model of being linked) and calibrated (raked to the census margins)."""


def publish_bias(
    results: pl.DataFrame, published: pl.DataFrame, config: AnalysisConfig
) -> DisclosureResult:
    """Linked and bias-corrected estimates beside the truth, cell by cell.

    ``bias_pp`` is linked minus truth; ``truth_outside_ci`` flags cells where the linked
    interval excludes the truth; the ``ipw_`` and ``calibrated_`` columns do the same for
    each corrected estimate (:data:`CORRECTIONS`) the run made.
    """
    keys = ["table", "breakdown", "group", "month"]
    with_status = _with_status(results, published)

    def pick(estimate: str) -> pl.DataFrame:
        return with_status.filter(pl.col("estimate") == estimate).select(
            *keys,
            pl.col("asr_pct").alias(f"{estimate}_asr"),
            pl.col("asr_lower").alias(f"{estimate}_lower"),
            pl.col("asr_upper").alias(f"{estimate}_upper"),
            (pl.col("status") != "published").alias(f"_{estimate}_hidden"),
        )

    bias = pick("linked").join(pick("truth"), on=keys, how="inner")
    hidden = pl.col("_linked_hidden") | pl.col("_truth_hidden")
    values = ["truth_asr", "linked_asr", "linked_lower", "linked_upper", "bias_pp"]
    flags = ["truth_outside_ci"]
    columns = _bias_columns("linked", "")
    for correction in CORRECTIONS:
        if not (with_status["estimate"] == correction).any():
            continue
        bias = bias.join(pick(correction), on=keys, how="left")
        columns += _bias_columns(correction, f"{correction}_")
        hidden = hidden | pl.col(f"_{correction}_hidden").fill_null(True)
        values += [f"{correction}_{c}" for c in ("asr", "lower", "upper", "bias_pp")]
        flags.append(f"{correction}_truth_outside_ci")
    bias = bias.with_columns(*columns, pl.lit("linked").alias("estimate"))
    bias = sort_monthly(bias).drop("estimate")
    result = suppress_derived(
        bias.with_columns(hidden.alias("_hidden")),
        table="bias",
        keys=["table", "group", "month"],
        hidden=pl.col("_hidden"),
        values=values,
        decimals=2,
    )
    published_bias = result.published.with_columns(
        pl.when(pl.col("status") == "published").then(pl.col(flag)).alias(flag) for flag in flags
    ).select(*keys, *values, *flags, "status")
    return DisclosureResult(published=published_bias, audit=result.audit)


def _bias_columns(estimate: str, prefix: str) -> list[pl.Expr]:
    """``<prefix>bias_pp`` (estimate minus truth) and ``<prefix>truth_outside_ci``."""
    truth = pl.col("truth_asr")
    return [
        (pl.col(f"{estimate}_asr") - truth).alias(f"{prefix}bias_pp"),
        ((truth < pl.col(f"{estimate}_lower")) | (truth > pl.col(f"{estimate}_upper"))).alias(
            f"{prefix}truth_outside_ci"
        ),
    ]


def publish_counts(
    frame: pl.DataFrame,
    *,
    table: str,
    keys: list[str],
    counts: list[str],
    config: AnalysisConfig,
    numerator: str | None = None,
    denominator: str | None = None,
    rates: tuple[str, ...] = (),
    zero_safe: bool = False,
) -> DisclosureResult:
    """Disclosure control of a table of people counts without margins (flow, linkage rates).

    ``zero_safe`` publishes zeros: in a flow table "nobody removed" reveals nothing.
    """
    return apply_disclosure_control(
        frame,
        table=table,
        keys=keys,
        counts=counts,
        numerator=numerator,
        denominator=denominator,
        rates=rates,
        zero_safe=zero_safe,
        min_count=config.min_count,
        rounding_base=config.rounding_base,
        decimals=config.rate_decimals,
    )
