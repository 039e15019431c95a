"""The same seed and configuration give identical files, whatever the number of workers."""

import hashlib

import pytest

from synthetic_data import WorldConfig, generate_world, plan_blocks, publish_parts, write_block
from synthetic_data.block_output import SOURCE_TABLES, TRUTH_TABLES


def _digests(folder):
    out = {}
    for group, names in (("sources", SOURCE_TABLES), ("truth", TRUTH_TABLES)):
        for name in names:
            data = (folder / group / f"{name}.parquet").read_bytes()
            out[f"{group}/{name}"] = hashlib.sha256(data).hexdigest()
    return out


@pytest.mark.slow
def test_same_seed_same_files_whatever_the_workers(tmp_path):
    config = WorldConfig(block_size=1500)
    a = generate_world(config, people=4000, seed=11, out_dir=tmp_path / "a")
    b = generate_world(config, people=4000, seed=11, out_dir=tmp_path / "b")
    parallel = config.model_copy(update={"workers": 2})
    c = generate_world(parallel, people=4000, seed=11, out_dir=tmp_path / "c")
    assert a["records"] == b["records"] == c["records"]
    digests = _digests(tmp_path / "a")
    assert digests == _digests(tmp_path / "b")
    assert digests == _digests(tmp_path / "c")


def test_a_different_seed_gives_a_different_world(tmp_path):
    config = WorldConfig()
    generate_world(config, people=1500, seed=1, out_dir=tmp_path / "a")
    generate_world(config, people=1500, seed=2, out_dir=tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "b")


def test_rerun_replaces_the_previous_world_atomically(tmp_path):
    generate_world(WorldConfig(), people=1200, seed=3, out_dir=tmp_path)
    first = _digests(tmp_path)
    generate_world(WorldConfig(), people=1200, seed=3, out_dir=tmp_path)
    assert _digests(tmp_path) == first
    # Nothing but the two published folders is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources", "truth"]


def test_blocks_written_in_any_order_publish_the_same_world(tmp_path):
    config = WorldConfig(block_size=700)
    generate_world(config, people=2000, seed=5, out_dir=tmp_path / "whole")
    parts = tmp_path / "parts"
    blocks = plan_blocks(2000, config.block_size, 5)
    assert len(blocks) == 3
    for block in reversed(blocks):
        write_block(block, config, people=2000, parts_dir=parts)
    publish_parts(parts, tmp_path / "pieces")
    assert _digests(tmp_path / "whole") == _digests(tmp_path / "pieces")
