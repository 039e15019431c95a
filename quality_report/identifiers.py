"""Identifier completeness and validity per source, overall and by subgroup.

Validity rules (a value can be complete but invalid):

- names: at least one letter and not a placeholder (UNKNOWN, BABY, TEST ...);
- date of birth: between 1 January 1900 and the extract date; 1 January is counted
  separately as a possible placeholder, since it is valid-looking but often invented;
- sex: a code the source uses for male or female;
- postcode: a UK postcode shape once spaces and case are ignored;
- NHS number: ten digits with a correct modulus-11 check digit;
- NINO: two prefix letters allowed by HMRC, six digits, suffix A-D.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from evaluation.groups import BREAKDOWNS
from evaluation.intervals import wilson_columns
from linkage.standardise import placeholder_names

POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
NINO = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$"
NINO_BARRED_PREFIXES: tuple[str, ...] = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")
EXTRACT_DATE = date(2021, 3, 31)
SEX_CODES: dict[str, tuple[str, ...]] = {
    "census": ("1", "2"),
    "gp": ("M", "F"),
    "dwp": ("Male", "Female"),
}
IDENTIFIERS: dict[str, tuple[str, ...]] = {
    "census": ("forename", "surname", "date_of_birth", "sex", "postcode"),
    "gp": ("nhs_number", "forename", "surname", "date_of_birth", "sex", "postcode"),
    "dwp": ("nino", "forename", "surname", "date_of_birth", "sex", "postcode"),
}
"""Identifiers checked per linked source."""


def nhs_number_valid(expr: pl.Expr) -> pl.Expr:
    """True for ten digits whose modulus-11 check digit is right (10 or 11 never valid)."""
    text = expr.cast(pl.Utf8).str.replace_all(r"\s", "")
    digits = [text.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(10)]
    weighted = sum(d * (10 - i) for i, d in enumerate(digits[:9]))
    check = (11 - weighted % 11) % 11
    return (
        text.str.contains(r"^[0-9]{10}$").fill_null(False)
        & (check != 10).fill_null(False)
        & (check == digits[9]).fill_null(False)
    )


def _complete(expr: pl.Expr) -> pl.Expr:
    return expr.is_not_null() & (expr.cast(pl.Utf8).str.strip_chars() != "").fill_null(False)


def _valid(source: str, identifier: str) -> pl.Expr:
    col = pl.col(identifier)
    if identifier in ("forename", "surname"):
        # A placeholder is judged as linkage standardises names: letters only, upper case.
        letters = col.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z]", "")
        return (letters != "") & ~letters.is_in(list(placeholder_names()))
    if identifier == "date_of_birth":
        return col.is_between(date(1900, 1, 1), EXTRACT_DATE)
    if identifier == "sex":
        return col.cast(pl.Utf8).is_in(list(SEX_CODES[source]))
    if identifier == "postcode":
        compact = col.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
        return compact.str.contains(POSTCODE)
    if identifier == "nhs_number":
        return nhs_number_valid(col)
    if identifier == "nino":
        text = col.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"\s", "")
        return text.str.contains(NINO) & ~text.str.slice(0, 2).is_in(list(NINO_BARRED_PREFIXES))
    raise KeyError(identifier)


def record_flags(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Per record: ``complete_<id>`` and ``valid_<id>`` booleans for each identifier present."""
    exprs = [pl.col("record_id")]
    for identifier in IDENTIFIERS[source]:
        if identifier not in frame.columns:
            continue
        complete = _complete(pl.col(identifier))
        exprs.append(complete.alias(f"complete_{identifier}"))
        exprs.append(
            (complete & _valid(source, identifier).fill_null(False)).alias(f"valid_{identifier}")
        )
    if "date_of_birth" in frame.columns:
        dob = pl.col("date_of_birth")
        exprs.append(
            ((dob.dt.month() == 1) & (dob.dt.day() == 1)).fill_null(False).alias("jan_first_dob")
        )
    return frame.select(exprs)


def completeness(source: str, frame: pl.DataFrame, groups: pl.DataFrame | None) -> pl.DataFrame:
    """Completeness and validity of each identifier, overall and by every breakdown.

    Parameters
    ----------
    source
        ``census``, ``gp`` or ``dwp``.
    frame
        The source extract with its record id renamed to ``record_id``.
    groups
        ``record_id`` with the :data:`evaluation.groups.BREAKDOWNS` columns of the
        record's true person, or ``None`` to give the overall figures only.

    Returns
    -------
    polars.DataFrame
        ``source, identifier, breakdown, group, records, complete, valid`` and
        ``complete_pct``/``valid_pct`` (proportions) with Wilson 95% limits on validity.
    """
    flags = record_flags(source, frame)
    identifiers = [c.removeprefix("complete_") for c in flags.columns if c.startswith("complete_")]
    long_parts = []
    dims: list[tuple[str, pl.DataFrame]] = [
        ("all", flags.with_columns(pl.lit("all").alias("group")))
    ]
    if groups is not None:
        joined = flags.join(groups, on="record_id", how="left")
        for breakdown in BREAKDOWNS:
            dims.append(
                (
                    breakdown,
                    joined.with_columns(pl.col(breakdown).fill_null("unknown").alias("group")),
                )
            )
    for breakdown, data in dims:
        for identifier in identifiers:
            long_parts.append(
                data.group_by("group")
                .agg(
                    pl.len().alias("records"),
                    pl.col(f"complete_{identifier}").sum().alias("complete"),
                    pl.col(f"valid_{identifier}").sum().alias("valid"),
                )
                .with_columns(
                    pl.lit(source).alias("source"),
                    pl.lit(identifier).alias("identifier"),
                    pl.lit(breakdown).alias("breakdown"),
                )
            )
    out = pl.concat(long_parts).with_columns(
        pl.col("records").cast(pl.Int64),
        pl.col("complete").cast(pl.Int64),
        pl.col("valid").cast(pl.Int64),
    )
    return (
        out.with_columns(
            (pl.col("complete") / pl.col("records")).alias("complete_pct"),
            *wilson_columns("valid", "records", "valid_pct"),
        )
        .sort("source", "identifier", "breakdown", "group")
        .select(
            "source",
            "identifier",
            "breakdown",
            "group",
            "records",
            "complete",
            "valid",
            "complete_pct",
            "valid_pct",
            "valid_pct_lower",
            "valid_pct_upper",
        )
    )
