import pandas as pd
import polars as pl

from expectations.custom import (
    ExpectColumnValuesToBeMultipleOf,
    ExpectColumnValuesToBeValidNhsNumber,
    nhs_number_is_valid,
)
from expectations.runner import run_suite
from expectations.suites.base import Check, Part, SuiteDefinition
from tests.unit.expectations.helpers import failed


def test_nhs_mod11_on_hand_checked_numbers():
    # 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
    # Body 000000006: 6*2 = 12; 12 mod 11 = 1; 11 - 1 = 10 -> no valid check digit exists, so
    # every number starting 000000006 fails.
    values = pd.Series(["9434765919", "9434765918", "0000000060", "943476591", "94347659a9"])
    assert nhs_number_is_valid(values).tolist() == [True, False, False, False, False]


def test_check_digit_eleven_means_zero():
    # Body 000000001: sum = 1*2 = 2; 11 - 2 = 9 -> 0000000019. Body 000000011: 1*3 + 1*2 = 5;
    # 11 - 5 = 6. Body 100000000 gives sum 10, 11 - 10 = 1. Body 000000000: 11 -> 0.
    values = pd.Series(["0000000019", "0000000116", "1000000001", "0000000000", "0000000001"])
    assert nhs_number_is_valid(values).tolist() == [True, True, True, True, False]


def _suite(*checks: Check) -> SuiteDefinition:
    return SuiteDefinition("t", "test", (Part("p", "f", checks, ("id",)),))


def test_custom_expectations_run_in_great_expectations():
    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "nhs_number": ["9434765919", "9434765918", None, "0000000019"],
            "n": [10, 15, 12, None],
        }
    )
    suite = _suite(
        Check(
            "nhs", "format", "critical", ExpectColumnValuesToBeValidNhsNumber(column="nhs_number")
        ),
        Check(
            "five", "disclosure", "critical", ExpectColumnValuesToBeMultipleOf(column="n", base=5)
        ),
    )
    result = run_suite(suite, {"f": frame})
    assert failed(result) == {"nhs", "five"}
    by_name = {o.check: o for o in result.outcomes}
    assert by_name["nhs"].unexpected_count == 1
    assert by_name["nhs"].sample == ("b",)  # the record id, never the NHS number itself
    assert by_name["five"].unexpected_count == 1
    assert by_name["five"].sample == ("c (n=12)",)
