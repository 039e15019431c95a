"""``generate_world``: the stage entry point that writes ``sources/`` and ``truth/``.

The work is split so that other engines can run it: ``plan_blocks`` cuts the population into
seeded blocks, ``write_block`` generates one block into a parts folder (any process, any order),
and ``publish_parts`` combines the parts in block order and moves the result into place.
``generate_world`` runs the three locally, with a process pool when ``world.workers > 1``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import polars as pl

from synthetic_data.block_output import SCHEMAS, SOURCE_TABLES, TRUTH_TABLES, generate_block
from synthetic_data.blocks import Block, plan_blocks
from synthetic_data.config import WorldConfig
from synthetic_data.names import load_name_bank
from synthetic_data.places import build_places, sampling_frame
from synthetic_data.reference import load_geography

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


class GenerationError(RuntimeError):
    """The world cannot be generated or written, with a message a user can act on."""


def write_block(block: Block, world: WorldConfig, *, people: int, parts_dir: Path) -> int:
    """Generate one block and write each of its tables as a part file.

    Parameters
    ----------
    block
        One entry of ``plan_blocks(people, world.block_size, seed)``.
    world
        The world configuration.
    people
        The run's total people (the populated LSOAs depend on it).
    parts_dir
        Folder of part files: ``<parts_dir>/<table>/part-<block>.arrow``.

    Returns
    -------
    int
        The block's index.
    """
    geo = load_geography()
    frame = sampling_frame(block.seed, people, world.population.people_per_lsoa)
    places = build_places(block.seed, world.gp.practice_coverage, world.gp.patients_per_practice)
    tables = generate_block(block, world, geo, frame, places, load_name_bank())
    for name, table in tables.items():
        folder = Path(parts_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        # Part files are temporary: uncompressed Arrow IPC is written and read at memory speed,
        # so each table is encoded to Parquet only once, when the parts are combined.
        table.write_ipc(folder / f"part-{block.index:06d}.arrow", compression="uncompressed")
    return block.index


def publish_parts(
    parts_dir: Path, out_dir: Path, *, executor: Executor | None = None
) -> dict[str, int]:
    """Combine the part files of every block into ``out_dir/sources`` and ``out_dir/truth``.

    Tables are built in a temporary folder inside ``out_dir`` and then moved into place with
    renames, so readers never see a half-written world. Returns rows per table.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".publish-", dir=out_dir))
    try:
        jobs = _combine_jobs(Path(parts_dir), staging)
        mapper = executor.map if executor is not None else map
        counts = dict(mapper(_combine_table, jobs))
        for folder in ("sources", "truth"):
            _replace(staging / folder, out_dir / folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def generate_world(
    world: WorldConfig,
    *,
    people: int,
    seed: int,
    out_dir: Path,
    progress: ProgressCallback | None = None,
) -> dict:
    """Generate the synthetic England and write its extracts and truth tables.

    Parameters
    ----------
    world
        The validated ``world`` section of the run configuration.
    people
        People who ever live in the synthetic England (census residents, later immigrants
        and babies born after Census day).
    seed
        Seed of every random draw; the same seed and configuration give identical files,
        whatever ``world.workers`` is.
    out_dir
        The run folder; ``sources/`` and ``truth/`` are written inside it atomically (built in
        a temporary folder beside them, then moved into place).
    progress
        Optional callback ``(blocks_done, blocks_total)`` for a progress display.

    Returns
    -------
    dict
        ``people``, ``seed``, ``records`` (rows per source table), ``truth_rows`` and
        ``seconds``.

    Raises
    ------
    GenerationError
        ``people`` is not positive (nothing is written), or ``out_dir`` cannot be written (the
        previous world, if any, is left as it was).
    """
    if people <= 0:
        raise GenerationError(f"people must be a positive number, got {people}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        counts = _generate(world, people, seed, out_dir, progress, started)
    except OSError as exc:
        raise GenerationError(f"Could not write the world to {out_dir}: {exc}") from exc
    seconds = round(time.perf_counter() - started, 2)
    logger.info("Generated the world in %.1f s", seconds)
    return {
        "people": people,
        "seed": seed,
        "records": {name: counts[name] for name in SOURCE_TABLES},
        "truth_rows": {name: counts[name] for name in TRUTH_TABLES},
        "seconds": seconds,
    }


def _generate(
    world: WorldConfig,
    people: int,
    seed: int,
    out_dir: Path,
    progress: ProgressCallback | None,
    started: float,
) -> dict[str, int]:
    """Run the blocks (in a process pool when asked) and publish them; rows per table."""
    blocks = plan_blocks(people, world.block_size, seed)
    logger.info("Generating %d people in %d blocks (seed %d)", people, len(blocks), seed)
    parts = Path(tempfile.mkdtemp(prefix=".parts-", dir=out_dir))
    try:
        config_data = world.model_dump(mode="json")
        jobs = [(block, config_data, people, str(parts)) for block in blocks]
        if world.workers > 1 and len(blocks) > 1:
            # "spawn" rather than fork: forking a process whose polars thread pool is running
            # can deadlock the child.
            context = multiprocessing.get_context("spawn")
            threads = max(1, (os.cpu_count() or 1) // world.workers)
            with (
                _worker_threads(threads),
                ProcessPoolExecutor(max_workers=world.workers, mp_context=context) as pool,
            ):
                _run_blocks(pool.map(_write_block_job, jobs), len(blocks), progress)
                logger.info("Blocks done in %.1f s", time.perf_counter() - started)
                counts = publish_parts(parts, out_dir, executor=pool)
        else:
            _run_blocks(map(_write_block_job, jobs), len(blocks), progress)
            logger.info("Blocks done in %.1f s", time.perf_counter() - started)
            counts = publish_parts(parts, out_dir)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return counts


def _write_block_job(args: tuple[Block, dict, int, str]) -> int:
    """``write_block`` for a worker process.

    The configuration travels as a plain dict (its noise models are built at import time and
    cannot be pickled) and is validated again in the worker.
    """
    block, config_data, people, parts_dir = args
    world = WorldConfig.model_validate(config_data)
    return write_block(block, world, people=people, parts_dir=Path(parts_dir))


def _run_blocks(results: Iterator[int], total: int, progress: ProgressCallback | None) -> None:
    for done, _ in enumerate(results, start=1):
        if progress:
            progress(done, total)


@contextlib.contextmanager
def _worker_threads(threads: int) -> Iterator[None]:
    """Give spawned workers a share of the cores for polars' thread pool.

    Workers read ``POLARS_MAX_THREADS`` when they start; without it, every worker would start
    one thread per core and they would compete for the same cores.
    """
    old = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = old


def _combine_jobs(parts: Path, staging: Path) -> list[tuple[str, str, str]]:
    """One job per table: its name, its parts folder and its target file."""
    jobs = []
    for group, names in (("sources", SOURCE_TABLES), ("truth", TRUTH_TABLES)):
        (staging / group).mkdir(parents=True, exist_ok=True)
        for name in names:
            jobs.append((name, str(parts / name), str(staging / group / f"{name}.parquet")))
    return jobs


def _combine_table(job: tuple[str, str, str]) -> tuple[str, int]:
    """Concatenate one table's parts, in block order, into one Parquet file."""
    name, folder, target = job
    files = sorted(Path(folder).glob("part-*.arrow"))
    if files:
        table = pl.concat([pl.read_ipc(f) for f in files], how="vertical")
    else:
        table = pl.DataFrame(schema={c: pl.Utf8 for c in SCHEMAS[name]})
    # LZ4 without column statistics: about half the encoding time of the zstd default, for
    # files a few tens of MB larger at a million people.
    table.write_parquet(target, compression="lz4", statistics=False)
    return name, table.height


def _replace(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing an older copy with two renames."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
