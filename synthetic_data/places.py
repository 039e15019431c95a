"""Synthetic postcodes and GP practices tied to real LSOAs.

Each LSOA gets one postcode district and sector (shared by its neighbours) and ``SLOTS``
unit postcodes in that sector. Areas follow the real postcode areas of each region, so a
Leeds LSOA gets an ``LS`` or ``BD`` postcode. Unit letters are drawn from the run seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from synthetic_data.frames import labels
from synthetic_data.reference import Geography, load_geography

#: Unit postcodes per LSOA (real LSOAs have 10-50).
SLOTS = 24

_AREAS_BY_REGION: tuple[tuple[str, ...], ...] = (
    ("NE", "SR", "DH", "TS", "DL"),
    ("M", "L", "WA", "WN", "BL", "OL", "SK", "PR", "BB", "LA", "CA", "CH", "CW", "FY"),
    ("LS", "BD", "HX", "HD", "WF", "S", "DN", "HU", "YO", "HG"),
    ("NG", "DE", "LE", "LN", "NN"),
    ("B", "CV", "WV", "WS", "DY", "ST", "TF", "WR", "HR"),
    ("CB", "CM", "CO", "IP", "NR", "PE", "SG", "AL", "LU", "SS"),
    (
        "E",
        "N",
        "NW",
        "SE",
        "SW",
        "W",
        "EN",
        "IG",
        "RM",
        "DA",
        "BR",
        "CR",
        "SM",
        "KT",
        "TW",
        "UB",
        "HA",
    ),
    ("RG", "OX", "GU", "BN", "PO", "SO", "TN", "ME", "CT", "RH", "SL", "HP", "MK"),
    ("BS", "BA", "EX", "PL", "TQ", "TR", "TA", "GL", "SN", "SP", "BH", "DT"),
)
# Letters allowed in the last two characters of a UK postcode (no C, I, K, M, O, V).
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_UNIT_PAIRS = tuple(a + b for a in _UNIT_LETTERS for b in _UNIT_LETTERS)
_PRACTICE_LETTERS = "ABCDEFGHJ"


@dataclass(frozen=True)
class Places:
    """Per-LSOA postcode parts and practices for one run seed."""

    outward: np.ndarray  # str per LSOA, e.g. "LS12"
    sector: np.ndarray  # int per LSOA
    prefix: pl.Series  # outward code, space and sector digit per LSOA, e.g. "LS12 3"
    unit_offset: np.ndarray  # int per LSOA
    practice: np.ndarray  # practice index per LSOA
    practice_codes: pl.Series
    practice_in_extract: np.ndarray  # bool per practice

    def postcodes(self, lsoa: np.ndarray, slot: np.ndarray) -> pl.Series:
        """Formatted postcodes (``"LS12 3AB"``) for LSOA indices and unit slots."""
        pair = (self.unit_offset[lsoa] + slot.astype(np.int64) * 37) % 400
        head = self.prefix.gather(pl.Series(np.asarray(lsoa, dtype=np.int64)))
        return pl.select(head + labels(_UNIT_PAIRS, pair)).to_series().alias("postcode")


@lru_cache(maxsize=4)
def build_places(seed: int, coverage: float, patients_per_practice: int) -> Places:
    """Assign districts, sectors, unit letters and practices to every LSOA."""
    geo: Geography = load_geography()
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(2**30,)))
    n = geo.n_lsoa
    outward = np.empty(n, dtype=object)
    sector = np.zeros(n, dtype=np.int64)
    # Within a region, LSOAs sorted by LAD are cut into equal runs per postcode area; each run
    # of ten LSOAs shares a district, and each LSOA in it takes one sector digit.
    order = np.lexsort((np.arange(n), geo.lad_index))
    for region, areas in enumerate(_AREAS_BY_REGION):
        members = order[geo.region_index[order] == region]
        cut = (np.arange(len(members)) * len(areas)) // len(members)
        for a, area in enumerate(areas):
            in_area = members[cut == a]
            rank = np.arange(len(in_area))
            district = 1 + rank // 10
            outward[in_area] = np.char.add(area, district.astype(str))
            sector[in_area] = rank % 10
    unit_offset = rng.integers(0, 400, n)
    lsoas_per_practice = max(1, round(patients_per_practice / 1650))
    practice = (order.argsort() // lsoas_per_practice).astype(np.int64)
    n_practices = int(practice.max()) + 1
    region_of_practice = np.zeros(n_practices, dtype=np.int64)
    region_of_practice[practice] = geo.region_index
    codes = [
        f"{_PRACTICE_LETTERS[r]}{81001 + i:05d}" for i, r in enumerate(region_of_practice.tolist())
    ]
    in_extract = rng.random(n_practices) < coverage
    return Places(
        outward=outward.astype(str),
        sector=sector,
        prefix=pl.Series(
            [f"{o} {s}" for o, s in zip(outward.tolist(), sector.tolist(), strict=True)]
        ),
        unit_offset=unit_offset,
        practice=practice,
        practice_codes=pl.Series("practice_code", codes),
        practice_in_extract=in_extract,
    )


@dataclass(frozen=True)
class SamplingFrame:
    """The LSOAs a run populates, and how to draw among them.

    A small world spread over all 32,844 LSOAs would put about one person in each, so no two
    records would share a postcode. Instead a run populates about ``people / people_per_lsoa``
    LSOAs, chosen by systematic sampling with probability proportional to population down a
    list sorted by region, local authority and deprivation, so every region, authority type
    and decile keeps its share.
    """

    weights: np.ndarray  # per LSOA, zero when not populated
    cdf_index: np.ndarray  # populated LSOA indices
    cdf: np.ndarray  # cumulative weights over cdf_index
    lad_order: np.ndarray  # populated LSOA indices sorted by LAD
    lad_offsets: np.ndarray  # slice of each LAD in lad_order

    def draw(self, rng: np.random.Generator, n: int, tilt: np.ndarray | None = None) -> np.ndarray:
        """LSOA indices in proportion to population (times ``tilt`` per LSOA if given)."""
        if tilt is None:
            cdf, index = self.cdf, self.cdf_index
        else:
            w = self.weights[self.cdf_index] * tilt[self.cdf_index]
            cdf, index = np.cumsum(w) / w.sum(), self.cdf_index
        pos = np.searchsorted(cdf, rng.random(n), side="right")
        return index[np.minimum(pos, len(index) - 1)]

    def draw_within_lad(self, rng: np.random.Generator, lad: np.ndarray) -> np.ndarray:
        """A populated LSOA of the same local authority (uniformly) for each LAD index."""
        lo = self.lad_offsets[lad]
        hi = self.lad_offsets[lad + 1]
        pick = lo + np.floor(rng.random(len(lad)) * (hi - lo)).astype(np.int64)
        return self.lad_order[np.minimum(pick, np.maximum(hi - 1, lo))]


@lru_cache(maxsize=4)
def sampling_frame(seed: int, people: int, people_per_lsoa: int) -> SamplingFrame:
    """Choose the populated LSOAs of a run (a pure function of seed and size)."""
    geo = load_geography()
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(2**30 + 1,)))
    population = np.diff(np.r_[0.0, geo.population_cdf])
    # At least 300 LSOAs, so that even a tiny world spans regions, authorities and deciles.
    target = min(geo.n_lsoa, max(300, round(people / people_per_lsoa)))
    if target >= geo.n_lsoa:
        chosen = np.arange(geo.n_lsoa)
    else:
        order = np.lexsort((geo.imd_rank, geo.lad_index, geo.region_index))
        cum = np.cumsum(population[order])
        step = cum[-1] / target
        points = rng.random() * step + step * np.arange(target)
        chosen = np.unique(order[np.searchsorted(cum, points, side="right")])
    weights = np.zeros(geo.n_lsoa)
    weights[chosen] = population[chosen]
    lad_order = chosen[np.argsort(geo.lad_index[chosen], kind="stable")]
    lad_offsets = np.searchsorted(
        geo.lad_index[lad_order], np.arange(int(geo.lad_index.max()) + 2)
    ).astype(np.int64)
    cdf = np.cumsum(weights[chosen])
    return SamplingFrame(
        weights=weights,
        cdf_index=chosen,
        cdf=cdf / cdf[-1],
        lad_order=lad_order,
        lad_offsets=lad_offsets,
    )
