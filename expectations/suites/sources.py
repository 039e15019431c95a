"""Suites for the five source extracts (docs/data_contracts.md, ``sources/``)."""

from __future__ import annotations

import datetime as dt
import math

import great_expectations as gx

from expectations.config import ExpectationsConfig
from expectations.custom import ExpectColumnValuesToBeValidNhsNumber
from expectations.suites.base import (
    Check,
    Part,
    SuiteDefinition,
    completeness_checks,
    not_null_checks,
    row_count_bounds,
    schema_checks,
)

E = gx.expectations

CENSUS_DAY = dt.datetime(2011, 3, 27)
EXTRACT_DAY = dt.datetime(2021, 3, 31)

ETHNIC_GROUPS = [f"{code:02d}" for code in range(1, 19)]
BENEFITS = ["UC", "JSA", "ESA", "IS", "IB_SDA", "HB", "PIP", "DLA", "CA", "SP", "PC", "AA", "BB"]
CONDITION_CLUSTERS = ["AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"]

# Outward code, optional space(s), inward code; the extracts keep spacing and case as written.
POSTCODE = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2}$"
# HMRC NINO rules without look-ahead (pyarrow's RE2 has none): the banned prefixes are a
# second expectation.
NINO = r"^[ABCEGHJ-PRSTW-Z][ABCEGHJ-NPRSTW-Z][0-9]{6}[A-D]$"
NINO_BANNED_PREFIX = r"^(?:BG|GB|KN|NK|NT|TN|ZZ)"
LSOA_2011 = r"^E01[0-9]{6}$"

CENSUS_COLUMNS = {
    "census_person_id": "str",
    "household_id": "str",
    "forename": "str",
    "middle_names": "str",
    "surname": "str",
    "date_of_birth": "Date",
    "sex": "str",
    "postcode": "str",
    "lsoa11cd": "str",
    "ethnic_group": "str",
    "disability": "str",
    "usual_resident": "bool",
    "wholly_imputed": "bool",
}
GP_REGISTRATION_COLUMNS = {
    "gp_record_id": "str",
    "nhs_number": "str",
    "forename": "str",
    "middle_names": "str",
    "surname": "str",
    "date_of_birth": "Date",
    "sex": "str",
    "postcode": "str",
    "lsoa11cd": "str",
    "practice_code": "str",
    "registration_date": "Date",
    "deregistration_date": "Date",
    "date_of_death": "Date",
}
GP_CONDITION_COLUMNS = {
    "gp_record_id": "str",
    "nhs_number": "str",
    "cluster": "str",
    "snomed_code": "str",
    "event_date": "Date",
}
DWP_CUSTOMER_COLUMNS = {
    "dwp_master_key": "str",
    "nino": "str",
    "forename": "str",
    "surname": "str",
    "date_of_birth": "Date",
    "sex": "str",
    "postcode": "str",
}
DWP_SPELL_COLUMNS = {
    "dwp_master_key": "str",
    "benefit": "str",
    "start_date": "Date",
    "end_date": "Date",
}


def _in_set(name: str, column: str, values: list[str]) -> Check:
    return Check(
        name,
        "code_list",
        "critical",
        E.ExpectColumnValuesToBeInSet(column=column, value_set=values),
    )


def _regex(
    name: str, column: str, regex: str, severity: str = "critical", mostly: float = 1.0
) -> Check:
    return Check(
        name,
        "format",
        severity,
        E.ExpectColumnValuesToMatchRegex(column=column, regex=regex, mostly=mostly),
    )


def _unique(column: str) -> Check:
    return Check(
        f"{column}_unique", "uniqueness", "critical", E.ExpectColumnValuesToBeUnique(column=column)
    )


def _not_after(name: str, column: str, day: dt.datetime, mostly: float = 1.0) -> Check:
    return Check(
        name,
        "range",
        "critical",
        E.ExpectColumnValuesToBeBetween(column=column, max_value=day, mostly=mostly),
    )


def birth_error_tolerance(share: float, births: int | None) -> float:
    """The share of births after the extract tolerated as mistyped years.

    The configured share, but never less than one record: below ``1 / share`` recorded
    births (1,000 at 0.1%) the share is less than one record, and a single typo, which
    the world's own noise makes at a few per hundred thousand records, would stop the run.
    Rounded down to nine places, so one typo in ``births`` records passes GX's ``mostly``.
    """
    tolerated = share if not births else max(share, 1.0 / births)
    return math.floor((1.0 - tolerated) * 1e9) / 1e9


def _birth_checks(
    config: ExpectationsConfig, extract_day: dt.datetime, births: int | None = None
) -> list[Check]:
    earliest = dt.datetime.combine(config.earliest_date_of_birth, dt.time())
    return [
        # A mistyped digit can put a birth after the extract: tolerated up to a small share.
        _not_after(
            "date_of_birth_not_in_future",
            "date_of_birth",
            extract_day,
            birth_error_tolerance(config.max_recording_error_share, births),
        ),
        Check(
            "date_of_birth_in_range",
            "range",
            "warning",
            E.ExpectColumnValuesToBeBetween(column="date_of_birth", min_value=earliest),
        ),
    ]


def _row_count(source: str, config: ExpectationsConfig, people: int | None) -> list[Check]:
    if people is None:
        return []
    ratio = getattr(config.rows_per_person, source)
    low, high = row_count_bounds(people, ratio, config.row_count_tolerance)
    return [
        Check(
            f"{source}_row_count",
            "row_count",
            "critical",
            E.ExpectTableRowCountToBeBetween(min_value=low, max_value=high),
        )
    ]


def _postcode(config: ExpectationsConfig) -> Check:
    # Recording errors may leave a postcode malformed; linkage copes, so this only warns.
    return _regex(
        "postcode_format",
        "postcode",
        POSTCODE,
        "warning",
        1.0 - config.max_missing_identifier_share,
    )


def _child_suite(
    name: str, title: str, checks: list[Check], *, key: str, parent: str
) -> SuiteDefinition:
    """A suite for an extract whose rows belong to another's (conditions to registrations,
    spells to customers): its own checks, then every ``key`` present in ``parent``.

    The validation boundary adds the boolean column ``in_<parent>`` before validating.
    """
    relations = (
        Check(
            f"{key}_in_{parent}",
            "referential_integrity",
            "critical",
            E.ExpectColumnValuesToBeInSet(column=f"in_{parent}", value_set=[True]),
        ),
    )
    return SuiteDefinition(
        name,
        f"{title} (sources/{name}.parquet)",
        (
            Part("extract", name, tuple(checks)),
            Part("relations", f"{name}_relations", relations, (key,)),
        ),
    )


def census_suite(
    config: ExpectationsConfig, *, people: int | None = None, births: int | None = None
) -> SuiteDefinition:
    """The 2011 Census extract: one row per responding person."""
    checks = [
        *schema_checks("census", CENSUS_COLUMNS),
        *not_null_checks(["census_person_id", "household_id", "usual_resident", "wholly_imputed"]),
        *completeness_checks(
            [
                "forename",
                "surname",
                "date_of_birth",
                "sex",
                "postcode",
                "ethnic_group",
                "disability",
            ],
            config.max_missing_identifier_share,
        ),
        _unique("census_person_id"),
        _regex("census_person_id_format", "census_person_id", r"^C[0-9]+$"),
        _regex("household_id_format", "household_id", r"^H[0-9]+$"),
        _regex("lsoa11cd_format", "lsoa11cd", LSOA_2011),
        _postcode(config),
        *_birth_checks(config, CENSUS_DAY, births),
        _in_set("sex_code", "sex", ["1", "2"]),
        _in_set("ethnic_group_code", "ethnic_group", ETHNIC_GROUPS),
        _in_set("disability_code", "disability", ["1", "2", "3"]),
        *_row_count("census", config, people),
    ]
    part = Part("extract", "census", tuple(checks), ("census_person_id",))
    return SuiteDefinition("census", "2011 Census extract (sources/census.parquet)", (part,))


def _valid_nhs_number() -> Check:
    return Check(
        "nhs_number_mod11",
        "format",
        "critical",
        ExpectColumnValuesToBeValidNhsNumber(column="nhs_number"),
    )


def _identifier_completeness(number: str, config: ExpectationsConfig) -> list[Check]:
    """The linkage identifiers an administrative extract must mostly hold: its own person
    number, then names, birth date, sex and postcode."""
    return completeness_checks(
        [number, "forename", "surname", "date_of_birth", "sex", "postcode"],
        config.max_missing_identifier_share,
    )


def gp_registrations_suite(
    config: ExpectationsConfig, *, people: int | None = None, births: int | None = None
) -> SuiteDefinition:
    """GP registrations: one row per registration, NHS number with a mod-11 check digit."""
    checks = [
        *schema_checks("gp_registrations", GP_REGISTRATION_COLUMNS),
        *not_null_checks(["gp_record_id", "practice_code", "registration_date"]),
        *_identifier_completeness("nhs_number", config),
        _unique("gp_record_id"),
        _valid_nhs_number(),
        _regex("practice_code_format", "practice_code", r"^[A-Z][0-9]{5}$"),
        _regex("lsoa11cd_format", "lsoa11cd", LSOA_2011),
        _postcode(config),
        *_birth_checks(config, EXTRACT_DAY, births),
        _not_after("registration_date_not_in_future", "registration_date", EXTRACT_DAY),
        _not_after("date_of_death_not_in_future", "date_of_death", EXTRACT_DAY),
        Check(
            "deregistration_after_registration",
            "range",
            "critical",
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="deregistration_date",
                column_B="registration_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        _in_set("sex_code", "sex", ["M", "F", "U"]),
        *_row_count("gp_registrations", config, people),
    ]
    part = Part("extract", "gp_registrations", tuple(checks), ("gp_record_id",))
    return SuiteDefinition(
        "gp_registrations", "GP registrations (sources/gp_registrations.parquet)", (part,)
    )


def gp_conditions_suite(
    config: ExpectationsConfig, *, people: int | None = None, births: int | None = None
) -> SuiteDefinition:
    """GP long-term conditions, each row referencing a registration."""
    checks = [
        *schema_checks("gp_conditions", GP_CONDITION_COLUMNS),
        *not_null_checks(["gp_record_id", "cluster", "snomed_code", "event_date"]),
        _valid_nhs_number(),
        _regex("snomed_code_format", "snomed_code", r"^[0-9]{6,18}$"),
        _in_set("cluster_code", "cluster", CONDITION_CLUSTERS),
        _not_after("event_date_not_in_future", "event_date", EXTRACT_DAY),
        *_row_count("gp_conditions", config, people),
    ]
    return _child_suite(
        "gp_conditions", "GP conditions", checks, key="gp_record_id", parent="gp_registrations"
    )


def dwp_customers_suite(
    config: ExpectationsConfig, *, people: int | None = None, births: int | None = None
) -> SuiteDefinition:
    """DWP customer records: one row per master key."""
    checks = [
        *schema_checks("dwp_customers", DWP_CUSTOMER_COLUMNS),
        *not_null_checks(["dwp_master_key"]),
        *_identifier_completeness("nino", config),
        _unique("dwp_master_key"),
        _regex("nino_format", "nino", NINO),
        Check(
            "nino_prefix_allowed",
            "format",
            "critical",
            E.ExpectColumnValuesToNotMatchRegex(column="nino", regex=NINO_BANNED_PREFIX),
        ),
        _postcode(config),
        *_birth_checks(config, EXTRACT_DAY, births),
        _in_set("sex_code", "sex", ["Male", "Female"]),
        *_row_count("dwp_customers", config, people),
    ]
    part = Part("extract", "dwp_customers", tuple(checks), ("dwp_master_key",))
    return SuiteDefinition(
        "dwp_customers", "DWP customers (sources/dwp_customers.parquet)", (part,)
    )


def dwp_benefit_spells_suite(
    config: ExpectationsConfig, *, people: int | None = None, births: int | None = None
) -> SuiteDefinition:
    """DWP benefit spells, each referencing a customer record."""
    checks = [
        *schema_checks("dwp_benefit_spells", DWP_SPELL_COLUMNS),
        *not_null_checks(["dwp_master_key", "benefit", "start_date"]),
        _in_set("benefit_code", "benefit", BENEFITS),
        _not_after("start_date_not_in_future", "start_date", EXTRACT_DAY),
        Check(
            "end_after_start",
            "range",
            "critical",
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="end_date",
                column_B="start_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        *_row_count("dwp_benefit_spells", config, people),
    ]
    return _child_suite(
        "dwp_benefit_spells",
        "DWP benefit spells",
        checks,
        key="dwp_master_key",
        parent="dwp_customers",
    )
