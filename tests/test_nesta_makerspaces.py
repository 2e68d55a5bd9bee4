"""Nesta's UK makerspaces survey: the real file ingests; contacts, CR line breaks, broken copies."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from conftest import BASE_IRI, ROOT
from rdflib import BNode
from rdflib.namespace import RDF
from terms import is_declared

from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.manifest import load_manifest
from ingest.mappers.nesta_makerspaces import (
    email,
    excel_range,
    map_source,
    postcode,
    telephones,
    web_iri,
)
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "nesta-uk-makerspaces"
SURVEY = SOURCE / "ukmakerspacesidentifiabledata.csv"
GRAPH = BASE_IRI + "graph/nesta-uk-makerspaces"
PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/> PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX locn: <http://www.w3.org/ns/locn#> PREFIX schema: <https://schema.org/>
PREFIX dct: <http://purl.org/dc/terms/> PREFIX geo: <http://www.opengis.net/ont/geosparql#>
"""
NAME = "Name of makerspace"


def survey_rows() -> list[dict[str, str]]:
    """The survey's data rows, read here without the mapper (latin-1 decodes any byte)."""
    text = SURVEY.read_bytes().decode("latin-1")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def row_of(name: str) -> tuple[int, dict[str, str]]:
    for number, row in enumerate(survey_rows(), start=1):
        if row[NAME].strip() == name:
            return number, row
    raise LookupError(name)


def select(settings: Settings, query: str) -> list[dict[str, str]]:
    return StoreReader(settings.store).select(PREFIXES + query)


def store_state(settings: Settings) -> tuple[str | None, list[str]]:
    """The published snapshot and how many triples each graph holds (a failed ingest publishes
    nothing, so a new snapshot name would show any change)."""
    reader = StoreReader(settings.store)
    counts = reader.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    return reader.snapshot.name, [f"{r['g']} {r['n']}" for r in counts]


@pytest.fixture(scope="module")
def nesta(tmp_path_factory: pytest.TempPathFactory, validator):
    """The demo source ingested once into its own store (the slow part: one real ingest)."""
    base = tmp_path_factory.mktemp("nesta")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    return settings, ingest_source(load_manifest(SOURCE), settings, validator)


@pytest.fixture
def small_copy(tmp_path: Path) -> Path:
    """A writable copy of the source (same name) with the header and its first 10 records.

    Records end with CRLF; line breaks inside quoted fields are bare CR, so CRLF splits records.
    """
    target = tmp_path / "sources" / "nesta-uk-makerspaces"
    target.mkdir(parents=True)
    shutil.copy(SOURCE / "source.toml", target / "source.toml")
    records = SURVEY.read_bytes().split(b"\r\n")
    (target / SURVEY.name).write_bytes(b"\r\n".join(records[:11]) + b"\r\n")
    return target


# ---- the whole demo file -----------------------------------------------------------------------


def test_every_named_row_becomes_one_actor(nesta) -> None:
    settings, outcome = nesta
    rows = survey_rows()
    names = {" ".join(row[NAME].split()) for row in rows if row[NAME].strip()}
    assert (outcome.status, outcome.violations) == ("loaded", ())
    assert (outcome.records_read, outcome.actors) == (len(rows), len(names)) == (98, 97)
    labels = select(
        settings,
        f"SELECT ?name WHERE {{ GRAPH <{GRAPH}> {{ ?a a org:Organization ; skos:prefLabel ?name }} }}",
    )
    assert {row["name"] for row in labels} == names
    (nameless,) = [n for n, row in enumerate(rows, start=1) if not row[NAME].strip()]
    skipped = [p for p in outcome.warnings if p.record == f"row {nameless}"]
    assert [(p.severity, p.message) for p in skipped] == [
        ("Warning", f"row {nameless} has no name: skipped")
    ]


def test_known_space_has_its_website_email_phone_and_address(nesta) -> None:
    settings, outcome = nesta
    number, row = row_of("Build Brighton")
    rows = select(
        settings,
        """SELECT ?home ?email ?phone ?postcode ?area (GROUP_CONCAT(STR(?unit); separator=" ") AS ?units)
        WHERE { ?a skos:prefLabel "Build Brighton"@en ; foaf:homepage ?home ;
                   cv:contactPoint [ cv:email ?email ; cv:telephone ?phone ] ;
                   org:hasPrimarySite/locn:address ?address .
                ?address locn:postCode ?postcode ; locn:adminUnitL2 ?area ; cv:adminUnit ?unit .
        } GROUP BY ?home ?email ?phone ?postcode ?area""",
    )
    assert len(rows) == 1
    found = rows[0]
    assert found["home"] == row["Website / URL"] == "http://www.buildbrighton.com/"
    assert found["email"] == row["Email address"] == "info@buildbrighton.com"
    assert re.sub(r"\D", "", found["phone"]) == re.sub(r"\D", "", row["Phone number"])
    assert (found["postcode"], found["area"]) == (row["Postcode"], row["Area"])
    assert set(found["units"].split()) == {
        "http://publications.europa.eu/resource/authority/country/GBR",
        "http://data.europa.eu/nuts/code/UKJ",  # South East
    }
    located = [p for p in outcome.warnings if p.record == f"row {number} (Build Brighton)"]
    assert any("No coordinates" in p.message for p in located)  # the survey has none


def test_multiline_address_with_bare_cr_survives(nesta) -> None:
    settings, _ = nesta
    _, row = row_of("Nottingham Hackspace (Nottinghack)")
    address = row["Address"]
    assert "\r" in address and "\n" not in address
    lines = [" ".join(line.split()).strip(" ,") for line in address.split("\r")]
    rows = select(
        settings,
        """SELECT ?full WHERE { ?a skos:prefLabel "Nottingham Hackspace (Nottinghack)"@en ;
            org:hasPrimarySite/locn:address/locn:fullAddress ?full }""",
    )
    assert [r["full"] for r in rows] == [", ".join(line for line in lines if line)]
    # 0x90 of the legacy Mac export is a right quote, not a replacement character.
    rows = select(
        settings,
        """SELECT ?full WHERE { ?a skos:prefLabel "Fab Lab London"@en ;
            org:hasPrimarySite/locn:address/locn:fullAddress ?full }""",
    )
    assert [r["full"] for r in rows] == [
        "Fab Lab London, 1 Frederick\u2019s Place, Off Old Jewry, London"
    ]


def test_services_audiences_and_amenities(nesta) -> None:
    settings, _ = nesta
    services = select(
        settings,
        """SELECT ?type (GROUP_CONCAT(STR(?group); separator=" ") AS ?groups) WHERE {
            ?a skos:prefLabel "Build Brighton"@en . ?s schema:provider ?a ; dct:type ?type .
            OPTIONAL { ?s dct:audience ?group } } GROUP BY ?type""",
    )
    by_type = {r["type"].rsplit("/", 1)[1]: set(r["groups"].split()) for r in services}
    assert set(by_type) == {"workspace", "prototyping-equipment", "training", "events"}
    makers = "https://w3id.org/creative-graph/concept/target-group/makers"
    assert all(makers in groups for groups in by_type.values())
    features = select(
        settings,
        """SELECT ?name ?value WHERE { ?a skos:prefLabel "Build Brighton"@en ;
            org:hasPrimarySite/schema:amenityFeature [ schema:name ?name ; schema:value ?value ] }""",
    )
    named = {r["name"]: r["value"] for r in features}
    assert named["Wifi"] == named["Equipment: Digital fabrication"] == "true"
    geometries = f"SELECT ?g WHERE {{ GRAPH <{GRAPH}> {{ ?site geo:hasGeometry ?g }} }}"
    assert not select(settings, geometries)  # the survey has no coordinates


def test_person_names_and_prose_are_left_out(nesta) -> None:
    settings, _ = nesta
    literals = " ".join(
        r["o"] for r in select(settings, f"SELECT ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
    )
    rows = survey_rows()
    # A contact person given as the first line of an address, and as the e-mail address.
    _, medway = row_of("Medway Makers")
    person = medway["Address"].split("\r")[0]
    assert person in medway["Address"] and person not in literals
    assert medway["Email address"] not in literals
    # Free-text answers are not mapped.
    for column in (
        "What are your ambitions for your makerspace?",
        "What is your best success story?",
    ):
        answers = [row[column] for row in rows if len(row[column]) > 40]
        assert answers and not any(answer[:40] in literals for answer in answers)


def test_reingest_is_unchanged(nesta, validator) -> None:
    settings, first = nesta
    second = ingest_source(load_manifest(SOURCE), settings, validator)
    assert (second.status, second.added, second.removed) == ("unchanged", 0, 0)
    assert (second.actors, second.triples) == (first.actors, first.triples)


def test_mapping_is_declared_without_blank_nodes_and_located() -> None:
    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    graph = mapped.graph
    assert not [t for t in graph if any(isinstance(term, BNode) for term in t)]
    used = set(graph.predicates()) | set(graph.objects(None, RDF.type))
    assert [term for term in used if not is_declared(term)] == []
    minted = {s for s in graph.subjects() if str(s).startswith(BASE_IRI + "id/")}
    assert minted and all(str(node) in mapped.locators for node in minted)
    assert all(f == SURVEY.name and loc.startswith("row ") for f, loc in mapped.locators.values())


# ---- broken copies: the store keeps what it had ------------------------------------------------


def test_file_cut_inside_a_quoted_field_fails_naming_file_and_line(
    nesta, validator, small_copy
) -> None:
    settings, _ = nesta
    before = store_state(settings)
    path = small_copy / SURVEY.name
    data = path.read_bytes()
    cut = data[: data.index(b"Roden House") + len(b"Roden")]  # in row 8's multi-line address
    path.write_bytes(cut)
    with pytest.raises(SourceError) as raised:
        ingest_source(load_manifest(small_copy), settings, validator)
    error = raised.value
    assert error.path == path
    assert error.line == len(re.split(rb"\r\n|\r|\n", cut))  # CR, LF and CRLF end lines
    assert "unexpected end of data" in error.message and "data row 8" in error.message
    assert f"{path}:{error.line}:" in str(error)
    assert store_state(settings) == before


def test_bytes_that_are_not_csv_fail_naming_file_and_line(nesta, validator, small_copy) -> None:
    settings, _ = nesta
    before = store_state(settings)
    path = small_copy / SURVEY.name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00")
    with pytest.raises(SourceError) as raised:
        ingest_source(load_manifest(small_copy), settings, validator)
    assert (raised.value.path, raised.value.line) == (path, 3)
    assert "NUL" in raised.value.message
    path.write_bytes(b"name;website\r\nBuild Brighton;http://www.buildbrighton.com/\r\n")
    with pytest.raises(SourceError, match="not the Nesta makerspaces survey: missing column"):
        ingest_source(load_manifest(small_copy), settings, validator)
    assert store_state(settings) == before


def test_row_with_a_lost_separator_is_invalid_and_named(nesta, validator, small_copy) -> None:
    settings, _ = nesta
    before = store_state(settings)
    path = small_copy / SURVEY.name
    data = path.read_bytes()
    assert data.count(b"@buildingbloqs,") == 1
    path.write_bytes(data.replace(b"@buildingbloqs,", b"@buildingbloqs"))
    outcome = ingest_source(load_manifest(small_copy), settings, validator)
    assert (outcome.status, outcome.records_read) == ("invalid", 10)
    (violation,) = outcome.violations
    assert violation.record == "row 4 (Building Bloqs)"
    assert "116 fields where the header has 117" in violation.message
    assert store_state(settings) == before


# ---- value parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "numbers"),
    [
        ("(01273) 358 263", ["01273 358 263"]),
        ("+44 (0) 20 8531 1612", ["+44 20 8531 1612"]),
        ("(0)20 8803  3987", ["020 8803 3987"]),
        ("1885448000", ["01885448000"]),  # a spreadsheet dropped the leading 0
        ("01223 324 379 (or 01223 926 001)", ["01223 324 379", "01223 926 001"]),
        (" 01253 293258/07711736899 ", ["01253 293258", "07711736899"]),
        ("07700 900123 (Jane Example)", ["07700 900123"]),
        ("Space doesn't have one yet, 07700 900 123 for coordinator", ["07700 900 123"]),
        ("Unlisted", []),
        ("N/A", []),
    ],
)
def test_telephones(answer: str, numbers: list[str]) -> None:
    assert telephones(answer) == numbers


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("http://www.buildbrighton.com/", "http://www.buildbrighton.com/"),
        ("www.leighhack.org", "http://www.leighhack.org"),
        ("york.hackspace.org.uk", "http://york.hackspace.org.uk"),
        ("facebook.com/bristolhackspace", "http://facebook.com/bristolhackspace"),
        ("http://example.org/a page", None),
        ("None officially", None),
        ("ftp://example.org/", None),
    ],
)
def test_web_iri(answer: str, expected: str | None) -> None:
    assert web_iri(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (" info@makespace.org", "info@makespace.org"),
        ("fizzpop.makers@gmail .com", "fizzpop.makers@gmail.com"),
        ("0208 0993608", None),
        ('Post to the list for "enquiries," or contact Jane Example at jane@example.org.', None),
    ],
)
def test_email(answer: str, expected: str | None) -> None:
    assert email(answer) == expected


def test_postcodes_and_spreadsheet_dates() -> None:
    assert postcode("E59ND") == ("E5 9ND", True)
    assert postcode("S2 4SJ, ") == ("S2 4SJ", True)
    assert postcode("BN1 41J") == ("BN1 41J", False)
    assert (excel_range("Oct-20"), excel_range("03-Aug"), excel_range("20")) == (
        "10-20",
        "3-8",
        None,
    )


def test_source_manifest_credits_nesta_share_alike() -> None:
    manifest = load_manifest(SOURCE)
    assert (manifest.name, manifest.mapper) == ("nesta-uk-makerspaces", "nesta-makerspaces-csv")
    assert manifest.licence_name == "CC BY-SA 4.0"
    assert manifest.licence_iri == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert "Nesta" in manifest.publisher and "Nesta" in manifest.attribution
    assert manifest.files == (SURVEY,)
