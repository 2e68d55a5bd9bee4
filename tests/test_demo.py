"""What `make demo` promises: every bundled source loads, and questions across sources get answers."""

from __future__ import annotations

import csv
import re

import httpx
import pytest
from conftest import BASE_IRI, ROOT, run_server
from rdflib.namespace import DCTERMS

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from endpoint.named_queries import load_queries
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SOURCES = sorted(p.parent for p in (ROOT / "data" / "sources").glob("*/source.toml"))
MEMBERS = ROOT / "data" / "sources" / "steward-members"
STEWARD = ROOT / "data" / "sources" / "steward-example"


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    base = tmp_path_factory.mktemp("all")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=ROOT / "data" / "sources")
    for source in SOURCES:
        outcome = ingest_source(load_manifest(source), settings, validator)
        assert outcome.status == "loaded", (source.name, outcome.violations[:3])
    return settings


def test_every_real_source_is_bundled() -> None:
    names = {path.name for path in SOURCES}
    assert {
        "brussels-culture-poi", "brussels-city-places", "nesta-uk-makerspaces",
        "brussels-city-subsidies", "reinherit-bestpractices", "steward-example", "example-rdf",
        "steward-members",
    } <= names  # fmt: skip


def test_readme_question_across_sources_is_answered(everything: Settings) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    query = (
        readme.split("```sparql\n")[1].split("```")[0].replace("http://localhost:8000/", BASE_IRI)
    )
    rows = StoreReader(everything.store).select(query)
    assert len(rows) >= 10
    names = {re.sub(r"\W", "", row["name"].lower()) for row in rows}
    assert "kaaitheater" in names and "anciennebelgique" in names
    # each total is the sum of that actor's grants, counted once each
    for row in rows[:3]:
        grants = StoreReader(everything.store).select(
            f"""SELECT DISTINCT ?grant ?euros WHERE {{
              ?grant <https://schema.org/fundedItem> <{row["actor"]}> ;
                     <https://schema.org/amount>/<https://schema.org/value> ?euros }}"""
        )
        assert float(row["granted"]) == pytest.approx(sum(float(g["euros"]) for g in grants))


def test_each_source_keeps_its_licence_and_provenance(everything: Settings) -> None:
    reader = StoreReader(everything.store)
    for source in SOURCES:
        manifest = load_manifest(source)
        graph = f"{BASE_IRI}graph/{manifest.name}"
        rows = reader.select(
            f"""PREFIX dct: <http://purl.org/dc/terms/>
            SELECT ?licence ?rights WHERE {{ GRAPH <{graph}> {{
              <{graph}> dct:license ?licence ; dct:rights ?rights }} }}"""
        )
        assert rows, manifest.name
    unattributed = reader.select(
        """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX org: <http://www.w3.org/ns/org#>
        SELECT ?actor WHERE { ?actor a org:Organization FILTER NOT EXISTS { ?actor prov:wasDerivedFrom ?r } }"""
    )
    assert unattributed == []


def test_reingesting_everything_changes_nothing(everything: Settings, validator) -> None:
    for source in SOURCES:
        outcome = ingest_source(load_manifest(source), everything, validator)
        assert outcome.status == "unchanged", source.name


def test_every_named_query_answers_on_the_demo(everything: Settings) -> None:
    examples = {"sector": "performing-arts", "type": "theatre", "municipality": "21004"}
    examples["text"] = "theat"
    for server in run_server(everything):
        index = httpx.get(server.url + "/api/queries").json()
        assert {q["name"] for q in index} == {q.name for q in load_queries()}
        for query in index:
            params = {p["name"]: examples[p["name"]] for p in query["parameters"]}
            response = httpx.get(
                server.url + query["url"],
                params=params,
                headers={"Accept": "application/sparql-results+json"},
            )
            assert response.status_code == 200, (query["name"], response.text)
            assert response.json()["results"]["bindings"], f"{query['name']} found nothing"


def test_the_catalogue_of_every_source_conforms_to_dcat_ap_2_1_1(everything: Settings) -> None:
    from pyshacl import validate
    from test_catalog_e2e import DCAT_AP_211, results, shapes

    from creative_graph import dumps
    from endpoint.catalog import Catalog

    dumps.write(everything.store)
    reader = StoreReader(everything.store)
    catalogue = Catalog(reader, everything).graph(reader.snapshot)
    _, report, _ = validate(catalogue, shacl_graph=shapes("2.1.1", DCAT_AP_211))
    assert results(report) == []
    identifiers = {str(o) for o in catalogue.objects(None, DCTERMS.identifier)}
    assert {load_manifest(source).name for source in SOURCES} | {"all"} <= identifiers


def _rows(path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as sheet:
        return {row["id"]: row for row in csv.DictReader(sheet)}


def test_the_demo_ecosystem_page_shows_its_network_and_the_stewards_members(
    everything: Settings,
) -> None:
    from test_ecosystems_e2e import _table, _type_labels

    members = _rows(MEMBERS / "members.csv")
    elsewhere = _rows(STEWARD / "hubs.csv")  # rows the members sheet gives without an address
    assert all(row["member_of"] == "id/ecosystem/brussels-creative" for row in members.values())
    labels = _type_labels()
    for server in run_server(everything):
        thing = httpx.get(server.url + "/id/ecosystem/brussels-creative")
        assert thing.status_code == 303
        assert thing.headers["location"] == "/doc/ecosystem/brussels-creative"
        page = httpx.get(server.url + thing.headers["location"], headers={"Accept": "text/html"})
        assert page.status_code == 200 and "<h1>Brussels Creative</h1>" in page.text
        assert _table(page.text, "networks") == [
            ["The Creative Ring", "Founding member", "since 2017-07-19"]
        ]
        assert '<a href="/doc/network/creative-ring">The Creative Ring</a>' in page.text
        # a territory the graph does not name is named from its code list, not shown as an IRI
        nuts = "http://data.europa.eu/nuts/code/BE100"
        assert f'Territory: <a href="{nuts}">NUTS BE100</a>' in page.text
        # every row of the steward's sheet once, with its type and municipality (from the sheet,
        # or from steward-example for the two actors both sources describe)
        expected = sorted(
            [
                row["name_en"],
                labels[row["type"]],
                row["municipality"] or elsewhere[key]["municipality"],
            ]
            for key, row in members.items()
        )
        assert sorted(row[:3] for row in _table(page.text, "members")) == expected
        assert f"Members ({len(members)})" in page.text
        kinds = [row["type"] for row in members.values()]
        assert dict(_table(page.text, "by-type")) == {
            labels[kind]: str(kinds.count(kind)) for kind in kinds
        }
        network = httpx.get(
            server.url + "/doc/network/creative-ring", headers={"Accept": "text/html"}
        )
        assert [row[0] for row in _table(network.text, "members")] == ["Brussels Creative"]
        # the home page leads there
        home = httpx.get(server.url + "/", headers={"Accept": "text/html"}).text
        assert (
            f'<a href="/doc/ecosystem/brussels-creative">Brussels Creative</a> '
            f"(creative ecosystem, {len(members)} members)" in home
        )
        assert (
            '<a href="/doc/network/creative-ring">The Creative Ring</a> '
            "(network of ecosystems, 1 member ecosystem)" in home
        )
        listed = httpx.get(server.url + "/?format=json").json()["ecosystems"]
        assert [(e["iri"], e["kind"], e["members"]) for e in listed] == [
            (f"{BASE_IRI}id/ecosystem/brussels-creative", "ecosystem", len(members)),
            (f"{BASE_IRI}id/network/creative-ring", "network", 1),
        ]


def test_demo_sources_run_ecosystem_first_and_members_alone_are_refused_saying_why(
    tmp_path, validator
) -> None:
    from creative_graph.cli import _declared_sources

    order = [p.name for p in _declared_sources(Settings(sources=ROOT / "data" / "sources"))]
    assert order.index("example-rdf") < order.index("steward-members")  # what `ingest` runs
    settings = Settings(store=tmp_path / "store", base_iri=BASE_IRI, sources=tmp_path)
    outcome = ingest_source(load_manifest(MEMBERS), settings, validator)
    assert outcome.status == "invalid"
    ecosystem = f"<{BASE_IRI}id/ecosystem/brussels-creative>"
    assert sorted((p.record, p.field, p.value) for p in outcome.violations) == sorted(
        (f"row {n} ({key})", "member_of", ecosystem)
        for n, key in enumerate(_rows(MEMBERS / "members.csv"), start=2)
    )
    assert all(f"Nothing loaded describes {ecosystem}" in p.message for p in outcome.violations)
    assert StoreReader(settings.store).snapshot.name is None
