"""The steward CSV template: the example source, relations, located errors, malformed files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import BASE_IRI, ROOT, copy_source
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from terms import is_declared

from creative_graph.iris import Iris, record_key
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.manifest import load_manifest
from ingest.mappers.steward_csv import COLUMNS, map_source, street_language
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "steward-example"
TEMPLATE = ROOT / "data" / "templates" / "steward-template.csv"
DOC = ROOT / "docs" / "STEWARD-TEMPLATE.md"
GRAPH = BASE_IRI + "graph/steward-example"
RELATIONS = {
    "member_of": "http://www.w3.org/ns/org#memberOf",
    "partner_of": "https://w3id.org/creative-graph/ns#partnerOf",
    "hosted_by": "https://w3id.org/creative-graph/ns#hostedBy",
    "funded_by": "https://schema.org/funder",
}
PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX locn: <http://www.w3.org/ns/locn#> PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX adms: <http://www.w3.org/ns/adms#> PREFIX schema: <https://schema.org/>
"""
ADMS = "http://www.w3.org/ns/adms#"


def example_rows() -> list[dict[str, str]]:
    with (SOURCE / "hubs.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def steward_copy(tmp_path: Path) -> Path:
    return copy_source(SOURCE, tmp_path / "sources" / "steward-example")


@pytest.fixture(scope="module")
def steward_store(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    base = tmp_path_factory.mktemp("steward")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    outcome = ingest_source(load_manifest(SOURCE), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    return settings


def write_csv(source: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    path = source / "hubs.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def store_state(settings: Settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    rows = reader.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return reader.snapshot.name, sorted(str(r) for r in rows)


def test_template_and_docs_list_every_column_and_code() -> None:
    assert TEMPLATE.read_text(encoding="utf-8").splitlines() == [",".join(COLUMNS)]
    doc = DOC.read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column}` |" in doc, column
    for scheme in ("actor-type", "service-type", "target-group", "sector"):
        concepts = Graph().parse(ROOT / "ontology" / "concepts" / f"{scheme}.ttl")
        codes = {str(c).rsplit("/", 1)[1] for c in concepts.subjects(RDF.type, SKOS.Concept)}
        for code in codes:
            assert f"(/concept/{scheme}/{code})" in doc, (scheme, code)


def test_example_loads_one_actor_per_row(steward_store) -> None:
    rows = example_rows()
    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    assert (mapped.records_read, mapped.actors) == (len(rows), len(rows)) == (8, 8)
    assert [p for p in mapped.problems if p.severity == "Violation"] == []
    found = StoreReader(steward_store.store).select(
        PREFIXES
        + f"""SELECT ?id WHERE {{ GRAPH <{GRAPH}> {{
          ?a a org:Organization ; prov:wasDerivedFrom/dct:identifier ?id }} }}"""
    )
    assert sorted(r["id"] for r in found) == sorted(row["id"] for row in rows)
    services = StoreReader(steward_store.store).select(
        PREFIXES + f"SELECT ?s WHERE {{ GRAPH <{GRAPH}> {{ ?s a schema:Service }} }}"
    )
    assert len(services) == sum(len(row["services"].split(";")) for row in rows if row["services"])


def test_relations_resolve_to_the_rows_they_name(steward_store) -> None:
    expected = {
        (row["id"], RELATIONS[column], target)
        for row in example_rows()
        for column in RELATIONS
        for target in filter(None, row[column].split(";"))
    }
    assert {kind for _, kind, _ in expected} == set(RELATIONS.values())  # every kind shown
    found = StoreReader(steward_store.store).select(
        PREFIXES
        + f"""SELECT ?from ?p ?to WHERE {{ GRAPH <{GRAPH}> {{
          ?a ?p ?b . ?a prov:wasDerivedFrom/dct:identifier ?from .
          ?b prov:wasDerivedFrom/dct:identifier ?to .
          VALUES ?p {{ {" ".join(f"<{p}>" for p in RELATIONS.values())} }} }} }}"""
    )
    assert {(r["from"], r["p"], r["to"]) for r in found} == expected


def test_address_links_municipality_from_postcode_or_name(steward_store) -> None:
    found = StoreReader(steward_store.store).select(
        PREFIXES
        + f"""SELECT ?id ?unit WHERE {{ GRAPH <{GRAPH}> {{
          ?a prov:wasDerivedFrom/dct:identifier ?id ; org:hasPrimarySite/locn:address/cv:adminUnit ?unit .
          FILTER (STRSTARTS(STR(?unit), "http://vocab.belgif.be/")) }} }}"""
    )
    refnis = {r["id"]: r["unit"].rsplit("/", 1)[1] for r in found}
    assert refnis["imal"] == "21012"  # 1080 Molenbeek-Saint-Jean
    assert refnis["hub-brussels"] == "21013"  # 1060 Saint-Gilles
    assert refnis["canal-makers"] == "21001"  # 1070 Anderlecht


def test_postcode_shared_by_two_municipalities_uses_the_name(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    write_csv(source, [
        {"id": "x", "name_fr": "Atelier X", "type": "studio", "postcode": "1050", "municipality": "Elsene",
         "street": "Rue du Page / Edelknaapstraat", "enterprise_number": "BE 0876.543.270"},
    ])  # fmt: skip
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    units = {
        str(o)
        for o in mapped.to_graph().objects(None, URIRef("http://data.europa.eu/m8g/adminUnit"))
    }
    assert "http://vocab.belgif.be/auth/refnis2025/21009" in units  # Ixelles / Elsene
    streets = set(mapped.to_graph().objects(None, URIRef("http://www.w3.org/ns/locn#thoroughfare")))
    assert streets == {Literal("Rue du Page", lang="fr"), Literal("Edelknaapstraat", lang="nl")}
    assert set(mapped.to_graph().objects(None, URIRef("http://www.w3.org/ns/locn#postName"))) == {
        Literal("Elsene", lang="nl")
    }
    assert set(mapped.to_graph().objects(None, SKOS.notation)) == {Literal("0876543270")}
    assert not any(isinstance(t, BNode) for triple in mapped.to_graph() for t in triple)
    used = {p for _, p, _ in mapped.to_graph()} | set(mapped.to_graph().objects(None, RDF.type))
    assert sorted(str(t) for t in used if not is_declared(t)) == []
    minted = {
        str(t)
        for triple in mapped.to_graph()
        for t in triple
        if str(t).startswith(BASE_IRI + "id/")
    }
    assert all(mapped.minted(iri) for iri in minted)


def test_bad_enterprise_number_and_unknown_type_are_located_violations(
    settings, steward_copy, validator
) -> None:
    rows = example_rows()
    rows[2]["enterprise_number"] = "0876.543.271"  # mod 97 fails: the last two digits should be 70
    rows[4]["type"] = "fablabz"
    rows[5]["services"] = "networking;matchmaking"
    write_csv(steward_copy, rows)
    outcome = ingest_source(load_manifest(steward_copy), settings, validator)
    assert outcome.status == "invalid"
    located = {(p.record, p.field) for p in outcome.violations}
    assert located == {
        (f"row 4 ({rows[2]['id']})", "enterprise_number"),
        (f"row 6 ({rows[4]['id']})", "type"),
        (f"row 7 ({rows[5]['id']})", "services"),
    }
    kbo = next(p for p in outcome.violations if p.field == "enterprise_number")
    assert "0876543271" in kbo.value and "97" in kbo.message
    assert StoreReader(settings.store).snapshot.name is None  # nothing was ever published


def test_skip_invalid_drops_the_bad_rows_with_every_node_they_minted(
    settings, steward_copy, validator
) -> None:
    rows = example_rows()
    rows[4]["type"] = "fablabz"  # a SHACL violation on the actor of row 6
    write_csv(steward_copy, rows)
    outcome = ingest_source(load_manifest(steward_copy), settings, validator, skip_invalid=True)
    assert outcome.status == "loaded"
    assert outcome.rejected == (("hubs.csv", f"row 6 ({rows[4]['id']})"),)
    reader = StoreReader(settings.store)
    graph = f"{BASE_IRI}graph/{load_manifest(steward_copy).name}"
    key = record_key(load_manifest(steward_copy).name, rows[4]["id"])
    left = reader.select(
        f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
        f'FILTER (STRENDS(STR(?s), "/{key}") || STRENDS(STR(?o), "/{key}")) }}'
    )
    assert left == []  # its actor, site, address, geometry, record... all gone
    kept = record_key(load_manifest(steward_copy).name, rows[3]["id"])
    assert reader.select(
        f"SELECT ?p WHERE {{ GRAPH <{graph}> {{ <{BASE_IRI}id/site/{kept}> ?p ?o }} }}"
    )


def test_unknown_reference_and_bad_cells_are_located_violations(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    write_csv(source, [
        {"id": "a", "name_en": "A", "type": "hub", "member_of": "b;zz", "website": "www.a.be"},
        {"id": "b", "name_en": "B", "type": "network", "partner_of": "b", "longitude": "50.85", "latitude": "4.35"},
        {"id": "a", "name_en": "A again", "type": "hub"},
        {"id": "", "name_en": "No id", "type": "hub"},
        {"id": "c", "name_en": "C", "type": "Fab Lab", "funded_by": "A"},
    ])  # fmt: skip
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    located = {(p.record, p.field, p.value) for p in mapped.problems if p.severity == "Violation"}
    assert located == {
        ("row 2 (a)", "member_of", "zz"),
        ("row 2 (a)", "website", "www.a.be"),
        ("row 3 (b)", "partner_of", "b"),
        ("row 3 (b)", "longitude / latitude", "50.85 / 4.35"),
        ("row 4 (a)", "id", "a"),
        ("row 5", "id", ""),
        ("row 6 (c)", "type", "Fab Lab"),
        ("row 6 (c)", "funded_by", "A"),
    }
    hint = next(p for p in mapped.problems if p.field == "funded_by")
    assert "did you mean 'a'" in hint.message
    actor_a = URIRef(Iris(BASE_IRI).thing("actor", mapped_key("a")))
    assert (
        actor_a,
        URIRef(RELATIONS["member_of"]),
        URIRef(Iris(BASE_IRI).thing("actor", mapped_key("b"))),
    ) in mapped.to_graph()
    assert mapped.records_read == 5 and mapped.actors == 3


ECOSYSTEM = "id/ecosystem/brussels-creative"  # the demo's, from data/sources/example-rdf


def test_a_relation_may_name_an_iri_absolute_or_of_this_instance(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    elsewhere = "https://other.example/org/1"
    write_csv(source, [
        {"id": "a", "name_en": "A", "type": "hub", "member_of": f"{ECOSYSTEM};{elsewhere}",
         "partner_of": "b"},
        {"id": "b", "name_en": "B", "type": "hub", "funded_by": f"{BASE_IRI}id/actor/k3y"},
        {"id": "id/ecosystem/b", "name_en": "C", "type": "hub", "hosted_by": "a"},
        {"id": "d", "name_en": "D", "type": "hub", "hosted_by": "id/ecosystem/b"},
    ])  # fmt: skip
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    assert [p for p in mapped.problems if p.severity == "Violation"] == []
    actor = {row: URIRef(Iris(BASE_IRI).thing("actor", mapped_key(row))) for row in "abd"}
    graph = mapped.to_graph()
    member_of, funder = URIRef(RELATIONS["member_of"]), URIRef(RELATIONS["funded_by"])
    assert set(graph.objects(actor["a"], member_of)) == {
        URIRef(BASE_IRI + ECOSYSTEM),  # resolved against BASE_IRI, as in plain RDF files
        URIRef(elsewhere),
    }
    assert (actor["b"], funder, URIRef(f"{BASE_IRI}id/actor/k3y")) in graph
    # a row's id wins over an IRI written the same way
    host = Iris(BASE_IRI).thing("actor", mapped_key("id/ecosystem/b"))
    assert (actor["d"], URIRef(RELATIONS["hosted_by"]), URIRef(host)) in graph


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("id/ecosystem", "an IRI of this instance is written id/{type}/{key}"),
        ("id/Ecosystem/x", "an IRI of this instance is written id/{type}/{key}"),
        ("id/ecosystem/a.ttl", "an IRI of this instance is written id/{type}/{key}"),
        (f"{BASE_IRI}graph/steward-example", "an IRI of this instance is written id/{type}/{key}"),
        (
            f"{BASE_IRI}doc/ecosystem/brussels-creative",
            "the address of a page: relations name the thing it describes, "
            "id/ecosystem/brussels-creative",
        ),
        ("doc/actor/k3y", "the address of a page: relations name the thing it describes, id/actor/k3y"),
        ("https://bad host.example/x", "an IRI cannot contain spaces"),
        ("https://[::1/x", "not a valid IRI"),
        (
            "brussels-creative",
            "no row of hubs.csv has the id 'brussels-creative': a relation names the id of "
            "another row of the same file, or an IRI (https://... , or id/{type}/{key} for a "
            "thing of this instance)",
        ),
    ],
)  # fmt: skip
def test_a_relation_that_is_neither_a_row_id_nor_an_iri_is_a_located_violation(
    tmp_path: Path, value: str, message: str
) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    write_csv(source, [
        {"id": "a", "name_en": "A", "type": "hub"},
        {"id": "b", "name_en": "B", "type": "hub", "member_of": f"a;{value}"},
    ])  # fmt: skip
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    (problem,) = mapped.problems
    assert (problem.severity, problem.file, problem.record, problem.field, problem.value) == (
        "Violation", "hubs.csv", "row 3 (b)", "member_of", value,
    )  # fmt: skip
    assert message in problem.message, problem.message
    # the row's other relation is still mapped; nothing names the bad value
    graph = mapped.to_graph()
    b = URIRef(Iris(BASE_IRI).thing("actor", mapped_key("b")))
    assert set(graph.objects(b, URIRef(RELATIONS["member_of"]))) == {
        URIRef(Iris(BASE_IRI).thing("actor", mapped_key("a")))
    }


def test_a_relation_to_an_iri_loads_only_once_the_store_holds_an_organisation_there(
    tmp_path: Path, settings: Settings, validator
) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    write_csv(source, [{"id": "a", "name_en": "A", "type": "hub", "member_of": ECOSYSTEM}])
    # Before the ecosystem is loaded: refused, located, saying what is missing and what to do.
    early = ingest_source(load_manifest(source), settings, validator)
    assert early.status == "invalid"
    (problem,) = early.violations
    assert (problem.file, problem.record, problem.field, problem.value) == (
        "hubs.csv", "row 2 (a)", "member_of", f"<{BASE_IRI}{ECOSYSTEM}>",
    )  # fmt: skip
    assert problem.message == (
        "org:memberOf must point to an organisation (an ecosystem, network or association). "
        f"Nothing loaded describes <{BASE_IRI}{ECOSYSTEM}>: ingest the source that does first "
        "(`creative-graph ingest` runs sources in the order of their names), or fix the IRI."
    )
    assert StoreReader(settings.store).snapshot.name is None
    # Once example-rdf has loaded it, the same sheet loads.
    example = ROOT / "data" / "sources" / "example-rdf"
    assert ingest_source(load_manifest(example), settings, validator).status == "loaded"
    loaded = ingest_source(load_manifest(source), settings, validator)
    assert (loaded.status, loaded.violations) == ("loaded", ())
    rows = StoreReader(settings.store).select(
        PREFIXES
        + f"SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a org:memberOf <{BASE_IRI}{ECOSYSTEM}> }} }}"
    )
    assert len(rows) == 1
    # A thing the store holds that is no organisation (the ecosystem's site) is still refused.
    site = "id/site/creative-ring"
    write_csv(source, [{"id": "a", "name_en": "A", "type": "hub", "member_of": site}])
    refused = ingest_source(load_manifest(source), settings, validator)
    assert refused.status == "invalid"
    (problem,) = refused.violations
    assert (problem.record, problem.value) == ("row 2 (a)", f"<{BASE_IRI}{site}>")
    assert "Nothing loaded" not in problem.message


def mapped_key(row_id: str) -> str:
    from creative_graph.iris import record_key

    return record_key("steward-example", row_id)


def test_iris_follow_the_id_not_the_row_order(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    first = map_source(load_manifest(source), Iris(BASE_IRI))
    rows = example_rows()
    write_csv(source, list(reversed(rows)))
    second = map_source(load_manifest(source), Iris(BASE_IRI))
    assert set(first.to_graph()) == set(second.to_graph())


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("id,name_en\na,A\n", 1, "missing required column(s): type"),
        ("id,type,webiste\na,hub,x\n", 1, "unknown column(s) 'webiste'"),
        ("id;name_en;type\na;A;hub\n", 1, "separated by ';'"),
        ("id,name_en,type\na,A,hub\nb,B,hub,extra\n", 3, "4 cells where the header has 3 columns"),
        ("id,name_en,type\na,A,hub\nb,B\n", 3, "2 cells where the header has 3 columns"),
        ('id,name_en,type\na,A,hub\nb,"B"x,hub\n', 3, "not valid CSV"),
        ("id,name_en,type\na,\xe9,hub\n", 2, "not UTF-8"),
        ("", 1, "empty file"),
    ],
)
def test_malformed_files_are_source_errors_with_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    (source / "hubs.csv").write_bytes(content.encode("latin-1"))
    with pytest.raises(SourceError) as caught:
        map_source(load_manifest(source), Iris(BASE_IRI))
    assert caught.value.path.name == "hubs.csv"
    assert (caught.value.line, message in caught.value.message) == (line, True), (
        caught.value.message
    )


def test_spreadsheet_leftovers_are_accepted(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    text = "\ufeffID,Name_EN,Type,,\r\na,A,hub,,\r\n,,,,\r\n\r\nb,B,Hub,,\r\n"
    (source / "hubs.csv").write_text(text, encoding="utf-8")
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    assert (mapped.records_read, mapped.actors, mapped.problems) == (2, 2, [])


def test_malformed_file_leaves_the_store_unchanged_and_reingest_is_unchanged(
    steward_store, steward_copy, validator
) -> None:
    before = store_state(steward_store)
    path = steward_copy / "hubs.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] += ",one-cell-too-many"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        ingest_source(load_manifest(steward_copy), steward_store, validator)
    assert (caught.value.path.name, caught.value.line) == ("hubs.csv", 4)
    assert store_state(steward_store) == before
    again = ingest_source(load_manifest(SOURCE), steward_store, validator)
    assert (again.status, again.added, again.removed) == ("unchanged", 0, 0)


@pytest.mark.parametrize(
    ("street", "language"),
    [
        ("Rue de Flandre", "fr"),
        ("Vlaamsesteenweg", "nl"),
        ("Chaussée de Charleroi", "fr"),
        ("Koningsstraat", "nl"),
        ("Cantersteen", "und"),
        ("Place Flagey", "fr"),
        ("Grote Markt", "nl"),
    ],
)
def test_street_language(street: str, language: str) -> None:
    assert street_language(street) == language


def test_rows_are_numbered_by_line_and_ids_are_unique_across_files(tmp_path: Path) -> None:
    source = copy_source(SOURCE, tmp_path / "s")
    manifest = (source / "source.toml").read_text(encoding="utf-8")
    (source / "source.toml").write_text(
        manifest.replace('files = ["hubs.csv"]', 'files = ["hubs.csv", "more.csv"]'),
        encoding="utf-8",
    )
    (source / "hubs.csv").write_text(
        'id,name_en,type,description_en\na,A,hub,"Two\nlines"\nb,B,hub,\n', encoding="utf-8"
    )
    (source / "more.csv").write_text(
        "id,name_en,type,website\nb,B,hub,not a url\n", encoding="utf-8"
    )
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    located = {(p.file, p.record, p.field) for p in mapped.problems}
    assert located == {("more.csv", "row 2 (b)", "id")}
    assert "row 4 of hubs.csv" in mapped.problems[0].message  # row b starts on line 4
    assert (mapped.records_read, mapped.actors) == (3, 2)
