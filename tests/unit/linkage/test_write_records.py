"""The record frame is written slice by slice: the slices must add up to the whole."""

import polars as pl

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
