"""Reference data and category schemes: the standard population, deprivation, regions, labels.

One category scheme per dimension (STUDY.md section 7.5): the labels here are the only ones
published, so no table can be differenced against another with finer, overlapping groups.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

#: First day of each study month, November 2019 to March 2021 (17 months).
MONTHS: tuple[dt.date, ...] = tuple(
    dt.date(2019 + (10 + k) // 12, (10 + k) % 12 + 1, 1) for k in range(17)
)
BEFORE_MONTH = dt.date(2020, 2, 1)
DURING_MONTH = dt.date(2021, 3, 1)
STUDY_START = MONTHS[0]
STUDY_END = dt.date(2021, 3, 31)
MIN_AGE = 16
MAX_AGE = 64

#: Standardisation bands: 16-19 (taking the ESP 15-19 weight), then 20-24 ... 60-64.
STANDARD_BANDS: tuple[str, ...] = (
    "16-19",
    "20-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
)

AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("16-24", 16, 24),
    ("25-34", 25, 34),
    ("35-49", 35, 49),
    ("50-64", 50, 64),
)

UNKNOWN = "Unknown"

ETHNIC_GROUPS: dict[str, str] = {
    "01": "White British",
    "02": "White Irish",
    "03": "Gypsy or Irish Traveller",
    "04": "Other White",
    "05": "Mixed White and Black Caribbean",
    "06": "Mixed White and Black African",
    "07": "Mixed White and Asian",
    "08": "Other Mixed",
    "09": "Indian",
    "10": "Pakistani",
    "11": "Bangladeshi",
    "12": "Chinese",
    "13": "Other Asian",
    "14": "Black African",
    "15": "Black Caribbean",
    "16": "Other Black",
    "17": "Arab",
    "18": "Any other ethnic group",
}
ETHNIC_GROUPS_5: dict[str, str] = {
    **dict.fromkeys(("01", "02", "03", "04"), "White"),
    **dict.fromkeys(("05", "06", "07", "08"), "Mixed"),
    **dict.fromkeys(("09", "10", "11", "12", "13"), "Asian"),
    **dict.fromkeys(("14", "15", "16"), "Black"),
    **dict.fromkeys(("17", "18"), "Other"),
}
SEXES: dict[str, str] = {"1": "Male", "2": "Female"}
DISABILITY: dict[str, str] = {"1": "Limited a lot", "2": "Limited a little", "3": "Not limited"}

#: GP condition clusters in publication order, with their published labels.
CONDITIONS: dict[str, str] = {
    "AUTISM": "Autism",
    "LD": "Learning disability",
    "SMI": "Severe mental illness",
    "DEPANX": "Depression or anxiety",
    "DIABETES": "Diabetes",
    "RESP": "Respiratory (COPD or asthma)",
    "CVD": "Cardiovascular disease",
    "CANCER": "Cancer",
}
NO_CONDITION = "No long-term condition"

#: Working-age benefits that count towards "any benefit" (STUDY.md section 2).
INCLUDED_BENEFITS: dict[str, str] = {
    "UC": "Universal Credit",
    "JSA": "Jobseeker's Allowance",
    "ESA": "Employment and Support Allowance",
    "IS": "Income Support",
    "IB_SDA": "Incapacity Benefit or Severe Disablement Allowance",
    "HB": "Housing Benefit",
    "PIP": "Personal Independence Payment",
    "DLA": "Disability Living Allowance",
    "CA": "Carer's Allowance",
}
EXCLUDED_BENEFITS: tuple[str, ...] = ("SP", "PC", "AA", "BB")


def quintile_label(quintile: int) -> str:
    """Published label of an IMD quintile (1 = most deprived)."""
    suffix = {1: " (most deprived)", 5: " (least deprived)"}.get(quintile, "")
    return f"{quintile}{suffix}"


def decile_label(decile: int) -> str:
    """Published label of an IMD decile (1 = most deprived)."""
    suffix = {1: " (most deprived)", 10: " (least deprived)"}.get(decile, "")
    return f"{decile}{suffix}"


@cache
def esp2013() -> pl.DataFrame:
    """The 2013 European Standard Population in 19 five-year bands (Source: Eurostat)."""
    path = resources.files("analysis").joinpath("reference", "esp2013_5yr.csv")
    with resources.as_file(path) as csv:
        return pl.read_csv(csv, schema_overrides={"age_to": pl.Int64})


def esp2013_weights() -> pl.DataFrame:
    """ESP 2013 weights of the ten standardisation bands, 16-19 taking the 15-19 weight.

    Returns
    -------
    polars.DataFrame
        ``age_band`` (str, one of :data:`STANDARD_BANDS`) and ``weight`` (the ESP population
        of the band; not normalised).
    """
    esp = esp2013().filter((pl.col("age_from") >= 15) & (pl.col("age_to") <= MAX_AGE))
    bands = esp.with_columns(
        pl.when(pl.col("age_from") == 15)
        .then(pl.lit("16-19"))
        .otherwise(pl.col("age_band"))
        .alias("age_band")
    )
    return bands.select("age_band", pl.col("esp2013_population").cast(pl.Float64).alias("weight"))


class ReferenceDataError(FileNotFoundError):
    """A public lookup the analysis needs is not where the repository ships it."""


def _reference_csv(name: str) -> pl.DataFrame:
    # The public lookups ship once in the repository, beside the generator that also uses
    # them; searching the package's locations works whether or not it is a namespace package.
    spec = importlib.util.find_spec("synthetic_data")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / "reference" / name
        if path.is_file():
            return pl.read_csv(path, infer_schema_length=0)
    raise ReferenceDataError(f"synthetic_data/reference/{name} not found in {locations}.")


@cache
def lsoa_lookup() -> pl.DataFrame:
    """Each English LSOA (2011) with its IMD 2019 decile, quintile and region name."""
    imd = _reference_csv("imd2019_lsoa11_england.csv").select(
        "lsoa11cd", pl.col("imd_decile").cast(pl.Int8)
    )
    region = _reference_csv("lsoa11_lad19_region_england.csv").select(
        "lsoa11cd", pl.col("rgn11nm").alias("region")
    )
    return imd.join(region, on="lsoa11cd", how="left").with_columns(
        ((pl.col("imd_decile") + 1) // 2).cast(pl.Int8).alias("imd_quintile")
    )


@cache
def region_names() -> tuple[str, ...]:
    """The nine English regions in ONS code order."""
    frame = _reference_csv("lad19_region_england.csv").unique("rgn11cd").sort("rgn11cd")
    return tuple(frame["rgn11nm"].to_list())
