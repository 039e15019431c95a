"""The record frame is written slice by slice: the slices must add up to the whole."""

import polars as pl
import pytest

from linkage import inputs
from linkage.inputs import InputSpec, write_records


def _inputs(tmp_path):
    census = pl.DataFrame(
        {
            "pid": [f"c{i}" for i in range(5)],
            "fore": ["Ann", "Bob", "Cy", "Di", "Ed"],
            "sur": ["Lee", "Hart", "Ward", "Moss", "Park"],
            "dob": ["1970-01-02", "1980-03-04", "1990-05-06", "2000-07-08", "1960-09-10"],
            "pc": ["M1 1AE", "m11ae", "SW1A 1AA", None, "B1 1BB"],
        }
    )
    census.write_parquet(tmp_path / "census.parquet")
    (tmp_path / "gp.csv").write_text(
        "id,fore,sur,dob,pc\n"
        "g0,ANN,LEE,02/01/1970,M1 1AE\n"
        "g1,Robert,Hart,04/03/1980,\n"
        "g2,Cy,Ward,31/02/1990,SW1A1AA\n"
    )
    roles = {"forename": "fore", "surname": "sur", "date_of_birth": "dob", "postcode": "pc"}
    return [
        InputSpec("census", tmp_path / "census.parquet", "pid", roles, unique_people=True),
        InputSpec("gp", tmp_path / "gp.csv", "id", roles),
    ]


def test_slices_add_up_to_the_whole(tmp_path, monkeypatch):
    specs = _inputs(tmp_path)
    whole = tmp_path / "whole.parquet"
    report = write_records(specs, whole, max_invalid_share=0.5)
    # Two rows a slice: the census in three slices, the GP input in two.
    monkeypatch.setattr(inputs, "ROWS_PER_SLICE", 2)
    sliced = tmp_path / "sliced.parquet"
    sliced_report = write_records(specs, sliced, max_invalid_share=0.5)
    one, many = pl.read_parquet(whole), pl.read_parquet(sliced)
    assert one.equals(many)
    assert pl.read_parquet_schema(whole) == pl.read_parquet_schema(sliced)
    assert many.get_column("unique_id").to_list() == list(range(8))
    assert many.get_column("record_id").to_list() == [f"c{i}" for i in range(5)] + [
        "g0",
        "g1",
        "g2",
    ]
    assert report.records_by_source == sliced_report.records_by_source == {"census": 5, "gp": 3}
    # The impossible 31 February is repaired (counted), the same whichever the slicing.
    assert [r.as_dict() for r in report.repairs] == [r.as_dict() for r in sliced_report.repairs]
    assert many.filter(pl.col("record_id") == "g2").get_column("date_of_birth").item() is None


def test_a_bad_input_writes_nothing(tmp_path):
    specs = _inputs(tmp_path)
    (tmp_path / "gp.csv").write_text("id,fore,sur,dob,pc\ng0,Ann,Lee,1970-01-02,M1 1AE\ng0,B,C,,\n")
    out = tmp_path / "records.parquet"
    try:
        write_records(specs, out)
    except inputs.LinkageInputError as error:
        assert "share a record id" in str(error)
    else:
        raise AssertionError("a repeated record id must stop the inputs")
    assert not out.exists()


def _six_people(tmp_path, dates, postcodes):
    pl.DataFrame(
        {
            "id": [f"r{i}" for i in range(6)],
            "fore": ["Ann", "Bob", "Cy", "Di", "Ed", "Flo"],
            "dob": dates,
            "pc": postcodes,
        }
    ).write_parquet(tmp_path / "people.parquet")
    roles = {"forename": "fore", "date_of_birth": "dob", "postcode": "pc"}
    return [InputSpec("people", tmp_path / "people.parquet", "id", roles)]


UK = ["M1 1AE", "SW1A 1AA", "B1 1BB", "LS1 4AP"]


def test_a_refusal_counts_and_names_rows_over_every_slice(tmp_path, monkeypatch):
    # Data rows 3, 5 and 6 (1-based) hold unreadable dates: 3 of 6, over three slices.
    dates = ["1970-01-02", "1980-03-04", "1990-02-31", "2000-07-08", "soon", "1999-13-01"]
    specs = _six_people(tmp_path, dates, [*UK, "M2 2BB", "M3 3CC"])
    monkeypatch.setattr(inputs, "ROWS_PER_SLICE", 2)
    try:
        write_records(specs, tmp_path / "records.parquet", max_invalid_share=0.4)
    except inputs.LinkageInputError as error:
        assert "3 of 6 values (50%)" in str(error)
        assert "first data rows: [3, 5, 6]" in str(error)
    else:
        raise AssertionError("half the dates unreadable must refuse the input")


def test_the_postcode_rule_is_decided_over_the_whole_input(tmp_path, monkeypatch):
    # Four UK postcodes then two zip codes: a UK input, so the zip codes are recording
    # errors, even in the last slice where they are all there is.
    dates = ["1970-01-02"] * 6
    specs = _six_people(tmp_path, dates, [*UK, "12345", "90210"])
    monkeypatch.setattr(inputs, "ROWS_PER_SLICE", 2)
    out = tmp_path / "records.parquet"
    report = write_records(specs, out, max_invalid_share=0.5)
    postcodes = pl.read_parquet(out).get_column("postcode").to_list()
    assert postcodes == [*UK, None, None]
    (repair,) = [r for r in report.repairs if r.role == "postcode"]
    assert (repair.rule, repair.recorded, repair.invalid) == ("a UK postcode", 6, 2)


def test_too_long_values_are_counted_over_every_slice(tmp_path, monkeypatch):
    names = ["Ann", "x" * 300, "Cy", "Di", "y" * 256, "Flo"]
    pl.DataFrame({"id": [f"r{i}" for i in range(6)], "fore": names}).write_parquet(
        tmp_path / "people.parquet"
    )
    spec = InputSpec("people", tmp_path / "people.parquet", "id", {"forename": "fore"})
    monkeypatch.setattr(inputs, "ROWS_PER_SLICE", 2)
    try:
        write_records([spec], tmp_path / "records.parquet")
    except inputs.LinkageInputError as error:
        assert "2 values are longer than 255 characters (first rows: [1, 4])" in str(error)
    else:
        raise AssertionError("a 300-character forename is a broken export")


def _with_history(tmp_path):
    specs = _inputs(tmp_path)
    pl.DataFrame(
        {
            "id": ["g1", "g1", "g0", "g9"],
            "pc": ["LS1 4AP", "M2 2BB", "not one", "B1 1BB"],
            "left": ["2010-01-01", "2015-01-01", "2001-01-01", "2001-01-01"],
        }
    ).write_csv(tmp_path / "gp_history.csv")
    history = inputs.AddressHistory(tmp_path / "gp_history.csv", "id", "pc", "left")
    gp = specs[1]
    roles = {**gp.columns, "previous_postcodes": inputs.HISTORY_COLUMN}
    return [specs[0], InputSpec("gp", gp.path, "id", roles, address_history=history)]


@pytest.mark.slow
def test_spark_checks_and_standardises_as_the_python_process_does(
    tmp_path, spark_engine, monkeypatch
):
    specs = _with_history(tmp_path)
    here = tmp_path / "here.parquet"
    report = write_records(specs, here, max_invalid_share=0.5)
    on_spark = tmp_path / "spark.parquet"
    spark_report = write_records(specs, on_spark, max_invalid_share=0.5, engine=spark_engine.sql)
    assert pl.read_parquet(here).equals(pl.read_parquet(on_spark))
    assert pl.read_parquet_schema(here) == pl.read_parquet_schema(on_spark)
    assert report.as_dict() == spark_report.as_dict()
    assert report.records_by_source == spark_report.records_by_source
    # g1's two previous postcodes, newest first; g0's one is unreadable (counted).
    gp = pl.read_parquet(on_spark).filter(pl.col("source") == "gp")
    assert gp.get_column("previous_postcodes").to_list()[:2] == [None, ["M2 2BB", "LS1 4AP"]]
    (history,) = [r for r in spark_report.repairs if r.role == "previous_postcodes"]
    assert (history.recorded, history.invalid) == (3, 1)


@pytest.mark.slow
def test_spark_refuses_with_the_same_rows(tmp_path, spark_engine):
    dates = ["1970-01-02", "1980-03-04", "1990-02-31", "2000-07-08", "soon", "1999-13-01"]
    specs = _six_people(tmp_path, dates, [*UK, "M2 2BB", "M3 3CC"])
    with pytest.raises(inputs.LinkageInputError, match=r"first data rows: \[3, 5, 6\]"):
        write_records(
            specs, tmp_path / "records.parquet", max_invalid_share=0.4, engine=spark_engine.sql
        )
    assert not (tmp_path / "records.parquet").exists()
