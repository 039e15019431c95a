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
    """Draw the whole truth of one block."""
    pop = config.population
    n = block.size
    n_births = int(round(n * pop.births_share))
    n_imm = int(round(n * pop.immigrant_share))
    n_census = n - n_births - n_imm

    hh_c, mem_c = build_households(
        block.rng("households"), geo, frame, n_census, immigrant=False, slots=SLOTS
    )
    share_dates_of_birth(block.rng("shared_dob"), hh_c, mem_c, pop.shared_dob_postcode)
    hh_i, mem_i = build_households(
        block.rng("immigrants"), geo, frame, n_imm, immigrant=True, slots=SLOTS
    )
    n_hh_c = len(hh_c.lsoa)
    h_lsoa = np.r_[hh_c.lsoa, hh_i.lsoa]
    h_slot = np.r_[hh_c.slot, hh_i.slot]
    h_anchor = np.r_[hh_c.anchor, hh_i.anchor]
    h_moved = np.r_[hh_c.moved_in, hh_i.moved_in]
    h_census = np.r_[np.ones(n_hh_c, bool), np.zeros(len(hh_i.lsoa), bool)]
    P: dict[str, np.ndarray] = {
        key: np.r_[mem_c[key], mem_i[key] + (n_hh_c if key == "hh" else 0)] for key in mem_c
    }
    kind = np.r_[np.full(n_census, KIND_CENSUS), np.full(n_imm, KIND_IMMIGRANT)].astype(np.int8)
    hh = P["hh"]
    start = np.where(kind == KIND_CENSUS, np.maximum(P["dob"], h_moved[hh]), h_anchor[hh])
    decile0 = geo.imd_decile[h_lsoa[hh]]
    age_ref = (np.where(kind == KIND_CENSUS, CENSUS_DAY, start) - P["dob"]) / YEAR
    disability = _baseline_disability(block.rng("disability"), age_ref, decile0)

    rng = block.rng("exits")
    death, emig = exits(
        rng,
        config,
        dob=P["dob"],
        start=start,
        decile=decile0,
        disability=disability,
        immigrant=kind == KIND_IMMIGRANT,
        other_white=P["eth"] == 3,
    )
    end = np.minimum(death, emig)
    name_people(block.rng("names"), bank, P, config)

    # Births after Census day to mothers already simulated.
    rng = block.rng("births")
    mother, bday = choose_mothers(rng, n_births, sex=P["sex"], dob=P["dob"], start=start, end=end)
    pairs = int(round(len(mother) * pop.twin_share / 2))
    if pairs:
        first = len(mother) - 2 * pairs + 2 * np.arange(pairs)
        mother[first + 1] = mother[first]
        bday[first + 1] = bday[first]
    b_twin = np.zeros(len(mother), dtype=bool)
    if pairs:
        b_twin[len(mother) - 2 * pairs :] = True
    b_sex = (rng.random(len(mother)) >= 0.512).astype(np.int8)
    b_origin = P["origin"][mother]
    b_year = birth_year(bday)
    b_fore = draw_forenames(rng, bank, b_origin, b_sex, b_year)
    if pairs:
        # Twins never share a forename: redraw the second twin's until it differs.
        second = len(mother) - 2 * pairs + 2 * np.arange(pairs) + 1
        for _ in range(5):
            clash = second[b_fore[second] == b_fore[second - 1]]
            if len(clash) == 0:
                break
            b_fore[clash] = draw_forenames(rng, bank, b_origin[clash], b_sex[clash], b_year[clash])
    b_mid = np.where(
        rng.random(len(mother)) < 0.45, draw_forenames(rng, bank, b_origin, b_sex, b_year), -1
    )
    b_decile = decile0[mother]
    b_dis = np.where(rng.random(len(mother)) < 0.01, 2, 3).astype(np.int8)
    b_death, b_emig = exits(
        rng,
        config,
        dob=bday,
        start=bday,
        decile=b_decile,
        disability=b_dis,
        immigrant=np.zeros(len(mother), bool),
        other_white=P["eth"][mother] == 3,
    )
    babies = {
        "hh": hh[mother],
        "role": np.full(len(mother), ROLE_CHILD, np.int8),
        "sex": b_sex,
        "dob": bday,
        "eth": P["eth"][mother],
        "twin": b_twin,
        "hh_type": P["hh_type"][mother],
        "origin": b_origin,
        "forename": b_fore,
        "middle": b_mid,
        "surname_birth": P["surname_2011"][mother],
        "surname_2011": P["surname_2011"][mother],
    }
    for key, value in babies.items():
        P[key] = np.r_[P[key], value]
    kind = np.r_[kind, np.full(len(mother), KIND_BORN, np.int8)]
    start = np.r_[start, bday]
    death = np.r_[death, b_death]
    emig = np.r_[emig, b_emig]
    end = np.minimum(death, emig)
    disability = np.r_[disability, b_dis]
    hh = P["hh"]

    # Marriages after Census day (surname changes, some double-barrelled).
    rng = block.rng("marriages")
    customary = np.isin(P["origin"], [ORIGINS.index("sikh"), ORIGINS.index("bangladeshi")])
    m_day, takes, double = marriages(
        rng,
        config,
        sex=P["sex"],
        dob=P["dob"],
        role=P["role"],
        hh_type=P["hh_type"],
        kind=kind,
        start=start,
        end=end,
        customary=customary,
    )
    spouse = draw_surnames(rng, bank, P["origin"])
    P["surname_2021"] = np.where(takes | double, spouse, P["surname_2011"])
    P["double_barrel"] = double
    P["marriage_day"] = m_day

    # Moves: households are units; young adults leaving home become units of their own.
    rng = block.rng("moves")
    n_people = len(hh)
    switch = leave_home_dates(rng, config, dob=P["dob"], role=P["role"], start=start, end=end)
    n_mothers_units = len(h_lsoa)
    leavers = np.flatnonzero((switch < NEVER) & (kind != KIND_BORN))
    unit_a = hh.copy()
    unit_b = np.full(n_people, -1, dtype=np.int64)
    unit_b[leavers] = n_mothers_units + np.arange(len(leavers))
    leaver_lsoa = frame.draw_within_lad(rng, geo.lad_index[h_lsoa[hh[leavers]]])
    far = rng.random(len(leavers)) >= pop.local_move_share
    leaver_lsoa[far] = frame.draw(rng, int(far.sum()))
    # Babies follow their mother's units.
    b_idx = np.flatnonzero(kind == KIND_BORN)
    mom = mother
    after = P["dob"][b_idx] >= switch[mom]
    unit_a[b_idx] = np.where(after, unit_b[mom], unit_a[mom])
    unit_b[b_idx] = np.where(after, -1, unit_b[mom])
    switch[b_idx] = np.where(after, NEVER, switch[mom])
    res = residences(
        rng,
        config,
        geo,
        frame,
        slots=SLOTS,
        unit_start=np.r_[np.minimum(h_moved, h_anchor), switch[leavers]],
        unit_lsoa=np.r_[h_lsoa, leaver_lsoa],
        unit_slot=np.r_[h_slot, rng.integers(0, SLOTS, len(leavers))],
        unit_young=np.r_[np.zeros(len(h_lsoa), bool), np.ones(len(leavers), bool)],
        person_unit_a=unit_a,
        person_unit_b=unit_b,
        person_switch=switch,
        person_start=start,
        person_end=end,
    )

    # Conditions, then the 2011 disability answer for people whose condition predates it.
    rng = block.rng("conditions")
    conditions = draw_conditions(
        rng,
        config,
        dob=P["dob"],
        sex=P["sex"],
        ethnic=P["eth"].astype(np.int64),
        decile=geo.imd_decile[h_lsoa[hh]],
        end=end,
    )
    severe = (
        conditions.filter(
            pl.col("cluster").is_in(["LD", "AUTISM", "SMI"]) & (pl.col("onset_day") <= CENSUS_DAY)
        )
        .get_column("person")
        .to_numpy()
    )
    u = rng.random(len(severe))
    disability[severe] = np.where(u < 0.5, 1, np.where(u < 0.8, 2, disability[severe]))

    # Deprivation where each person lives at the start of the study window.
    at_start = (
        res.filter(pl.col("from_day") <= max(STUDY_START, 0))
        .group_by("person")
        .agg(pl.col("lsoa").last())
    )
    study_lsoa = h_lsoa[hh].copy()
    study_lsoa[at_start.get_column("person").to_numpy()] = at_start.get_column("lsoa").to_numpy()
    spells = draw_benefit_spells(
        block.rng("benefits"),
        config,
        dob=P["dob"],
        sex=P["sex"],
        ethnic=P["eth"].astype(np.int64),
        decile=geo.imd_decile[study_lsoa],
        disability=disability,
        start=start,
        end=end,
        conditions=conditions,
    )

    P.update(
        kind=kind,
        start=start,
        death=death,
        emig=emig,
        end=end,
        disability=disability,
        hh_lsoa=h_lsoa[hh],
        hh_slot=h_slot[hh],
        hh_in_census=h_census[hh],
        immigration=np.where(kind == KIND_IMMIGRANT, start, NEVER),
    )
    return BlockTruth(people=P, residences=res, conditions=conditions, spells=spells)
