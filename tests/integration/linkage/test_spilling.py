"""A link with a memory limit far below its working set completes by spilling to a folder
inside the stage's working folder, which is removed at the end."""

import threading
import time
from pathlib import Path

import polars as pl

import linkage.backends as backends
from linkage import LinkageConfig, link_sources

TINY_LIMIT = "100MB"
"""Below what the 3,000-person world's link holds at once (it spills a few MB at this
limit and none at 200MB), above what DuckDB needs for any single block it must pin."""


class _SpillWatcher:
    """Records the backend's spill folder and the most files seen in it while open."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.most_files = 0

    def watch(self, folder: Path) -> None:
        self.folder = Path(folder)
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self) -> None:
        while True:
            try:
                files = list(self.folder.iterdir())
            except FileNotFoundError:
                if self.most_files or not self.folder.parent.exists():
                    return
                files = []
            self.most_files = max(self.most_files, len(files))
            time.sleep(0.002)


def test_a_tiny_memory_limit_spills_inside_the_run_and_completes(small_world, monkeypatch):
    watcher = _SpillWatcher()
    opened = backends.DuckDBBackend.__init__

    def spying_init(self, config, work_dir=None):
        opened(self, config, work_dir)
        watcher.watch(self.spill_dir)

    monkeypatch.setattr(backends.DuckDBBackend, "__init__", spying_init)
    out = small_world / "linkage-spilled"
    config = LinkageConfig(memory_limit=TINY_LIMIT, threads=1, charts=False, seed=3)
    summary = link_sources(small_world / "sources", out, config)

    # The spill folder was inside the stage's working folder (staged beside linkage/).
    assert watcher.folder is not None
    assert watcher.folder.name == backends.SPILL_FOLDER
    assert watcher.folder.parent.parent == small_world
    assert watcher.most_files > 0, "DuckDB never spilled: the limit is not tiny enough"
    assert not watcher.folder.exists() and not (out / backends.SPILL_FOLDER).exists()
    records = pl.read_parquet(out / "records.parquet")
    spine = pl.read_parquet(out / "spine.parquet")
    assert spine.height == records.height == summary["records"]
