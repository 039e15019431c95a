"""Retrain the packaged linkage model (linkage/reference/default_model.json).

Inputs too small to train a model are linked with the packaged one, so it must compare what
``linkage/model.py`` compares: retrain it whenever the model's comparisons change. It is
trained as linkage/reference/README.md says: the default configuration's world of 100,000
people, seed 20110327, linked with the default linkage configuration; its ``model.json`` is
copied over the packaged one.

    .venv/bin/python tools/retrain_packaged_model.py [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "linkage" / "reference" / "default_model.json"
PEOPLE = 100_000
SEED = 20110327


def retrain(work: Path) -> Path:
    """Generate the training world in ``work``, link it and copy its model into the package."""
    from linkage import LinkageConfig, link_sources
    from runcore.config import load_config
    from synthetic_data import generate_world

    world = work / "world"
    generate_world(load_config().world, people=PEOPLE, seed=SEED, out_dir=world)
    linked = work / "linkage"
    link_sources(world / "sources", linked, LinkageConfig(charts=False))
    shutil.copyfile(linked / "model.json", PACKAGED)
    return PACKAGED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="Keep the world here.")
    args = parser.parse_args()
    if args.work:
        sys.stdout.write(f"Wrote {retrain(args.work)}\n")
        return
    with tempfile.TemporaryDirectory() as work:
        sys.stdout.write(f"Wrote {retrain(Path(work))}\n")


if __name__ == "__main__":
    main()
