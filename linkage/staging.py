"""Writing an output folder whole or not at all: the one helper every stage uses."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out_dir`` only if the block succeeds.

    The folder is made beside ``out_dir`` (same file system, so the final rename is
    atomic); on any error it is removed and ``out_dir`` is left as it was.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # A run killed mid-stage leaves its staging folder behind: clear it before starting again.
    for stale in out_dir.parent.glob(f".{out_dir.name}.*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
