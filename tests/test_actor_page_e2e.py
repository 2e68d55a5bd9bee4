"""An actor's page reads as a person would: services, funding, relationships, concepts and the
licence by their names, the address with its house number, on the real server."""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from conftest import BASE_IRI, ROOT, LiveServer, run_server
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import SKOS
from test_city_subsidies import amount_of, kbo_of, records, valid

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

SOURCES = ROOT / "data" / "sources"
CONCEPTS = ROOT / "ontology" / "concepts"
CG = Namespace("https://w3id.org/creative-graph/ns#")
HOSTILE = "</script><script>alert(1)</script>"
SCRIPT_IRI = "javascript:alert(1)"
CITY_KBO = "0207373429"  # the City of Brussels, funder of the subsidies
# steward sheet column -> the property of the relationship it records
COLUMNS = {
    "member_of": "http://www.w3.org/ns/org#memberOf",
    "partner_of": str(CG.partnerOf),
    "hosted_by": str(CG.hostedBy),
}


@dataclass
class Demo:
    server: LiveServer
    rows: dict[str, dict[str, str]]  # steward sheet row id -> row
    actors: dict[str, str]  # steward sheet row id -> actor IRI

    def page(self, iri: str) -> str:
        path = iri.removeprefix(BASE_IRI).replace("id/", "doc/", 1)
        response = httpx.get(f"{self.server.url}/{path}", headers={"Accept": "text/html"})
        assert response.status_code == 200
        return response.text

    def select(self, query: str) -> list[dict[str, str]]:
        return StoreReader(self.server.settings.store).select(query)


def _hostile_source(folder: Path, provider: str) -> Path:
    """A plain RDF source whose actor, service, grant and licence carry hostile text, and an
    identity link whose IRI is a script."""
    folder.mkdir(parents=True)
    (folder / "data.ttl").write_text(
        f"""
@prefix org: <http://www.w3.org/ns/org#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix cg: <https://w3id.org/creative-graph/ns#> .
<{BASE_IRI}id/actor/hostile> a org:Organization ; skos:prefLabel "{HOSTILE}"@en ;
    org:classification <https://w3id.org/creative-graph/concept/actor-type/studio> ;
    owl:sameAs <{SCRIPT_IRI}> ; cg:partnerOf <{provider}> .
<{BASE_IRI}id/service/hostile> a schema:Service ; schema:provider <{BASE_IRI}id/actor/hostile> ;
    dct:type <https://w3id.org/creative-graph/concept/service-type/workspace> ;
    schema:name "{HOSTILE}"@en .
<{BASE_IRI}id/grant/hostile> a schema:MonetaryGrant ;
    schema:funder <{BASE_IRI}id/actor/hostile> ; schema:fundedItem <{provider}> ;
    schema:startDate "2024"^^xsd:gYear ; schema:description "{HOSTILE}"@en ;
    schema:amount <{BASE_IRI}id/amount/hostile> .
<{BASE_IRI}id/amount/hostile> a schema:MonetaryAmount ;
    schema:value 1250.5 ; schema:currency "EUR" .
""",
        encoding="utf-8",
    )
    (folder / "source.toml").write_text(
        'name = "hostile"\ntitle = "Hostile text for tests"\nmapper = "rdf"\nfiles = ["data.ttl"]\n'
        'publisher = "tests"\nattribution = "tests"\n'
        f"[licence]\nname = {json.dumps(HOSTILE)}\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[Demo]:
    """The steward example and the City of Brussels subsidies, and hostile text beside them."""
    base = tmp_path_factory.mktemp("actor-pages")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    for name in ("steward-example", "brussels-city-subsidies"):
        outcome = ingest_source(load_manifest(SOURCES / name), settings, validator)
        assert outcome.status == "loaded", outcome.violations[:5]
    with (SOURCES / "steward-example" / "hubs.csv").open(encoding="utf-8", newline="") as sheet:
        rows = {row["id"]: row for row in csv.DictReader(sheet)}
    reader = StoreReader(settings.store)
    named = 'SELECT ?a WHERE {{ ?a <{}> "{}"@en }}'
    actors = {
        key: reader.select(named.format(SKOS.prefLabel, row["name_en"]))[0]["a"]
        for key, row in rows.items()
    }
    hostile = _hostile_source(base / "hostile", actors["becentral"])
    outcome = ingest_source(load_manifest(hostile), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    for server in run_server(settings):
        yield Demo(server, rows, actors)


def _table(page: str, css: str) -> list[list[str]]:
    """The body rows of the table of class `css`, each cell as the text a reader sees."""
    (body,) = re.findall(rf'<table class="{css}">.*?<tbody>(.*?)</tbody>', page, re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _facts(page: str) -> dict[str, str]:
    """The summary's facts as a reader sees them: label -> text."""
    (facts,) = re.findall(r'<dl class="facts">(.*?)</dl>', page, re.S)
    return {
        html.unescape(label): html.unescape(re.sub(r"<[^>]+>", "", value))
        for label, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", facts, re.S)
    }


def _json_ld(page: str) -> dict:
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert "<" not in script  # nothing in it can end the script element or open another
    return json.loads(script)


def _labels(scheme: str, prop: URIRef = SKOS.prefLabel) -> dict[str, str]:
    """English labels of a concept scheme's concepts by code, read from its Turtle file."""
    graph = Graph().parse(CONCEPTS / f"{scheme}.ttl")
    return {
        str(concept).rsplit("/", 1)[1]: str(label)
        for concept, label in graph.subject_objects(prop)
        if label.language == "en"
    }


def _tables(page: str, css: str) -> list[list[str]]:
    """The rows of the table of class `css`, none when the page has no such table."""
    return _table(page, css) if f'<table class="{css}">' in page else []


def _money(value: Decimal) -> str:
    return f"€{value:,.2f}"


def _name(demo: Demo, iri: str) -> str:
    """The name the pages give a thing: its first label in English, French, Dutch, any."""
    labels = demo.select(f"SELECT ?l (LANG(?l) AS ?lang) WHERE {{ <{iri}> <{SKOS.prefLabel}> ?l }}")
    order = {"en": 0, "fr": 1, "nl": 2}
    return min((order.get(r.get("lang", ""), 3), r["l"]) for r in labels)[1]


def test_an_actor_with_services_lists_them_by_kind_and_target_group(demo: Demo) -> None:
    kinds, groups = _labels("service-type"), _labels("target-group")
    for key in ("mad", "becentral", "imal"):
        row = demo.rows[key]
        page = demo.page(demo.actors[key])
        services = _table(page, "services")
        assert sorted(s[0] for s in services) == sorted(
            kinds[code] for code in row["services"].split(";")
        )
        audiences = ", ".join(sorted(groups[c] for c in row["target_groups"].split(";")))
        assert all(s[2] == audiences for s in services)
        # no bare service IRI stands for a service in the list
        assert "/id/service/" not in "".join(cell for s in services for cell in s)
        # schema.org: the services as offers
        offered = [o["itemOffered"] for o in _json_ld(page)["makesOffer"]]
        assert sorted(t for o in offered for t in o["serviceType"]) == sorted(
            kinds[code] for code in row["services"].split(";")
        )


def test_a_beneficiary_shows_funder_amount_year_and_purpose_and_the_city_lists_it(
    demo: Demo,
) -> None:
    record = next(r for r in records(2023) if kbo_of(r) and valid(kbo_of(r)))
    number = kbo_of(record)
    amounts = sorted(_money(amount_of(r)) for r in records(2023) if kbo_of(r) == number)
    (found,) = demo.select(
        "SELECT DISTINCT ?a ?city WHERE { ?a <http://www.w3.org/ns/adms#identifier>/"
        f'<{SKOS.notation}> "{number}" . ?grant <https://schema.org/fundedItem> ?a ; '
        "<https://schema.org/funder> ?city }"
    )
    city = _name(demo, found["city"])
    purposes = {
        r["d"]
        for r in demo.select(
            f"SELECT ?d WHERE {{ ?g <https://schema.org/fundedItem> <{found['a']}> ; "
            "<https://schema.org/description> ?d }"
        )
    }
    page = demo.page(found["a"])
    received = _table(page, "funding-received")
    assert sorted(row[1] for row in received if row[2] == "2023") == amounts
    assert {row[0] for row in received} == {city}  # the funder by its name, linked
    assert f'<a href="/doc/{found["city"].removeprefix(BASE_IRI + "id/")}">' in page
    assert all(row[3] in purposes for row in received)
    # the direct "funded by" triple is not repeated beside the grants that detail it
    assert ("funded by", city) not in {tuple(r) for r in _tables(page, "relationships")}
    # schema.org: the grants, with funder and amount
    funding = [g for g in _json_ld(page)["funding"] if g["startDate"] == "2023"]
    assert sorted(_money(Decimal(str(g["amount"]["value"]))) for g in funding) == amounts
    assert {(g["funder"]["name"], g["amount"]["currency"]) for g in funding} == {(city, "EUR")}
    # the funder's page lists whom it funds, with the same amounts and year
    given = _table(demo.page(found["city"]), "funding-given")
    name = _name(demo, found["a"])
    assert sorted(row[1] for row in given if row[0] == name and row[2] == "2023") == amounts


def test_relationships_are_read_both_ways_with_the_other_actors_name(demo: Demo) -> None:
    scheme = Graph().parse(CONCEPTS / "relationship-kind.ttl")
    forward, backward = {}, {}
    for kind, prop in scheme.subject_objects(CG.relationProperty):
        for readings, label_prop in ((forward, SKOS.prefLabel), (backward, CG.inverseLabel)):
            (readings[str(prop)],) = [
                str(label) for label in scheme.objects(kind, label_prop) if label.language == "en"
            ]
    expected: dict[str, set[tuple[str, str]]] = {key: set() for key in demo.rows}
    for key, row in demo.rows.items():
        for column, prop in COLUMNS.items():
            for other in filter(None, row[column].split(";")):
                expected[key].add((forward[prop], demo.rows[other]["name_en"]))
                expected[other].add((backward[prop], row["name_en"]))
    for key in ("canal-makers", "shared-studio", "creative-hubs-network"):
        page = demo.page(demo.actors[key])
        shown = {(reading, other) for reading, other in _table(page, "relationships")}
        assert shown == expected[key], key
        assert "/id/actor/" not in str(shown)  # names, not IRIs
        for other in {o for _, o in expected[key]}:
            other_key = next(k for k, r in demo.rows.items() if r["name_en"] == other)
            link = demo.actors[other_key].replace(BASE_IRI + "id/", "/doc/")
            assert f'<a href="{link}">{html.escape(other)}</a>' in page
    assert expected["shared-studio"] >= {("hosts", "Canal Makers (example)")}


def test_concepts_are_shown_by_their_labels_and_linked(demo: Demo) -> None:
    row = demo.rows["mad"]
    page = demo.page(demo.actors["mad"])
    facts = _facts(page)
    assert facts["Type"] == _labels("actor-type")[row["type"]]
    groups = _labels("target-group")
    assert facts["Target groups"] == ", ".join(
        sorted((groups[c] for c in row["target_groups"].split(";")), key=str.lower)
    )
    assert facts["Sectors"] == _labels("sector")[row["sectors"]]
    assert '<a href="/concept/actor-type/hub">' in page
    # places: the municipality named from the REFNIS code, linked to the federal code list
    assert facts["Municipality"] == "Bruxelles / Brussel"
    assert '<a href="http://vocab.belgif.be/auth/refnis2025/21004">Bruxelles / Brussel</a>' in page
    assert facts["NUTS region"] == "NUTS BE100"
    street = f"{row['street']} {row['number']}"
    assert facts["Address"] == f"{street}, {row['postcode']} {row['municipality']}"


def test_the_licence_of_each_source_is_shown_by_its_name(demo: Demo) -> None:
    page = demo.page(demo.actors["mad"])
    (sources,) = re.findall(r'<ul class="sources">(.*?)</ul>', page, re.S)
    assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in sources
    assert '<a href="/graph/steward-example">' in sources
    (city,) = demo.select(
        "SELECT DISTINCT ?city WHERE { ?city <http://www.w3.org/ns/adms#identifier>/"
        f'<{SKOS.notation}> "{CITY_KBO}" }}'
    )
    city = city["city"]
    page = demo.page(city)
    licence = load_manifest(SOURCES / "brussels-city-subsidies").licence_name
    assert (
        f'licence <a href="/doc/licence/brussels-city-subsidies">{html.escape(licence)}</a>' in page
    )


def test_the_json_ld_street_address_has_the_house_number(demo: Demo) -> None:
    for key in ("mad", "becentral", "shared-studio"):
        row = demo.rows[key]
        address = _json_ld(demo.page(demo.actors[key]))["address"]
        assert address["streetAddress"] == f"{row['street'].split(' / ')[0]} {row['number']}"
        assert address["postalCode"] == row["postcode"]


def test_hostile_text_is_escaped_and_script_iris_are_never_links(demo: Demo) -> None:
    escaped = html.escape(HOSTILE, quote=False)
    hostile = demo.page(f"{BASE_IRI}id/actor/hostile")
    partner = demo.page(demo.actors["becentral"])
    for page in (hostile, partner):
        assert HOSTILE not in page and "<script>alert(1)" not in page
        assert not re.search(r'href="\s*javascript:', page, re.I)
    # its service, its licence and the partner's relationship and grant show the text, escaped
    assert _table(hostile, "services")[0][1] == HOSTILE
    assert escaped in hostile.split('<ul class="sources">')[1]
    assert ["partner of", HOSTILE] in _table(partner, "relationships")
    (grant,) = [row for row in _table(partner, "funding-received") if row[0] == HOSTILE]
    assert grant[1:4] == ["€1,250.50", "2024", HOSTILE]
    assert _facts(hostile)["Same as"] == SCRIPT_IRI  # shown, not linked
    assert _json_ld(hostile)["makesOffer"][0]["itemOffered"]["name"] == HOSTILE
    assert _json_ld(partner)["funding"][0]["description"] == HOSTILE


def test_a_path_that_cannot_be_an_iri_is_not_found(live_server) -> None:
    for path in ("/doc/actor/a%3Eb", "/id/actor/a%3Eb", "/doc/actor/a%20b", '/doc/actor/a"b'):
        assert httpx.get(live_server.url + path).status_code == 404, path


def test_the_statements_stay_available_under_their_own_heading(demo: Demo) -> None:
    page = demo.page(demo.actors["canal-makers"])
    assert '<h2 id="statements">All statements</h2>' in page
    statements = page.split('<h2 id="statements">')[1]
    assert "<code>skos:prefLabel</code>" in statements and "Pointed to by" in statements
