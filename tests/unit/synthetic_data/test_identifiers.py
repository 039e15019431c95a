"""NHS numbers and NINOs follow their published format rules."""

import numpy as np
import polars as pl

from synthetic_data.identifiers import (
    nhs_check_digit,
    nhs_number_is_valid,
    nhs_numbers,
    nino_is_valid,
    ninos,
    scrambled_ids,
)


def test_check_digit_of_a_worked_example():
    # 943 476 591: weights 10..2 give 299; 299 mod 11 = 2; 11 - 2 = 9.
    assert nhs_check_digit(np.array([943476591]))[0] == 9
    checked = nhs_number_is_valid(pl.Series(["9434765919", "9434765918", "12345", None]))
    assert checked.to_list() == [True, False, False, False]


def test_remainder_one_bodies_have_no_valid_check_digit():
    # 000 000 010: weighted sum 2*1 = 2 -> check 9; body 000 000 050 -> sum 10 -> 11-10 = 1;
    # body 000 000 006: 6*2 = 12, 12 mod 11 = 1 -> 11 - 1 = 10, which is not allowed.
    assert nhs_check_digit(np.array([6]))[0] == 10


def test_generated_nhs_numbers_are_valid_and_unique():
    numbers = nhs_numbers(np.arange(300_000))
    assert nhs_number_is_valid(numbers).all()
    assert numbers.n_unique() == len(numbers)
    assert numbers.str.slice(0, 1).is_in(["4", "6"]).all()


def test_nino_rules():
    good = ["AB123456C", "JW000001A", "ZY999999D"]
    bad = ["BG123456A", "GB123456A", "NK123456A", "DA123456A", "AD123456A", "AO123456A",
           "AB123456E", "AB12345C", "ab123456c", "QQ123456A"]  # fmt: skip
    assert nino_is_valid(pl.Series(good)).all()
    assert not nino_is_valid(pl.Series(bad)).any()


def test_generated_ninos_are_valid_and_unique_before_suffix():
    index = np.arange(300_000)
    values = ninos(index, index)
    assert nino_is_valid(values).all()
    assert values.str.slice(0, 8).n_unique() == len(values)


def test_scrambled_ids_are_unique_and_formatted():
    ids = scrambled_ids("C", np.arange(200_000), 9)
    assert ids.n_unique() == len(ids)
    assert ids.str.contains(r"^C\d{9}$").all()
    # Consecutive records do not get consecutive ids.
    digits = ids.str.slice(1).cast(pl.Int64).to_numpy()
    assert (np.abs(np.diff(digits)) > 1).all()
