"""Mapper for plain RDF files: loaded as they are once they pass validation.

Any format `creative_graph.rdf_files.read_rdf` reads (Turtle, N-Triples, RDF/XML, JSON-LD, TriG,
N-Quads; named graphs of quad formats are merged into the source's one graph). The triples are
kept as written, with three exceptions:

- **Blank nodes get stable IRIs.** A blank node has no name outside its file, and parsers label
  blank nodes afresh on every parse, so `Graph.skolemize` alone would mint new IRIs at every
  ingest. Each file is first canonicalised (`rdflib.compare.to_canonical_graph`: blank node
  labels computed from the triples around each blank node), then every blank node becomes
  `{BASE_IRI}id/bnode/{record_key(source, "file#canonical label")}`. Re-parsing unchanged input
  yields the same IRIs; editing a file may re-key the blank nodes connected to the edit.
- **Provenance is added:** each actor (an instance of `org:Organization` or `foaf:Person`, or of a
  subclass of either known to the ontology or declared in the file) gets `prov:wasDerivedFrom` a
  source-record entity for its description in that file.
- **Relative IRIs name things of this instance.** Each file is parsed with the instance's
  `BASE_IRI` as its base IRI (RFC 3986 resolution, as Turtle, RDF/XML and JSON-LD define it for
  a document without a base of its own), so `<id/ecosystem/brussels-creative>` becomes
  `{BASE_IRI}id/ecosystem/brussels-creative` and moves with the instance's address; a file's own
  `@base` (`xml:base`, JSON-LD `@base`) still wins. This is the default, not a manifest setting:
  relative IRIs were refused before, so no file that loaded changes meaning.
- **Three things are refused** (a Violation naming the file and subject): statements about the
  creative-graph model itself (subjects under `https://w3id.org/creative-graph/`; a source
  could otherwise declare its own concepts and pass the value-set shapes); IRIs under `BASE_IRI`
  that are not a thing's `{BASE_IRI}id/{type}/{key}` (the only ones the instance serves: `<>`,
  `<#x>` or `<graph/...>` would name its own pages); and `file:` IRIs, which name a file on
  one computer.

`records_read` counts the distinct subjects of each file; `actors` the distinct actors. Every
subject is located as `subject <iri>` in its file, so that SHACL results name file and subject.
"""

from __future__ import annotations

from functools import cache

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import ORG
from creative_graph.rdf_files import RdfFileError, read_rdf
from ingest.errors import Problem, SourceError
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped

MODEL_NAMESPACE = "https://w3id.org/creative-graph/"
ACTOR_ROOTS = (ORG.Organization, FOAF.Person)


@cache
def _ontology_subclass_axioms() -> Graph:
    import ontology

    axioms = Graph()
    for triple in ontology.validation_graph().triples((None, RDFS.subClassOf, None)):
        axioms.add(triple)
    return axioms


def actor_classes(data: Graph) -> set[URIRef]:
    """org:Organization, foaf:Person and their subclasses (ontology's and the data's own)."""
    axioms = Graph()
    axioms += _ontology_subclass_axioms()
    axioms += data.triples((None, RDFS.subClassOf, None))
    found: set[URIRef] = set()
    for root in ACTOR_ROOTS:
        found.update(c for c in axioms.transitive_subjects(RDFS.subClassOf, root))
    return {c for c in found if isinstance(c, URIRef)}


def skolemise(parsed: Graph, file: str, source: str, iris: Iris) -> Graph:
    """The graph with every blank node replaced by a stable IRI (see the module docstring)."""
    if not any(isinstance(term, BNode) for triple in parsed for term in triple):
        return parsed
    names: dict[BNode, URIRef] = {}

    def named(term):
        if not isinstance(term, BNode):
            return term
        if term not in names:
            names[term] = URIRef(iris.thing("bnode", record_key(source, f"{file}#{term}")))
        return names[term]

    result = Graph()
    for subject, predicate, obj in to_canonical_graph(parsed):
        result.add((named(subject), predicate, named(obj)))
    for prefix, namespace in parsed.namespaces():
        result.bind(prefix, namespace, override=False)
    return result


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    mapped = Mapped(graph=Graph())
    actors: set[URIRef] = set()
    for path in manifest.files:
        try:
            parsed = read_rdf(path, base=iris.base)
        except RdfFileError as error:
            raise SourceError(path, error.message, error.line) from error
        data = skolemise(parsed, path.name, manifest.name, iris)
        _check(data, path.name, iris, mapped)
        subjects = {s for s in data.subjects() if isinstance(s, URIRef)}
        mapped.records_read += len(subjects)
        for subject in sorted(subjects):
            mapped.locators.setdefault(str(subject), (path.name, f"subject <{subject}>"))
        mapped.graph += data
        classes = actor_classes(data)
        for actor in sorted(subjects):
            if not any(t in classes for t in data.objects(actor, RDF.type)):
                continue
            actors.add(actor)
            identifier = f"{path.name} <{actor}>"
            record = URIRef(iris.thing("record", record_key(manifest.name, identifier)))
            mapped.locators[str(record)] = (path.name, f"subject <{actor}>")
            mapped.graph.add((actor, PROV.wasDerivedFrom, record))
            mapped.graph.add((record, RDF.type, PROV.Entity))
            mapped.graph.add((record, DCTERMS.identifier, Literal(identifier)))
    mapped.actors = len(actors)
    return mapped


def _check(data: Graph, file: str, iris: Iris, mapped: Mapped) -> None:
    """Refuse statements about the model, IRIs under BASE_IRI that name no thing, `file:` IRIs."""
    base = iris.base
    reported: set[str] = set()

    def refuse(subject: str, value: str, message: str) -> None:
        if value not in reported:
            reported.add(value)
            mapped.problems.append(Problem(file, f"subject <{subject}>", "", value, message))

    for triple in data:
        subject = str(triple[0])
        if subject.startswith(MODEL_NAMESPACE):
            refuse(
                subject, subject,
                "statements about the creative-graph model (ontology, concepts, shapes) are "
                "not accepted from a source: describe your own resources and refer to ours",
            )  # fmt: skip
        for term in triple:
            text = str(term)
            if not isinstance(term, URIRef):
                continue
            if text.startswith(base) and not iris.is_thing(text):
                refuse(
                    subject, text,
                    f"under this instance's base IRI <{base}> only things' IRIs "
                    "id/{type}/{key} are served (type: lower-case words joined by '-'; key: "
                    "letters, digits, '-', '_'): write e.g. <id/ecosystem/my-city> (a relative "
                    "IRI resolves against the base), or an IRI of your own with @base",
                )  # fmt: skip
            elif text.startswith("file:"):
                refuse(
                    subject, text,
                    "this IRI names a file on one computer: write an http(s) IRI, or a relative "
                    "IRI such as <id/ecosystem/my-city> to name a thing of this instance",
                )  # fmt: skip
