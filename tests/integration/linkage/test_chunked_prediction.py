"""Chunked prediction (memory-bounded scoring) gives the same scored pairs as one pass."""

import polars as pl
import pytest

from linkage import LinkageConfig, link_sources

pytestmark = pytest.mark.slow


def test_three_chunks_score_the_same_pairs_as_one(linked_world, tmp_path):
    run, _, _ = linked_world
    model = run / "linkage" / "model.json"  # the same trained model for both runs
    out = {}
    for chunks in (1, 3):
        config = LinkageConfig(model_path=model, predict_chunks=chunks, charts=False)
        link_sources(run / "sources", tmp_path / f"chunks-{chunks}", config)
        out[chunks] = pl.read_parquet(tmp_path / f"chunks-{chunks}" / "predictions.parquet")
    one, three = out[1], out[3]
    assert one.height > 1000
    keys = ["unique_id_l", "unique_id_r"]
    assert three.select(keys).equals(one.select(keys))  # both sorted by the pair
    assert (three["match_probability"] - one["match_probability"]).abs().max() < 1e-9
    spines = [
        pl.read_parquet(tmp_path / f"chunks-{c}" / "spine.parquet").sort("source", "record_id")
        for c in (1, 3)
    ]
    assert spines[0].equals(spines[1])
