"""Previous addresses in the linkage: reading them, and the postcode comparison's levels,
on hand-made records scored by Splink on DuckDB."""

import duckdb
import polars as pl
import pytest
from splink import DuckDBAPI, Linker

from linkage import model
from linkage.errors import LinkageInputError
from linkage.inputs import AddressHistory, InputSpec, load_input, standardise_records

ROLES = ("forename", "surname", "date_of_birth", "postcode")


def _postcode_levels(history: bool) -> list[dict]:
    comparison = model.postcode_comparison(history=history)
    # Term frequencies need population tables; the level a pair falls in does not.
    for level in comparison["comparison_levels"]:
        level.pop("tf_adjustment_column", None)
        level.pop("tf_adjustment_weight", None)
    return comparison


def _level_of(left: dict, right: dict) -> str:
    """The label of the postcode level Splink puts a pair of standardised records in."""
    comparison = _postcode_levels(history=True)
    frame = pl.DataFrame([left, right])
    api = DuckDBAPI(connection=duckdb.connect())
    table = api.register(frame.to_arrow(), table_name="records")
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [comparison],
    }
    scored = Linker(table, settings).inference.score_pair(left, right).as_pandas_dataframe()
    gamma = int(scored["gamma_postcode"].iloc[0])
    levels = comparison["comparison_levels"]
    if gamma == -1:
        return levels[0]["label_for_charts"]
    # Splink numbers the non-null levels from the top one (highest) down to ELSE (0).
    non_null = [lvl for lvl in levels if not lvl.get("is_null_level")]
    return non_null[len(non_null) - 1 - gamma]["label_for_charts"]


def _records(tmp_path, census_postcode: str, gp_postcode: str, history: list) -> list[dict]:
    """A census record and a GP record with an address-history table, standardised as the
    pipeline reads them."""
    census = pl.DataFrame({"id": ["C1"], "postcode": [census_postcode]})
    gp = pl.DataFrame({"id": ["G1"], "postcode": [gp_postcode]})
    rows = [("G1", pc, moved) for pc, moved in history] or [("G9", "ZZ1 1ZZ", "2001-01-01")]
    table = pl.DataFrame(rows, schema=["id", "pc", "left"], orient="row").with_columns(
        pl.col("left").str.to_date()
    )
    census.write_parquet(tmp_path / "census.parquet")
    gp.write_parquet(tmp_path / "gp.parquet")
    table.write_parquet(tmp_path / "history.parquet")
    specs = [
        InputSpec("census", tmp_path / "census.parquet", "id", {"postcode": "postcode"}),
        InputSpec(
            "gp",
            tmp_path / "gp.parquet",
            "id",
            {"postcode": "postcode", "previous_postcodes": "previous_postcodes"},
            address_history=AddressHistory(tmp_path / "history.parquet", "id", "pc", "left"),
        ),
    ]
    out = []
    for n, spec in enumerate(specs):
        raw, _ = load_input(spec)
        out.append(standardise_records(spec, raw, n).to_dicts()[0])
    return out


def test_a_postcode_agreeing_only_with_the_latest_previous_address(tmp_path):
    census, gp = _records(
        tmp_path,
        "AB1 2CD",
        "XY9 9ZZ",
        [("EF3 4GH", "2009-05-01"), ("AB1 2CD", "2015-06-30")],
    )
    # The newest previous address comes first, whatever the table's order.
    assert gp["previous_postcodes"] == ["AB1 2CD", "EF3 4GH"]
    assert _level_of(census, gp) == "the other's latest previous address"


def test_a_postcode_agreeing_only_with_an_older_address(tmp_path):
    census, gp = _records(
        tmp_path,
        "ab12cd",
        "XY9 9ZZ",
        [("AB1 2CD", "2009-05-01"), ("EF3 4GH", "2015-06-30")],
    )
    assert _level_of(census, gp) == "an earlier address in common"


def test_the_current_postcode_still_ranks_first(tmp_path):
    census, gp = _records(tmp_path, "XY9 9ZZ", "XY9 9ZZ", [("AB1 2CD", "2015-06-30")])
    assert _level_of(census, gp) == "exact"


def test_without_a_matching_previous_address_the_district_levels_apply(tmp_path):
    census, gp = _records(tmp_path, "XY9 1AB", "XY9 9ZZ", [("AB1 2CD", "2015-06-30")])
    assert _level_of(census, gp) == "same district"
    census, gp = _records(tmp_path, "XY9 9ZZ", "AB1 2CD", [])
    assert gp["previous_postcodes"] is None
    assert gp["postcode_history"] == ["AB1 2CD"]
    assert _level_of(census, gp) == "all other"


def test_previous_postcodes_as_text_are_split_and_standardised(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id,pc,prev\n1,AB1 2CD,ef3 4gh| XY9 9ZZ;not a postcode\n2,AB1 2CD,\n")
    spec = InputSpec("file", path, "id", {"postcode": "pc", "previous_postcodes": "prev"})
    raw, _ = load_input(spec, max_invalid_share=0.5)
    records = standardise_records(spec, raw, 0)
    assert records.get_column("previous_postcodes").to_list() == [["EF3 4GH", "XY9 9ZZ"], None]
    assert records.get_column("previous_postcode").to_list() == ["EF3 4GH", None]


def test_a_history_table_missing_its_column_is_named(tmp_path):
    pl.DataFrame({"id": ["G1"], "postcode": ["AB1 2CD"]}).write_parquet(tmp_path / "gp.parquet")
    pl.DataFrame({"id": ["G1"], "pc": ["AB1 2CD"]}).write_parquet(tmp_path / "h.parquet")
    spec = InputSpec(
        "gp",
        tmp_path / "gp.parquet",
        "id",
        {"postcode": "postcode", "previous_postcodes": "previous_postcodes"},
        address_history=AddressHistory(tmp_path / "h.parquet", "id", "pc", "moved_out"),
    )
    with pytest.raises(LinkageInputError, match="moved_out"):
        load_input(spec)


def test_without_the_role_the_model_is_unchanged():
    without = model.settings_dict(roles=ROLES)
    postcode = next(c for c in without["comparisons"] if c["output_column_name"] == "postcode")
    assert postcode == model.postcode_comparison(history=False)
    assert not any("previous" in rule for rule in model.blocking_rules(ROLES))
    # Movers are already blocked on birth date with names; the history adds evidence only.
    assert model.blocking_rules((*ROLES, "previous_postcodes")) == model.blocking_rules(ROLES)
    # The history levels are estimated like the other postcode levels: some session trains them.
    assert "postcode" not in model.untrainable_comparisons((*ROLES, "previous_postcodes"))


def test_a_mapping_file_gives_an_address_history_table(tmp_path):
    from linkage.files import read_mapping

    (tmp_path / "gp.csv").write_text("pid,pc\nP1,XY9 9ZZ\nP2,AB1 2CD\n")
    (tmp_path / "hist.csv").write_text(
        "pid,pc,left\nP1,EF3 4GH,2009-05-01\nP1,AB1 2CD,2015-06-30\n"
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "gp:\n  record_id: pid\n  postcode: pc\n  address_history:\n"
        "    file: hist.csv\n    record_id: pid\n    postcode: pc\n    moved_out: left\n"
    )
    [spec] = read_mapping(mapping, {"gp": tmp_path / "gp.csv"})
    assert spec.address_history.path == tmp_path / "hist.csv"
    raw, _ = load_input(spec)
    records = standardise_records(spec, raw, 0)
    assert records.get_column("previous_postcodes").to_list() == [["AB1 2CD", "EF3 4GH"], None]


def test_a_mapping_cannot_give_previous_postcodes_twice(tmp_path):
    from linkage.files import read_mapping

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "gp:\n  record_id: pid\n  previous_postcodes: old\n  address_history:\n"
        "    file: hist.csv\n    record_id: pid\n    postcode: pc\n"
    )
    with pytest.raises(LinkageInputError, match="not both"):
        read_mapping(mapping, {"gp": tmp_path / "gp.csv"})


def test_unreadable_previous_postcodes_are_counted_and_too_many_refused(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id,pc,prev\n1,AB1 2CD,EF3 4GH|not a postcode\n2,AB1 2CD,XY9 9ZZ\n")
    spec = InputSpec("file", path, "id", {"postcode": "pc", "previous_postcodes": "prev"})
    _, repairs = load_input(spec, max_invalid_share=0.5)
    [repair] = [r for r in repairs if r.role == "previous_postcodes"]
    assert (repair.recorded, repair.invalid) == (3, 1)
    with pytest.raises(LinkageInputError, match="1 of 3 values"):
        load_input(spec, max_invalid_share=0.2)
