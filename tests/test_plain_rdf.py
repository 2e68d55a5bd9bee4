"""Plain RDF sources: loaded as written, blank nodes given stable IRIs, the model protected."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE_IRI, ROOT, copy_source
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import PROV, RDF

from creative_graph.iris import Iris
from creative_graph.rdf_files import read_rdf
from creative_graph.store import StoreReader
from creative_graph.validation import Validator
from ingest.errors import SourceError
from ingest.manifest import load_manifest
from ingest.mappers.plain_rdf import map_source
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "example-rdf"
FILE = SOURCE / "creative-ring.ttl"
GRAPH = BASE_IRI + "graph/example-rdf"
CG = "https://w3id.org/creative-graph/ns#"
NETWORK = BASE_IRI + "id/network/creative-ring"

BLANK_NODES = """\
@prefix ex: <https://example.org/b/> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:m ex:during _:LABEL1 .
_:LABEL1 a time:Interval ; time:hasBeginning _:LABEL2 ; time:hasEnd _:LABEL3 .
_:LABEL2 a time:Instant ; time:inXSDDate "2017-07-19"^^xsd:date .
_:LABEL3 a time:Instant ; time:inXSDDate "2019-01-01"^^xsd:date .
"""


def rdf_source(tmp_path: Path, name: str, text: str) -> Path:
    """A copy of the example source whose one file holds `text`."""
    source = copy_source(SOURCE, tmp_path / "sources" / "example-rdf")
    (source / FILE.name).write_text(text, encoding="utf-8")
    return source


def store_state(settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    rows = reader.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return reader.snapshot.name, sorted(str(r) for r in rows)


def test_example_is_loaded_as_written_with_stable_blank_node_iris(
    settings, validator, tmp_path: Path
) -> None:
    parsed = read_rdf(FILE, base=BASE_IRI)
    blank = {t for triple in parsed for t in triple if isinstance(t, BNode)}
    subjects = set(parsed.subjects())
    actors = set(parsed.subjects(RDF.type, URIRef(CG + "EcosystemNetwork"))) | set(
        parsed.subjects(RDF.type, URIRef(CG + "CreativeEcosystem"))
    )
    assert (len(blank), len(subjects), len(actors)) == (2, 9, 2)

    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    assert (mapped.records_read, mapped.actors, mapped.problems) == (len(subjects), len(actors), [])
    assert not any(isinstance(t, BNode) for triple in mapped.graph for t in triple)
    assert len(mapped.graph) == len(parsed) + 3 * len(actors)  # + wasDerivedFrom, type, identifier
    plain = {t for t in parsed if not any(isinstance(x, BNode) for x in t)}
    assert plain <= set(mapped.graph)  # everything without a blank node is kept as written
    skolem = {str(s) for s in mapped.graph.subjects() if "/id/bnode/" in str(s)}
    assert len(skolem) == len(blank)
    assert {str(s) for s in mapped.graph.subjects()} <= set(mapped.locators)
    assert all(str(a) in mapped.locators for a in actors)
    assert all((a, PROV.wasDerivedFrom, None) in mapped.graph for a in actors)

    first = ingest_source(load_manifest(SOURCE), settings, validator)
    second = ingest_source(load_manifest(SOURCE), settings, validator)
    assert (first.status, first.violations, first.warnings) == ("loaded", (), ())
    assert (second.status, second.added, second.removed) == ("unchanged", 0, 0)
    rows = StoreReader(settings.store).select(
        f"""SELECT ?date WHERE {{ GRAPH <{GRAPH}> {{
          <{BASE_IRI}id/membership/brussels-creative-in-creative-ring>
            <http://www.w3.org/ns/org#memberDuring>/<http://www.w3.org/2006/time#hasBeginning>/
            <http://www.w3.org/2006/time#inXSDDate> ?date }} }}"""
    )
    assert [r["date"] for r in rows] == ["2017-07-19"]

    # A file that does not parse: SourceError with file and line, and the store is unchanged.
    before = store_state(settings)
    broken = "@prefix ex: <https://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e \n"
    source = rdf_source(tmp_path, "example-rdf", broken)
    with pytest.raises(SourceError) as caught:
        ingest_source(load_manifest(source), settings, validator)
    assert (caught.value.path.name, caught.value.line) == (FILE.name, 3)
    assert store_state(settings) == before


def test_blank_node_iris_do_not_depend_on_labels_or_order(tmp_path: Path) -> None:
    relabelled = BLANK_NODES.replace("LABEL1", "x9").replace("LABEL2", "a").replace("LABEL3", "q")
    lines = relabelled.splitlines()
    shuffled = "\n".join(lines[:4] + lines[4:][::-1]) + "\n"
    graphs = []
    for number, text in enumerate((BLANK_NODES, BLANK_NODES, shuffled)):
        source = rdf_source(tmp_path / str(number), "example-rdf", text)
        graphs.append(set(map_source(load_manifest(source), Iris(BASE_IRI)).graph))
    assert graphs[0] == graphs[1] == graphs[2]
    assert len({s for s, _, _ in graphs[0] if "/id/bnode/" in str(s)}) == 3
    # The two instants differ only by their date: still two IRIs, never merged.
    nt = Graph()
    for triple in graphs[0]:
        nt.add(triple)
    assert len(nt) == len(read_rdf(source / FILE.name))


def test_invalid_actor_is_a_violation_naming_file_and_subject(
    settings, validator, tmp_path: Path
) -> None:
    text = FILE.read_text(encoding="utf-8").replace('skos:prefLabel "The Creative Ring"@en ;', "")
    source = rdf_source(tmp_path, "example-rdf", text)
    outcome = ingest_source(load_manifest(source), settings, validator)
    assert outcome.status == "invalid"
    (problem,) = outcome.violations
    assert (problem.file, problem.record) == (FILE.name, f"subject <{NETWORK}>")
    assert problem.field == "skos:prefLabel"
    assert StoreReader(settings.store).snapshot.name is None


def test_relative_iris_resolve_against_the_base_iri_unless_the_file_sets_its_own(
    tmp_path: Path,
) -> None:
    text = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<id/ecosystem/my-city> skos:prefLabel "Mine"@en ; skos:related <id/network/ring> .
@base <https://example.org/theirs/> .
<id/ecosystem/their-city> skos:prefLabel "Theirs"@en .
"""
    source = rdf_source(tmp_path, "example-rdf", text)
    subjects = {}
    for base in (BASE_IRI, "https://creative.example/cg/"):
        mapped = map_source(load_manifest(source), Iris(base))
        assert mapped.problems == []
        subjects[base] = {str(s) for s in mapped.graph.subjects()}
    # the instance's own things move with its base; the file's @base wins where it is set
    assert subjects[BASE_IRI] == {
        f"{BASE_IRI}id/ecosystem/my-city",
        "https://example.org/theirs/id/ecosystem/their-city",
    }
    assert subjects["https://creative.example/cg/"] == {
        "https://creative.example/cg/id/ecosystem/my-city",
        "https://example.org/theirs/id/ecosystem/their-city",
    }
    linked = map_source(load_manifest(source), Iris(BASE_IRI)).graph
    assert (None, None, URIRef(f"{BASE_IRI}id/network/ring")) in linked

    # JSON-LD resolves the same way
    jsonld = '{"@id": "id/ecosystem/my-city", "http://www.w3.org/2004/02/skos/core#prefLabel": "x"}'
    (source / "extra.jsonld").write_text(jsonld, encoding="utf-8")
    manifest = (source / "source.toml").read_text(encoding="utf-8")
    (source / "source.toml").write_text(
        manifest.replace('files = ["creative-ring.ttl"]', 'files = ["extra.jsonld"]'),
        encoding="utf-8",
    )
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    assert {str(s) for s in mapped.graph.subjects()} == {f"{BASE_IRI}id/ecosystem/my-city"}


def test_statements_about_the_model_and_iris_that_name_no_thing_are_refused(
    tmp_path: Path,
) -> None:
    text = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/creative-graph/concept/actor-type/my-own> skos:inScheme
    <https://w3id.org/creative-graph/concept/actor-type> .
<relative/thing> skos:prefLabel "x"@en .
<id/ecosystem/fine> skos:related <> , <#me> , <graph/steward-example> , <id/ecosystem/a.ttl> ,
    <id/ecosystem> , <file:///home/someone/thing.ttl> .
"""
    source = rdf_source(tmp_path, "example-rdf", text)
    mapped = map_source(load_manifest(source), Iris(BASE_IRI))
    fine = f"subject <{BASE_IRI}id/ecosystem/fine>"
    located = sorted((p.severity, p.file, p.record, p.value) for p in mapped.problems)
    assert located == sorted(
        ("Violation", FILE.name, record, value)
        for record, value in (
            ("subject <https://w3id.org/creative-graph/concept/actor-type/my-own>",
             "https://w3id.org/creative-graph/concept/actor-type/my-own"),
            (f"subject <{BASE_IRI}relative/thing>", f"{BASE_IRI}relative/thing"),
            (fine, BASE_IRI), (fine, f"{BASE_IRI}#me"), (fine, f"{BASE_IRI}graph/steward-example"),
            (fine, f"{BASE_IRI}id/ecosystem/a.ttl"), (fine, f"{BASE_IRI}id/ecosystem"),
            (fine, "file:///home/someone/thing.ttl"),
        )
    )  # fmt: skip
    by_value = {p.value: p.message for p in mapped.problems}
    assert "only things' IRIs id/{type}/{key}" in by_value[f"{BASE_IRI}#me"]
    assert "names a file on one computer" in by_value["file:///home/someone/thing.ttl"]


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_relation_to_an_actor_of_another_source_takes_its_type_from_the_store(
    settings, validator, tmp_path: Path, engine: str
) -> None:
    if engine == "pyshacl":
        validator = Validator.default()
    steward = ROOT / "data" / "sources" / "steward-example"
    assert ingest_source(load_manifest(steward), settings, validator).status == "loaded"
    (hub,) = [
        row["a"]
        for row in StoreReader(settings.store).select(
            "SELECT ?a WHERE { GRAPH ?g { ?a a <http://www.w3.org/ns/org#Organization> ; "
            "<http://www.w3.org/2004/02/skos/core#prefLabel> ?n } } ORDER BY ?a LIMIT 1"
        )
    ]
    text = FILE.read_text(encoding="utf-8")
    mine = "org:memberOf <id/network/creative-ring> ."
    joined = text.replace(mine, f"org:memberOf <id/network/creative-ring> , <{hub}> .")
    assert joined != text
    outcome = ingest_source(load_manifest(rdf_source(tmp_path, "", joined)), settings, validator)
    assert (outcome.status, [str(p) for p in outcome.violations]) == ("loaded", [])

    # The same relation to an actor IRI nothing describes is refused, naming the relation.
    before = store_state(settings)
    ghost = hub.rsplit("/", 1)[0] + "/nobody-has-this-key"
    dangling = text.replace(mine, f"org:memberOf <id/network/creative-ring> , <{ghost}> .")
    outcome = ingest_source(
        load_manifest(rdf_source(tmp_path / "2", "", dangling)), settings, validator
    )
    assert outcome.status == "invalid"
    (problem,) = outcome.violations
    assert (problem.field, problem.value) == ("org:memberOf", f"<{ghost}>")
    assert store_state(settings) == before
