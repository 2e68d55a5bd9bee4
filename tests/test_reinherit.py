"""ReInHerit best practices: one work per file, deduplicated organisations, no personal data."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

import pyoxigraph as ox
import pytest
import yaml
from conftest import BASE_IRI, ROOT, copy_source
from rdflib import Graph, Literal, URIRef

from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.linking import Reference, name_key
from ingest.manifest import load_manifest
from ingest.mappers.reinherit import (
    _Countries,
    clean_org_name,
    http_iri,
    map_source,
    parse_location,
    read_front_matter,
    split_acronym,
    xsd_datetime,
)
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "reinherit-bestpractices"
GRAPH = BASE_IRI + "graph/reinherit-bestpractices"
ONTOLOGY = BASE_IRI + "graph/ontology"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
DUBLIN = "2024-02-09-dublin-discovery-trails-app.md"
PREFIXES = """PREFIX schema: <https://schema.org/> PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX locn: <http://www.w3.org/ns/locn#> PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX cg: <https://w3id.org/creative-graph/ns#> PREFIX prov: <http://www.w3.org/ns/prov#>
"""
# Raw values that name one organisation: a trailing acronym or country, which the mapper drops.
SAME_ORGANISATION = {
    "Bank of Cyprus Cultural Foundation (BoCCF)": "Bank of Cyprus Cultural Foundation",
    "Pafos Regional Board of Tourism (PRBT)": "Pafos Regional Board of Tourism",
    "Hellenic Committee of the Blue Shield, Greece": "Hellenic Committee of the Blue Shield",
}


@functools.cache
def front_matters() -> dict[str, dict]:
    """Each file's front matter, read without the mapper (tabs: see the mapper's docstring)."""
    found = {}
    for path in sorted((SOURCE / "bestpractices").glob("*.md")):
        block = path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n")
        found[path.name] = yaml.safe_load(block.replace("\t", " "))
    return found


def select(settings: Settings, query: str) -> list[dict]:
    return StoreReader(settings.store).select(PREFIXES + query)


def store_text(settings: Settings) -> str:
    """Every triple of the data graphs (all but the ontology) as text, escapes undone."""
    output = StoreReader(settings.store).query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{ONTOLOGY}>) }}",
        results_format=None,
        graph_format=ox.RdfFormat.N_TRIPLES,
    )
    graph = Graph().parse(data=output.body, format="nt")
    return "\n".join(" ".join(str(term) for term in triple) for triple in graph)


def store_state(settings: Settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    rows = reader.select(
        f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{ONTOLOGY}>) }}"
    )
    return reader.snapshot.name, sorted(str(r) for r in rows)


@pytest.fixture(scope="module")
def rh_store(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    base = tmp_path_factory.mktemp("reinherit")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    outcome = ingest_source(load_manifest(SOURCE), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    return settings


# ---- the ingested demo source ------------------------------------------------------------------


def test_one_practice_per_file(rh_store) -> None:
    files = list((SOURCE / "bestpractices").glob("*.md"))
    assert len(load_manifest(SOURCE).files) == len(files) == 73
    rows = select(rh_store, f"SELECT ?w WHERE {{ GRAPH <{GRAPH}> {{ ?w a schema:CreativeWork }} }}")
    assert len(rows) == len(files)
    assert any("“" in f.name for f in files)  # the typographic quotes survived the copy


def test_one_actor_per_distinct_organisation(rh_store) -> None:
    names = {
        name_key(SAME_ORGANISATION.get(value.strip(), value.strip()))
        for record in front_matters().values()
        for value in (record["orgbestpractice"], record["partnerbestpractice"])
    }
    rows = select(
        rh_store,
        f"SELECT ?a ?label WHERE {{ GRAPH <{GRAPH}> {{ ?a a org:Organization ; skos:prefLabel ?label }} }}",
    )
    assert len({r["a"] for r in rows}) == len(rows) == len(names) == 69
    labels = {r["label"] for r in rows}
    assert {"Bank of Cyprus Cultural Foundation", "ECTN", "Dublin City Council"} <= labels
    assert "Bank of Cyprus Cultural Foundation (BoCCF)" not in labels


def test_no_personal_data_anywhere_in_the_store(rh_store) -> None:
    secrets: set[str] = set()
    for record in front_matters().values():
        for field in ("personsbestpractice", "emailbestpractice"):
            value = str(record.get(field) or "").strip()
            secrets |= {value} | {w for w in re.split(r"[\s,;]+", value) if "@" in w}
    secrets.discard("")
    assert len(secrets) > 60
    text = store_text(rh_store).casefold()
    assert [s for s in secrets if s.casefold() in text] == []
    # names the free texts repeat (infosbestpractice), and people named inside organisation names
    for name in (
        "Jessika Weber",
        "Konstantina Moula",
        "Susanne Ådahl",
        "Leitner-Böchzelt",
        "Bardeau",
    ):
        assert name.casefold() not in text
    assert re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", text) is None  # no e-mail address at all
    assert "[personal data removed]" in text


def test_country_and_place_of_a_known_practice(rh_store) -> None:
    page_id = front_matters()[DUBLIN]["pageId"]
    rows = select(
        rh_store,
        f"""SELECT ?spatial ?org ?unit ?city WHERE {{ GRAPH <{GRAPH}> {{
          ?w a schema:CreativeWork ; dct:identifier "{page_id}" ; dct:spatial ?spatial ;
             schema:about ?a .
          ?a skos:prefLabel ?org ; org:hasPrimarySite/locn:address ?address .
          ?address cv:adminUnit ?unit ; locn:postName ?city . }} }}""",
    )
    assert rows == [
        {
            "spatial": COUNTRY + "IRL",
            "org": "Dublin City Council",
            "unit": COUNTRY + "IRL",
            "city": "Dublin",
        }
    ]


def test_practice_fields(rh_store) -> None:
    page_id = front_matters()[DUBLIN]["pageId"]
    rows = select(
        rh_store,
        f"""SELECT ?p ?o WHERE {{ GRAPH <{GRAPH}> {{
          ?w a schema:CreativeWork ; dct:identifier "{page_id}" ; ?p ?o }} }}""",
    )
    values: dict[str, set[str]] = {}
    for row in rows:
        values.setdefault(row["p"].rsplit("/", 1)[-1], set()).add(row["o"])
    assert values["name"] == {"Dublin Discovery Trails App"}
    assert values["datePublished"] == {"2024-02-09T13:59:45.094Z"}
    assert values["license"] == {"https://creativecommons.org/licenses/by/2.0/"}
    assert values["temporalCoverage"] == {"2022-2023"}
    assert {"Technology", "Smart Tourism", "Docklands"} <= values["keywords"]
    assert len(values["url"]) == 2  # the third URL field holds " "
    assert values["associatedMedia"] == {"https://reinherit-hub.eu/bppdf/DublinDiscoveryTrail.pdf"}
    assert {v.rsplit("/", 1)[-1] for v in values["audience"]} == {
        "cultural-institutions",
        "citizens",
    }
    assert len(values["additionalProperty"]) == 3  # resources and challenges are "n/a"


def test_partners_are_related_both_ways_and_never_to_themselves(rh_store) -> None:
    pairs = select(
        rh_store,
        f"""SELECT ?a ?b WHERE {{ GRAPH <{GRAPH}> {{
          ?w schema:about ?a ; schema:contributor ?b . FILTER (?a != ?b) }} }}""",
    )
    partners = {
        (r["a"], r["b"])
        for r in select(
            rh_store, f"SELECT ?a ?b WHERE {{ GRAPH <{GRAPH}> {{ ?a cg:partnerOf ?b }} }}"
        )
    }
    assert len(pairs) > 40
    assert {(r["a"], r["b"]) for r in pairs} | {(r["b"], r["a"]) for r in pairs} == partners
    dublin = select(
        rh_store,
        f"""SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a skos:prefLabel "Dublin City Council"@en ;
          cg:partnerOf ?e . ?e skos:prefLabel "ECTN"@en ; cg:partnerOf ?a }} }}""",
    )
    assert len(dublin) == 1
    assert all(a != b for a, b in partners)


def test_every_node_is_derived_from_or_located_in_a_record(rh_store) -> None:
    rows = select(
        rh_store,
        f"""SELECT ?x WHERE {{ GRAPH <{GRAPH}> {{
          {{ ?x a org:Organization }} UNION {{ ?x a schema:CreativeWork }}
          FILTER NOT EXISTS {{ ?x prov:wasDerivedFrom ?r . ?r a prov:Entity ; dct:identifier ?id }}
        }} }}""",
    )
    assert rows == []
    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    subjects = {str(s) for s in mapped.graph.subjects() if isinstance(s, URIRef)}
    assert subjects <= set(mapped.locators)


def test_reingest_is_unchanged(rh_store, validator) -> None:
    outcome = ingest_source(load_manifest(SOURCE), rh_store, validator)
    assert (outcome.status, outcome.added, outcome.removed) == ("unchanged", 0, 0)


def test_broken_yaml_fails_naming_file_and_line_and_changes_nothing(
    rh_store, validator, tmp_path
) -> None:
    copy = copy_source(SOURCE, tmp_path / "reinherit-bestpractices")
    broken = copy / "bestpractices" / DUBLIN
    lines = broken.read_text(encoding="utf-8").splitlines()
    number = lines.index("theme: Technology") + 1
    lines[number - 1] = "theme: Technology: Other"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = store_state(rh_store)
    with pytest.raises(SourceError) as raised:
        ingest_source(load_manifest(copy), rh_store, validator)
    assert raised.value.path.name == DUBLIN
    assert raised.value.line == number
    assert f"{DUBLIN}:{number}:" in str(raised.value)
    assert store_state(rh_store) == before


# ---- reading and parsing, without a store --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("title: no front matter\n", "first line must be '---'", 1),
        ("---\ntitle: never closed\n", "not closed", 1),
        ("---\npageId: x\ntitle: [unclosed\n---\n", "not valid", 3),
        ("---\n- a list\n---\n", "not a mapping", 2),
    ],
)
def test_malformed_front_matter_is_a_source_error(tmp_path, text, message, line) -> None:
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        read_front_matter(path)
    assert message in raised.value.message
    assert raised.value.line == line


def test_tab_inside_a_plain_scalar_is_read(tmp_path) -> None:
    path = tmp_path / "tab.md"
    path.write_text("---\npageId: x\nchallenges: •\tThe main one\n---\nbody\n", encoding="utf-8")
    assert read_front_matter(path) == {"pageId": "x", "challenges": "• The main one"}


@pytest.mark.parametrize(
    ("text", "countries", "place"),
    [
        ("Dublin, Republic of Ireland", ("IE",), "Dublin"),
        ("Bank of Cyprus Cultural Foundation, Nicosia, Cyprus", ("CY",), "Nicosia"),
        ("Dundee, Scotland, UK", ("UK",), "Dundee"),
        ("Athens, Greece and Online", ("GR",), "Athens"),
        ("Graz, Austria (and other European Countries)", ("AT",), "Graz"),
        ("Harghta County Council, Romania", ("RO",), None),
        ("Greece, Georgia, Romania", ("GR", "GE", "RO"), None),
        ("Athens", ("GR",), "Athens"),  # from the gazetteer
        ("Brussels", ("BE",), "Brussels"),
        ("Online", (), None),
    ],
)
def test_locations(text, countries, place) -> None:
    parsed = parse_location(text, _Countries(Reference()), {"athens": "GR", "brussels": "BE"})
    assert (parsed.countries, parsed.place) == (countries, place)


def test_organisation_names() -> None:
    countries = _Countries(Reference())
    assert clean_org_name(
        "MUSEUMSVERBUND BETRIEBS Ges.m.b.H., Mag. Susanne Leitner-Böchzelt", [], countries, None
    ) == ("MUSEUMSVERBUND BETRIEBS Ges.m.b.H.")
    assert clean_org_name("Chappe, Ekenäs, Finland", [], countries, "Ekenäs") == "Chappe"
    quoted = "\u2018Friends of the Museum\u2019"
    assert clean_org_name(quoted, [], countries, None) == "Friends of the Museum"
    assert split_acronym("Pafos Regional Board of Tourism (PRBT)") == (
        "Pafos Regional Board of Tourism",
        "PRBT",
    )
    assert split_acronym("Universalmuseum Joanneum (Graz)") == (
        "Universalmuseum Joanneum (Graz)",
        None,
    )


def test_values() -> None:
    from rdflib.namespace import XSD  # not at module level: pytest's collection trips on it

    stamp = datetime(2024, 2, 9, 13, 59, 45, 94000, tzinfo=UTC)
    literal = xsd_datetime(stamp)
    assert (str(literal), literal.datatype) == ("2024-02-09T13:59:45.094Z", XSD.dateTime)
    assert str(xsd_datetime(stamp.replace(microsecond=0))) == "2024-02-09T13:59:45Z"
    assert xsd_datetime("2024-02-09") == Literal("2024-02-09", datatype=XSD.date)
    assert xsd_datetime("last spring") is None
    assert http_iri(" https://reinherit-hub.eu/webinars ") == "https://reinherit-hub.eu/webinars"
    assert http_iri("www.schloesserstrasse.com") is None
    assert http_iri("n/a") is None
