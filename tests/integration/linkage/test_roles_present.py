"""The model follows the roles mapped: a link with each subset of roles trains (not the
packaged model) and completes, skipping EM sessions that have nothing to train on."""

import json
import random

import polars as pl
import pytest

from linkage import LinkageConfig, link_records
from linkage.inputs import InputSpec

FORENAMES = ["ANN", "BOB", "CY", "DI", "ED", "FLO", "GUS", "HAL", "IVY", "JO", "KAY", "LEN"]
SURNAMES = ["LEE", "HART", "WARD", "MOSS", "PARK", "REED", "HILL", "COLE", "SHAW", "KING"]
STREETS = ["HIGH ST", "MILL LANE", "CHURCH RD", "STATION RD", "PARK AVE"]
TOWNS = ["LEEDS", "YORK", "HULL", "BATH"]


def _people(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "truth": f"p{i}",
            "first": rng.choice(FORENAMES),
            "last": rng.choice(SURNAMES),
            "dob": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "house": str(rng.randint(1, 99)),
            "street": rng.choice(STREETS),
            "town": rng.choice(TOWNS),
            "nhs": f"{rng.randint(10**9, 10**10 - 1)}",
        }
        for i in range(n)
    ]


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    return text[:i] + rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + text[i + 1 :]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roles")
    people = _people(60, seed=11)
    rng = random.Random(12)
    left = pl.DataFrame(people).with_columns(pl.format("L{}", pl.int_range(pl.len())).alias("id"))
    right_rows = []
    for person in people[:45]:
        row = dict(person)
        if rng.random() < 0.3:
            row["first"] = _typo(row["first"], rng)
        if rng.random() < 0.2:
            row["street"] = row["street"].title()
        right_rows.append(row)
    right = pl.DataFrame(right_rows).with_columns(
        pl.format("R{}", pl.int_range(pl.len())).alias("id")
    )
    left.write_csv(folder / "left.csv")
    right.write_csv(folder / "right.csv")
    return folder


ROLE_SETS = {
    "names only": {"forename": "first", "surname": "last"},
    "names and date": {"forename": "first", "surname": "last", "date_of_birth": "dob"},
    "with address": {
        "forename": "first",
        "surname": "last",
        "date_of_birth": "dob",
        "address": ("house", "street"),
        "locality": "town",
    },
    "with shared number": {"forename": "first", "surname": "last", "shared_number": "nhs"},
}


def _link(folder, columns, out, right="right.csv"):
    specs = [
        InputSpec("left", folder / "left.csv", "id", columns, unique_people=True),
        InputSpec("right", folder / right, "id", columns),
    ]
    config = LinkageConfig(min_records_to_train=0, charts=False, household_evidence=False)
    link_records(specs, out, config)
    return json.loads((out / "linkage_summary.json").read_text())


def _linked_pairs(folder, out, right="right.csv") -> tuple[int, int]:
    """Linked left-right pairs, and how many of them are one person."""
    truth = pl.concat(
        [pl.read_csv(folder / name).select("id", "truth") for name in ("left.csv", right)]
    )
    spine = pl.read_parquet(out / "spine.parquet").join(truth, left_on="record_id", right_on="id")
    pairs = spine.join(spine, on="person_id").filter(
        pl.col("record_id") < pl.col("record_id_right")
    )
    return pairs.height, int((pairs["truth"] == pairs["truth_right"]).sum())


@pytest.mark.parametrize("subset", sorted(ROLE_SETS))
def test_link_with_each_subset_of_roles_completes(files, subset, tmp_path):
    columns = ROLE_SETS[subset]
    out = tmp_path / "out"
    summary = _link(files, columns, out)
    assert "reused_model" not in summary["training"]  # trained on these roles
    model = json.loads((out / "model.json").read_text())
    compared = {c["output_column_name"] for c in model["comparisons"]}
    expected_roles = {r for r in columns}
    assert compared == expected_roles | {"source"}
    for session in summary["training"]["em_sessions"]:
        assert session["converged"] is not None or session["skipped"].startswith("skipped")
    spine = pl.read_parquet(out / "spine.parquet")
    assert spine.height == 105


@pytest.mark.parametrize("subset", ["names and date", "with address", "with shared number"])
def test_a_date_address_or_number_finds_every_copy(files, subset, tmp_path):
    # Each of the 45 right records copies a left person (birth dates, addresses and numbers
    # drawn from wide ranges), with at most a one-letter forename typo and a street's case:
    # with a date, an address or a number every copy is found, and nothing else.
    _link(files, ROLE_SETS[subset], tmp_path / "out")
    assert _linked_pairs(files, tmp_path / "out") == (45, 45)


def test_training_session_with_no_pairs_is_skipped_with_its_reason(files, tmp_path):
    # No right record shares a number with a left one: the session blocked on the shared
    # number has no pairs, so it is skipped and recorded, not raised.
    right = pl.read_csv(files / "right.csv", infer_schema=False)
    right.with_columns(pl.format("X{}", pl.col("nhs")).alias("nhs")).write_csv(
        tmp_path / "other.csv"
    )
    (tmp_path / "left.csv").write_bytes((files / "left.csv").read_bytes())
    summary = _link(tmp_path, ROLE_SETS["with shared number"], tmp_path / "out", "other.csv")
    (skipped,) = [s for s in summary["training"]["em_sessions"] if s.get("skipped")]
    assert "shared_number" in skipped["blocking_rule"]
    assert "too few record pairs" in skipped["skipped"]


@pytest.mark.slow
def test_every_role_links_the_same_on_spark(files, tmp_path):
    # The address (token similarity with term frequencies, house number), locality and
    # shared-number comparisons are written in DuckDB SQL and translated by Splink: on a real
    # local Spark they must run and find the same 45 copies, with the same comparisons.
    pytest.importorskip("pyspark", reason="the Spark backend needs the extra (make venv-spark)")
    every_role = {**ROLE_SETS["with address"], "shared_number": "nhs"}
    specs = [
        InputSpec("left", files / "left.csv", "id", every_role, unique_people=True),
        InputSpec("right", files / "right.csv", "id", every_role),
    ]
    models = {}
    for backend in ("duckdb", "spark"):
        out = tmp_path / backend
        config = LinkageConfig(
            backend=backend,
            spark_shuffle_partitions=2,
            seed=1,
            min_records_to_train=0,
            charts=False,
            household_evidence=False,
        )
        link_records(specs, out, config)
        assert _linked_pairs(files, out) == (45, 45), backend
        models[backend] = json.loads((out / "model.json").read_text())
    names = {b: [c["output_column_name"] for c in m["comparisons"]] for b, m in models.items()}
    assert names["spark"] == names["duckdb"]
    assert {"address", "locality", "shared_number"} <= set(names["spark"])
