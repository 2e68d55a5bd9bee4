"""Ingest of the real demo source: counts, stable IRIs, provenance, all-or-nothing loads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import BASE_IRI, demo_features

from creative_graph.store import StoreReader
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

GRAPH = BASE_IRI + "graph/brussels-culture-poi"
ACTORS = f"SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a a <http://www.w3.org/ns/org#Organization> }} }}"


def actor_iris(settings) -> set[str]:
    return {row["a"] for row in StoreReader(settings.store).select(ACTORS)}


def test_every_valid_feature_becomes_one_actor(demo_store) -> None:
    features = demo_features()
    valid = [f for f in features if f["geometry"]["type"] == "Point" and f["properties"]["TXT_FRE"]]
    assert len(actor_iris(demo_store)) == len(valid) == 262


def test_actor_carries_names_type_site_point_and_municipality(demo_store) -> None:
    rows = StoreReader(demo_store.store).select(
        """PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX geo: <http://www.opengis.net/ont/geosparql#> PREFIX locn: <http://www.w3.org/ns/locn#>
        PREFIX cv: <http://data.europa.eu/m8g/>
        SELECT ?fr ?type ?wkt (GROUP_CONCAT(STR(?unit); separator=" ") AS ?units) WHERE {
          ?a skos:hiddenLabel "FLAGEY"@fr ; skos:prefLabel ?fr ; org:classification ?type ;
             org:hasPrimarySite/geo:hasGeometry/geo:asWKT ?wkt ;
             org:hasPrimarySite/locn:address/cv:adminUnit ?unit .
          FILTER (LANG(?fr) = "fr")
        } GROUP BY ?fr ?type ?wkt"""
    )
    assert len(rows) == 1
    (flagey,) = [f for f in demo_features() if f["properties"]["TXT_FRE"] == "FLAGEY"]
    lon, lat = flagey["geometry"]["coordinates"]
    assert rows[0]["fr"] == "Flagey"
    assert rows[0]["wkt"] == f"POINT({lon} {lat})"
    assert set(rows[0]["units"].split()) == {
        "http://vocab.belgif.be/auth/refnis2025/21009",  # Ixelles
        "http://data.europa.eu/nuts/code/BE100",  # its NUTS 3 region
        "http://publications.europa.eu/resource/authority/country/BEL",
    }
    assert rows[0]["type"].startswith("https://w3id.org/creative-graph/concept/actor-type/")


def test_reingest_yields_same_iris_and_changes_no_triple(settings, source_copy, validator) -> None:
    manifest = load_manifest(source_copy)
    first = ingest_source(manifest, settings, validator)
    before = actor_iris(settings)
    second = ingest_source(manifest, settings, validator)
    assert (first.status, second.status) == ("loaded", "unchanged")
    assert (second.added, second.removed) == (0, 0)
    assert actor_iris(settings) == before
    runs = StoreReader(settings.store).select(
        "SELECT ?run WHERE { ?run a <http://www.w3.org/ns/prov#Activity> }"
    )
    assert {r["run"] for r in runs} == {first.run, second.run}


def test_run_record_has_checksum_times_and_counts(settings, source_copy, validator) -> None:
    outcome = ingest_source(load_manifest(source_copy), settings, validator)
    (geojson,) = source_copy.glob("*.geojson")
    rows = StoreReader(settings.store).select(
        """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        PREFIX cg: <https://w3id.org/creative-graph/ns#> PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?sum ?start ?end ?read ?loaded ?triples WHERE {
          <RUN> prov:used/spdx:checksum/spdx:checksumValue ?sum ; prov:startedAtTime ?start ;
               prov:endedAtTime ?end ; cg:recordsRead ?read ; cg:recordsLoaded ?loaded ;
               prov:generated/void:triples ?triples .
        }""".replace("RUN", outcome.run)
    )
    assert len(rows) == 1
    assert rows[0]["sum"] == hashlib.sha256(geojson.read_bytes()).hexdigest()
    assert rows[0]["start"] <= rows[0]["end"]
    assert (int(rows[0]["read"]), int(rows[0]["loaded"])) == (262, 262)
    assert int(rows[0]["triples"]) == outcome.triples


def _break(source: Path, number: int, change) -> None:
    (path,) = source.glob("*.geojson")
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document["features"][number - 1])
    path.write_text(json.dumps(document), encoding="utf-8")


def _store_state(settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    return reader.snapshot.name, sorted(
        str(r) for r in reader.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    )


def test_invalid_feature_loads_nothing_and_is_named(settings, source_copy, validator) -> None:
    manifest = load_manifest(source_copy)
    assert ingest_source(manifest, settings, validator).status == "loaded"
    before = _store_state(settings)

    def out_of_range(feature):
        feature["geometry"]["coordinates"] = [450.0, 50.8]

    _break(source_copy, 7, out_of_range)
    outcome = ingest_source(manifest, settings, validator)
    assert outcome.status == "invalid"
    assert _store_state(settings) == before
    (problem,) = outcome.violations
    feature_id = int(demo_features()[6]["properties"]["ID"])
    assert problem.record == f"feature 7 (ID {feature_id})"
    assert problem.field == "geometry.coordinates"
    assert "450.0" in problem.value and "longitude" in problem.message


def test_feature_without_names_or_geometry_is_reported(settings, source_copy, validator) -> None:
    def no_names(feature):
        feature["properties"]["TXT_FRE"] = None
        feature["properties"]["TXT_DUT"] = "  "

    def polygon(feature):
        feature["geometry"] = {"type": "Polygon", "coordinates": []}

    _break(source_copy, 3, no_names)
    _break(source_copy, 5, polygon)
    outcome = ingest_source(load_manifest(source_copy), settings, validator)
    assert outcome.status == "invalid"
    located = {(p.record.split(" (")[0], p.field) for p in outcome.violations}
    assert ("feature 3", "TXT_FRE / TXT_DUT") in located
    assert ("feature 5", "geometry") in located
    assert StoreReader(settings.store).snapshot.name is None  # nothing was ever published


def _stored_graph(settings, graph_iri: str):
    import pyoxigraph as ox
    from rdflib import Graph

    output = StoreReader(settings.store).query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}",
        results_format=None,
        graph_format=ox.RdfFormat.N_TRIPLES,
    )
    return Graph().parse(data=output.body, format="nt")


def test_what_the_store_holds_still_conforms(demo_store, validator) -> None:
    """The store keeps literals by value (xsd:integer, canonical decimals): shapes must accept that."""
    for graph_iri in (GRAPH, BASE_IRI + "graph/runs"):
        report = validator.validate(_stored_graph(demo_store, graph_iri))
        assert report.conforms, report.violations[:3]
    runs = _stored_graph(demo_store, BASE_IRI + "graph/runs")
    assert len(runs) > 10
