"""Identity across sources: one actor per real-world actor, stable and never-reused IRIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_IRI, DEMO_SOURCE
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, SKOS

from creative_graph.iris import Iris
from creative_graph.store import StoreReader
from ingest import identity
from ingest.linking import kbo_is_valid, name_key, normalise_kbo, website_host
from ingest.manifest import load_manifest
from ingest.mappers import Mapped
from ingest.pipeline import ingest_source
from ingest.registry import Registry

ORG = "http://www.w3.org/ns/org#"


def make_source(root: Path, name: str, features: list[dict]) -> Path:
    """An UrbIS-shaped GeoJSON source called `name` with the given features."""
    target = root / name
    target.mkdir(parents=True)
    manifest = (DEMO_SOURCE / "source.toml").read_text(encoding="utf-8")
    (target / "source.toml").write_text(
        manifest.replace('name = "brussels-culture-poi"', f'name = "{name}"'), encoding="utf-8"
    )
    (geojson,) = DEMO_SOURCE.glob("*.geojson")
    (target / geojson.name).write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return target


def feature(object_id: int, fr: str, nl: str, lon: float, lat: float) -> dict:
    return {
        "type": "Feature",
        "properties": {"ID": float(object_id), "TXT_FRE": fr, "TXT_DUT": nl},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def actor_iris(settings, source: str) -> set[str]:
    query = f"SELECT DISTINCT ?a WHERE {{ GRAPH <{BASE_IRI}graph/{source}> {{ ?a a <{ORG}Organization> }} }}"
    return {row["a"] for row in StoreReader(settings.store).select(query)}


def test_same_venue_in_two_sources_is_one_actor(settings, validator, tmp_path: Path) -> None:
    flagey = feature(1, "FLAGEY", "FLAGEY", 4.3720, 50.8275)
    poche = feature(2, "THEATRE DE POCHE", "THEATER DE POCHE", 4.3715, 50.8122)
    first = make_source(tmp_path, "first", [flagey, poche])
    # another source: Flagey again (other id, same name, same municipality) and a new venue
    second = make_source(
        tmp_path,
        "second",
        [
            feature(77, "Flagey", "Flagey", 4.3721, 50.8276),
            feature(78, "BOZAR", "BOZAR", 4.3600, 50.8440),
        ],
    )
    ingest_source(load_manifest(first), settings, validator)
    outcome = ingest_source(load_manifest(second), settings, validator)
    assert outcome.matched == 1
    shared = actor_iris(settings, "first") & actor_iris(settings, "second")
    assert len(shared) == 1
    rows = StoreReader(settings.store).select(
        f"""SELECT (COUNT(DISTINCT ?record) AS ?n) WHERE {{ <{next(iter(shared))}> <http://www.w3.org/ns/prov#wasDerivedFrom> ?record }}"""
    )
    assert int(rows[0]["n"]) == 2  # each source record kept and linked


def test_iris_are_stable_across_reingest_in_any_order(settings, validator, tmp_path: Path) -> None:
    first = make_source(tmp_path, "first", [feature(1, "FLAGEY", "FLAGEY", 4.3720, 50.8275)])
    second = make_source(tmp_path, "second", [feature(9, "FLAGEY", "FLAGEY", 4.3720, 50.8275)])
    for source in (first, second, second, first):
        ingest_source(load_manifest(source), settings, validator)
    assert actor_iris(settings, "first") == actor_iris(settings, "second")
    assert len(actor_iris(settings, "first")) == 1


def test_same_name_in_another_municipality_is_another_actor(
    settings, validator, tmp_path: Path
) -> None:
    first = make_source(
        tmp_path, "first", [feature(1, "ATELIER", "ATELIER", 4.3720, 50.8275)]
    )  # Ixelles
    second = make_source(
        tmp_path, "second", [feature(2, "ATELIER", "ATELIER", 4.2950, 50.8350)]
    )  # Anderlecht
    ingest_source(load_manifest(first), settings, validator)
    ingest_source(load_manifest(second), settings, validator)
    assert not actor_iris(settings, "first") & actor_iris(settings, "second")


def _mapped(iris: Iris, actors: dict[str, dict[str, str]]) -> Mapped:
    graph = Graph()
    for key, facts in actors.items():
        node = URIRef(iris.thing("actor", key))
        graph.add((node, RDF.type, URIRef(ORG + "Organization")))
        graph.add((node, SKOS.prefLabel, Literal(facts["name"], lang="fr")))
        if "homepage" in facts:
            graph.add((node, FOAF.homepage, URIRef(facts["homepage"])))
    return Mapped(graph=graph)


def test_strong_evidence_merges_two_keys_into_the_older(tmp_path: Path) -> None:
    iris = Iris(BASE_IRI)
    registry = Registry(tmp_path / "registry.sqlite3")
    a = identity.resolve(
        _mapped(iris, {"ka": {"name": "Hub A", "homepage": "https://hub.example.org/"}}),
        "a",
        registry,
        iris,
    )
    identity.commit(a, "a", registry)
    b = identity.resolve(
        _mapped(iris, {"kb": {"name": "Hub B", "homepage": "https://other.example.org/"}}),
        "b",
        registry,
        iris,
    )
    identity.commit(b, "b", registry)
    # a third source knows one actor with both websites: the two keys are the same actor
    c = identity.resolve(
        _mapped(iris, {"kc": {"name": "Hub", "homepage": "https://www.hub.example.org"}}),
        "c",
        registry,
        iris,
    )
    assert c.records == {"kc": "ka"}
    both = _mapped(iris, {"kd": {"name": "Hub", "homepage": "https://hub.example.org/"}})
    both.graph.add(
        (URIRef(iris.thing("actor", "kd")), FOAF.homepage, URIRef("https://other.example.org/x"))
    )
    d = identity.resolve(both, "d", registry, iris)
    identity.commit(d, "d", registry)
    assert d.merges == [("kb", "ka")]
    assert registry.survivor("kb") == "ka"
    graph = identity.identity_graph(registry, iris)
    old, new = URIRef(iris.thing("actor", "kb")), URIRef(iris.thing("actor", "ka"))
    assert (old, URIRef("http://www.w3.org/2002/07/owl#sameAs"), new) in graph
    assert (old, URIRef("http://purl.org/dc/terms/isReplacedBy"), new) in graph
    registry.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0876.543.270", "0876543270"),
        ("BE 0876 543 270", "0876543270"),
        ("876543270", "0876543270"),
        ("876543270.0", "0876543270"),
        ("12", None),
        ("abc", None),
        (None, None),
    ],
)
def test_enterprise_numbers_are_normalised(raw, expected) -> None:
    assert normalise_kbo(raw) == expected


def test_mod97_check() -> None:
    assert kbo_is_valid("0876543270")
    assert not kbo_is_valid("0876543271")
    assert not kbo_is_valid("2876543270")  # must start with 0 or 1


def test_match_keys_ignore_case_accents_legal_forms_and_www() -> None:
    assert name_key("Théâtre de Poche ASBL") == name_key("THEATRE DE POCHE")
    assert website_host("https://WWW.Flagey.be/fr/") == website_host("flagey.be") == "flagey.be"


def _placed(iris: Iris, key: str, name: str) -> Mapped:
    mapped = _mapped(iris, {key: {"name": name}})
    actor, site, address = (URIRef(iris.thing(kind, key)) for kind in ("actor", "site", "address"))
    org, locn, cv = (
        "http://www.w3.org/ns/org#",
        "http://www.w3.org/ns/locn#",
        "http://data.europa.eu/m8g/",
    )
    mapped.graph.add((actor, URIRef(org + "hasPrimarySite"), site))
    mapped.graph.add((site, URIRef(locn + "address"), address))
    for unit in (
        "http://vocab.belgif.be/auth/refnis2025/21004",
        "http://data.europa.eu/nuts/code/BE100",
    ):
        mapped.graph.add((address, URIRef(cv + "adminUnit"), URIRef(unit)))
    return mapped


@pytest.mark.parametrize("placed_first", [True, False])
def test_a_name_without_address_matches_in_its_region_whatever_the_order(
    tmp_path: Path, placed_first: bool
) -> None:
    """Subsidy beneficiaries have no address; the subsidies source assumes its region (BE100)."""
    iris = Iris(BASE_IRI)
    registry = Registry(tmp_path / "registry.sqlite3")
    venue = ("venues", _placed(iris, "venue", "KAAITHEATER"), None)
    beneficiary = ("subsidies", _mapped(iris, {"grantee": {"name": "Kaaitheater vzw"}}), "BE100")
    elsewhere = ("other", _mapped(iris, {"far": {"name": "Kaaitheater"}}), "BE211")  # Antwerp
    order = [venue, beneficiary, elsewhere] if placed_first else [beneficiary, elsewhere, venue]
    keys = {}
    for source, mapped, region in order:
        resolution = identity.resolve(mapped, source, registry, iris, region)
        identity.commit(resolution, source, registry)
        keys[source] = set(resolution.records.values())
    assert keys["venues"] == keys["subsidies"]
    assert keys["other"].isdisjoint(keys["venues"])
    registry.close()


def test_platform_hosts_and_their_subdomains_identify_nobody() -> None:
    facts = identity.Evidence(
        homepages=[
            "https://www.facebook.com/somehub",
            "https://somehub.wordpress.com/",
            "https://notfacebook.com/",
            "https://hub.example.be/",
        ]
    )
    hosts = {value for kind, value in identity.match_keys(facts) if kind == "host"}
    assert hosts == {"notfacebook.com", "hub.example.be"}
