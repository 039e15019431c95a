"""Custom Great Expectations expectation classes for rules GX does not ship.

Both checks are vectorised over the whole column (numpy on the string bytes, integer
arithmetic), because a Python function per row would take seconds at a million rows.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

# NHS number check digit: weights 10..2 on the first nine digits; 11 - (sum mod 11), where 11
# means 0 and 10 means the number is invalid (NHS Data Dictionary, "NHS NUMBER").
_NHS_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)


def nhs_number_is_valid(values: pd.Series) -> pd.Series:
    """Whether each value is a 10-digit NHS number with a correct mod-11 check digit.

    Parameters
    ----------
    values
        Strings (missing values are never passed by GX to a map condition).

    Returns
    -------
    pandas.Series
        Booleans aligned with ``values``.
    """
    text = values.astype("string[pyarrow]")
    shaped = text.str.fullmatch(r"\d{10}").fillna(False).to_numpy(dtype=bool)
    valid = np.zeros(len(values), dtype=bool)
    if shaped.any():
        # Ten ASCII digits per value: view the concatenated bytes as a (n, 10) digit matrix.
        joined = "".join(text[shaped].tolist()).encode("ascii")
        digits = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 10).astype(np.int64) - 48
        check = 11 - (digits[:, :9] @ _NHS_WEIGHTS) % 11
        check = np.where(check == 11, 0, check)
        valid[shaped] = (check != 10) & (check == digits[:, 9])
    return pd.Series(valid, index=values.index)


class ColumnValuesValidNhsNumber(ColumnMapMetricProvider):
    """Map metric: the value is a valid NHS number (10 digits, mod-11 check digit)."""

    condition_metric_name = "column_values.valid_nhs_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return nhs_number_is_valid(column)


class ExpectColumnValuesToBeValidNhsNumber(ColumnMapExpectation):
    """Expect column values to be NHS numbers: 10 digits whose last is the mod-11 check digit.

    Missing values are ignored, as in every GX column map expectation; pair this with
    ``ExpectColumnValuesToNotBeNull`` where a number is required.
    """

    map_metric = "column_values.valid_nhs_number"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["triangulate"]}


class ColumnValuesMultipleOf(ColumnMapMetricProvider):
    """Map metric: the value is a whole multiple of ``base``."""

    condition_metric_name = "column_values.multiple_of"
    condition_value_keys = ("base",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, base: int, **kwargs: object) -> pd.Series:
        numbers = pd.to_numeric(column, errors="coerce").astype("float64")
        return pd.Series(np.mod(numbers.to_numpy(), base) == 0, index=column.index)


class ExpectColumnValuesToBeMultipleOf(ColumnMapExpectation):
    """Expect column values to be whole multiples of ``base`` (counts rounded to 5, say)."""

    base: int = 5

    map_metric = "column_values.multiple_of"
    success_keys = ("base", "mostly")
    args_keys = ("column", "base")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["triangulate"]}
