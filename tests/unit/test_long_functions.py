"""tools/long_functions.py counts a function's lines from its ``def`` to its last line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "long_functions", ROOT / "tools" / "long_functions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLE = """
def short():
    return 1


class Holder:
    @staticmethod
    def method():
        x = 1
        x += 1
        return x


def outer():
    def inner():
        pass

    return inner
"""


def test_lengths_are_counted_from_def_to_last_line_with_qualified_names(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    lengths = {name: length for name, _, length in _tool().function_lengths(path)}
    assert lengths == {"short": 2, "Holder.method": 4, "outer": 5, "outer.inner": 2}


def test_only_functions_over_the_limit_are_listed_and_tests_are_skipped(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def long():\n" + "    x = 1\n" * 10)
    found = _tool().long_functions([tmp_path], limit=4)
    assert [length for length, _ in found] == [5]
    assert found[0][1].endswith("sample.py:14 outer")
