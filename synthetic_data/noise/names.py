"""Recording errors in names: swaps, nicknames, variants, fake names, phonetic, OCR, typos."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.names import (
    ORIGINS,
    nickname_table,
    surname_variant_table,
    variant_table,
)
from synthetic_data.noise.base import (
    NoiseNode,
    NoiseResult,
    not_null,
    replace_at,
    row_ids,
    select_rows,
)

_FAKE_FORENAMES = ["Baby", "Unknown", "Test", "Not Known"]
_FAKE_SURNAMES = ["Unknown", "Xxx", "Test", "Not Stated"]
# Name-order mistakes are far more common for names written family name first.
_SWAP_MULTIPLIER = {ORIGINS.index("chinese"): 6.0, ORIGINS.index("other_asian"): 3.0}

# Sound-alike spellings (pattern -> replacement), applied to the first occurrence.
PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ee", "ea"), ("ea", "ee"),
    ("ie", "y"), ("y", "ie"), ("ou", "ow"), ("th", "t"), ("z", "s"), ("s", "z"), ("ai", "ay"),
    ("oo", "u"), ("mm", "m"), ("ll", "l"), ("tt", "t"), ("nn", "n"), ("ss", "s"), ("ey", "y"),
    ("u", "oo"), ("i", "ee"), ("sh", "ch"), ("w", "v"),
)  # fmt: skip
# Misreadings of scanned handwriting.
OCR_RULES: tuple[tuple[str, str], ...] = (
    ("m", "rn"), ("rn", "m"), ("l", "1"), ("I", "l"), ("O", "0"), ("o", "0"), ("S", "5"),
    ("B", "8"), ("cl", "d"), ("d", "cl"), ("e", "c"), ("h", "b"), ("u", "v"), ("n", "h"),
    ("i", "l"), ("a", "o"), ("g", "q"), ("G", "6"), ("Z", "2"), ("vv", "w"),
)  # fmt: skip
KEYBOARD: dict[str, str] = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adwxz", "d": "sefxc", "f": "drgcv",
    "g": "fthvb", "h": "gjybn", "j": "hkunm", "k": "jlim", "l": "kop", "z": "asx", "x": "zsdc",
    "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip


def swap_names(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """Forename and surname recorded the wrong way round (logged on the forename column)."""
    eligible = not_null(data, "forename") & not_null(data, "surname")
    origin = data.get_column("_origin").to_numpy()
    mult = np.ones(data.height)
    for o, m in _SWAP_MULTIPLIER.items():
        mult[origin == o] = m
    pos = select_rows(data, node, rng, eligible, mult)
    fore = data.get_column("forename").gather(pos)
    sur = data.get_column("surname").gather(pos)
    data = replace_at(data, "forename", pos, sur)
    data = replace_at(data, "surname", pos, fore)
    return NoiseResult(data, row_ids(data, pos))


def _alternative(
    data: pl.DataFrame,
    node: NoiseNode,
    rng: np.random.Generator,
    column: str,
    table: pl.DataFrame,
) -> NoiseResult:
    values = data.get_column(column)
    alts = (
        pl.DataFrame({"name": values})
        .join(table, on="name", how="left", maintain_order="left")
        .get_column("alternatives")
    )
    eligible = alts.is_not_null().to_numpy()
    pos = select_rows(data, node, rng, eligible)
    if len(pos) == 0:
        return NoiseResult(data, pos)
    options = alts.gather(pos).str.split("|")
    pick = pl.Series(rng.integers(0, 1_000_000, len(pos)))
    frame = pl.DataFrame({"o": options, "k": pick})
    chosen = frame.select(pl.col("o").list.get(pl.col("k") % pl.col("o").list.len())).to_series()
    data = replace_at(data, column, pos, chosen)
    return NoiseResult(data, row_ids(data, pos))


def nickname(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A nickname or short form instead of the formal forename (Bill for William)."""
    return _alternative(data, node, rng, column, nickname_table())


def spelling_variant(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """Another accepted spelling of the same name (Mohammed, Muhammad; Hussain, Hussein)."""
    table = variant_table() if column == "forename" else surname_variant_table()
    return _alternative(data, node, rng, column, table)


def fake_name(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A placeholder instead of the name (Baby, Unknown, Test)."""
    pos = select_rows(data, node, rng, not_null(data, column))
    pool = _FAKE_FORENAMES if column == "forename" else _FAKE_SURNAMES
    values = pl.Series(np.array(pool)[rng.integers(0, len(pool), len(pos))], dtype=pl.Utf8)
    data = replace_at(data, column, pos, values)
    return NoiseResult(data, row_ids(data, pos))


def _apply_rules(
    data: pl.DataFrame,
    node: NoiseNode,
    rng: np.random.Generator,
    column: str,
    rules: tuple[tuple[str, str], ...],
) -> NoiseResult:
    values = data.get_column(column)
    # Draw first, then test the rules only on the drawn rows: a row is hit with the same
    # probability as if eligibility were tested everywhere, at a fraction of the cost.
    drawn = select_rows(data, node, rng)
    sub = values.gather(drawn)
    applicable = (
        np.column_stack(
            [
                sub.str.contains(pattern, literal=True).fill_null(False).to_numpy()
                for pattern, _ in rules
            ]
        )
        if len(drawn)
        else np.zeros((0, len(rules)), dtype=bool)
    )
    keep = applicable.any(axis=1)
    pos, applicable = drawn[keep], applicable[keep]
    if len(pos) == 0:
        return NoiseResult(data, pos)
    # Pick one applicable rule per row at random.
    score = rng.random((len(pos), len(rules))) * applicable
    rule = score.argmax(axis=1)
    sub = values.gather(pos)
    out = sub.clone()
    for r, (pattern, replacement) in enumerate(rules):
        which = np.flatnonzero(rule == r)
        if len(which):
            changed = sub.gather(which).str.replace(pattern, replacement, literal=True, n=1)
            out = out.scatter(which, changed)
    data = replace_at(data, column, pos, out)
    return NoiseResult(data, row_ids(data, pos))


def phonetic(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A sound-alike spelling (ph for f, ck for k ...), as when a name is given aloud."""
    return _apply_rules(data, node, rng, column, PHONETIC_RULES)


def ocr(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A character misread from a scanned form (rn for m, 0 for O ...)."""
    return _apply_rules(data, node, rng, column, OCR_RULES)


def typo(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A keyboard slip: a neighbouring key, a dropped or extra letter, or two letters swapped."""
    values = data.get_column(column)
    eligible = (values.str.len_chars().fill_null(0) >= 2).to_numpy()
    pos = select_rows(data, node, rng, eligible)
    if len(pos) == 0:
        return NoiseResult(data, pos)
    sub = values.gather(pos)
    length = sub.str.len_chars().to_numpy()
    op = rng.choice(4, size=len(pos), p=[0.55, 0.15, 0.15, 0.15])
    at = np.floor(rng.random(len(pos)) * length).astype(np.int64)
    at = np.where(op == 3, np.minimum(at, length - 2), at)
    frame = pl.DataFrame({"s": sub, "p": at, "op": op, "k": rng.integers(0, 1000, len(pos))})
    ch = pl.col("s").str.slice(pl.col("p"), 1)
    neighbours = ch.str.to_lowercase().replace_strict(KEYBOARD, default=ch.str.to_lowercase())
    key = neighbours.str.slice(pl.col("k") % neighbours.str.len_chars(), 1)
    key = pl.when(ch == ch.str.to_uppercase()).then(key.str.to_uppercase()).otherwise(key)
    head = pl.col("s").str.head(pl.col("p"))
    rest = pl.col("s").str.slice(pl.col("p") + 1)
    result = frame.select(
        pl.when(pl.col("op") == 0)
        .then(pl.concat_str(head, key, rest))
        .when(pl.col("op") == 1)
        .then(pl.concat_str(head, rest))
        .when(pl.col("op") == 2)
        .then(pl.concat_str(head, key, pl.col("s").str.slice(pl.col("p"))))
        .otherwise(
            pl.concat_str(
                head,
                pl.col("s").str.slice(pl.col("p") + 1, 1),
                ch,
                pl.col("s").str.slice(pl.col("p") + 2),
            )
        )
    ).to_series()
    changed = (result != sub).fill_null(False).to_numpy()
    pos, result = pos[changed], result.filter(pl.Series(changed))
    data = replace_at(data, column, pos, result)
    return NoiseResult(data, row_ids(data, pos))
