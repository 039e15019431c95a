"""Identifiers: NHS numbers with a valid mod-11 check digit, NINOs, and scrambled record ids.

All are pure functions of a global index, so a person's identifiers do not depend on how the
population was split into blocks.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.frames import labels

_NHS_WEIGHTS = np.arange(10, 1, -1)


def _affine(index: np.ndarray, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` that scatters consecutive indices."""
    return (index.astype(np.int64) * multiplier + offset) % modulus


def nhs_check_digit(body: np.ndarray) -> np.ndarray:
    """Mod-11 check digit of 9-digit bodies; 10 means the body cannot be used."""
    digits = (body[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    remainder = (digits * _NHS_WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def nhs_numbers(person_index: np.ndarray) -> pl.Series:
    """Unique valid NHS numbers for global person indices.

    Bodies start with 4 (the range used in England). A body whose check digit would be 10 is
    moved to the 6 range: raising the first digit by 2 adds 20 (9 mod 11) to the weighted sum,
    which turns remainder 1 (invalid) into 10 (check digit 1), so every index gets a number.
    """
    body = 400_000_000 + _affine(person_index, 100_000_000, 48_271_937, 7_654_321)
    check = nhs_check_digit(body)
    body = np.where(check == 10, body + 200_000_000, body)
    check = nhs_check_digit(body)
    number = body * 10 + check
    return pl.Series("nhs_number", number).cast(pl.Utf8)


def nhs_number_is_valid(numbers: pl.Series) -> pl.Series:
    """True where a string is 10 digits with a correct mod-11 check digit."""
    text = numbers.fill_null("")
    ok = text.str.contains(r"^\d{10}$")
    safe = pl.select(pl.when(ok).then(text).otherwise(pl.lit("0000000000"))).to_series()
    values = safe.cast(pl.Int64).to_numpy()
    check = nhs_check_digit(values // 10)
    return ok & pl.Series((check != 10) & (check == values % 10))


# NINO prefixes: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; and not the
# administrative prefixes BG, GB, KN, NK, NT, TN, ZZ.
_FIRST = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
_SECOND = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
NINO_PREFIXES: tuple[str, ...] = tuple(
    a + b
    for a in _FIRST
    for b in _SECOND
    if a + b not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
)
#: The NINO rule without look-behind (polars regex has none): check the prefix separately.
NINO_SHAPE = r"^[ABCEGHJ-PRSTW-Z][ABCEGHJ-NPRSTW-Z]\d{6}[A-D]$"
NINO_BANNED_PREFIXES = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")


def ninos(person_index: np.ndarray, suffix_draw: np.ndarray) -> pl.Series:
    """Unique, valid-format NINOs for global person indices (suffix from ``suffix_draw``)."""
    space = len(NINO_PREFIXES) * 1_000_000
    code = _affine(person_index, space, 2_654_435_761 % space | 1, 12_345)
    prefix = labels(NINO_PREFIXES, code // 1_000_000, "p")
    digits = code % 1_000_000
    suffix = labels("ABCD", suffix_draw % 4, "s")
    frame = pl.DataFrame([prefix, pl.Series("d", digits), suffix])
    return frame.select(
        pl.concat_str("p", pl.col("d").cast(pl.Utf8).str.zfill(6), "s").alias("nino")
    ).to_series()


def nino_is_valid(values: pl.Series) -> pl.Series:
    """True where a NINO matches the format rules (letters, digits, suffix, banned prefixes)."""
    text = values.fill_null("")
    shape = text.str.contains(NINO_SHAPE)
    banned = text.str.slice(0, 2).is_in(list(NINO_BANNED_PREFIXES))
    return shape & ~banned


def scrambled_ids(prefix: str, index: np.ndarray, width: int) -> pl.Series:
    """Unique ids like ``C000123456`` whose digits do not reveal the order of creation."""
    # 3**18 is coprime with 10**width, so the affine map is a bijection of the id space; the
    # offset depends on the prefix so that different id kinds never share digits by position.
    offset = (sum(ord(c) for c in prefix) * 982_451_653 + 104_729) % 10**width
    scrambled = _affine(index, 10**width, 387_420_489, offset)
    digits = pl.Series(scrambled).cast(pl.Utf8).str.zfill(width)
    return pl.select(pl.lit(prefix) + digits).to_series()
