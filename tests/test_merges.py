"""A merge across sources, in the store: when a later source proves two actors are one, what
the other sources said about the replaced IRI speaks of the survivor at once, the replaced IRI
redirects, and the change stream records its deletion."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
from conftest import BASE_IRI, run_server

from creative_graph.ldes import ChangeLog
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.manifest import load_manifest
from ingest.mappers.steward_csv import COLUMNS
from ingest.pipeline import ingest_source
from ingest.registry import Registry

KBO = "0403.170.701"  # a valid (mod 97) Belgian enterprise number
ORG = "http://www.w3.org/ns/org#"


def steward_source(root: Path, name: str, rows: list[dict[str, str]]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "source.toml").write_text(
        f'name = "{name}"\ntitle = "Merge test {name}"\nmapper = "steward-csv"\n'
        'files = ["actors.csv"]\npublisher = "tests"\nattribution = "tests"\n\n[licence]\n'
        'name = "CC BY 4.0"\niri = "https://creativecommons.org/licenses/by/4.0/"\n',
        encoding="utf-8",
    )
    with (folder / "actors.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return folder


def row(key: str, name: str, **facts: str) -> dict[str, str]:
    return {"id": key, "name_en": name, "type": "hub", "country": "BE"} | facts


def test_a_merge_rewrites_the_replaced_actor_in_other_sources(tmp_path: Path, validator) -> None:
    settings = Settings(store=tmp_path / "store", base_iri=BASE_IRI, sources=tmp_path)
    sources = {
        # the same hub known by its enterprise number here...
        "a-first": [row("hub", "Hub One", enterprise_number=KBO)],
        # ...and by its website there, under another name; a second actor here is its member
        "b-second": [
            row("hub", "The Hub Space", website="https://hubspace.example.org/"),
            row("maker", "Maker Lab", member_of="hub"),
        ],
        # a third source knows both facts of one actor: the two are one
        "c-third": [
            row(
                "hub",
                "Hub",
                enterprise_number=KBO,
                website="https://hubspace.example.org/about",
            )
        ],
    }
    for name, rows in sources.items():
        manifest = load_manifest(steward_source(tmp_path, name, rows))
        outcome = ingest_source(manifest, settings, validator)
        assert outcome.status == "loaded", outcome.violations
        ChangeLog(settings.store).sync_latest(StoreReader(settings.store), BASE_IRI)
    registry = Registry(settings.store / "registry.sqlite3")
    (replaced, survivor), *_ = registry.replacements()
    registry.close()
    old, new = (f"{BASE_IRI}id/actor/{key}" for key in (replaced, survivor))
    reader = StoreReader(settings.store)
    identity = f"{BASE_IRI}graph/identity"
    # nothing but the identity graph still speaks of the replaced IRI
    mentions = reader.select(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {{ <{old}> ?p ?o }} UNION {{ ?s ?p <{old}> }} }} }}"
    )
    assert [m["g"] for m in mentions] == [identity]
    # what the second source said of it now speaks of the survivor: its name, its member
    second = f"{BASE_IRI}graph/b-second"
    said = reader.select(f"SELECT ?p ?o WHERE {{ GRAPH <{second}> {{ <{new}> ?p ?o }} }}")
    assert {"The Hub Space"} <= {r["o"] for r in said}
    members = reader.select(
        f"SELECT ?m WHERE {{ GRAPH <{second}> {{ ?m <{ORG}memberOf> <{new}> }} }}"
    )
    assert len(members) == 1
    # the change stream says the replaced actor is gone
    log = ChangeLog(settings.store)
    versions = [m for m in log.members(1, log.count()) if m.actor == old]
    assert versions and versions[-1].kind == "Delete"
    # the second source, ingested again, says what the store already holds
    again = ingest_source(load_manifest(tmp_path / "b-second"), settings, validator)
    assert again.status == "unchanged"
    for server in run_server(settings):
        answer = httpx.get(f"{server.url}/id/actor/{replaced}")
        assert answer.status_code == 301
        assert answer.headers["location"].endswith(f"/id/actor/{survivor}")
