"""Where each declared source stands: last run, counts, and whether its files changed since."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.manifest import load_manifest
from ingest.provenance import checksum

RUNS = """
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
SELECT ?run ?end ?sum WHERE { GRAPH <%(runs)s> {
  ?version prov:specializationOf <%(graph)s> ; prov:wasGeneratedBy ?run .
  ?run prov:endedAtTime ?end ; prov:used/spdx:checksum/spdx:checksumValue ?sum } }
ORDER BY DESC(?end)
"""
COUNTS = """
PREFIX org: <http://www.w3.org/ns/org#>
SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?actor) AS ?actors) WHERE { GRAPH <%(graph)s> {
  ?s ?p ?o OPTIONAL { ?s a org:Organization BIND (?s AS ?actor) } } }
"""


def source_statuses(settings: Settings, directories: list[Path]) -> list[dict[str, Any]]:
    iris = Iris(settings.base_iri)
    reader = StoreReader(settings.store)
    rows = []
    for directory in directories:
        try:
            manifest = load_manifest(directory)
        except SourceError as error:
            rows.append({
                "source": str(directory), "title": str(error), "status": "unreadable manifest",
                "last_run": None, "actors": 0, "triples": 0,
            })  # fmt: skip
            continue
        graph = iris.graph(manifest.name)
        runs = reader.select(RUNS % {"runs": iris.runs_graph, "graph": graph})
        last = runs[0]["run"] if runs else None
        stored = {row["sum"] for row in runs if row["run"] == last}
        current = {checksum(path).sha256 for path in manifest.files if path.exists()}
        if not runs:
            status = "never ingested"
        elif len(current) < len(manifest.files):
            status = "files missing"
        else:
            status = "up to date" if current == stored else "changed"
        counts = reader.select(COUNTS % {"graph": graph})[0] if runs else {}
        rows.append({
            "source": manifest.name,
            "title": manifest.title,
            "status": status,
            "last_run": runs[0]["end"] if runs else None,
            "actors": int(counts.get("actors", 0)),
            "triples": int(counts.get("triples", 0)),
        })  # fmt: skip
    return rows
