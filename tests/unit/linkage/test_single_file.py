"""Spark's part files are streamed, in order, into one Parquet file."""

import polars as pl
import pyarrow.parquet as pq

from linkage import sql_engine
from linkage.sql_engine import single_file


def test_parts_are_joined_in_order_a_batch_at_a_time(tmp_path, monkeypatch):
    folder = tmp_path / "parts"
    folder.mkdir()
    # Three parts of 5, 0 and 4 rows, written out of order; two rows a batch.
    sizes = {
        "part-00002.parquet": (5, 4),
        "part-00000.parquet": (0, 5),
        "part-00001.parquet": (5, 0),
    }
    for name, (start, rows) in sizes.items():
        pl.DataFrame(
            {
                "unique_id": list(range(start, start + rows)),
                "tokens": [[f"t{i}"] for i in range(start, start + rows)],
                "dropped": ["x"] * rows,
            },
            schema={"unique_id": pl.Int64, "tokens": pl.List(pl.Utf8), "dropped": pl.Utf8},
        ).write_parquet(folder / name)
    (folder / "_SUCCESS").write_text("")
    monkeypatch.setattr(sql_engine, "STREAMED_ROWS", 2)
    out = tmp_path / "one.parquet"
    single_file(folder, out, ["unique_id", "tokens"])
    frame = pl.read_parquet(out)
    assert frame.columns == ["unique_id", "tokens"]
    assert frame.get_column("unique_id").to_list() == list(range(9))
    assert frame.get_column("tokens").to_list()[8] == ["t8"]
    # Two rows at a time: row groups of at most two rows.
    assert max(pq.ParquetFile(out).metadata.row_group(i).num_rows for i in range(5)) == 2
