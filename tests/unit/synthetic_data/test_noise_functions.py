"""Each noise type hits rows at its configured rate (binomial tolerance) and changes them."""

import datetime as dt
import inspect

import numpy as np
import polars as pl
import pytest

from synthetic_data.identifiers import nhs_number_is_valid, nhs_numbers, nino_is_valid, ninos
from synthetic_data.noise import fields, names, rows
from synthetic_data.noise.base import NoiseNode
from synthetic_data.noise.registry import NOISE_TYPES, REGISTRY

N = 20_000
P = 0.1


def _frame(**columns) -> pl.DataFrame:
    base = {
        "_row": np.arange(N, dtype=np.int64),
        "_quality": np.ones(N),
        "_origin": np.zeros(N, dtype=np.int64),
        "_dup": np.zeros(N, dtype=bool),
    }
    base.update(columns)
    return pl.DataFrame(base)


def _within_binomial(hits: int, trials: int, p: float) -> None:
    expected = trials * p
    sd = np.sqrt(trials * p * (1 - p))
    assert abs(hits - expected) <= 4 * sd, f"{hits} hits of {trials}, expected {expected:.0f}"


def _run(function, data, column, source="census"):
    node = NoiseNode(source, column, function.__name__, P)
    return function(data, node, np.random.default_rng(123), column)


def test_registry_names_are_unique_and_share_one_signature():
    assert len(set(NOISE_TYPES)) == len(REGISTRY)
    for entry in REGISTRY:
        params = list(inspect.signature(entry.function).parameters)
        assert params == ["data", "node", "rng", "column"], entry.name


@pytest.mark.parametrize(
    ("function", "column", "values"),
    [
        (fields.blank, "surname", ["Smith"] * N),
        (names.fake_name, "surname", ["Smith"] * N),
        (names.typo, "forename", ["Jonathan"] * N),
        (names.ocr, "forename", ["Emma"] * N),
        (names.phonetic, "forename", ["Phil"] * N),
        (names.nickname, "forename", ["William"] * N),
        (names.spelling_variant, "forename", ["Mohammed"] * N),
    ],
)
def test_name_noise_rate_and_effect(function, column, values):
    other = "forename" if column == "surname" else "surname"
    data = _frame(**{column: values, other: ["Jones"] * N})
    result = _run(function, data, column)
    _within_binomial(len(result.rows), N, P)
    changed = (result.data.get_column(column) != data.get_column(column)).fill_null(True)
    assert np.array_equal(np.flatnonzero(changed.to_numpy()), np.sort(result.rows))


def test_noise_only_reaches_eligible_rows():
    # Only "William" has nicknames: rows of "Zebedee" are never touched, and the rate among
    # eligible rows is the configured one.
    values = ["William", "Zebedee"] * (N // 2)
    data = _frame(forename=values, surname=["Jones"] * N)
    result = _run(names.nickname, data, "forename")
    assert (data.get_column("forename").gather(result.rows) == "William").all()
    _within_binomial(len(result.rows), N // 2, P)
    assert set(result.data.get_column("forename").gather(result.rows)) <= {"Bill", "Will", "Billy"}


def test_swap_names_swaps_both_columns():
    data = _frame(forename=["Wei"] * N, surname=["Chen"] * N)
    result = _run(names.swap_names, data, "forename")
    _within_binomial(len(result.rows), N, P)
    swapped = result.data[result.rows]
    assert (swapped.get_column("forename") == "Chen").all()
    assert (swapped.get_column("surname") == "Wei").all()


def test_quality_factor_concentrates_errors():
    quality = np.where(np.arange(N) < N // 2, 1.6, 0.4)
    data = _frame(surname=["Smith"] * N).with_columns(pl.Series("_quality", quality))
    hit = _run(fields.blank, data, "surname").rows
    poor, good = (hit < N // 2).sum(), (hit >= N // 2).sum()
    _within_binomial(int(poor), N // 2, P * 1.6)
    _within_binomial(int(good), N // 2, P * 0.4)


def test_date_noise():
    dob = pl.Series([dt.date(1980, 3, 7)] * N)
    data = _frame(date_of_birth=dob)
    swapped = _run(fields.swap_day_month, data, "date_of_birth")
    _within_binomial(len(swapped.rows), N, P)
    assert (swapped.data.get_column("date_of_birth").gather(swapped.rows)
            == dt.date(1980, 7, 3)).all()  # fmt: skip
    jan = _run(fields.jan_first, data, "date_of_birth")
    assert (jan.data.get_column("date_of_birth").gather(jan.rows) == dt.date(1980, 1, 1)).all()
    wrong = _run(fields.wrong_digit_dob, data, "date_of_birth")
    _within_binomial(len(wrong.rows), N, P)
    new = wrong.data.get_column("date_of_birth").gather(wrong.rows)
    assert (new != dt.date(1980, 3, 7)).all()
    # Exactly one of day, month or year differs.
    parts = pl.DataFrame({"d": new}).select(
        (pl.col("d").dt.day() != 7).cast(pl.Int8)
        + (pl.col("d").dt.month() != 3).cast(pl.Int8)
        + (pl.col("d").dt.year() != 1980).cast(pl.Int8)
    )
    assert (parts.to_series() == 1).all()


def test_day_month_swap_skips_impossible_dates():
    data = _frame(date_of_birth=pl.Series([dt.date(1980, 3, 25)] * N))
    assert len(_run(fields.swap_day_month, data, "date_of_birth").rows) == 0


def test_postcode_noise():
    data = _frame(postcode=["LS12 3AB"] * N)
    digit = _run(fields.postcode_digit, data, "postcode")
    _within_binomial(len(digit.rows), N, P)
    new = digit.data.get_column("postcode").gather(digit.rows)
    assert new.str.contains(r"^LS\d{2} \dAB$").all()
    assert (new != "LS12 3AB").all()
    fmt = _run(fields.postcode_format, data, "postcode")
    cleaned = fmt.data.get_column("postcode").str.to_uppercase().str.replace_all(" ", "")
    assert (cleaned == "LS123AB").all()


def test_stale_address_uses_previous_address_and_lsoa():
    prev = ["AB1 2CD" if i % 2 else None for i in range(N)]
    data = _frame(
        postcode=["LS12 3AB"] * N,
        lsoa11cd=["E01000001"] * N,
        _prev_postcode=prev,
        _prev_lsoa=["E01999999" if i % 2 else None for i in range(N)],
    )
    result = _run(fields.stale_address, data, "postcode", source="gp")
    _within_binomial(len(result.rows), N // 2, P)
    hit = result.data[result.rows]
    assert (hit.get_column("postcode") == "AB1 2CD").all()
    assert (hit.get_column("lsoa11cd") == "E01999999").all()


def test_wrong_category_stays_valid_and_differs():
    data = _frame(ethnic_group=["01"] * N)
    result = _run(fields.wrong_category, data, "ethnic_group")
    _within_binomial(len(result.rows), N, P)
    new = result.data.get_column("ethnic_group").gather(result.rows)
    assert (new != "01").all()
    assert new.is_in([f"{i:02d}" for i in range(1, 19)]).all()


def test_identifier_errors_stay_valid_looking():
    index = np.arange(N)
    data = _frame(nhs_number=nhs_numbers(index), nino=ninos(index, index))
    other = _run(fields.other_person_id, data, "nhs_number", source="gp")
    _within_binomial(len(other.rows), N, P)
    assert nhs_number_is_valid(other.data.get_column("nhs_number")).all()
    changed = other.data.get_column("nhs_number") != data.get_column("nhs_number")
    assert changed.sum() == len(other.rows)
    wrong = _run(fields.wrong_digit_id, data, "nino", source="dwp")
    _within_binomial(len(wrong.rows), N, P)
    assert nino_is_valid(wrong.data.get_column("nino")).all()
    assert (wrong.data.get_column("nino") != data.get_column("nino")).sum() == len(wrong.rows)


def test_duplicate_rows_get_new_ids_and_older_details():
    data = _frame(
        postcode=["LS12 3AB"] * N,
        surname=["Khan"] * N,
        _prev_postcode=["M1 1AA"] * N,
        _prev_surname=["Begum"] * N,
        _person=np.arange(N),
    )
    result = _run(rows.duplicate_row, data, "row", source="dwp")
    _within_binomial(len(result.rows), N, P)
    assert result.data.height == N + len(result.rows)
    assert result.data.get_column("_row").n_unique() == result.data.height
    copies = result.data.filter(pl.col("_dup"))
    assert (copies.get_column("postcode") == "M1 1AA").all()
    assert (copies.get_column("surname") == "Begum").all()


def test_zero_probability_changes_nothing():
    data = _frame(surname=["Smith"] * N)
    node = NoiseNode("census", "surname", "typo", 0.0)
    result = names.typo(data, node, np.random.default_rng(1), "surname")
    assert len(result.rows) == 0
    assert result.data.equals(data)


def test_stale_surname_only_for_people_whose_surname_changed():
    prev = ["Begum" if i % 2 else None for i in range(N)]
    data = _frame(surname=["Khan"] * N, _prev_surname=prev)
    result = _run(fields.stale_surname, data, "surname", source="gp")
    _within_binomial(len(result.rows), N // 2, P)
    assert (result.data.get_column("surname").gather(result.rows) == "Begum").all()
    assert (result.rows % 2 == 1).all()


def test_omit_row_drops_rows_and_reports_them():
    data = _frame(surname=["Smith"] * N)
    result = _run(rows.omit_row, data, "row")
    _within_binomial(len(result.rows), N, P)
    assert result.data.height == N - len(result.rows)
    assert not result.data.get_column("_row").is_in(pl.Series(result.rows).implode()).any()


def test_every_registered_noise_type_has_a_rate_test():
    tested = {
        "blank", "fake_name", "typo", "ocr", "phonetic", "nickname", "spelling_variant",
        "swap_names", "swap_day_month", "jan_first", "wrong_digit_dob", "postcode_digit",
        "postcode_format", "stale_address", "wrong_category", "other_person_id",
        "wrong_digit_id", "duplicate_row", "stale_surname", "omit_row",
    }  # fmt: skip
    assert tested == set(NOISE_TYPES)


def test_jan_first_rate():
    data = _frame(date_of_birth=pl.Series([dt.date(1990, 6, 15)] * N))
    _within_binomial(len(_run(fields.jan_first, data, "date_of_birth").rows), N, P)


def test_postcode_format_rate():
    data = _frame(postcode=["LS12 3AB"] * N)
    _within_binomial(len(_run(fields.postcode_format, data, "postcode").rows), N, P)
