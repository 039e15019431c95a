"""Postcodes, practices, the sampling frame, blocks and name pools."""

import numpy as np
import polars as pl

from synthetic_data.blocks import plan_blocks
from synthetic_data.names import ORIGINS, apply_sex_surnames, load_name_bank
from synthetic_data.places import SLOTS, build_places, sampling_frame
from synthetic_data.reference import load_geography

POSTCODE = r"^[A-Z]{1,2}\d{1,2} \d[ABD-HJLNP-UW-Z]{2}$"


def test_postcodes_are_uk_shaped_and_each_belongs_to_one_lsoa():
    geo = load_geography()
    places = build_places(5, 0.935, 8000)
    lsoa = np.repeat(np.arange(geo.n_lsoa), SLOTS)
    slot = np.tile(np.arange(SLOTS), geo.n_lsoa)
    codes = places.postcodes(lsoa, slot)
    assert codes.str.contains(POSTCODE).all()
    assert codes.n_unique() == len(codes)
    # All postcodes of one LSOA share its district and sector.
    sectors = pl.DataFrame({"lsoa": lsoa, "sector": codes.str.slice(0, codes.str.len_chars() - 2)})
    assert sectors.group_by("lsoa").agg(pl.col("sector").n_unique()).get_column("sector").max() == 1


def test_postcodes_follow_the_seed():
    a = build_places(1, 0.935, 8000).postcodes(np.arange(50), np.zeros(50, dtype=np.int64))
    b = build_places(1, 0.935, 8000).postcodes(np.arange(50), np.zeros(50, dtype=np.int64))
    c = build_places(2, 0.935, 8000).postcodes(np.arange(50), np.zeros(50, dtype=np.int64))
    assert a.equals(b)
    assert not a.equals(c)


def test_practice_coverage_is_about_the_configured_share():
    places = build_places(3, 0.9, 8000)
    assert 0.86 < places.practice_in_extract.mean() < 0.94
    assert places.practice_codes.str.contains(r"^[A-J]\d{5}$").all()


def test_sampling_frame_spans_regions_and_deciles():
    geo = load_geography()
    frame = sampling_frame(9, 50_000, 150)
    chosen = frame.cdf_index
    assert len(chosen) >= 300
    assert set(geo.region_index[chosen]) == set(range(9))
    assert set(geo.imd_decile[chosen]) == set(range(1, 11))
    draws = frame.draw(np.random.default_rng(0), 10_000)
    assert np.isin(draws, chosen).all()


def test_blocks_cover_every_person_once():
    blocks = plan_blocks(250_001, 100_000, 7)
    assert [b.size for b in blocks] == [100_000, 100_000, 50_001]
    assert [b.start for b in blocks] == [0, 100_000, 200_000]
    # Streams are independent and reproducible.
    assert blocks[0].rng("names").random() == blocks[0].rng("names").random()
    assert blocks[0].rng("names").random() != blocks[1].rng("names").random()


def test_name_frequencies_are_skewed():
    bank = load_name_bank()
    draws = bank.surnames["english"].draw(np.random.default_rng(1), 200_000)
    counts = np.sort(np.bincount(draws))[::-1]
    counts = counts[counts > 0]
    top = bank.vocabulary[int(np.bincount(draws).argmax())]
    assert top == "Smith"
    assert 0.01 < counts[0] / len(draws) < 0.02
    assert counts[0] > 20 * np.median(counts)


def test_customary_surnames_by_sex():
    bank = load_name_bank()
    rng = np.random.default_rng(2)
    n = 20_000
    sikh = np.full(n, ORIGINS.index("sikh"), dtype=np.int8)
    sex = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(np.int8)
    family = bank.surnames["sikh"].draw(rng, n)
    out = bank.strings(apply_sex_surnames(rng, bank, family, sikh, sex))
    men, women = out[: n // 2], out[n // 2 :]
    assert 0.4 < (men == "Singh").mean() and (men == "Kaur").sum() == 0
    assert 0.4 < (women == "Kaur").mean()
