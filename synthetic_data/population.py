"""The truth population of one block: census households, later immigrants and their names.

Everything is column arrays (``numpy``) over the people of a block; no loop visits a person.
Births after Census day are added by ``events.add_births`` because they need mothers whose
life courses are already known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic_data.calendar import CENSUS_DAY, EXTRACT_DAY, YEAR, birth_year
from synthetic_data.config import WorldConfig
from synthetic_data.names import (
    ORIGINS,
    NameBank,
    apply_sex_surnames,
    draw_forenames,
    draw_origin,
    draw_surnames,
)
from synthetic_data.places import SamplingFrame
from synthetic_data.reference import Geography

# Household types: probability, and how adults, children and ages are drawn (see docs).
_TYPES = (
    "single_young",
    "single_mid",
    "single_old",
    "couple",
    "older_couple",
    "couple_kids",
    "lone_parent",
    "shared",
)
_CENSUS_TYPE_P = np.array([0.06, 0.12, 0.15, 0.15, 0.13, 0.26, 0.09, 0.04])
_IMMIGRANT_TYPE_P = np.array([0.45, 0.08, 0.01, 0.16, 0.01, 0.16, 0.04, 0.09])
# Ethnic mix of people arriving after 2011 (ETHPUK11 01..18), from migration statistics'
# broad shape: mostly Other White, then Indian, Black African and other Asian groups.
_IMMIGRANT_ETHNIC_P = np.array(
    [
        0.05,
        0.02,
        0.002,
        0.38,
        0.005,
        0.005,
        0.005,
        0.02,
        0.10,
        0.06,
        0.02,
        0.06,
        0.07,
        0.09,
        0.01,
        0.01,
        0.04,
        0.053,
    ]
)
_IMMIGRANT_ETHNIC_P = _IMMIGRANT_ETHNIC_P / _IMMIGRANT_ETHNIC_P.sum()

KIND_CENSUS, KIND_IMMIGRANT, KIND_BORN = 0, 1, 2
#: Share of boys among babies: England and Wales register about 105 boys for every 100 girls
#: (ONS birth registrations), so a child is a boy (sex 0) when a uniform draw falls below it.
MALE_SHARE_AT_BIRTH = 0.512
ROLE_REF, ROLE_PARTNER, ROLE_CHILD, ROLE_OTHER = 0, 1, 2, 3


@dataclass
class Households:
    """Households of a block (census households and immigrant households)."""

    lsoa: np.ndarray
    slot: np.ndarray
    size: np.ndarray
    kind: np.ndarray
    anchor: np.ndarray  # census day, or arrival day for immigrant households
    moved_in: np.ndarray  # day the household came to its first address


def _categorical(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One draw per row of a matrix of cumulative probabilities."""
    u = rng.random(cdf.shape[0])
    return np.minimum((cdf < u[:, None]).sum(axis=1), cdf.shape[1] - 1)


def _household_shapes(rng: np.random.Generator, n: int, type_p: np.ndarray):
    kind = rng.choice(len(_TYPES), size=n, p=type_p)
    adults = np.ones(n, dtype=np.int64)
    adults[np.isin(kind, [3, 4, 5])] = 2
    shared = kind == 7
    adults[shared] = 2 + rng.binomial(2, 0.4, shared.sum())
    kids = np.zeros(n, dtype=np.int64)
    ck = kind == 5
    kids[ck] = rng.choice([1, 2, 3, 4], size=ck.sum(), p=[0.38, 0.42, 0.15, 0.05])
    lp = kind == 6
    kids[lp] = rng.choice([1, 2, 3], size=lp.sum(), p=[0.5, 0.35, 0.15])
    return kind, adults, kids


def _ref_age(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    n = len(kind)
    u = rng.random(n)
    low = np.array([18, 30, 65, 25, 65, 24, 20, 18], dtype=np.float64)[kind]
    high = np.array([30, 65, 65, 70, 65, 58, 55, 35], dtype=np.float64)[kind]
    age = low + u * (high - low)
    old = np.isin(kind, [2, 4])
    age[old] = 65 + rng.exponential(np.where(kind[old] == 2, 10.0, 8.0))
    # Centenarians are rare: an age past 100 is redrawn between 65 and 95.
    too_old = age > 100
    age[too_old] = 65 + 30 * rng.random(int(too_old.sum()))
    return age


def _mixed_child_group(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ETHPUK11 index of the children of parents of groups ``a`` and ``b`` (0-based)."""
    child = a.copy()
    differ = a != b
    white_a, white_b = a <= 3, b <= 3
    other = np.where(white_a, b, a)
    mixed = differ & (white_a ^ white_b)
    child[mixed] = 7
    child[mixed & (other == 14)] = 4
    child[mixed & (other == 13)] = 5
    child[mixed & (other >= 8) & (other <= 12)] = 6
    child[differ & ~mixed] = np.minimum(a, b)[differ & ~mixed]
    return child


def build_households(
    rng: np.random.Generator,
    geo: Geography,
    frame: SamplingFrame,
    n_people: int,
    *,
    immigrant: bool,
    slots: int,
) -> tuple[Households, dict[str, np.ndarray]]:
    """Draw households until they hold exactly ``n_people``; return them and their members.

    Members come back as arrays: household index, role, sex (0 male, 1 female), date of birth,
    ethnic group index (0..17).
    """
    type_p = _IMMIGRANT_TYPE_P if immigrant else _CENSUS_TYPE_P
    kind, adults, kids, size = _shapes_for(rng, n_people, type_p)
    keep = len(kind)
    lsoa, anchor, moved_in, eth_hh = _first_addresses(rng, geo, frame, keep, immigrant=immigrant)
    slot = rng.integers(0, slots, keep)

    hh = np.repeat(np.arange(keep), size)
    pos = np.arange(len(hh)) - np.repeat(np.cumsum(size) - size, size)
    n_adult = adults[hh]
    hk = kind[hh]
    role = np.where(pos == 0, ROLE_REF, np.where(pos < n_adult, ROLE_OTHER, ROLE_CHILD))
    couple = np.isin(hk, [3, 4, 5])
    role[(pos == 1) & couple] = ROLE_PARTNER

    ref_age_hh = _ref_age(rng, kind)
    sex, age = _sexes_and_ages(rng, kind, ref_age_hh, hh, role)
    # Twins: the second child of some families shares the first child's birth date.
    anchor_p = anchor[hh]
    dob = anchor_p - np.floor(age * YEAR).astype(np.int64) - rng.integers(0, 365, len(hh))
    dob = np.minimum(dob, anchor_p - 1)
    ch = role == ROLE_CHILD
    first_child = ch & (pos == n_adult)
    second_child = ch & (pos == n_adult + 1)
    twin_hh = np.zeros(keep, dtype=bool)
    twin_hh[hh[second_child]] = rng.random(second_child.sum()) < 0.03
    twins = second_child & twin_hh[hh]
    first_dob = np.zeros(keep, dtype=np.int64)
    first_dob[hh[first_child]] = dob[first_child]
    dob[twins] = first_dob[hh[twins]]
    eth = _ethnic_groups(rng, geo, lsoa, eth_hh, hh, role, immigrant=immigrant)

    households = Households(
        lsoa=lsoa.astype(np.int64),
        slot=slot.astype(np.int64),
        size=size,
        kind=np.full(keep, KIND_IMMIGRANT if immigrant else KIND_CENSUS, dtype=np.int8),
        anchor=anchor.astype(np.int64),
        moved_in=moved_in,
    )
    members = {
        "hh": hh.astype(np.int64),
        "role": role.astype(np.int8),
        "sex": sex,
        "dob": dob.astype(np.int64),
        "eth": eth.astype(np.int8),
        "twin": twins | (first_child & twin_hh[hh]),
        "hh_type": hk.astype(np.int8),
    }
    return households, members


def _shapes_for(
    rng: np.random.Generator, n_people: int, type_p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Household types, adults, children and sizes of just enough households for
    ``n_people``; the last household is cut down to fit exactly."""
    n_hh = int(n_people) + 16  # every household holds at least one person
    kind, adults, kids = _household_shapes(rng, n_hh, type_p)
    size = adults + kids
    cum = np.cumsum(size)
    keep = int(np.searchsorted(cum, n_people)) + 1
    kind, adults, kids, size = kind[:keep], adults[:keep], kids[:keep], size[:keep].copy()
    excess = int(size.sum() - n_people)
    size[-1] -= excess
    kids[-1] = max(0, size[-1] - adults[-1])
    adults[-1] = size[-1] - kids[-1]
    return kind, adults, kids, size


def _first_addresses(
    rng: np.random.Generator,
    geo: Geography,
    frame: SamplingFrame,
    keep: int,
    *,
    immigrant: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each household's LSOA, anchor day (Census day or arrival), day it moved in, and the
    reference person's ethnic group. Immigrants settle more where minorities already live."""
    if immigrant:
        minority = 1.0 - geo.ethnic_cdf[:, 0]
        lsoa = frame.draw(rng, keep, tilt=1 + 6 * minority)
        anchor = rng.integers(CENSUS_DAY + 1, EXTRACT_DAY + 1, keep)
        moved_in = anchor.copy()
        eth_hh = rng.choice(18, size=keep, p=_IMMIGRANT_ETHNIC_P)
    else:
        lsoa = frame.draw(rng, keep)
        anchor = np.full(keep, CENSUS_DAY, dtype=np.int64)
        moved_in = CENSUS_DAY - np.round(rng.exponential(9.0, keep) * YEAR).astype(np.int64)
        eth_hh = _categorical(rng, geo.ethnic_cdf[lsoa])
    return lsoa, anchor, moved_in, eth_hh


def _sexes_and_ages(
    rng: np.random.Generator,
    kind: np.ndarray,
    ref_age_hh: np.ndarray,
    hh: np.ndarray,
    role: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sex and age of every member, by role: partners mostly of the other sex and of a similar
    age, other adults young, children born to a reference person aged 18 to 42."""
    m = len(hh)
    ref_male_p = np.array([0.55, 0.5, 0.35, 0.75, 0.75, 0.75, 0.1, 0.55])[kind]
    ref_sex_hh = (rng.random(len(kind)) >= ref_male_p).astype(np.int8)
    sex = np.empty(m, dtype=np.int8)
    age = np.empty(m)
    is_ref = role == ROLE_REF
    sex[is_ref] = ref_sex_hh[hh[is_ref]]
    age[is_ref] = ref_age_hh[hh[is_ref]]
    part = role == ROLE_PARTNER
    same_sex = rng.random(part.sum()) < 0.02
    sex[part] = np.where(same_sex, ref_sex_hh[hh[part]], 1 - ref_sex_hh[hh[part]])
    shift = np.where(sex[part] == 1, -2.0, 2.0)
    age[part] = np.maximum(ref_age_hh[hh[part]] + rng.normal(shift, 3.5), 18.0)
    oth = role == ROLE_OTHER
    sex[oth] = (rng.random(oth.sum()) < 0.5).astype(np.int8)
    age[oth] = 18 + rng.random(oth.sum()) * 22
    ch = role == ROLE_CHILD
    sex[ch] = (rng.random(ch.sum()) >= MALE_SHARE_AT_BIRTH).astype(np.int8)
    parent_age = ref_age_hh[hh[ch]]
    child_age = parent_age - (18 + rng.random(ch.sum()) * 24)
    fallback = rng.random(ch.sum()) * np.maximum(parent_age - 18, 0.5)
    child_age = np.where(child_age < 0, fallback, child_age)
    age[ch] = np.clip(child_age, 0.0, 35.0)
    return sex, age


def _ethnic_groups(
    rng: np.random.Generator,
    geo: Geography,
    lsoa: np.ndarray,
    eth_hh: np.ndarray,
    hh: np.ndarray,
    role: np.ndarray,
    *,
    immigrant: bool,
) -> np.ndarray:
    """Ethnic group of every member: partners and other adults mostly share the reference
    person's; children take their parents' (a mixed group when the parents differ)."""
    is_ref, part = role == ROLE_REF, role == ROLE_PARTNER
    oth, ch = role == ROLE_OTHER, role == ROLE_CHILD
    eth = np.empty(len(hh), dtype=np.int64)
    eth[is_ref] = eth_hh[hh[is_ref]]
    if immigrant:
        partner_draw = rng.choice(18, size=part.sum(), p=_IMMIGRANT_ETHNIC_P)
        other_draw = rng.choice(18, size=oth.sum(), p=_IMMIGRANT_ETHNIC_P)
    else:
        partner_draw = _categorical(rng, geo.ethnic_cdf[lsoa[hh[part]]])
        other_draw = _categorical(rng, geo.ethnic_cdf[lsoa[hh[oth]]])
    eth[part] = np.where(rng.random(part.sum()) < 0.88, eth_hh[hh[part]], partner_draw)
    eth[oth] = np.where(rng.random(oth.sum()) < 0.6, eth_hh[hh[oth]], other_draw)
    partner_eth = eth_hh.copy()
    partner_eth[hh[part]] = eth[part]
    eth[ch] = _mixed_child_group(eth_hh[hh[ch]], partner_eth[hh[ch]])
    return eth


def name_people(
    rng: np.random.Generator,
    bank: NameBank,
    people: dict[str, np.ndarray],
    config: WorldConfig,
) -> None:
    """Give every person a forename, middle names and surnames (vocabulary indices).

    Sets ``origin``, ``forename``, ``middle``, ``surname_birth`` and ``surname_2011`` (the
    surname in use at Census day or on arrival). Household members share the reference
    person's family surname; married partners took it, so their birth surname differs.
    """
    origin = draw_origin(rng, people["eth"])
    surname_birth, surname_2011 = _surnames(rng, bank, people, origin)
    sex = people["sex"]
    year = birth_year(people["dob"])
    forename, middle = _forename_and_middle(rng, bank, origin, sex, year)
    _put_prefix_names_first(rng, bank, origin, sex, forename, middle)
    _distinct_twin_forenames(rng, bank, people, origin, year, forename)
    _name_sons_after_fathers(rng, people, forename, config.population.father_son_same_name)

    people["origin"] = origin
    people["forename"] = forename
    people["middle"] = middle
    people["surname_birth"] = surname_birth
    people["surname_2011"] = surname_2011


def _surnames(
    rng: np.random.Generator,
    bank: NameBank,
    people: dict[str, np.ndarray],
    origin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Birth and 2011 surnames. Children, and partners of the household's own ethnic group,
    take the reference person's naming origin (``origin`` is changed in place)."""
    hh = people["hh"]
    role = people["role"]
    n = len(hh)
    n_hh = int(hh.max()) + 1 if n else 0
    ref_origin = np.zeros(n_hh, dtype=np.int8)
    is_ref = role == ROLE_REF
    ref_origin[hh[is_ref]] = origin[is_ref]
    ref_eth = np.zeros(n_hh, dtype=np.int8)
    ref_eth[hh[is_ref]] = people["eth"][is_ref]
    # A partner of the household's own ethnic group shares its naming origin (a Sikh couple).
    same = (role == ROLE_PARTNER) & (people["eth"] == ref_eth[hh])
    origin[same] = ref_origin[hh[same]]
    family = draw_surnames(rng, bank, ref_origin)
    child = role == ROLE_CHILD
    origin[child] = ref_origin[hh[child]]

    own = draw_surnames(rng, bank, origin)
    surname_2011 = own.copy()
    takes_family = is_ref | child
    married_partner = (role == ROLE_PARTNER) & (rng.random(n) < 0.85)
    takes_family |= married_partner
    surname_2011[takes_family] = family[hh[takes_family]]
    # Some children of lone parents carry the other parent's surname.
    lone_child = child & (people["hh_type"] == 6) & (rng.random(n) < 0.2)
    surname_2011[lone_child] = own[lone_child]
    surname_birth = surname_2011.copy()
    surname_birth[married_partner] = own[married_partner]
    # Customary surnames (Singh, Kaur, Begum, Miah ...) replace the family name for a share.
    custom = apply_sex_surnames(rng, bank, surname_2011, origin, people["sex"])
    changed = custom != surname_2011
    surname_2011[changed] = custom[changed]
    surname_birth[changed] = custom[changed]
    return surname_birth, surname_2011


def _forename_and_middle(
    rng: np.random.Generator,
    bank: NameBank,
    origin: np.ndarray,
    sex: np.ndarray,
    year: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A forename, and for a share that depends on the naming origin a different middle name
    (``-1`` for none)."""
    forename = draw_forenames(rng, bank, origin, sex, year)
    middle = draw_forenames(rng, bank, origin, sex, year)
    middle_share = np.array(
        [0.6, 0.5, 0.25, 0.25, 0.3, 0.2, 0.15, 0.25, 0.15, 0.25, 0.35, 0.3, 0.2]
    )[origin]
    clash = middle == forename
    middle[clash] = draw_forenames(rng, bank, origin[clash], sex[clash], year[clash])
    middle = np.where((rng.random(len(origin)) < middle_share) & (middle != forename), middle, -1)
    return forename, middle


def _put_prefix_names_first(
    rng: np.random.Generator,
    bank: NameBank,
    origin: np.ndarray,
    sex: np.ndarray,
    forename: np.ndarray,
    middle: np.ndarray,
) -> None:
    """Name-order custom: many men of Pakistani or Bangladeshi heritage have Mohammed (or Md)
    first and are known by the name that follows it. Changes ``forename`` and ``middle``."""
    n = len(origin)
    muslim = np.isin(origin, [ORIGINS.index("pakistani"), ORIGINS.index("bangladeshi")])
    prefix_m = muslim & (sex == 0) & (rng.random(n) < 0.35)
    middle[prefix_m] = forename[prefix_m]
    forename[prefix_m] = bank.prefix_forenames["M"].draw(rng, int(prefix_m.sum()))
    prefix_f = muslim & (sex == 1) & (rng.random(n) < 0.05)
    middle[prefix_f] = forename[prefix_f]
    forename[prefix_f] = bank.prefix_forenames["F"].draw(rng, int(prefix_f.sum()))


def _distinct_twin_forenames(
    rng: np.random.Generator,
    bank: NameBank,
    people: dict[str, np.ndarray],
    origin: np.ndarray,
    year: np.ndarray,
    forename: np.ndarray,
) -> None:
    """Twins never share a forename: the first twin (followed by the second) is redrawn until
    the two differ, at most five times. Changes ``forename``."""
    hh, sex = people["hh"], people["sex"]
    same_hh_next = np.r_[hh[1:] == hh[:-1], False]
    for _ in range(5):
        clash = people["twin"] & same_hh_next & (np.r_[forename[1:], -2] == forename)
        if not clash.any():
            break
        forename[clash] = draw_forenames(rng, bank, origin[clash], sex[clash], year[clash])


def _name_sons_after_fathers(
    rng: np.random.Generator, people: dict[str, np.ndarray], forename: np.ndarray, share: float
) -> None:
    """Fathers and sons with the same name: a ``share`` of sons living with their father (the
    reference person of a couple with children) get his forename. Changes ``forename``."""
    hh, sex = people["hh"], people["sex"]
    n = len(hh)
    father = np.full(int(hh.max()) + 1 if n else 0, -1, dtype=np.int64)
    male_ref = (people["role"] == ROLE_REF) & (sex == 0) & np.isin(people["hh_type"], [5])
    father[hh[male_ref]] = forename[male_ref]
    junior = (people["role"] == ROLE_CHILD) & (sex == 0) & (father[hh] >= 0)
    junior &= rng.random(n) < share
    forename[junior] = father[hh[junior]]


def share_dates_of_birth(
    rng: np.random.Generator,
    households: Households,
    members: dict[str, np.ndarray],
    share: float,
) -> None:
    """Plant neighbours who share a date of birth.

    A ``share`` of people are paired with a person of another household; that household moves
    to the first one's postcode and the second person takes the first one's date of birth, so
    that matching on date of birth and postcode alone is ambiguous.
    """
    n = len(members["hh"])
    k = int(rng.binomial(n, share / 2)) if n > 1 else 0
    if k == 0:
        return
    a = rng.integers(0, n, k)
    b = rng.integers(0, n, k)
    ok = members["hh"][a] != members["hh"][b]
    a, b = a[ok], b[ok]
    ha, hb = members["hh"][a], members["hh"][b]
    households.lsoa[hb] = households.lsoa[ha]
    households.slot[hb] = households.slot[ha]
    members["dob"][b] = members["dob"][a]
