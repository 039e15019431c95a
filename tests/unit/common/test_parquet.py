"""Writing a stream of frames to one Parquet file."""

import polars as pl

from common.parquet import write_frames


def test_frames_are_written_in_order_under_the_first_frames_schema(tmp_path):
    out = tmp_path / "out.parquet"
    frames = [
        pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        pl.DataFrame({"a": [3], "b": [None]}, schema={"a": pl.Int32, "b": pl.String}),
    ]
    assert write_frames(iter(frames), out) == 3
    written = pl.read_parquet(out)
    assert written.schema == {"a": pl.Int64, "b": pl.String}
    assert written.to_dict(as_series=False) == {"a": [1, 2, 3], "b": ["x", "y", None]}


def test_no_frames_write_the_empty_table_or_nothing(tmp_path):
    empty = pl.DataFrame(schema={"a": pl.Int64})
    assert write_frames(iter([]), tmp_path / "e.parquet", empty=empty) == 0
    assert pl.read_parquet(tmp_path / "e.parquet").schema == {"a": pl.Int64}
    assert write_frames(iter([]), tmp_path / "none.parquet") == 0
    assert not (tmp_path / "none.parquet").exists()
