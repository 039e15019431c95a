"""Simulate the truth of one block: people, their addresses, conditions and benefits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_data.benefits import draw_benefit_spells
from synthetic_data.blocks import Block
from synthetic_data.calendar import CENSUS_DAY, NEVER, STUDY_START, YEAR, birth_year
from synthetic_data.config import WorldConfig
from synthetic_data.events import choose_mothers, exits, leave_home_dates, marriages, residences
from synthetic_data.health import draw_conditions
from synthetic_data.names import (
    ORIGINS,
    NameBank,
    draw_forenames,
    draw_surnames,
)
from synthetic_data.places import SLOTS, Places, SamplingFrame
from synthetic_data.population import (
    KIND_BORN,
    KIND_CENSUS,
    KIND_IMMIGRANT,
    MALE_SHARE_AT_BIRTH,
    ROLE_CHILD,
    build_households,
    name_people,
    share_dates_of_birth,
)
from synthetic_data.reference import Geography


@dataclass
class BlockTruth:
    """Arrays and frames describing every person of one block (local person index 0..n-1)."""

    people: dict[str, np.ndarray]
    residences: pl.DataFrame  # person, from_day, to_day, lsoa, slot
    conditions: pl.DataFrame  # person, cluster, onset_day
    spells: pl.DataFrame  # person, benefit, start_day, end_day


@dataclass
class _Homes:
    """Every household of a block at its first address: census households, then immigrant ones."""

    lsoa: np.ndarray
    slot: np.ndarray
    anchor: np.ndarray  # census day, or arrival day for immigrant households
    moved_in: np.ndarray  # day the household came to its first address
    in_census: np.ndarray  # a census household (rather than one arriving later)


@dataclass
class _Births:
    """Babies born after Census day, one row per baby, in the order of their mothers."""

    mother: np.ndarray  # local index of each baby's mother
    columns: dict[str, np.ndarray]  # the people columns a baby has from birth
    death: np.ndarray
    emigration: np.ndarray
    disability: np.ndarray


@dataclass
class _Lives:
    """Each person's time in England and their 2011 disability answer (local person index)."""

    kind: np.ndarray  # KIND_CENSUS, KIND_IMMIGRANT or KIND_BORN
    start: np.ndarray  # day the person is first in England (birth, or moving in, or arrival)
    death: np.ndarray
    emigration: np.ndarray
    disability: np.ndarray

    @property
    def end(self) -> np.ndarray:
        """Day the person leaves England (death or emigration), ``NEVER`` if they stay."""
        return np.minimum(self.death, self.emigration)


def _baseline_disability(rng: np.random.Generator, age: np.ndarray, decile: np.ndarray):
    """2011 Census long-term health problem or disability: 1 a lot, 2 a little, 3 not."""
    dep = np.linspace(1.6, 0.7, 10)[decile - 1]
    p_lot = (0.02 + 0.32 / (1 + np.exp(-(age - 75) / 8))) * dep
    p_little = (0.045 + 0.22 / (1 + np.exp(-(age - 65) / 10))) * np.sqrt(dep)
    u = rng.random(len(age))
    return np.where(u < p_lot, 1, np.where(u < p_lot + p_little, 2, 3)).astype(np.int8)


def simulate_block(
    block: Block,
    config: WorldConfig,
    geo: Geography,
    frame: SamplingFrame,
    places: Places,
    bank: NameBank,
) -> BlockTruth:
    """Draw the whole truth of one block.

    The steps, in order: households, their members' lives, names, births after Census day,
    marriages, moves, health conditions and benefit spells. Each step draws from its own named
    random stream of the block, so changing one step never shifts another step's draws.
    """
    pop = config.population
    n_births = int(round(block.size * pop.births_share))
    n_immigrants = int(round(block.size * pop.immigrant_share))
    n_census = block.size - n_births - n_immigrants

    homes, people = _first_households(
        block, geo, frame, pop.shared_dob_postcode, n_census, n_immigrants
    )
    lives = _first_lives(block, config, geo, homes, people, n_census, n_immigrants)
    name_people(block.rng("names"), bank, people, config)
    births = _draw_births(block.rng("births"), config, geo, bank, homes, people, lives, n_births)
    lives = _add_births(people, lives, births)
    _marry(block.rng("marriages"), config, bank, people, lives)
    addresses = _move(block.rng("moves"), config, geo, frame, homes, people, lives, births.mother)
    conditions = _conditions_and_disability(
        block.rng("conditions"), config, geo, homes, people, lives
    )
    household = people["hh"]
    spells = draw_benefit_spells(
        block.rng("benefits"),
        config,
        dob=people["dob"],
        sex=people["sex"],
        ethnic=people["eth"].astype(np.int64),
        decile=geo.imd_decile[_lsoa_at_study_start(addresses, homes.lsoa[household])],
        disability=lives.disability,
        start=lives.start,
        end=lives.end,
        conditions=conditions,
    )
    people.update(
        kind=lives.kind,
        start=lives.start,
        death=lives.death,
        emig=lives.emigration,
        end=lives.end,
        disability=lives.disability,
        hh_lsoa=homes.lsoa[household],
        hh_slot=homes.slot[household],
        hh_in_census=homes.in_census[household],
        immigration=np.where(lives.kind == KIND_IMMIGRANT, lives.start, NEVER),
    )
    return BlockTruth(people=people, residences=addresses, conditions=conditions, spells=spells)


def _first_households(
    block: Block,
    geo: Geography,
    frame: SamplingFrame,
    shared_dob_share: float,
    n_census: int,
    n_immigrants: int,
) -> tuple[_Homes, dict[str, np.ndarray]]:
    """Census households (some neighbours sharing a date of birth), then immigrant households.

    Returns the households and their members, the members' household index counting census
    households first.
    """
    census_homes, census_members = build_households(
        block.rng("households"), geo, frame, n_census, immigrant=False, slots=SLOTS
    )
    share_dates_of_birth(block.rng("shared_dob"), census_homes, census_members, shared_dob_share)
    immigrant_homes, immigrant_members = build_households(
        block.rng("immigrants"), geo, frame, n_immigrants, immigrant=True, slots=SLOTS
    )
    n_census_homes = len(census_homes.lsoa)
    homes = _Homes(
        lsoa=np.r_[census_homes.lsoa, immigrant_homes.lsoa],
        slot=np.r_[census_homes.slot, immigrant_homes.slot],
        anchor=np.r_[census_homes.anchor, immigrant_homes.anchor],
        moved_in=np.r_[census_homes.moved_in, immigrant_homes.moved_in],
        in_census=np.r_[np.ones(n_census_homes, bool), np.zeros(len(immigrant_homes.lsoa), bool)],
    )
    people = {
        key: np.r_[
            census_members[key],
            immigrant_members[key] + (n_census_homes if key == "hh" else 0),
        ]
        for key in census_members
    }
    return homes, people


def _first_lives(
    block: Block,
    config: WorldConfig,
    geo: Geography,
    homes: _Homes,
    people: dict[str, np.ndarray],
    n_census: int,
    n_immigrants: int,
) -> _Lives:
    """When census residents and immigrants start and stop living in England, and their
    disability at Census day (or on arrival)."""
    kind = np.r_[np.full(n_census, KIND_CENSUS), np.full(n_immigrants, KIND_IMMIGRANT)].astype(
        np.int8
    )
    household = people["hh"]
    start = np.where(
        kind == KIND_CENSUS,
        np.maximum(people["dob"], homes.moved_in[household]),
        homes.anchor[household],
    )
    decile = geo.imd_decile[homes.lsoa[household]]
    age_at_baseline = (np.where(kind == KIND_CENSUS, CENSUS_DAY, start) - people["dob"]) / YEAR
    disability = _baseline_disability(block.rng("disability"), age_at_baseline, decile)
    death, emigration = exits(
        block.rng("exits"),
        config,
        dob=people["dob"],
        start=start,
        decile=decile,
        disability=disability,
        immigrant=kind == KIND_IMMIGRANT,
        other_white=people["eth"] == 3,
    )
    return _Lives(kind, start, death, emigration, disability)


def _add_births(people: dict[str, np.ndarray], lives: _Lives, births: _Births) -> _Lives:
    """Append the babies to the people's columns (in place) and to their lives."""
    for key, value in births.columns.items():
        people[key] = np.r_[people[key], value]
    return _Lives(
        kind=np.r_[lives.kind, np.full(len(births.mother), KIND_BORN, np.int8)],
        start=np.r_[lives.start, births.columns["dob"]],
        death=np.r_[lives.death, births.death],
        emigration=np.r_[lives.emigration, births.emigration],
        disability=np.r_[lives.disability, births.disability],
    )


def _draw_births(
    rng: np.random.Generator,
    config: WorldConfig,
    geo: Geography,
    bank: NameBank,
    homes: _Homes,
    people: dict[str, np.ndarray],
    lives: _Lives,
    n_births: int,
) -> _Births:
    """Births after Census day to mothers already simulated: a baby joins its mother's
    household, ethnic group, naming origin and surname."""
    mother, birth_day = choose_mothers(
        rng, n_births, sex=people["sex"], dob=people["dob"], start=lives.start, end=lives.end
    )
    twin = _pair_twins(mother, birth_day, config.population.twin_share)
    n = len(mother)
    sex = (rng.random(n) >= MALE_SHARE_AT_BIRTH).astype(np.int8)
    origin = people["origin"][mother]
    year = birth_year(birth_day)
    forename = draw_forenames(rng, bank, origin, sex, year)
    _redraw_twin_forenames(rng, bank, forename, np.flatnonzero(twin)[1::2], origin, sex, year)
    middle = np.where(rng.random(n) < 0.45, draw_forenames(rng, bank, origin, sex, year), -1)
    disability = np.where(rng.random(n) < 0.01, 2, 3).astype(np.int8)
    death, emigration = exits(
        rng,
        config,
        dob=birth_day,
        start=birth_day,
        decile=geo.imd_decile[homes.lsoa[people["hh"][mother]]],
        disability=disability,
        immigrant=np.zeros(n, bool),
        other_white=people["eth"][mother] == 3,
    )
    columns = {
        "hh": people["hh"][mother],
        "role": np.full(n, ROLE_CHILD, np.int8),
        "sex": sex,
        "dob": birth_day,
        "eth": people["eth"][mother],
        "twin": twin,
        "hh_type": people["hh_type"][mother],
        "origin": origin,
        "forename": forename,
        "middle": middle,
        "surname_birth": people["surname_2011"][mother],
        "surname_2011": people["surname_2011"][mother],
    }
    return _Births(mother, columns, death, emigration, disability)


def _pair_twins(mother: np.ndarray, birth_day: np.ndarray, twin_share: float) -> np.ndarray:
    """Make the last births twin pairs (second twin: same mother and day as the first);
    return which births are twins. ``mother`` and ``birth_day`` are changed in place."""
    n = len(mother)
    pairs = int(round(n * twin_share / 2))
    twin = np.zeros(n, dtype=bool)
    if pairs:
        first = n - 2 * pairs + 2 * np.arange(pairs)
        mother[first + 1] = mother[first]
        birth_day[first + 1] = birth_day[first]
        twin[n - 2 * pairs :] = True
    return twin


def _redraw_twin_forenames(
    rng: np.random.Generator,
    bank: NameBank,
    forename: np.ndarray,
    second: np.ndarray,
    origin: np.ndarray,
    sex: np.ndarray,
    year: np.ndarray,
) -> None:
    """Twins never share a forename: redraw the second twin's (index ``second``, the first
    twin just before it) until it differs, at most five times. Changes ``forename``."""
    for _ in range(5):
        clash = second[forename[second] == forename[second - 1]]
        if len(clash) == 0:
            break
        forename[clash] = draw_forenames(rng, bank, origin[clash], sex[clash], year[clash])


def _marry(
    rng: np.random.Generator,
    config: WorldConfig,
    bank: NameBank,
    people: dict[str, np.ndarray],
    lives: _Lives,
) -> None:
    """Marriages after Census day: set ``surname_2021`` (the spouse's surname or a
    double-barrelled one for some), ``double_barrel`` and ``marriage_day``."""
    customary = np.isin(people["origin"], [ORIGINS.index("sikh"), ORIGINS.index("bangladeshi")])
    marriage_day, takes, double = marriages(
        rng,
        config,
        sex=people["sex"],
        dob=people["dob"],
        role=people["role"],
        hh_type=people["hh_type"],
        kind=lives.kind,
        start=lives.start,
        end=lives.end,
        customary=customary,
    )
    spouse = draw_surnames(rng, bank, people["origin"])
    people["surname_2021"] = np.where(takes | double, spouse, people["surname_2011"])
    people["double_barrel"] = double
    people["marriage_day"] = marriage_day


def _move(
    rng: np.random.Generator,
    config: WorldConfig,
    geo: Geography,
    frame: SamplingFrame,
    homes: _Homes,
    people: dict[str, np.ndarray],
    lives: _Lives,
    mother: np.ndarray,
) -> pl.DataFrame:
    """Every person's addresses. Households move as units; a young adult leaving home becomes a
    unit of their own (numbered after the households), and babies follow their mother."""
    household = people["hh"]
    end = lives.end
    switch = leave_home_dates(
        rng, config, dob=people["dob"], role=people["role"], start=lives.start, end=end
    )
    leavers = np.flatnonzero((switch < NEVER) & (lives.kind != KIND_BORN))
    unit_a = household.copy()
    unit_b = np.full(len(household), -1, dtype=np.int64)
    unit_b[leavers] = len(homes.lsoa) + np.arange(len(leavers))
    leaver_lsoa = frame.draw_within_lad(rng, geo.lad_index[homes.lsoa[household[leavers]]])
    far = rng.random(len(leavers)) >= config.population.local_move_share
    leaver_lsoa[far] = frame.draw(rng, int(far.sum()))
    _follow_mothers(
        np.flatnonzero(lives.kind == KIND_BORN), mother, people["dob"], unit_a, unit_b, switch
    )
    return residences(
        rng,
        config,
        geo,
        frame,
        slots=SLOTS,
        unit_start=np.r_[np.minimum(homes.moved_in, homes.anchor), switch[leavers]],
        unit_lsoa=np.r_[homes.lsoa, leaver_lsoa],
        unit_slot=np.r_[homes.slot, rng.integers(0, SLOTS, len(leavers))],
        unit_young=np.r_[np.zeros(len(homes.lsoa), bool), np.ones(len(leavers), bool)],
        person_unit_a=unit_a,
        person_unit_b=unit_b,
        person_switch=switch,
        person_start=lives.start,
        person_end=end,
    )


def _follow_mothers(
    baby: np.ndarray,
    mother: np.ndarray,
    dob: np.ndarray,
    unit_a: np.ndarray,
    unit_b: np.ndarray,
    switch: np.ndarray,
) -> None:
    """A baby lives with its mother's unit: born after she left home, only with her new unit;
    before, with her first unit and then her new one. Changes the three unit arrays."""
    after = dob[baby] >= switch[mother]
    unit_a[baby] = np.where(after, unit_b[mother], unit_a[mother])
    unit_b[baby] = np.where(after, -1, unit_b[mother])
    switch[baby] = np.where(after, NEVER, switch[mother])


def _conditions_and_disability(
    rng: np.random.Generator,
    config: WorldConfig,
    geo: Geography,
    homes: _Homes,
    people: dict[str, np.ndarray],
    lives: _Lives,
) -> pl.DataFrame:
    """Health conditions; then the 2011 disability answer of people whose condition predates
    it: most with a learning disability, autism or a severe mental illness diagnosed by Census
    day said their day-to-day activities were limited. Changes ``lives.disability``."""
    conditions = draw_conditions(
        rng,
        config,
        dob=people["dob"],
        sex=people["sex"],
        ethnic=people["eth"].astype(np.int64),
        decile=geo.imd_decile[homes.lsoa[people["hh"]]],
        end=lives.end,
    )
    severe = (
        conditions.filter(
            pl.col("cluster").is_in(["LD", "AUTISM", "SMI"]) & (pl.col("onset_day") <= CENSUS_DAY)
        )
        .get_column("person")
        .to_numpy()
    )
    u = rng.random(len(severe))
    disability = lives.disability
    disability[severe] = np.where(u < 0.5, 1, np.where(u < 0.8, 2, disability[severe]))
    return conditions


def _lsoa_at_study_start(addresses: pl.DataFrame, home_lsoa: np.ndarray) -> np.ndarray:
    """Where each person lives at the start of the study window (their first household's
    area for people who arrive later), for the deprivation of their benefit claims."""
    at_start = (
        addresses.filter(pl.col("from_day") <= max(STUDY_START, 0))
        .group_by("person")
        .agg(pl.col("lsoa").last())
    )
    study_lsoa = home_lsoa.copy()
    study_lsoa[at_start.get_column("person").to_numpy()] = at_start.get_column("lsoa").to_numpy()
    return study_lsoa
