"""Files and folders are written whole or not at all."""

import datetime as dt
import json

import pytest

from common.files import atomic_write, staged_output, write_json, write_text
from common.mappings import merge_mappings


class _Interrupted(Exception):
    pass


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    path = write_text(tmp_path / "table.csv", "old\n")

    def half_then_fail(tmp):
        tmp.write_text("half")
        raise _Interrupted

    with pytest.raises(_Interrupted):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_write_json_makes_folders_and_writes_dates_as_text(tmp_path):
    path = write_json(tmp_path / "a" / "b.json", {"day": dt.date(2020, 2, 1), "n": 3})
    assert json.loads(path.read_text()) == {"day": "2020-02-01", "n": 3}


def test_staged_folder_replaces_the_old_one_only_on_success(tmp_path):
    out = tmp_path / "linkage"
    with staged_output(out) as staging:
        (staging / "spine.parquet").write_text("first")
    with pytest.raises(_Interrupted), staged_output(out) as staging:
        (staging / "spine.parquet").write_text("second, half written")
        raise _Interrupted
    assert (out / "spine.parquet").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linkage"]


def test_staging_debris_of_a_killed_run_is_cleared(tmp_path):
    debris = tmp_path / ".linkage.abc123"
    debris.mkdir()
    with staged_output(tmp_path / "linkage") as staging:
        (staging / "x").write_text("x")
    assert not debris.exists()


def test_nested_mappings_merge_key_by_key():
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    assert merge_mappings(base, {"a": {"c": 20}, "e": 5}) == {
        "a": {"b": 1, "c": 20},
        "d": 3,
        "e": 5,
    }
    assert base == {"a": {"b": 1, "c": 2}, "d": 3}  # the defaults are not changed
    assert merge_mappings({"a": {"b": 1}}, {"a": 7}) == {"a": 7}  # a scalar replaces a mapping
