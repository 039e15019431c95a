"""The one place that opens DuckDB: settings applied, and no spill folder left behind."""

import gc
import tempfile
from pathlib import Path

from linkage.database import connect


def _spill_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("triangulate-duckdb-*"))


def test_a_spill_folder_made_for_the_connection_goes_with_it():
    before = _spill_folders()
    con = connect(memory_limit="100MB", threads=1)
    made = _spill_folders() - before
    assert len(made) == 1 and next(iter(made)).is_dir()
    setting = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(setting) == next(iter(made))
    con.close()
    del con
    gc.collect()
    assert not (_spill_folders() - before)


def test_a_given_spill_folder_is_kept(tmp_path):
    spill = tmp_path / "spill"
    con = connect(temp_directory=spill)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2
    con.close()
    del con
    gc.collect()
    assert spill.is_dir()
