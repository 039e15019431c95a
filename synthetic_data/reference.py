"""Real English geography, deprivation and ethnic mix, loaded once from ``reference/``.

Everything here is published aggregate data (see ``reference/README.md`` for licences and
provenance); the generator only draws people in proportion to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

#: ETHPUK11 codes in the column order of the 2011 ethnic group file.
ETHNIC_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 19))
ETHNIC_COLUMNS: tuple[str, ...] = (
    "white_british",
    "white_irish",
    "white_gypsy_irish_traveller",
    "white_other",
    "mixed_white_black_caribbean",
    "mixed_white_black_african",
    "mixed_white_asian",
    "mixed_other",
    "asian_indian",
    "asian_pakistani",
    "asian_bangladeshi",
    "asian_chinese",
    "asian_other",
    "black_african",
    "black_caribbean",
    "black_other",
    "other_arab",
    "other_any",
)
REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
LONDON = REGIONS.index("London")

# Within a local authority, minority ethnic groups live disproportionately in its more deprived
# neighbourhoods. This tilt (by IMD decile, 1 = most deprived) multiplies every group's LAD share
# except White British before renormalising within the LSOA.
_MINORITY_TILT_BY_DECILE = np.array([1.8, 1.55, 1.35, 1.2, 1.05, 0.95, 0.85, 0.75, 0.65, 0.6])


@dataclass(frozen=True)
class Geography:
    """LSOA-level arrays, all aligned on the LSOA order of the reference file.

    Attributes
    ----------
    lsoa_codes
        LSOA 2011 codes.
    lad_index, region_index
        Integer LAD and region of each LSOA (region order as in ``REGIONS``).
    imd_decile, imd_rank
        IMD 2019 decile (1 most deprived) and rank.
    population_cdf
        Cumulative population weights (mid-2015 totals), for drawing an LSOA.
    ethnic_cdf
        Per-LSOA cumulative ETHPUK11 shares (rows sum to 1 at the last column).
    lad_lsoa_order, lad_offsets
        LSOA indices grouped by LAD, and each LAD's slice in that array, to draw an LSOA
        within a LAD.
    """

    lsoa_codes: pl.Series
    lad_index: np.ndarray
    region_index: np.ndarray
    imd_decile: np.ndarray
    imd_rank: np.ndarray
    population_cdf: np.ndarray
    ethnic_cdf: np.ndarray
    lad_lsoa_order: np.ndarray
    lad_offsets: np.ndarray

    @property
    def n_lsoa(self) -> int:
        """Number of LSOAs in England."""
        return len(self.lsoa_codes)


@lru_cache(maxsize=1)
def load_geography() -> Geography:
    """Load and join the reference files into LSOA-level arrays (cached per process)."""
    imd = pl.read_csv(
        REFERENCE_DIR / "imd2019_lsoa11_england.csv",
        schema_overrides={"lsoa11cd": pl.Utf8, "lad19cd": pl.Utf8},
    )
    lookup = pl.read_csv(REFERENCE_DIR / "lsoa11_lad19_region_england.csv").select(
        "lsoa11cd", "rgn11nm"
    )
    ethnic = pl.read_csv(REFERENCE_DIR / "ethnic_group_2011_lad19_england.csv")
    table = imd.join(lookup, on="lsoa11cd", how="left").sort("lsoa11cd")
    lads = ethnic.get_column("lad19cd").to_list()
    lad_pos = {code: i for i, code in enumerate(lads)}
    lad_index = np.array([lad_pos[c] for c in table.get_column("lad19cd")], dtype=np.int32)
    region_pos = {name: i for i, name in enumerate(REGIONS)}
    region_index = np.array([region_pos[r] for r in table.get_column("rgn11nm")], dtype=np.int8)
    decile = table.get_column("imd_decile").to_numpy().astype(np.int8)
    population = table.get_column("pop_total_mid2015").to_numpy().astype(np.float64)

    counts = ethnic.select(ETHNIC_COLUMNS).to_numpy().astype(np.float64)
    lad_shares = counts / counts.sum(axis=1, keepdims=True)
    shares = lad_shares[lad_index].copy()
    shares[:, 1:] *= _MINORITY_TILT_BY_DECILE[decile - 1][:, None]
    shares /= shares.sum(axis=1, keepdims=True)
    ethnic_cdf = np.cumsum(shares, axis=1)
    ethnic_cdf[:, -1] = 1.0

    order = np.argsort(lad_index, kind="stable").astype(np.int32)
    offsets = np.searchsorted(lad_index[order], np.arange(len(lads) + 1)).astype(np.int64)
    cdf = np.cumsum(population)
    return Geography(
        lsoa_codes=table.get_column("lsoa11cd"),
        lad_index=lad_index,
        region_index=region_index,
        imd_decile=decile,
        imd_rank=table.get_column("imd_rank").to_numpy().astype(np.int32),
        population_cdf=cdf / cdf[-1],
        ethnic_cdf=ethnic_cdf.astype(np.float64),
        lad_lsoa_order=order,
        lad_offsets=offsets,
    )


@lru_cache(maxsize=1)
def load_baby_names() -> dict[str, tuple[list[str], np.ndarray]]:
    """ONS baby names 2020 per sex, in title case, with their counts."""
    names = pl.read_csv(REFERENCE_DIR / "baby_names_2020_england_wales.csv")
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for sex in ("M", "F"):
        part = names.filter(pl.col("sex") == sex).sort("count", descending=True)
        titled = part.get_column("name").str.to_titlecase().to_list()
        out[sex] = (titled, part.get_column("count").to_numpy().astype(np.float64))
    return out
