"""Time each ingest stage for the demo source, next to a bare pyoxigraph load of the same triples.

Run: make bench   (or: .venv/bin/python bench/ingest_bench.py [runs])
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from creative_graph.iris import Iris
from creative_graph.settings import Settings
from ingest.manifest import load_manifest
from ingest.mappers import mappers
from ingest.pipeline import default_validator, ingest_source

SOURCE = Path(__file__).resolve().parents[1] / "data" / "sources" / "brussels-culture-poi"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def whole_ingest(manifest, validator) -> float:
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(store=Path(directory) / "store")
        return timed(lambda: ingest_source(manifest, settings, validator))


def bare_load(data: bytes) -> float:
    """The peer: what pyoxigraph alone takes to load the same triples into a named graph."""
    with tempfile.TemporaryDirectory() as directory:
        store = ox.Store(directory)
        graph = ox.NamedNode("http://example.org/g")
        return timed(lambda: store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph))


def main(runs: int = 5) -> None:
    manifest = load_manifest(SOURCE)
    validator = default_validator()
    iris = Iris("http://localhost:8000/")
    mapped = mappers()[manifest.mapper](manifest, iris)
    data = mapped.graph.serialize(format="nt", encoding="utf-8")
    figures: dict[str, list[float]] = {
        "map": [],
        "validate": [],
        "whole ingest": [],
        "peer: bare load": [],
    }
    for _ in range(runs):
        figures["map"].append(timed(lambda: mappers()[manifest.mapper](manifest, iris)))
        figures["validate"].append(timed(lambda: validator.validate(mapped.graph)))
        figures["whole ingest"].append(whole_ingest(manifest, validator))
        figures["peer: bare load"].append(bare_load(data))
    print(f"demo source: {mapped.records_read} records, {len(mapped.graph)} triples, {runs} runs")
    print(f"{'stage':<18}{'median ms':>12}{'min ms':>10}")
    for stage, values in figures.items():
        print(f"{stage:<18}{statistics.median(values) * 1000:>12.1f}{min(values) * 1000:>10.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
