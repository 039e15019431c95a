"""Everything one block contributes to the run folder, as polars frames."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.assemble import build_persons
from synthetic_data.blocks import Block, name_key
from synthetic_data.calendar import EXTRACT_DAY, NEVER
from synthetic_data.config import WorldConfig
from synthetic_data.extracts import census_extract, dwp_extract, gp_extract
from synthetic_data.frames import labels
from synthetic_data.health import SNOMED_CODES
from synthetic_data.histories import (
    HISTORY_TABLE,
    history_schema,
    noisy_histories,
    ranked_residences,
    record_histories,
)
from synthetic_data.identifiers import scrambled_ids
from synthetic_data.names import NameBank
from synthetic_data.noise.apply import apply_noise
from synthetic_data.noise.base import ROW_ID
from synthetic_data.noise.types import HISTORY_SOURCES, SOURCES
from synthetic_data.places import Places, SamplingFrame
from synthetic_data.reference import Geography
from synthetic_data.truth import simulate_block

#: Column order of every written table (the data contract).
SCHEMAS: dict[str, list[str]] = {
    "census": [
        "census_person_id", "household_id", "forename", "middle_names", "surname",
        "date_of_birth", "sex", "postcode", "lsoa11cd", "ethnic_group", "disability",
        "usual_resident", "wholly_imputed",
    ],
    "gp_registrations": [
        "gp_record_id", "nhs_number", "forename", "middle_names", "surname", "date_of_birth",
        "sex", "postcode", "lsoa11cd", "practice_code", "registration_date",
        "deregistration_date", "date_of_death",
    ],
    "gp_conditions": ["gp_record_id", "nhs_number", "cluster", "snomed_code", "event_date"],
    "dwp_customers": [
        "dwp_master_key", "nino", "forename", "surname", "date_of_birth", "sex", "postcode",
    ],
    "dwp_benefit_spells": ["dwp_master_key", "benefit", "start_date", "end_date"],
    "gp_address_history": history_schema("gp_record_id"),
    "dwp_address_history": history_schema("dwp_master_key"),
    "people": [
        "person_id", "household_id_2011", "forename", "middle_names", "surname", "sex",
        "date_of_birth", "ethnic_group", "disability", "lsoa11cd_2011", "in_census",
        "immigration_date", "emigration_date", "date_of_death", "region_2011",
        "surname_2011", "surname_2021", "forename_2021", "nhs_number", "nino",
    ],
    "record_map": ["source", "record_id", "person_id"],
    "residences": ["person_id", "from_date", "to_date", "postcode", "lsoa11cd"],
    "conditions": ["person_id", "cluster", "onset_date"],
    "benefit_spells": ["person_id", "benefit", "start_date", "end_date"],
    "noise_log": ["source", "record_id", "column", "noise_type"],
}  # fmt: skip
SOURCE_TABLES = (
    "census",
    "gp_registrations",
    "gp_conditions",
    "dwp_customers",
    "dwp_benefit_spells",
    "gp_address_history",
    "dwp_address_history",
)
TRUTH_TABLES = ("people", "record_map", "residences", "conditions", "benefit_spells", "noise_log")
_ID_COLUMN = {"census": "census_person_id", "gp": "gp_record_id", "dwp": "dwp_master_key"}
_ID_PREFIX = {"census": "C", "gp": "G", "dwp": "D"}
_TABLE = {"census": "census", "gp": "gp_registrations", "dwp": "dwp_customers"}


def _days_to_date(column: str) -> pl.Expr:
    return pl.when(pl.col(column) < NEVER).then(pl.col(column)).cast(pl.Int32).cast(pl.Date)


def generate_block(
    block: Block,
    config: WorldConfig,
    geo: Geography,
    frame: SamplingFrame,
    places: Places,
    bank: NameBank,
) -> dict[str, pl.DataFrame]:
    """Simulate one block and return every table's rows for it."""
    truth = simulate_block(block, config, geo, frame, places, bank)
    people, residences = build_persons(
        block, truth, geo, places, bank, spelling_rate=config.population.spelling_change_rate
    )
    claimant_idx = truth.spells.get_column("person").unique().to_numpy()
    claimants = np.zeros(people.height, dtype=bool)
    claimants[claimant_idx] = True

    census, responded = census_extract(block, config, people)
    raw = {
        "census": census,
        "gp": gp_extract(block, config, people, places),
        "dwp": dwp_extract(block, config, people, claimants),
    }
    pid = people.get_column("person_id")
    out: dict[str, pl.DataFrame] = {}
    maps, logs = [], []
    # Room for every record of a block, duplicates included, in the global id space.
    stride = 4 * block.block_size
    for s, source in enumerate(SOURCES):
        data, record_map, log = _noisy_records(block, config, raw[source], source, s, pid, stride)
        maps.append(record_map)
        logs.append(log)
        raw[source] = data
        out[_TABLE[source]] = data.select(SCHEMAS[_TABLE[source]])

    ranked = ranked_residences(residences, people)
    for source in HISTORY_TABLE:
        out[HISTORY_TABLE[source]] = _address_history(
            block, config, raw[source], logs[SOURCES.index(source)], ranked, source
        )
    out["gp_conditions"] = _gp_conditions(block, truth.conditions, people, raw["gp"])
    out["dwp_benefit_spells"] = _dwp_spells(block, truth.spells, raw["dwp"])

    people = people.with_columns(pl.Series("in_census", responded))
    out["people"] = people.select(SCHEMAS["people"])
    out["record_map"] = pl.concat(maps)
    out["residences"] = residences
    out["conditions"] = truth.conditions.with_columns(
        pid.gather(truth.conditions.get_column("person")).alias("person_id"),
        pl.col("onset_day").cast(pl.Int32).cast(pl.Date).alias("onset_date"),
    ).select(SCHEMAS["conditions"])
    out["benefit_spells"] = truth.spells.with_columns(
        pid.gather(truth.spells.get_column("person")).alias("person_id"),
        pl.col("start_day").cast(pl.Int32).cast(pl.Date).alias("start_date"),
        _days_to_date("end_day").alias("end_date"),
    ).select(SCHEMAS["benefit_spells"])
    out["noise_log"] = pl.concat(logs)
    return out


def _noisy_records(
    block: Block,
    config: WorldConfig,
    clean: pl.DataFrame,
    source: str,
    s: int,
    pid: pl.Series,
    stride: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Apply the recording errors to one source's records (``s``: its position in ``SOURCES``)
    and give them their ids; return the records, their ``record_map`` rows and their
    ``noise_log`` rows."""
    data, log = apply_noise(
        clean,
        source,
        config,
        lambda noise_type, column: block.rng("noise", s, name_key(noise_type), name_key(column)),
    )
    # Census records stay in enumeration (household) order; GP and DWP rows are shuffled.
    # Ids are then a scrambled global number, so they reveal neither order nor person.
    if source == "census":
        order = np.arange(data.height)
    else:
        order = block.rng("ids", s + 1).permutation(data.height)
    position = np.empty(data.height, dtype=np.int64)
    position[order] = np.arange(data.height)
    ids = scrambled_ids(_ID_PREFIX[source], block.index * stride + position, 9)
    data = data.with_columns(ids.alias(_ID_COLUMN[source]))[order]
    id_of_row = data.select(ROW_ID, pl.col(_ID_COLUMN[source]).alias("record_id"))
    record_map = data.select(
        pl.lit(source).alias("source"),
        pl.col(_ID_COLUMN[source]).alias("record_id"),
        pid.gather(data.get_column("_person")).alias("person_id"),
    )
    log = log.join(id_of_row, on=ROW_ID, how="left").select(
        pl.lit(source).alias("source"), "record_id", "column", "noise_type"
    )
    return data, record_map, log


def _address_history(
    block: Block,
    config: WorldConfig,
    records: pl.DataFrame,
    log: pl.DataFrame,
    ranked: pl.DataFrame,
    source: str,
) -> pl.DataFrame:
    """One extract's address-history table, after its recording errors
    (synthetic_data/histories.py)."""
    id_column = _ID_COLUMN[source]
    stale_ids = log.filter(pl.col("noise_type") == "stale_address").get_column("record_id")
    stale_rows = records.filter(pl.col(id_column).is_in(stale_ids.implode())).get_column(ROW_ID)
    history = record_histories(records, ranked, stale_rows.to_numpy())
    # Streams numbered after the extracts' (0-2), so theirs are untouched.
    s = len(SOURCES) + HISTORY_SOURCES.index(HISTORY_TABLE[source])
    noisy = noisy_histories(
        history,
        source,
        config,
        lambda noise_type, column: block.rng("noise", s, name_key(noise_type), name_key(column)),
    )
    ids = records.select(pl.col(ROW_ID).alias("_record_row"), id_column)
    return (
        noisy.join(ids, on="_record_row", how="inner")
        .sort(id_column, "from_date")
        .select(SCHEMAS[HISTORY_TABLE[source]])
    )


def _gp_conditions(
    block: Block, conditions: pl.DataFrame, people: pl.DataFrame, gp: pl.DataFrame
) -> pl.DataFrame:
    """Condition codes on GP records: first recorded some weeks after onset (or after arrival
    for people who came later); a few never coded; duplicate registrations hold some."""
    rng = block.rng("conditions", 1)
    rows = gp.select("gp_record_id", "nhs_number", "_person", "_dup")
    joined = conditions.join(rows, left_on="person", right_on="_person", how="inner").join(
        people.select(pl.col("person"), pl.col("_start"), pl.col("_kind")), on="person"
    )
    n = joined.height
    delay = rng.integers(0, 60, n)
    arrival = joined.get_column("_start").to_numpy() + rng.integers(30, 400, n)
    onset = joined.get_column("onset_day").to_numpy()
    event = np.where(joined.get_column("_kind").to_numpy() == 1, np.maximum(onset, arrival), onset)
    event = event + delay
    dup = joined.get_column("_dup").to_numpy()
    keep = (event <= EXTRACT_DAY) & (rng.random(n) >= 0.04) & (~dup | (rng.random(n) < 0.4))
    clusters = joined.get_column("cluster").to_numpy()
    # One flat list of every cluster's codes; each row picks within its cluster's slice.
    flat = [code for options in SNOMED_CODES.values() for code in options]
    first = np.cumsum([0] + [len(o) for o in SNOMED_CODES.values()])
    position = np.zeros(n, dtype=np.int64)
    pick = rng.integers(0, 1000, n)
    for k, (cluster, options) in enumerate(SNOMED_CODES.items()):
        sel = clusters == cluster
        position[sel] = first[k] + pick[sel] % len(options)
    codes = labels(flat, position)
    return (
        joined.with_columns(
            codes.alias("snomed_code"),
            pl.Series("event_date", event).cast(pl.Int32).cast(pl.Date),
        )
        .filter(pl.Series(keep))
        .sort("gp_record_id", "event_date", "cluster")
        .select(SCHEMAS["gp_conditions"])
    )


def _dwp_spells(block: Block, spells: pl.DataFrame, dwp: pl.DataFrame) -> pl.DataFrame:
    """Benefit spells under the person's master key; with two keys, a share sit on the second."""
    rng = block.rng("dwp", 1)
    keys = dwp.select("_person", "dwp_master_key", "_row").sort("_person", "_row")
    keys = keys.with_columns(pl.col("_row").rank("ordinal").over("_person").alias("k"))
    counts = keys.group_by("_person").agg(pl.len().alias("n_keys"))
    s = spells.join(counts, left_on="person", right_on="_person", how="inner")
    second = (rng.random(s.height) < 0.3) & (s.get_column("n_keys").to_numpy() > 1)
    s = s.with_columns(pl.Series("k", np.where(second, 2, 1), dtype=pl.UInt32))
    return (
        s.join(
            keys.with_columns(pl.col("k").cast(pl.UInt32)),
            left_on=["person", "k"],
            right_on=["_person", "k"],
            how="inner",
        )
        .with_columns(
            pl.col("start_day").cast(pl.Int32).cast(pl.Date).alias("start_date"),
            _days_to_date("end_day").alias("end_date"),
        )
        .sort("dwp_master_key", "start_date", "benefit")
        .select(SCHEMAS["dwp_benefit_spells"])
    )
