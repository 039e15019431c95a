"""Accuracy with and without address histories: census-GP and census-DWP precision and
linkable recall, and what happens to the true matches who moved between Census day and
the extract.

For each world size it generates (or reuses) a world, links it in this process with the
code on ``sys.path`` (run it once from a checkout without address histories and once from
one with them, under different ``--label``s, to compare), scores the spine against the
truth and appends one JSON line per size to ``--out``. Figures are recorded in
benchmarks/README_scaling.md.

    .venv/bin/python benchmarks/address_history.py --people 20000 50000 200000 --label after
    .venv/bin/python benchmarks/address_history.py --people 20000 50000 200000 \
        --compare before after
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import polars as pl

SEED = 9301
PAIRS = ("census-gp", "census-dwp")
_SOURCE_TABLE = {"gp": "gp_registrations", "dwp": "dwp_customers"}


def make_world(people: int, seed: int, work: Path) -> Path:
    """Generate the world once per size and seed; later runs reuse it."""
    from runcore.config import load_config
    from synthetic_data import generate_world

    run_dir = work / f"world-{people}-{seed}"
    if not (run_dir / "truth" / "record_map.parquet").exists():
        generate_world(load_config().world, people=people, seed=seed, out_dir=run_dir)
    return run_dir


def movers_linked(run_dir: Path, linkage_dir: Path, source: str) -> dict[str, int]:
    """True census-``source`` pairs whose person lived elsewhere at the extract than on
    Census day (from the truth's residences), and how many of them the spine links."""
    truth = run_dir / "truth"
    rmap = pl.read_parquet(truth / "record_map.parquet")
    res = pl.read_parquet(truth / "residences.parquet")
    census_day, extract_day = pl.date(2011, 3, 27), pl.date(2021, 3, 31)

    def address_on(day: pl.Expr, name: str) -> pl.DataFrame:
        live = (pl.col("from_date") <= day) & (
            pl.col("to_date").is_null() | (pl.col("to_date") > day)
        )
        return res.filter(live).group_by("person_id").agg(pl.col("postcode").last().alias(name))

    moved = (
        address_on(census_day, "then")
        .join(address_on(extract_day, "now"), on="person_id")
        .filter(pl.col("then") != pl.col("now"))
        .select("person_id")
    )
    census = rmap.filter(pl.col("source") == "census").select("person_id", census_id="record_id")
    other = rmap.filter(pl.col("source") == source).select("person_id", other_id="record_id")
    spine = pl.read_parquet(linkage_dir / "spine.parquet").select(
        "record_id", cluster_id="person_id"
    )
    linkable = pl.read_parquet(linkage_dir / "records.parquet", columns=["record_id", "linkable"])
    pairs = (
        census.join(other, on="person_id")
        .join(linkable.filter("linkable").select(census_id="record_id"), on="census_id")
        .join(moved, on="person_id", how="semi")
        .join(spine.rename({"record_id": "census_id", "cluster_id": "c1"}), on="census_id")
        .join(spine.rename({"record_id": "other_id", "cluster_id": "c2"}), on="other_id")
    )
    return {
        "moved_true_pairs": pairs.height,
        "moved_pairs_linked": int((pairs.get_column("c1") == pairs.get_column("c2")).sum()),
    }


def measure(people: int, work: Path, label: str) -> dict[str, Any]:
    """Link one world, score it and count the movers; one result row."""
    from evaluation.linkage import evaluate_linkage
    from linkage import link_sources
    from runcore.config import load_config

    run_dir = make_world(people, SEED, work)
    linkage_dir = run_dir / f"linkage-{label}"
    config = load_config().linkage.model_copy(update={"charts": False})
    started = time.perf_counter()
    link_sources(run_dir / "sources", linkage_dir, config)
    seconds = time.perf_counter() - started
    evaluate_linkage(linkage_dir, run_dir / "truth")
    pairwise = pl.read_parquet(linkage_dir / "evaluation" / "pairwise.parquet")
    row: dict[str, Any] = {"people": people, "seed": SEED, "label": label, "link_s": seconds}
    for pair in PAIRS:
        scores = pairwise.filter((pl.col("scope") == "linkable") & (pl.col("source_pair") == pair))
        row[pair] = {
            k: scores.get_column(k).item()
            for k in ("precision", "recall", "precision_lower", "recall_lower", "true_pairs")
            if k in scores.columns
        }
        row[pair] |= movers_linked(run_dir, linkage_dir, pair.split("-")[1])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20000, 50000, 200000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/triangulate-history"))
    parser.add_argument("--label", default="after")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("BEFORE", "AFTER"),
        help="only compare two labelled runs already made on each world",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/address_history.jsonl")
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.compare:
        for people in args.people:
            run_dir = args.work / f"world-{people}-{SEED}"
            print(people, json.dumps(compare(run_dir, *args.compare)), flush=True)
        return
    for people in args.people:
        row = measure(people, args.work, args.label)
        print(json.dumps(row), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


def _linked_pairs(run_dir: Path, label: str, source: str) -> pl.DataFrame:
    """Census-``source`` record pairs the spine of run ``label`` puts in one cluster, with
    whether they are a true pair."""
    spine = pl.read_parquet(run_dir / f"linkage-{label}" / "spine.parquet")
    rmap = pl.read_parquet(run_dir / "truth" / "record_map.parquet")
    members = spine.select("source", "record_id", cluster="person_id").join(
        rmap.select("source", "record_id", "person_id"), on=["source", "record_id"]
    )
    census = members.filter(pl.col("source") == "census")
    other = members.filter(pl.col("source") == source)
    return census.join(other, on="cluster", suffix="_o").select(
        "record_id", "record_id_o", true=pl.col("person_id") == pl.col("person_id_o")
    )


def compare(run_dir: Path, before: str, after: str) -> dict[str, Any]:
    """Paired comparison of two runs on one world: true and false census-GP and census-DWP
    links made by one run only (the discordant pairs a sign test is read from)."""
    out: dict[str, Any] = {}
    for source in ("gp", "dwp"):
        a = _linked_pairs(run_dir, before, source)
        b = _linked_pairs(run_dir, after, source)
        keys = ["record_id", "record_id_o", "true"]
        only_a = a.join(b, on=keys, how="anti")
        only_b = b.join(a, on=keys, how="anti")
        out[f"census-{source}"] = {
            "true_links_only_before": int(only_a.get_column("true").sum()),
            "true_links_only_after": int(only_b.get_column("true").sum()),
            "false_links_only_before": int((~only_a.get_column("true")).sum()),
            "false_links_only_after": int((~only_b.get_column("true")).sum()),
        }
    return out


if __name__ == "__main__":
    main()
