"""Name pools that fit ethnic group, sex and birth cohort, with skewed (Zipf) frequencies.

Names are handled as integer indices into one vocabulary (a polars Series) so that a million
people are named with a few ``numpy`` gathers rather than per-person string work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from synthetic_data.reference import load_baby_names

DATA_DIR = Path(__file__).resolve().parent / "data"

ORIGINS: tuple[str, ...] = (
    "english",
    "irish",
    "polish",
    "european",
    "pakistani",
    "bangladeshi",
    "sikh",
    "hindu",
    "chinese",
    "other_asian",
    "west_african",
    "caribbean",
    "arab",
)
_O = {name: i for i, name in enumerate(ORIGINS)}

# Probability of each naming origin given the ETHPUK11 group (rows 01..18). Mixed groups mostly
# carry English names; Indian people are Sikh, Hindu or Muslim; Other White are largely Polish
# and other European migrants.
_ORIGIN_BY_ETHNIC: list[dict[str, float]] = [
    {"english": 1.0},
    {"irish": 0.7, "english": 0.3},
    {"english": 0.8, "irish": 0.2},
    {"polish": 0.45, "european": 0.4, "english": 0.15},
    {"english": 0.85, "caribbean": 0.15},
    {"english": 0.6, "west_african": 0.4},
    {"english": 0.6, "pakistani": 0.15, "hindu": 0.15, "chinese": 0.1},
    {"english": 0.65, "arab": 0.1, "west_african": 0.1, "european": 0.15},
    {"hindu": 0.55, "sikh": 0.3, "pakistani": 0.15},
    {"pakistani": 1.0},
    {"bangladeshi": 1.0},
    {"chinese": 1.0},
    {"other_asian": 0.7, "hindu": 0.15, "pakistani": 0.15},
    {"west_african": 0.95, "english": 0.05},
    {"caribbean": 1.0},
    {"caribbean": 0.5, "west_african": 0.5},
    {"arab": 1.0},
    {"arab": 0.3, "other_asian": 0.3, "european": 0.2, "english": 0.2},
]
ORIGIN_CDF = np.zeros((18, len(ORIGINS)))
for _e, _mix in enumerate(_ORIGIN_BY_ETHNIC):
    for _name, _p in _mix.items():
        ORIGIN_CDF[_e, _O[_name]] = _p
ORIGIN_CDF = np.cumsum(ORIGIN_CDF / ORIGIN_CDF.sum(axis=1, keepdims=True), axis=1)
ORIGIN_CDF[:, -1] = 1.0

#: Birth-decade keys of the English forename lists; 2010 means the ONS 2020 baby names.
COHORTS: tuple[int, ...] = (1900, 1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010)

# Origins whose UK-born children (born from 1995) sometimes get a name from the English pool.
_ANGLICISING = {"chinese": 0.35, "west_african": 0.3, "other_asian": 0.3, "european": 0.3}

#: Forenames that people of Pakistani and Bangladeshi heritage often put first, before the name
#: they are called by (which then appears as a middle name).
PREFIX_FORENAMES_M: tuple[str, ...] = ("Mohammed", "Muhammad", "Md", "Mohammad")
PREFIX_FORENAMES_F: tuple[str, ...] = ("Syeda", "Bibi")


@dataclass(frozen=True)
class Pool:
    """A weighted set of names: vocabulary indices and their cumulative probabilities."""

    index: np.ndarray
    cdf: np.ndarray

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` vocabulary indices with the pool's frequencies."""
        pos = np.searchsorted(self.cdf, rng.random(n), side="right")
        return self.index[np.minimum(pos, len(self.index) - 1)]


@dataclass(frozen=True)
class NameBank:
    """Every pool, over one shared vocabulary."""

    vocabulary: pl.Series
    forenames: dict[tuple[str, str, int], Pool]
    surnames: dict[str, Pool]
    sex_surnames: dict[tuple[str, str], tuple[Pool, float]]
    prefix_forenames: dict[str, Pool]

    def strings(self, index: np.ndarray) -> pl.Series:
        """Turn vocabulary indices (``-1`` for none) into a string Series with nulls."""
        idx = pl.Series(index, dtype=pl.Int64)
        idx = pl.select(pl.when(idx >= 0).then(idx)).to_series()
        return self.vocabulary.gather(idx)

    def lookup(self, names: list[str]) -> np.ndarray:
        """Vocabulary indices of given names (added at construction)."""
        pos = {n: i for i, n in enumerate(self.vocabulary.to_list())}
        return np.array([pos[n] for n in names], dtype=np.int64)


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


class _Vocabulary:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.pos: dict[str, int] = {}

    def ids(self, names: list[str]) -> np.ndarray:
        out = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            if name not in self.pos:
                self.pos[name] = len(self.names)
                self.names.append(name)
            out[i] = self.pos[name]
        return out


def _pool(vocab: _Vocabulary, parts: list[tuple[list[str], np.ndarray, float]]) -> Pool:
    """Combine (names, weights, mass) parts into one pool, merging repeated names."""
    weights: dict[int, float] = {}
    for names, w, mass in parts:
        ids = vocab.ids(names)
        w = w / w.sum() * mass
        for i, wi in zip(ids.tolist(), w.tolist(), strict=True):
            weights[i] = weights.get(i, 0.0) + wi
    index = np.array(list(weights), dtype=np.int64)
    prob = np.array(list(weights.values()))
    cdf = np.cumsum(prob / prob.sum())
    cdf[-1] = 1.0
    return Pool(index=index, cdf=cdf)


def load_yaml(name: str) -> dict:
    """Read one of the package's YAML data files."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((DATA_DIR / name).read_text(encoding="utf-8"), Loader=loader)


@lru_cache(maxsize=1)
def load_name_bank() -> NameBank:
    """Build every pool once per process."""
    data = load_yaml("names.yaml")
    baby = load_baby_names()
    # Pools are built in a fixed order: it sets each name's vocabulary index.
    vocab = _Vocabulary()
    english = data["english"]
    baby_top = {s: (baby[s][0][:3000], baby[s][1][:3000]) for s in ("M", "F")}
    forenames = _english_forenames(vocab, english, baby, baby_top)
    surnames = {"english": _english_surnames(vocab, english)}
    sex_surnames: dict[tuple[str, str], tuple[Pool, float]] = {}
    for origin in ORIGINS[1:]:
        block = data[origin]
        names = block["surnames"]
        surnames[origin] = _pool(vocab, [(names, _zipf(len(names), 0.8), 1.0)])
        forenames.update(_origin_forenames(vocab, origin, block, english, baby_top))
        sex_surnames.update(_sex_surnames(vocab, origin, block))

    prefix = {
        "M": _pool(vocab, [(list(PREFIX_FORENAMES_M), np.array([0.5, 0.25, 0.15, 0.1]), 1.0)]),
        "F": _pool(vocab, [(list(PREFIX_FORENAMES_F), np.array([0.6, 0.4]), 1.0)]),
    }
    vocab.ids(["Baby", "Unknown", "Test", "Xxx", "Not Known"])
    return NameBank(
        vocabulary=pl.Series("name", vocab.names, dtype=pl.Utf8),
        forenames=forenames,
        surnames=surnames,
        sex_surnames=sex_surnames,
        prefix_forenames=prefix,
    )


_BabyNames = dict[str, tuple[list[str], np.ndarray]]


def _english_forenames(
    vocab: _Vocabulary, english: dict, baby: _BabyNames, baby_top: _BabyNames
) -> dict[tuple[str, str, int], Pool]:
    """English forename pools by sex and birth cohort."""
    forenames: dict[tuple[str, str, int], Pool] = {}
    for sex in ("M", "F"):
        for cohort in COHORTS:
            if cohort == 2010:
                parts = [(baby[sex][0], baby[sex][1], 1.0)]
            else:
                top = english["forenames"][str(cohort)][sex]
                # The decade's popular names carry most of the mass; the baby-name list
                # supplies the long tail of rarer names.
                parts = [
                    (top, _zipf(len(top), 0.5), 0.5),
                    (baby_top[sex][0], baby_top[sex][1], 0.5),
                ]
            forenames[("english", sex, cohort)] = _pool(vocab, parts)
    return forenames


def _english_surnames(vocab: _Vocabulary, english: dict) -> Pool:
    """The 250 commonest surnames hold about 30% of people (Smith about 1.4%), as in England
    and Wales; the morpheme tail supplies thousands of rarer ones."""
    tail = sorted({p + s for p in english["surname_prefixes"] for s in english["surname_suffixes"]})
    tail_rng = np.random.default_rng(1)  # fixed: the pool itself is data, not a draw
    tail_w = _zipf(len(tail), 0.3)[tail_rng.permutation(len(tail))]
    top = english["surnames"]
    return _pool(vocab, [(top, _zipf(len(top), 0.6), 0.3), (tail, tail_w, 0.7)])


def _origin_forenames(
    vocab: _Vocabulary, origin: str, block: dict, english: dict, baby_top: _BabyNames
) -> dict[tuple[str, str, int], Pool]:
    """Forename pools of one naming origin by sex and birth cohort."""
    forenames: dict[tuple[str, str, int], Pool] = {}
    for sex in ("M", "F"):
        own = block.get("forenames", {}).get(sex)
        for cohort in COHORTS:
            parts = _origin_forename_parts(origin, own, sex, cohort, english, baby_top)
            forenames[(origin, sex, cohort)] = _pool(vocab, parts)
    return forenames


def _origin_forename_parts(
    origin: str, own: list[str], sex: str, cohort: int, english: dict, baby_top: _BabyNames
) -> list[tuple[list[str], np.ndarray, float]]:
    """The parts of one forename pool: the origin's own names; half English names for Irish
    people and for Caribbean people born from 1970; for origins that anglicise, a share of
    recent baby names for people born from 1990."""
    parts = [(own, _zipf(len(own), 0.6), 1.0)]
    if origin == "irish" or origin == "caribbean" and cohort >= 1970:
        eng = english["forenames"].get(str(cohort), {}).get(sex)
        if eng:
            parts = [parts[0][:2] + (0.5,), (eng, _zipf(len(eng), 1.0), 0.5)]
    anglicise = _ANGLICISING.get(origin, 0.0)
    if anglicise and cohort >= 1990:
        parts = [parts[0][:2] + (1 - anglicise,)]
        parts.append((baby_top[sex][0], baby_top[sex][1], anglicise))
    return parts


def _sex_surnames(
    vocab: _Vocabulary, origin: str, block: dict
) -> dict[tuple[str, str], tuple[Pool, float]]:
    """Customary surnames of one sex (Kaur, Begum, Singh) and the share of people who use one."""
    pools: dict[tuple[str, str], tuple[Pool, float]] = {}
    for sex, key in (("F", "female"), ("M", "male")):
        extra = block.get(f"{key}_surnames")
        if extra:
            share = float(block.get(f"{key}_surname_share", 1.0))
            pool = _pool(vocab, [(extra, _zipf(len(extra), 1.0), 1.0)])
            pools[(origin, sex)] = (pool, share)
    return pools


def cohort_of(birth_year: np.ndarray) -> np.ndarray:
    """The forename cohort key for each birth year."""
    keys = np.array(COHORTS)
    pos = np.searchsorted(keys, birth_year, side="right") - 1
    return keys[np.clip(pos, 0, len(keys) - 1)]


def draw_origin(rng: np.random.Generator, ethnic: np.ndarray) -> np.ndarray:
    """Draw a naming origin (index into ``ORIGINS``) for each ethnic group code index."""
    u = rng.random(len(ethnic))
    return (ORIGIN_CDF[ethnic] < u[:, None]).sum(axis=1).astype(np.int8)


def draw_forenames(
    rng: np.random.Generator,
    bank: NameBank,
    origin: np.ndarray,
    sex: np.ndarray,
    birth_year: np.ndarray,
) -> np.ndarray:
    """Draw a forename index per person from the pool of their origin, sex and cohort."""
    out = np.empty(len(origin), dtype=np.int64)
    if len(origin) == 0:
        return out
    cohort = np.searchsorted(np.array(COHORTS), cohort_of(birth_year))
    # Sort people once by (origin, sex, cohort) and draw each group's names as one slice.
    key = (origin.astype(np.int64) * 2 + sex) * len(COHORTS) + cohort
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    groups = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    bounds = np.r_[groups, len(order)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        k = int(sorted_key[lo])
        o, rest = divmod(k, 2 * len(COHORTS))
        s, c = divmod(rest, len(COHORTS))
        pool = bank.forenames[(ORIGINS[o], ("M", "F")[s], COHORTS[c])]
        out[order[lo:hi]] = pool.draw(rng, hi - lo)
    return out


def draw_surnames(rng: np.random.Generator, bank: NameBank, origin: np.ndarray) -> np.ndarray:
    """Draw a family surname index per origin."""
    out = np.empty(len(origin), dtype=np.int64)
    for o, oname in enumerate(ORIGINS):
        sel = np.flatnonzero(origin == o)
        if len(sel):
            out[sel] = bank.surnames[oname].draw(rng, len(sel))
    return out


def apply_sex_surnames(
    rng: np.random.Generator,
    bank: NameBank,
    surname: np.ndarray,
    origin: np.ndarray,
    sex: np.ndarray,
) -> np.ndarray:
    """Replace family surnames with customary ones (Singh, Kaur, Begum, Miah ...) for a share."""
    out = surname.copy()
    for (oname, sname), (pool, share) in bank.sex_surnames.items():
        sel = np.flatnonzero((origin == _O[oname]) & (sex == (0 if sname == "M" else 1)))
        if len(sel):
            take = sel[rng.random(len(sel)) < share]
            out[take] = pool.draw(rng, len(take))
    return out


@lru_cache(maxsize=1)
def variant_table() -> pl.DataFrame:
    """Forename -> alternatives joined by ``|`` (spelling variants), for vectorised lookup."""
    groups = load_yaml("names.yaml")["forename_variants"]
    alts: dict[str, set[str]] = {}
    for group in groups:
        for name in group:
            alts.setdefault(name, set()).update(n for n in group if n != name)
    names = sorted(alts)
    return pl.DataFrame({"name": names, "alternatives": ["|".join(sorted(alts[n])) for n in names]})


@lru_cache(maxsize=1)
def nickname_table() -> pl.DataFrame:
    """Formal forename -> nicknames joined by ``|``."""
    data = load_yaml("nicknames.yaml")
    names = sorted(data)
    return pl.DataFrame({"name": names, "alternatives": ["|".join(data[n]) for n in names]})


SURNAME_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Hussain", "Hussein", "Husain", "Hossain"),
    ("Ahmed", "Ahmad"),
    ("Chaudhry", "Chaudhary", "Choudhury", "Chowdhury"),
    ("Mohammed", "Mohamed", "Muhammad"),
    ("Miah", "Mia", "Meah"),
    ("Uddin", "Udin"),
    ("Rahman", "Rehman"),
    ("Hoque", "Haque", "Huq"),
    ("Clarke", "Clark"),
    ("Thompson", "Thomson"),
    ("Phillips", "Philips"),
    ("Matthews", "Mathews"),
    ("Mcdonald", "Macdonald", "McDonald"),
    ("Smith", "Smyth"),
    ("Reid", "Reed", "Read"),
    ("Gray", "Grey"),
    ("Stephenson", "Stevenson"),
    ("O'Brien", "OBrien", "O Brien"),
    ("O'Connor", "OConnor", "O Connor"),
    ("Wisniewski", "Wiśniewski"),
    ("Nguyen", "Nguyễn"),
    ("Kowalczyk", "Kowalcyk"),
    ("Patel", "Patell"),
    ("Begum", "Begom"),
    ("Khatun", "Khatoon"),
)


@lru_cache(maxsize=1)
def surname_variant_table() -> pl.DataFrame:
    """Surname -> spelling variants joined by ``|``."""
    alts: dict[str, set[str]] = {}
    for group in SURNAME_VARIANTS:
        for name in group:
            alts.setdefault(name, set()).update(n for n in group if n != name)
    names = sorted(alts)
    return pl.DataFrame({"name": names, "alternatives": ["|".join(sorted(alts[n])) for n in names]})
