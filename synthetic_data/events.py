"""Life events from Census day to March 2021: deaths, emigration, births, moves, marriages.

Each function works on whole columns. Hazards are applied year by year (ten vectorised
steps), which is the only loop: it runs over calendar years, not people.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.calendar import CENSUS_DAY, EXTRACT_DAY, NEVER, YEAR
from synthetic_data.config import WorldConfig
from synthetic_data.places import SamplingFrame
from synthetic_data.population import ROLE_CHILD, ROLE_OTHER
from synthetic_data.reference import LONDON, Geography

_DEPRIVATION_MORTALITY = np.linspace(1.35, 0.75, 10)
_FERTILITY_BY_AGE = {18: 0.5, 20: 0.8, 25: 1.0, 30: 1.1, 35: 0.7, 40: 0.2, 45: 0.0}


def exits(
    rng: np.random.Generator,
    config: WorldConfig,
    *,
    dob: np.ndarray,
    start: np.ndarray,
    decile: np.ndarray,
    disability: np.ndarray,
    immigrant: np.ndarray,
    other_white: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw dates of death and of emigration (``NEVER`` when neither happens by March 2021).

    Death follows a Gompertz hazard (doubling about every 7 years of age) scaled by
    deprivation and disability; emigration is highest for young adults and recent arrivals.
    """
    n = len(dob)
    death = np.full(n, NEVER, dtype=np.int64)
    emig = np.full(n, NEVER, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    pop = config.population
    frailty = _DEPRIVATION_MORTALITY[decile - 1] * np.where(disability == 1, 1.8, 1.0)
    migrate = np.where(immigrant, 4.0, 1.0) * np.where(other_white, 2.0, 1.0)
    for year in range(11):
        lo = CENSUS_DAY + round(year * YEAR)
        hi = min(CENSUS_DAY + round((year + 1) * YEAR), EXTRACT_DAY + 1)
        if lo >= hi:
            break
        begin = np.maximum(start, lo)
        exposure = np.clip((hi - begin) / YEAR, 0.0, 1.0) * active
        age = (begin - dob) / YEAR
        h_death = pop.mortality_scale * 2.0e-5 * np.exp(0.1 * np.maximum(age, 0.0)) * frailty
        h_death = h_death + np.where(age < 1, 0.0035, 0.0)
        young = (age >= 20) & (age <= 35)
        h_emig = pop.emigration_rate * migrate * np.where(young, 3.0, 1.0)
        h_emig = np.where(age < 16, h_emig * 0.5, h_emig)
        total = h_death + h_emig
        p = 1.0 - np.exp(-total * exposure)
        event = rng.random(n) < p
        when = begin + 1 + np.floor(rng.random(n) * np.maximum(hi - begin - 1, 0)).astype(np.int64)
        event &= when <= EXTRACT_DAY
        dies = event & (rng.random(n) < h_death / np.maximum(total, 1e-12))
        leaves = event & ~dies
        death[dies] = when[dies]
        emig[leaves] = when[leaves]
        active &= ~event
    return death, emig


def leave_home_dates(
    rng: np.random.Generator,
    config: WorldConfig,
    *,
    dob: np.ndarray,
    role: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> np.ndarray:
    """Day a young adult moves out on their own (``NEVER`` when they stay)."""
    age = (CENSUS_DAY - dob) / YEAR
    candidate = np.isin(role, [ROLE_CHILD, ROLE_OTHER]) & (age >= 12) & (age <= 30)
    candidate &= rng.random(len(dob)) < config.population.leave_home_share
    lo = np.maximum(np.maximum(start, dob + round(18 * YEAR)), CENSUS_DAY + 1)
    hi = np.minimum(end, EXTRACT_DAY)
    day = lo + np.floor(rng.random(len(dob)) * np.maximum(hi - lo, 0)).astype(np.int64)
    return np.where(candidate & (hi > lo), day, NEVER)


def choose_mothers(
    rng: np.random.Generator,
    n_births: int,
    *,
    sex: np.ndarray,
    dob: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick mothers (with replacement) and birth days for ``n_births`` babies."""
    lo = np.maximum.reduce([start, dob + round(18 * YEAR), np.full_like(dob, CENSUS_DAY + 1)])
    hi = np.minimum.reduce([end, dob + round(45 * YEAR), np.full_like(dob, EXTRACT_DAY)])
    window = np.where(sex == 1, np.maximum(hi - lo, 0), 0).astype(np.float64)
    ages = np.array(list(_FERTILITY_BY_AGE))
    mid_age = ((lo + hi) / 2 - dob) / YEAR
    weight = window * np.interp(mid_age, ages, list(_FERTILITY_BY_AGE.values()))
    if weight.sum() <= 0 or n_births == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cdf = np.cumsum(weight) / weight.sum()
    mother = np.minimum(np.searchsorted(cdf, rng.random(n_births), side="right"), len(cdf) - 1)
    span = np.maximum(hi[mother] - lo[mother], 1)
    day = lo[mother] + np.floor(rng.random(n_births) * span).astype(np.int64)
    return mother.astype(np.int64), day


def residences(
    rng: np.random.Generator,
    config: WorldConfig,
    geo: Geography,
    frame: SamplingFrame,
    *,
    slots: int,
    unit_start: np.ndarray,
    unit_lsoa: np.ndarray,
    unit_slot: np.ndarray,
    unit_young: np.ndarray,
    person_unit_a: np.ndarray,
    person_unit_b: np.ndarray,
    person_switch: np.ndarray,
    person_start: np.ndarray,
    person_end: np.ndarray,
) -> pl.DataFrame:
    """Every person's addresses over time.

    A "unit" (a household, or a young adult who left home) moves together. Moves after Census
    day follow a Poisson process whose rate is higher in London, in deprived areas and for
    young adults; most moves stay in the same local authority. A person lives with unit A
    until their switch day and with unit B afterwards, between their own start and end days.

    Returns a frame with ``person``, ``from_day``, ``to_day`` (``NEVER`` for current),
    ``lsoa`` and ``slot``, sorted by person and date.
    """
    pop = config.population
    mover_unit, day = _move_days(rng, pop.move_rate, geo, unit_start, unit_lsoa, unit_young)
    new_lsoa, new_slot = _move_destinations(
        rng,
        pop.local_move_share,
        geo,
        frame,
        slots=slots,
        mover_unit=mover_unit,
        unit_lsoa=unit_lsoa,
        unit_slot=unit_slot,
    )
    segments = _unit_segments(unit_start, unit_lsoa, unit_slot, mover_unit, day, new_lsoa, new_slot)
    people = pl.DataFrame(
        {
            "person": np.arange(len(person_unit_a), dtype=np.int64),
            "unit_a": person_unit_a,
            "unit_b": person_unit_b,
            "switch": person_switch,
            "p_start": person_start,
            "p_end": person_end,
        }
    )
    return _merge_repeated_addresses(_stays(people, segments))


def _move_days(
    rng: np.random.Generator,
    move_rate: float,
    geo: Geography,
    unit_start: np.ndarray,
    unit_lsoa: np.ndarray,
    unit_young: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The moves after Census day (at most five per unit): the unit moving and the day, sorted
    by unit and day."""
    n_units = len(unit_start)
    first = np.maximum(unit_start, CENSUS_DAY)
    years = np.maximum(EXTRACT_DAY - first, 0) / YEAR
    rate = move_rate * np.where(geo.region_index[unit_lsoa] == LONDON, 1.5, 1.0)
    rate = rate * np.where(geo.imd_decile[unit_lsoa] <= 3, 1.4, 1.0)
    rate = rate * np.where(unit_young, 2.0, 1.0)
    k = np.minimum(rng.poisson(rate * years), 5)
    mover_unit = np.repeat(np.arange(n_units), k)
    m = len(mover_unit)
    span = np.maximum(EXTRACT_DAY - first[mover_unit], 1)
    day = first[mover_unit] + 1 + np.floor(rng.random(m) * span).astype(np.int64)
    order = np.lexsort((day, mover_unit))
    return mover_unit[order], day[order]


def _move_destinations(
    rng: np.random.Generator,
    local_move_share: float,
    geo: Geography,
    frame: SamplingFrame,
    *,
    slots: int,
    mover_unit: np.ndarray,
    unit_lsoa: np.ndarray,
    unit_slot: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where each move goes: LSOA and postcode slot.

    Each move is local (same local authority as the address before it) or to anywhere, and
    always to a different postcode. Moves are taken in order of their rank within the unit
    (at most five steps), so each one starts from the address the previous one reached.
    """
    m = len(mover_unit)
    rank = np.arange(m) - np.searchsorted(mover_unit, mover_unit, side="left")
    local = rng.random(m) < local_move_share
    anywhere = frame.draw(rng, m)
    new_lsoa = np.empty(m, dtype=np.int64)
    new_slot = rng.integers(0, slots, m)
    current_lsoa = unit_lsoa.astype(np.int64).copy()
    current_slot = unit_slot.astype(np.int64).copy()
    for r in range(int(rank.max()) + 1 if m else 0):
        rows = np.flatnonzero(rank == r)
        units = mover_unit[rows]
        here = current_lsoa[units]
        near = frame.draw_within_lad(rng, geo.lad_index[here])
        chosen = np.where(local[rows], near, anywhere[rows])
        slot = new_slot[rows]
        same = (chosen == here) & (slot == current_slot[units])
        slot = np.where(same, (slot + 1) % slots, slot)
        new_lsoa[rows], new_slot[rows] = chosen, slot
        current_lsoa[units], current_slot[units] = chosen, slot
    return new_lsoa, new_slot


def _unit_segments(
    unit_start: np.ndarray,
    unit_lsoa: np.ndarray,
    unit_slot: np.ndarray,
    mover_unit: np.ndarray,
    day: np.ndarray,
    new_lsoa: np.ndarray,
    new_slot: np.ndarray,
) -> pl.DataFrame:
    """Each unit's stays: ``unit``, ``from_day``, ``lsoa``, ``slot`` and ``to_day`` (the next
    stay's first day, or ``NEVER``)."""
    n_units = len(unit_start)
    unit = np.r_[np.arange(n_units), mover_unit].astype(np.int64)
    from_day = np.r_[unit_start, day].astype(np.int64)
    order = np.lexsort((from_day, unit))
    unit, from_day = unit[order], from_day[order]
    same_unit_next = np.r_[unit[1:] == unit[:-1], False]
    to_day = np.where(same_unit_next, np.r_[from_day[1:], NEVER], NEVER)
    return pl.DataFrame(
        {
            "unit": unit,
            "from_day": from_day,
            "lsoa": np.r_[unit_lsoa, new_lsoa].astype(np.int64)[order],
            "slot": np.r_[unit_slot, new_slot].astype(np.int64)[order],
            "to_day": to_day,
        }
    )


def _stays(people: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Each person's stays: with unit A until the switch day, with unit B after it, within the
    person's own start and end days; sorted by person and date."""
    part_a = people.join(segments, left_on="unit_a", right_on="unit").with_columns(
        pl.max_horizontal("from_day", "p_start").alias("from_day"),
        pl.min_horizontal("to_day", "switch", "p_end").alias("to_day"),
    )
    part_b = (
        people.filter(pl.col("unit_b") >= 0)
        .join(segments, left_on="unit_b", right_on="unit")
        .with_columns(
            pl.max_horizontal("from_day", "p_start", "switch").alias("from_day"),
            pl.min_horizontal("to_day", "p_end").alias("to_day"),
        )
    )
    cols = ["person", "from_day", "to_day", "lsoa", "slot"]
    out = pl.concat([part_a.select(cols), part_b.select(cols)])
    # Keep segments the person actually lived in; a person always keeps at least the segment
    # that contains their start day (found below) even if they left on the day they came.
    return out.filter(pl.col("to_day") > pl.col("from_day")).sort("person", "from_day")


def _merge_repeated_addresses(out: pl.DataFrame) -> pl.DataFrame:
    """A young adult who leaves home may land at the same postcode (a granny flat, the same
    block): that is not a move, so consecutive stays at one address are merged."""
    changed = (
        (pl.col("lsoa") != pl.col("lsoa").shift(1)) | (pl.col("slot") != pl.col("slot").shift(1))
    ).fill_null(True) | (pl.col("person") != pl.col("person").shift(1)).fill_null(True)
    first = out.select(changed).to_series().to_numpy()
    start = np.flatnonzero(first)
    stop = np.r_[start[1:], out.height] - 1
    to_day = out.get_column("to_day").to_numpy()
    return out[start].with_columns(pl.Series("to_day", to_day[stop]))


def marriages(
    rng: np.random.Generator,
    config: WorldConfig,
    *,
    sex: np.ndarray,
    dob: np.ndarray,
    role: np.ndarray,
    hh_type: np.ndarray,
    kind: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    customary: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marriages after Census day and what they do to surnames.

    Returns ``(day, takes_new, double_barrel)``: the marriage day (``NEVER`` if none), whether
    the person's surname becomes the spouse's, and whether it becomes double-barrelled.
    People already in a couple at the census are not at risk; women with a customary surname
    (Kaur, Begum) usually keep it.
    """
    pop = config.population
    n = len(sex)
    single = ~np.isin(hh_type, [3, 4, 5]) | np.isin(role, [ROLE_CHILD, ROLE_OTHER])
    single |= kind != 0
    lo = np.maximum.reduce([start, dob + round(18 * YEAR), np.full(n, CENSUS_DAY + 1)])
    hi = np.minimum.reduce([end, dob + round(50 * YEAR), np.full(n, EXTRACT_DAY)])
    wait = rng.exponential(1.0 / max(pop.marriage_rate, 1e-9), n) * YEAR
    day = lo + np.floor(wait).astype(np.int64)
    married = single & (day < hi)
    day = np.where(married, day, NEVER)
    u = rng.random(n)
    woman = sex == 1
    keep = np.where(customary, 0.7, pop.keep_surname_share)
    double = married & woman & (u < pop.double_barrel_share)
    takes = married & woman & (u >= pop.double_barrel_share + keep)
    man_double = married & ~woman & (u < 0.01)
    return day, takes, double | man_double
