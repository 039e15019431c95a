"""The linkage model as data: comparisons, blocking rules and training rules.

This is the one module that builds Splink settings. Everything here is plain dictionaries
and SQL strings over the standardised record frame (:data:`linkage.inputs.RECORD_COLUMNS`),
so the specification can be read and unit-tested without a database.

All inputs are stacked into one table and deduplicated (Splink ``dedupe_only``); pairs of
records from a source that holds one record per person (the census) are excluded by every
blocking rule, so the census never links to itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

NOT_WITHIN_UNIQUE_SOURCE = "NOT (l.source = r.source AND l.unique_people)"
"""Appended to each blocking rule: never compare two records of a one-per-person source."""

DETERMINISTIC_KEYS: tuple[str, ...] = ("forename", "surname", "date_of_birth", "postcode")
"""Standardised identifiers that, all present and all equal, join records before Splink."""

BLOCKING_RULES: tuple[str, ...] = (
    # Same birth date and postcode district: people who stay put, whatever their names.
    "l.date_of_birth = r.date_of_birth AND l.postcode_district = r.postcode_district",
    # Same birth date and surname: movers.
    "l.date_of_birth = r.date_of_birth AND l.surname = r.surname",
    # Same birth date and forename, or nickname group: movers whose surname changed.
    "l.date_of_birth = r.date_of_birth AND l.forename_group = r.forename_group",
    # Same birth date and the first two letters of the forename, or the initials of both
    # names: movers with misspelt names or a changed surname. (Birth date with the forename
    # initial alone found about 60 more true pairs in a million people but grew with the
    # square of the population: 8 million pairs at 1M people, 169 million at 5M.)
    "l.date_of_birth = r.date_of_birth AND left(l.forename, 2) = left(r.forename, 2)",
    "l.date_of_birth = r.date_of_birth AND left(l.forename, 1) = left(r.forename, 1) "
    "AND left(l.surname, 1) = left(r.surname, 1)",
    # Same birth date, forename recorded as the other's surname (swaps with other errors).
    "l.date_of_birth = r.date_of_birth AND l.forename = r.surname",
    "l.date_of_birth = r.date_of_birth AND l.surname = r.forename",
    # Same two names in either order and birth year: day or month errors, name swaps.
    "l.name_key = r.name_key AND l.birth_year = r.birth_year",
    # Same names and day and month of birth: a wrong digit in the year, after a move.
    "l.forename = r.forename AND l.surname = r.surname "
    "AND right(l.birth_date_text, 4) = right(r.birth_date_text, 4)",
    # Same names and postcode sector: a birth date wrong in its year too.
    "l.forename = r.forename AND l.surname = r.surname AND l.postcode_sector = r.postcode_sector",
    # Same forename (or surname) and full postcode: birth date and the other name both differ.
    "l.forename = r.forename AND l.postcode = r.postcode",
    "l.surname = r.surname AND l.postcode = r.postcode",
    # Same names where a birth date is missing: nothing else may agree after a move. One
    # rule per side, so the missing birth date filters the records before the join: written
    # as "either is missing" it was tested on every pair sharing both names, which grows with
    # the square of the population (23 of the 28 seconds of blocking at 1M people).
    "l.date_of_birth IS NULL AND l.forename = r.forename AND l.surname = r.surname",
    "r.date_of_birth IS NULL AND l.forename = r.forename AND l.surname = r.surname",
)
"""Prediction blocking rules, chosen for recall (their recall is measured in evaluation)."""

TRAINING_BLOCKING_RULES: tuple[str, ...] = (
    # Trains forename, surname, postcode and sex.
    "l.date_of_birth = r.date_of_birth AND l.middle_names = r.middle_names",
    # Trains date of birth, postcode and sex.
    "l.forename = r.forename AND l.surname = r.surname AND l.middle_names = r.middle_names",
    # Trains middle names, postcode and sex.
    "l.forename = r.forename AND l.surname = r.surname AND l.date_of_birth = r.date_of_birth",
)
"""Expectation-maximisation sessions: each leaves the comparisons it blocks on untrained.

Each block is chosen so that the different people inside it look different: EM learns as
"matches" whatever cluster of similar pairs a block holds. A block on birth date alone
(or surname and birth date) would hold twins, whom EM would take for one person with a
misrecorded forename; names with an address would hold fathers and sons of the same name;
a postcode would hold whole households. Requiring the middle names (or all of forename,
surname and birth date) to agree leaves few different people in each block.
"""

PRIOR_RULES: tuple[str, ...] = (
    "l.forename = r.forename AND l.surname = r.surname AND l.date_of_birth = r.date_of_birth",
)
"""Deterministic rules used to estimate the prior (probability two random records match)."""

PRIOR_RECALL = 0.8
"""Assumed recall of :data:`PRIOR_RULES`, used to scale up the deterministic match count."""

PROJECT_ROLES: tuple[str, ...] = (
    "forename",
    "middle_names",
    "surname",
    "date_of_birth",
    "sex",
    "postcode",
    "person_number",
    "previous_postcodes",
)
"""Roles of the project's own extracts (GP and DWP records with their address histories):
the model built for them is the model measured on synthetic worlds
(benchmarks/README_linkage.md, benchmarks/README_scaling.md)."""

COLUMN_ROLES: dict[str, tuple[str, ...]] = {
    "forename": ("forename",),
    "forename_group": ("forename",),
    "surname": ("surname",),
    "surname_first": ("surname",),
    "surname_last": ("surname",),
    "name_key": ("forename", "surname"),
    "middle_names": ("middle_names",),
    "date_of_birth": ("date_of_birth",),
    "birth_year": ("date_of_birth",),
    "birth_date_text": ("date_of_birth",),
    "sex": ("sex",),
    "postcode": ("postcode",),
    "postcode_sector": ("postcode",),
    "postcode_district": ("postcode",),
    "postcode_area": ("postcode",),
    "person_number": ("person_number",),
    "address": ("address",),
    "address_tokens": ("address",),
    "address_number": ("address",),
    "locality": ("locality",),
    "shared_number": ("shared_number",),
    "previous_postcode": ("previous_postcodes",),
    "previous_postcodes": ("previous_postcodes",),
    "postcode_history": ("previous_postcodes",),
}
"""The role each derived record column comes from (``source`` and ``origin`` need none)."""

EXTRA_BLOCKING_RULES: tuple[str, ...] = (
    # A number both inputs hold for the person: whatever else was recorded.
    "l.shared_number = r.shared_number",
    # Same forename (or surname) and address or locality, as with postcodes.
    "l.forename = r.forename AND l.address = r.address",
    "l.surname = r.surname AND l.address = r.address",
    "l.date_of_birth = r.date_of_birth AND l.address_number = r.address_number "
    "AND l.locality = r.locality",
    "l.surname = r.surname AND l.locality = r.locality AND l.birth_year = r.birth_year",
)
"""Prediction blocking rules for roles beyond names, birth date, sex and postcode."""

FALLBACK_TRAINING_RULES: tuple[str, ...] = (
    "l.forename = r.forename AND l.surname = r.surname",
    "l.shared_number = r.shared_number",
    "l.date_of_birth = r.date_of_birth AND l.postcode = r.postcode",
    "l.date_of_birth = r.date_of_birth AND l.address = r.address",
    "l.date_of_birth = r.date_of_birth",
    "l.postcode = r.postcode",
    "l.address = r.address",
)
"""EM sessions tried, in order, after :data:`TRAINING_BLOCKING_RULES` for comparisons those
cannot train with the roles at hand (birth date alone holds twins, a postcode or address
whole households: cruder blocks than the project's, used only when nothing better is mapped)."""


def _without_null_tests(rule: str) -> str:
    # "l.date_of_birth IS NULL" selects records lacking a role: it does not need the role.
    return re.sub(r"\b[lr]\.\w+ IS NULL", "", rule)


def rule_roles(rule: str) -> set[str]:
    """Roles a blocking rule needs values of (columns only tested for null excepted)."""
    columns = re.findall(r"\b[lr]\.(\w+)", _without_null_tests(rule))
    return {role for column in columns for role in COLUMN_ROLES.get(column, ())}


def comparison_columns(comparison: dict[str, Any]) -> set[str]:
    """Record columns a comparison reads (Splink trains it only in sessions whose blocking
    rule reads none of them)."""
    text = " ".join(level["sql_condition"] for level in comparison["comparison_levels"])
    return set(re.findall(r'"(\w+)_[lr]"', text))


def _applicable(rules: tuple[str, ...], roles: set[str]) -> list[str]:
    return [rule for rule in rules if rule_roles(rule) <= roles]


def _null_level(*columns: str) -> dict[str, Any]:
    condition = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)
    return {"sql_condition": condition, "label_for_charts": "null", "is_null_level": True}


def _level(condition: str, label: str, tf_column: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": condition, "label_for_charts": label}
    if tf_column is not None:
        level["tf_adjustment_column"] = tf_column
        level["tf_adjustment_weight"] = 1.0
    return level


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "all other"}


def _jw(column: str, at: float) -> str:
    return f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {at}'


_SWAPPED = '"forename_l" = "surname_r" AND "surname_l" = "forename_r"'
_SWAPPED_CLOSE = (
    'jaro_winkler_similarity("forename_l", "surname_r") >= 0.88 '
    'AND jaro_winkler_similarity("surname_l", "forename_r") >= 0.88'
)

SWAPPED_U = 1e-4
"""Fixed u of the "swapped" level, in the forename and in the surname comparison alike.

Random sampling meets almost no pairs of different people whose names agree crosswise, so
u cannot be estimated (Splink would fall back to a default that made exact swaps count for
almost nothing). The level always fires in both comparisons together, so the model's
Bayes factor for a swap is m_f m_s / u^2, with m about 0.004 in each (EM). The chance that
two different people's names agree crosswise is about that of both names agreeing,
u_forename u_surname, about 2e-6 (1e-3 each); a swap then deserves a Bayes factor of about
0.004 / 2e-6, roughly 2^11, which u = 1e-4 in each comparison gives."""

SWAPPED_CLOSE_U = 3e-4
"""Fixed u of the "swapped, close spellings" level (a swap with a typo), for the same
reason as :data:`SWAPPED_U`; close spellings agree by chance more often than exact ones."""


def _swap_level(condition: str, label: str, u: float) -> dict[str, Any]:
    return {
        "sql_condition": condition,
        "label_for_charts": label,
        "u_probability": u,
        "fix_u_probability": True,
    }


UNRELATED_FORENAME_M = 0.01
"""Fixed m of forenames unrelated by spelling, nickname or swap. EM over-estimates it as it
does distant birth dates (:data:`DISTANT_BIRTH_DATE_M`): the blocks that can train forenames
hold household members of one surname and address, often with one birth date copied from
another (a known recording error), whom EM takes for one person with two forenames. One
true pair in a hundred with such a forename (a person known by a middle or an anglicised
name) is a cautious prior."""


def forename_comparison() -> dict[str, Any]:
    """Forename: exact (term-frequency adjusted), swapped with surname, close spellings,
    nickname of the same formal name.

    It does not look at middle names, so that a training session blocked on middle names
    can still estimate it."""
    return {
        "output_column_name": "forename",
        "comparison_description": "Forename with swaps, spellings and nicknames",
        "comparison_levels": [
            _null_level("forename"),
            _level('"forename_l" = "forename_r"', "exact", "forename"),
            _swap_level(_SWAPPED, "swapped with surname", SWAPPED_U),
            _swap_level(_SWAPPED_CLOSE, "swapped, close spellings", SWAPPED_CLOSE_U),
            _level(_jw("forename", 0.92), "Jaro-Winkler >= 0.92"),
            _level('"forename_group_l" = "forename_group_r"', "nickname or formal name"),
            _level(_jw("forename", 0.8), "Jaro-Winkler >= 0.8"),
            {
                "sql_condition": "ELSE",
                "label_for_charts": "all other",
                "m_probability": UNRELATED_FORENAME_M,
                "fix_m_probability": True,
            },
        ],
    }


def surname_comparison() -> dict[str, Any]:
    """Surname: exact (term-frequency adjusted), swapped, part of a double-barrelled name,
    close spellings, and a separate level for women whose surnames differ (marriage)."""
    part = (
        '"surname_l" = "surname_first_r" OR "surname_l" = "surname_last_r" '
        'OR "surname_first_l" = "surname_r" OR "surname_last_l" = "surname_r"'
    )
    return {
        "output_column_name": "surname",
        "comparison_description": "Surname with swaps, double-barrelled parts and changes",
        "comparison_levels": [
            _null_level("surname"),
            _level('"surname_l" = "surname_r"', "exact", "surname"),
            _swap_level(_SWAPPED, "swapped with forename", SWAPPED_U),
            _swap_level(_SWAPPED_CLOSE, "swapped, close spellings", SWAPPED_CLOSE_U),
            _level(part, "part of a double-barrelled surname"),
            _level(_jw("surname", 0.92), "Jaro-Winkler >= 0.92"),
            _level(_jw("surname", 0.8), "Jaro-Winkler >= 0.8"),
            _level("\"sex_l\" = 'F' AND \"sex_r\" = 'F'", "different, both female"),
            _else(),
        ],
    }


def middle_names_comparison() -> dict[str, Any]:
    """Middle names: exact, same first middle name, same first initial."""
    first = "split_part(\"middle_names_{s}\", ' ', 1)"
    return {
        "output_column_name": "middle_names",
        "comparison_description": "Middle names",
        "comparison_levels": [
            _null_level("middle_names"),
            _level('"middle_names_l" = "middle_names_r"', "exact"),
            _level(f"{first.format(s='l')} = {first.format(s='r')}", "first middle name"),
            _level('left("middle_names_l", 1) = left("middle_names_r", 1)', "same initial"),
            _else(),
        ],
    }


DISTANT_BIRTH_DATE_M = 1e-4
"""Fixed m of birth dates that differ in every way the model knows (more than a year apart,
not transposed, not one digit, not only the year). EM over-estimates it: every block that
can train dates holds some fathers and sons of the same names (and middle names), whom EM
takes for one person. One true pair in 10,000 with such a date is a cautious prior."""


def date_of_birth_comparison() -> dict[str, Any]:
    """Date of birth: exact (term-frequency adjusted, so 1 January placeholders count for
    less), day and month transposed, one digit wrong, within a year, the same day and month
    in another year; other dates have a fixed, small m (:data:`DISTANT_BIRTH_DATE_M`)."""
    transposed = (
        'day("date_of_birth_l") = month("date_of_birth_r") '
        'AND month("date_of_birth_l") = day("date_of_birth_r") '
        'AND year("date_of_birth_l") = year("date_of_birth_r")'
    )
    return {
        "output_column_name": "date_of_birth",
        "comparison_description": "Date of birth with transpositions and typos",
        "comparison_levels": [
            _null_level("date_of_birth"),
            _level('"date_of_birth_l" = "date_of_birth_r"', "exact", "date_of_birth"),
            _level(transposed, "day and month transposed"),
            _level('hamming("birth_date_text_l", "birth_date_text_r") <= 1', "one digit wrong"),
            _level(
                'abs(date_diff(\'day\', "date_of_birth_l", "date_of_birth_r")) <= 366',
                "within a year",
            ),
            _level(
                'right("birth_date_text_l", 4) = right("birth_date_text_r", 4)',
                "same day and month, year wrong",
            ),
            {
                "sql_condition": "ELSE",
                "label_for_charts": "all other",
                "m_probability": DISTANT_BIRTH_DATE_M,
                "fix_m_probability": True,
            },
        ],
    }


def sex_comparison() -> dict[str, Any]:
    """Sex: agree or disagree (unknown is null)."""
    return {
        "output_column_name": "sex",
        "comparison_description": "Sex",
        "comparison_levels": [
            _null_level("sex"),
            _level('"sex_l" = "sex_r"', "exact"),
            _else(),
        ],
    }


def postcode_comparison(history: bool = False) -> dict[str, Any]:
    """Postcode: exact (term-frequency adjusted), then with an address history the other
    record's latest previous address and any earlier address in common
    (:func:`history_levels`), then sector, district and area of the current postcodes."""
    return {
        "output_column_name": "postcode",
        "comparison_description": "Postcode with previous addresses, sector, district and area"
        if history
        else "Postcode with sector, district and area",
        "comparison_levels": [
            _null_level("postcode"),
            _level('"postcode_l" = "postcode_r"', "exact", "postcode"),
            *(history_levels() if history else []),
            _level('"postcode_sector_l" = "postcode_sector_r"', "same sector"),
            _level('"postcode_district_l" = "postcode_district_r"', "same district"),
            _level('"postcode_area_l" = "postcode_area_r"', "same area"),
            _else(),
        ],
    }


def history_levels() -> list[dict[str, Any]]:
    """Agreement with a previous address, weighted by how recent it is.

    A census record holds the address of Census day; a GP or DWP record its current
    address and, from the Personal Demographics Service or DWP's customer records, the
    earlier ones (newest first). Two levels, more recent first, each with its own m and u
    estimated like the other levels (u by random sampling, m by EM):

    - one record's postcode is the other's latest previous postcode (the person moved
      once since the other record was made: the commonest case for a mover);
    - the two records share any postcode they know, current or previous (an older
      address, or the same earlier address in both histories), with Splink's
      array-intersection level.

    An address history only adds levels above sector and district: a record without one
    falls through to them as before.
    """
    import splink.comparison_level_library as cll

    shared = cll.ArrayIntersectLevel("postcode_history", min_intersection=1)
    any_address = shared.get_comparison_level("duckdb").as_dict()
    any_address["label_for_charts"] = "an earlier address in common"
    return [
        _level(
            '"postcode_l" = "previous_postcode_r" OR "previous_postcode_l" = "postcode_r"',
            "the other's latest previous address",
        ),
        any_address,
    ]


SAME_NUMBER_U = 1e-7
"""Fixed u of two records of one source sharing a person number: two different people
hold one NHS number or National Insurance number only by a recording error (another
person's valid number typed in), of the order of one pair in ten million."""

DIFFERENT_NUMBER_M = 0.01
"""Fixed m of two records of one person, in one source, with different person numbers: the
source gives a person one number and finds their duplicates by it, so about one duplicate
in a hundred carries another (a number later merged, or mistyped)."""


def person_number_comparison() -> dict[str, Any]:
    """The source's own person number (NHS number in GP records, National Insurance number
    in DWP records), compared only between two records of the same source.

    Numbers of different schemes (and the census, which holds none) say nothing, so such
    pairs fall in the null level. Its m and u are fixed rather than estimated: random
    sampling finds next to no pairs of different people sharing a number, and EM blocks
    hold too few duplicates to estimate m (:data:`SAME_NUMBER_U`,
    :data:`DIFFERENT_NUMBER_M`).
    """
    same_source = '"origin_l" = "origin_r"'
    return {
        "output_column_name": "person_number",
        "comparison_description": "Person number within one source (NHS number, NINO)",
        "comparison_levels": [
            {
                "sql_condition": '"person_number_l" IS NULL OR "person_number_r" IS NULL '
                f"OR NOT ({same_source})",
                "label_for_charts": "null or different sources",
                "is_null_level": True,
            },
            {
                "sql_condition": '"person_number_l" = "person_number_r"',
                "label_for_charts": "same number",
                "m_probability": 1 - DIFFERENT_NUMBER_M,
                "u_probability": SAME_NUMBER_U,
                "fix_m_probability": True,
                "fix_u_probability": True,
            },
            {
                "sql_condition": "ELSE",
                "label_for_charts": "different numbers",
                "m_probability": DIFFERENT_NUMBER_M,
                "u_probability": 1 - SAME_NUMBER_U,
                "fix_m_probability": True,
                "fix_u_probability": True,
            },
        ],
    }


def address_comparison() -> dict[str, Any]:
    """Address: exact (term-frequency adjusted), same house number and two words in
    common, two words in common, same house number (Splink's comparison library)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    shared_words = cll.ArrayIntersectLevel("address_tokens", min_intersection=2)
    same_number = cll.ExactMatchLevel("address_number")
    comparison = cl.CustomComparison(
        output_column_name="address",
        comparison_description="Address words with house number",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address", term_frequency_adjustments=True),
            cll.And(same_number, shared_words),
            shared_words,
            same_number,
            cll.ElseLevel(),
        ],
    )
    return comparison.get_comparison("duckdb").as_dict()


def locality_comparison() -> dict[str, Any]:
    """Locality (town, suburb): exact (term-frequency adjusted), close spellings."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    comparison = cl.CustomComparison(
        output_column_name="locality",
        comparison_description="Locality",
        comparison_levels=[
            cll.NullLevel("locality"),
            cll.ExactMatchLevel("locality", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("locality", 0.9),
            cll.ElseLevel(),
        ],
    )
    return comparison.get_comparison("duckdb").as_dict()


def shared_number_comparison() -> dict[str, Any]:
    """A number several inputs hold for the person, compared across and within inputs:
    exact, one character different (a typo), different (Splink's comparison library)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    comparison = cl.CustomComparison(
        output_column_name="shared_number",
        comparison_description="Number shared by the inputs",
        comparison_levels=[
            cll.NullLevel("shared_number"),
            cll.ExactMatchLevel("shared_number"),
            cll.LevenshteinLevel("shared_number", 1),
            cll.ElseLevel(),
        ],
    )
    return comparison.get_comparison("duckdb").as_dict()


RECORD_COLUMNS_USED: tuple[str, ...] = (
    "forename",
    "forename_group",
    "surname",
    "surname_first",
    "surname_last",
    "middle_names",
    "date_of_birth",
    "birth_date_text",
    "sex",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "postcode_area",
    "origin",
    "person_number",
    "address",
    "address_tokens",
    "address_number",
    "locality",
    "shared_number",
    "previous_postcode",
    "postcode_history",
)
"""Record-frame columns the comparisons read."""


def source_comparison() -> dict[str, Any]:
    """Whether the two records come from one source (a duplicate) or from two.

    Duplicates within a source are far rarer than links between sources (a person has
    about one record in each source but seldom two in one), so a pair from one source
    starts with less evidence of a match. Splink has one prior for all pairs; this
    comparison gives pairs within a source their own, estimated by EM like any other.
    It reads ``origin``, a copy of ``source``: Splink does not train a comparison whose
    columns appear in a training rule, and every rule reads ``source`` to keep census
    records apart.
    """
    return {
        "output_column_name": "source",
        "comparison_description": "Same source (a duplicate) or different sources",
        "comparison_levels": [
            _null_level("origin"),
            _level('"origin_l" = "origin_r"', "same source"),
            {"sql_condition": "ELSE", "label_for_charts": "different sources"},
        ],
    }


TF_COLUMNS: tuple[str, ...] = (
    "forename",
    "surname",
    "date_of_birth",
    "postcode",
    "address",
    "locality",
)
"""Columns with term-frequency adjustments, fed from a population frequency table."""


def _roles(roles: Collection[str] | None) -> set[str]:
    return set(PROJECT_ROLES if roles is None else roles)


def blocking_rules(roles: Collection[str] | None = None) -> list[str]:
    """Prediction blocking rules for the roles mapped (default: the project's), with the
    one-per-person exclusion applied: every rule whose roles are all mapped."""
    present = _roles(roles)
    rules = _applicable(BLOCKING_RULES + EXTRA_BLOCKING_RULES, present)
    if "date_of_birth" not in present and {"forename", "surname"} <= present:
        rules.append("l.forename = r.forename AND l.surname = r.surname")
    return [f"({rule}) AND {NOT_WITHIN_UNIQUE_SOURCE}" for rule in rules]


def training_rules(roles: Collection[str] | None = None) -> list[str]:
    """EM blocking rules for the roles mapped, with the one-per-person exclusion applied.

    Rules are taken in order from :data:`TRAINING_BLOCKING_RULES`, then
    :data:`FALLBACK_TRAINING_RULES`, keeping a rule whose roles are all mapped when it
    trains a comparison no kept rule trains yet, until every comparison is trained. A
    comparison no rule can train (names, when only names are mapped) keeps Splink's
    starting m values, and the run's summary says so.
    """
    present = _roles(roles)
    comparisons = comparisons_for(present)
    untrained = {c["output_column_name"] for c in comparisons if _estimable(c)}
    kept = []
    for rule in _applicable(TRAINING_BLOCKING_RULES + FALLBACK_TRAINING_RULES, present):
        blocked = set(re.findall(r"\b[lr]\.(\w+)", rule)) | {"source"}
        trains = {
            c["output_column_name"]
            for c in comparisons
            if c["output_column_name"] in untrained and not comparison_columns(c) & blocked
        }
        if trains:
            kept.append(rule)
            untrained -= trains
        if not untrained:
            break
    return [f"({rule}) AND {NOT_WITHIN_UNIQUE_SOURCE}" for rule in kept]


def untrainable_comparisons(roles: Collection[str] | None = None) -> list[str]:
    """Comparisons no training rule of :func:`training_rules` can estimate."""
    present = _roles(roles)
    comparisons = [c for c in comparisons_for(present) if _estimable(c)]
    rules = [set(re.findall(r"\b[lr]\.(\w+)", r)) | {"source"} for r in training_rules(present)]
    return [
        c["output_column_name"]
        for c in comparisons
        if all(comparison_columns(c) & blocked for blocked in rules)
    ]


def _estimable(comparison: dict[str, Any]) -> bool:
    """Whether EM has an m probability to estimate (not every level fixed)."""
    levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
    return not all(lvl.get("fix_m_probability") for lvl in levels)


def prior_rules(roles: Collection[str] | None = None) -> list[str]:
    """Prior-estimation rules with the one-per-person exclusion applied: exact agreement on
    names and birth date, or, lacking those, on every one of them mapped with a shared
    number or postcode (none when fewer than two such roles are mapped)."""
    present = _roles(roles)
    rules = _applicable(PRIOR_RULES, present)
    if not rules:
        keys = [
            r for r in ("forename", "surname", "date_of_birth", "shared_number") if r in present
        ]
        if len(keys) < 3 and "postcode" in present:
            keys.append("postcode")
        if len(keys) >= 2:
            rules = [" AND ".join(f"l.{k} = r.{k}" for k in keys)]
    return [f"({rule}) AND {NOT_WITHIN_UNIQUE_SOURCE}" for rule in rules]


COMPARISON_ROLES: dict[str, str | None] = {
    "forename": "forename",
    "surname": "surname",
    "middle_names": "middle_names",
    "date_of_birth": "date_of_birth",
    "sex": "sex",
    "postcode": "postcode",
    "address": "address",
    "locality": "locality",
    "source": None,
    "person_number": "person_number",
    "shared_number": "shared_number",
}
"""Each comparison and the role it needs (``source`` is always compared)."""


def comparisons_for(roles: Collection[str]) -> list[dict[str, Any]]:
    """The comparisons of the mapped roles, in the model's order."""
    present = set(roles)
    makers = {
        "forename": forename_comparison,
        "surname": surname_comparison,
        "middle_names": middle_names_comparison,
        "date_of_birth": date_of_birth_comparison,
        "sex": sex_comparison,
        "postcode": lambda: postcode_comparison(history="previous_postcodes" in present),
        "address": address_comparison,
        "locality": locality_comparison,
        "source": source_comparison,
        "person_number": person_number_comparison,
        "shared_number": shared_number_comparison,
    }
    return [
        makers[name]() for name, role in COMPARISON_ROLES.items() if role is None or role in present
    ]


def settings_dict(
    *,
    roles: Collection[str] | None = None,
    max_iterations: int = 25,
    em_convergence: float = 1e-4,
) -> dict[str, Any]:
    """The Splink settings of our model, untrained, for the roles mapped.

    Parameters
    ----------
    roles
        Identifier roles the inputs map (default: the project's extracts'); comparisons and
        blocking rules are those the roles support.

    Returns
    -------
    dict
        A settings dictionary accepted by ``splink.Linker``.
    """
    present = _roles(roles)
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-6,
        "em_convergence": em_convergence,
        "max_iterations": max_iterations,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
        "comparisons": comparisons_for(present),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in blocking_rules(present)
        ],
    }


def baseline_settings_dict() -> dict[str, Any]:
    """A plain, tutorial-style Splink model used as the benchmark's baseline.

    Built from Splink's comparison library with its default levels, blocking on exact
    names or birth date, as in Splink's getting-started tutorial.
    """
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("forename"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("forename", "surname"),
            block_on("date_of_birth", "postcode"),
        ],
        retain_matching_columns=False,
    )
    return creator.create_settings_dict("duckdb")
