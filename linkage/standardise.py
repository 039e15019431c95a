"""Standardisation of identifiers before linkage, as polars expressions and frame functions.

The rules (applied identically to every source, so that equal people compare equal):

- names: upper case; accents removed (Unicode NFKD, combining marks dropped); apostrophes
  dropped (O'Brien -> OBRIEN); other punctuation and hyphens become spaces; titles and
  post-nominal suffixes removed (MR, MRS, DR, JR ...). A forename field holding several words
  keeps its first word as the forename and moves the rest to the middle names. A
  double-barrelled or hyphenated surname is kept whole without spaces (SMITHJONES) and its
  first and last parts are kept too, so SMITH-JONES can agree with SMITH or with JONES.
  ``name_key`` is the forename and surname sorted alphabetically, which is the same whichever
  order the two were recorded in. ``forename_group`` joins nicknames and formal names
  (BOB, ROBERT) using ``reference/nicknames.csv``. A field holding only a placeholder
  (``Unknown``, ``Not stated``, ``Baby``; ``reference/placeholder_names.csv``) is missing.
- dates: Date, parsed from ISO (``2011-03-27``), day-first UK forms (``27/03/2011``,
  ``27-03-2011``, ``27.03.2011``, ``27 Mar 2011``, ``27 March 2011``), compact
  ``20110327`` and ``2011/03/27``. Day-first wins where a date is ambiguous (UK records).
- postcodes: upper case, spaces and punctuation removed, then written ``OUTWARD INWARD`` when
  the shape is a valid UK postcode (otherwise null); outward code (district), sector
  (outward plus the first inward digit) and area (leading letters) derived. An input whose
  postcodes are mostly not UK-shaped (zip codes) keeps them as compact letters and digits,
  compared whole (``linkage/repairs.py``).
- sex: ``M`` or ``F``; census ``1``/``2``, GP ``M``/``F``/``U``, DWP ``Male``/``Female``;
  unknown codes become null.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

NICKNAMES_PATH = Path(__file__).resolve().parent / "reference" / "nicknames.csv"
PLACEHOLDERS_PATH = Path(__file__).resolve().parent / "reference" / "placeholder_names.csv"

TITLES: tuple[str, ...] = (
    "MR",
    "MRS",
    "MS",
    "MISS",
    "MX",
    "DR",
    "PROF",
    "SIR",
    "DAME",
    "LADY",
    "LORD",
    "REV",
    "REVD",
    "FR",
    "JR",
    "JNR",
    "SR",
    "SNR",
)
"""Words removed from names wherever they appear as a whole token."""

DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y%m%d",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d/%m/%y",
)
"""Formats tried in order when a date arrives as text; the first that parses wins."""

POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"

_MALE = ("1", "M", "MALE", "MAN")
_FEMALE = ("2", "F", "FEMALE", "WOMAN")


def name_tokens(expr: pl.Expr) -> pl.Expr:
    """Clean a name into a list of upper-case tokens with titles removed."""
    cleaned = (
        expr.cast(pl.Utf8)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_uppercase()
        .str.replace_all(r"['`’]", "")
        .str.replace_all(r"[^A-Z]+", " ")
        .str.strip_chars()
    )
    return cleaned.str.split(" ").list.eval(
        pl.element().filter((pl.element() != "") & ~pl.element().is_in(list(TITLES)))
    )


@cache
def placeholder_names() -> tuple[str, ...]:
    """Values written in a name field when the name is not known (``reference/``)."""
    return tuple(pl.read_csv(PLACEHOLDERS_PATH).get_column("name").to_list())


def _without_placeholder(tokens: pl.Expr) -> pl.Expr:
    """An empty list where the whole field is a placeholder (``Not Known``, ``Baby``)."""
    return (
        pl.when(tokens.list.join("").is_in(list(placeholder_names())))
        .then(pl.lit([], dtype=pl.List(pl.Utf8)))
        .otherwise(tokens)
    )


def _join_or_null(tokens: pl.Expr, separator: str) -> pl.Expr:
    joined = tokens.list.join(separator)
    return pl.when(joined == "").then(None).otherwise(joined)


def standardise_names(
    frame: pl.DataFrame,
    *,
    forename: str = "forename",
    surname: str = "surname",
    middle_names: str | None = "middle_names",
) -> pl.DataFrame:
    """Replace raw name columns with standardised ones.

    Parameters
    ----------
    frame
        A frame holding the raw name columns (a missing middle-names column is allowed).
    forename, surname, middle_names
        Names of the raw columns.

    Returns
    -------
    polars.DataFrame
        The frame with ``forename``, ``middle_names``, ``surname``, ``surname_first``,
        ``surname_last`` and ``name_key`` (null where nothing usable was recorded), and the
        raw name columns dropped.
    """
    middle = (
        name_tokens(pl.col(middle_names))
        if middle_names is not None and middle_names in frame.columns
        else pl.lit([], dtype=pl.List(pl.Utf8))
    )
    raw = [c for c in (forename, surname, middle_names) if c is not None and c in frame.columns]
    tokens = frame.with_columns(
        _without_placeholder(name_tokens(pl.col(forename))).alias("__fore"),
        _without_placeholder(name_tokens(pl.col(surname))).alias("__sur"),
        _without_placeholder(middle).alias("__mid"),
    )
    # A surname is written without spaces (J R -> JR); if that spells a title, a second pass
    # would remove it, so it is removed now and standardising stays idempotent.
    tokens = tokens.with_columns(
        pl.when(pl.col("__sur").list.join("").is_in(list(TITLES)))
        .then(pl.lit([], dtype=pl.List(pl.Utf8)))
        .otherwise(pl.col("__sur"))
        .alias("__sur")
    )
    out = tokens.drop(raw).with_columns(
        # The placeholder check runs again on the parts, so standardising stays idempotent.
        _join_or_null(_without_placeholder(pl.col("__fore").list.slice(0, 1)), "").alias(
            "forename"
        ),
        _join_or_null(
            # A blank forename must not drop the middle names (concat_list of a null is null).
            _without_placeholder(
                pl.concat_list(
                    pl.col("__fore").list.slice(1).fill_null([]), pl.col("__mid").fill_null([])
                )
            ),
            " ",
        ).alias("middle_names"),
        _join_or_null(pl.col("__sur"), "").alias("surname"),
        pl.col("__sur").list.first().alias("surname_first"),
        pl.col("__sur").list.last().alias("surname_last"),
    )
    out = out.with_columns(
        pl.when(pl.col("forename").is_not_null() & pl.col("surname").is_not_null())
        .then(pl.concat_list(pl.col("forename"), pl.col("surname")).list.sort().list.join(" "))
        .alias("name_key")
    )
    return out.drop("__fore", "__sur", "__mid")


@cache
def nickname_groups() -> dict[str, str]:
    """Map each forename in the nickname list to its group's label.

    Names joined by any formal-informal pair form one group (CHRIS joins CHRISTINE,
    CHRISTOPHER and KRZYSZTOF); the label is the alphabetically first member. Sex, compared
    separately, tells Christine from Christopher.
    """
    pairs = pl.read_csv(NICKNAMES_PATH).iter_rows()
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for formal, informal in pairs:
        a, b = find(formal.upper()), find(informal.upper())
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {name: find(name) for name in parent}


def forename_group(expr: pl.Expr) -> pl.Expr:
    """The nickname group of a standardised forename (the forename itself if unlisted)."""
    groups = nickname_groups()
    return expr.replace_strict(groups, default=expr, return_dtype=pl.Utf8)


def parse_dates(expr: pl.Expr) -> pl.Expr:
    """Parse text in any of :data:`DATE_FORMATS` to ``Date`` (null where none parses)."""
    text = expr.cast(pl.Utf8).str.strip_chars()
    attempts = [text.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS]
    return pl.coalesce(attempts)


def standardise_date_column(frame: pl.DataFrame, column: str) -> pl.Series:
    """Return a frame column as ``Date``, whatever common form it arrives in."""
    series = frame.get_column(column)
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    if series.dtype == pl.Null:
        return series.cast(pl.Date)
    return frame.select(parse_dates(pl.col(column))).to_series()


def standardise_postcode(expr: pl.Expr) -> pl.Expr:
    """Normalise a postcode to ``OUTWARD INWARD`` upper case, null if not postcode-shaped."""
    compact = expr.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    valid = compact.str.contains(POSTCODE_PATTERN)
    spaced = compact.str.slice(0, compact.str.len_chars() - 3) + " " + compact.str.slice(-3)
    return pl.when(valid).then(spaced).otherwise(None)


def postcode_parts(postcode: str = "postcode") -> list[pl.Expr]:
    """Expressions deriving district (outward code), sector and area from a normalised postcode."""
    # Only UK postcodes (written "OUTWARD INWARD") have sectors, districts and areas; another
    # country's postcode (a zip code) is compared whole.
    pc = pl.when(pl.col(postcode).str.contains(" ")).then(pl.col(postcode))
    outward = pc.str.split(" ").list.first()
    return [
        outward.alias("postcode_district"),
        (outward + " " + pc.str.split(" ").list.last().str.slice(0, 1)).alias("postcode_sector"),
        pc.str.extract(r"^([A-Z]{1,2})", 1).alias("postcode_area"),
    ]


def standardise_sex(expr: pl.Expr) -> pl.Expr:
    """Map census, GP and DWP sex codes to ``M``/``F``; unknown codes become null."""
    code = expr.cast(pl.Utf8).str.strip_chars().str.to_uppercase()
    return (
        pl.when(code.is_in(list(_MALE)))
        .then(pl.lit("M"))
        .when(code.is_in(list(_FEMALE)))
        .then(pl.lit("F"))
        .otherwise(None)
    )


def standardise_person_number(expr: pl.Expr) -> pl.Expr:
    """An NHS number or National Insurance number as upper-case letters and digits only
    (``943 476 5919`` = ``9434765919``, ``ab 12 34 56 c`` = ``AB123456C``); null if empty."""
    compact = expr.cast(pl.Utf8).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return pl.when(compact.str.len_chars() > 0).then(compact).otherwise(None)


def standardise_place(expr: pl.Expr) -> pl.Expr:
    """An address or locality as upper-case words: accents removed, punctuation a space,
    runs of spaces one (``12, Acacia Ave.`` = ``12 ACACIA AVE``); null if nothing is left."""
    words = (
        expr.cast(pl.Utf8)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]+", " ")
        .str.strip_chars()
    )
    return pl.when(words.str.len_chars() > 0).then(words)


def address_parts(address: str = "address") -> list[pl.Expr]:
    """The words of a standardised address, and its house number (its first word holding
    a digit: ``FLAT 2 12A HIGH ST`` gives ``2``)."""
    tokens = pl.col(address).str.split(" ")
    return [
        tokens.alias("address_tokens"),
        tokens.list.eval(pl.element().filter(pl.element().str.contains("[0-9]")))
        .list.first()
        .alias("address_number"),
    ]


def history_parts(current: str = "postcode", previous: str = "previous_postcodes") -> list[pl.Expr]:
    """The newest previous postcode (``previous_postcode``) and every postcode the record
    knows, current first (``postcode_history``; null when it knows none)."""
    empty = pl.lit([], dtype=pl.List(pl.Utf8))
    known = pl.concat_list(
        pl.concat_list(pl.col(current)).list.drop_nulls(), pl.col(previous).fill_null(empty)
    )
    return [
        pl.col(previous).list.first().alias("previous_postcode"),
        pl.when(known.list.len() > 0).then(known).alias("postcode_history"),
    ]


HISTORY_SEPARATORS = r"[|;]"
"""Separators of previous postcodes written in one text field."""


def previous_postcode_lists(values: pl.Series) -> pl.Series:
    """Previous postcodes as lists of text as recorded: a list column as it is, text split
    at ``|`` or ``;`` (blank entries dropped)."""
    if values.dtype in (pl.Utf8, pl.Null):
        values = values.cast(pl.Utf8).str.replace_all(HISTORY_SEPARATORS, "|").str.split("|")
    return pl.select(
        values.list.eval(pl.element().filter(pl.element().str.strip_chars() != ""))
    ).to_series()


def standardise_previous_postcodes(values: pl.Series) -> pl.Series:
    """Previous postcodes as a list of standardised postcodes, newest first.

    Text is split at ``|`` or ``;``; values that are not postcode-shaped are dropped, as
    is a repeat of a newer one. Null (not an empty list) for a record with none, so the
    comparison's null level applies.
    """
    cleaned = pl.select(
        previous_postcode_lists(values)
        .list.eval(standardise_postcode(pl.element()))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
    ).to_series()
    return (
        pl.select(pl.when(cleaned.list.len() > 0).then(cleaned))
        .to_series()
        .alias("previous_postcodes")
        .cast(pl.List(pl.Utf8))
    )
