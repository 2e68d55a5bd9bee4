"""The model (issue #3): ontology, concept schemes and shapes are complete, consistent and standard."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS
from terms import declared_terms, is_declared

import ontology
import shapes

ROOT = Path(__file__).resolve().parents[1]
CG = "https://w3id.org/creative-graph/ns#"
CONCEPT = "https://w3id.org/creative-graph/concept/"
LANGUAGES = {"en", "fr", "nl"}
MODEL_FILES = [
    *ontology.files(),
    *shapes.files(),
    ROOT / "ontology" / "examples" / "brussels-creative.ttl",
]
EXAMPLE = ROOT / "ontology" / "examples" / "brussels-creative.ttl"


def test_shapes_pass_meta_shacl() -> None:
    conforms, _, text = pyshacl.validate(
        Graph(), shacl_graph=shapes.graph(), meta_shacl=True, advanced=True
    )
    assert conforms, text


def test_ontology_header_has_version_licence_and_prefix() -> None:
    graph = Graph().parse(ontology.ONTOLOGY_FILE)
    header = URIRef(ontology.ONTOLOGY_IRI)
    assert (header, RDF.type, OWL.Ontology) in graph
    version = str(graph.value(header, OWL.versionInfo))
    assert str(graph.value(header, OWL.versionIRI)) == f"{ontology.ONTOLOGY_IRI}/{version}"
    assert version.count(".") == 2 and all(part.isdigit() for part in version.split("."))
    assert (
        str(graph.value(header, URIRef("http://purl.org/dc/terms/license")))
        == "https://creativecommons.org/licenses/by/4.0/"
    )
    assert (
        str(graph.value(header, URIRef("http://purl.org/vocab/vann/preferredNamespacePrefix")))
        == "cg"
    )


def _languages(graph: Graph, subject: URIRef, predicate: URIRef) -> list[str]:
    return sorted(
        o.language or "" for o in graph.objects(subject, predicate) if isinstance(o, Literal)
    )


def own_terms(graph: Graph) -> list[URIRef]:
    return sorted(
        s
        for s in set(graph.subjects(RDF.type, None))
        if isinstance(s, URIRef) and str(s).startswith(CG)
    )


def test_every_own_term_has_labels_and_definitions_in_en_fr_nl() -> None:
    graph = Graph().parse(ontology.ONTOLOGY_FILE)
    terms = own_terms(graph)
    assert len(terms) >= 15
    for term in terms:
        assert _languages(graph, term, RDFS.label) == ["en", "fr", "nl"], term
        assert _languages(graph, term, SKOS.definition) == ["en", "fr", "nl"], term
        assert (term, RDFS.isDefinedBy, URIRef(ontology.ONTOLOGY_IRI)) in graph, term


def test_own_terms_are_aligned_to_what_they_specialise() -> None:
    graph = Graph().parse(ontology.ONTOLOGY_FILE)
    for cls in graph.subjects(RDF.type, OWL.Class):
        assert graph.value(cls, RDFS.subClassOf) is not None, cls
    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        if prop != URIRef(CG + "operationalStatus"):
            assert graph.value(prop, RDFS.subPropertyOf) is not None, prop


SCHEMES = {
    "actor-type": {"hub", "cluster", "network", "fablab", "makerspace", "hackerspace", "coworking-space", "incubator",
                   "accelerator", "living-lab", "studio", "cultural-centre", "museum", "theatre", "school", "festival",
                   "association", "company", "freelancer"},
    "service-type": {"workspace", "prototyping-equipment", "training", "mentoring-coaching", "funding", "investment",
                     "events", "residencies", "exhibition-space", "networking", "legal-business-advice"},
    "target-group": {"startups", "scale-ups", "smes", "freelancers", "artists", "makers", "students", "researchers",
                     "young-people", "citizens", "corporates", "public-bodies", "ngos"},
    "sector": {"heritage", "archives", "libraries", "books-press", "visual-arts", "performing-arts",
               "audiovisual-multimedia", "architecture", "advertising", "art-crafts", "design", "software-games"},
    "relationship-kind": {"membership", "partnership", "hosting", "funding", "investment", "incubation", "acceleration",
                          "founding", "spin-off", "subsidiary", "employment"},
    "operational-status": {"active", "temporarily-closed", "dormant", "ceased"},
    "claim-status": {"unclaimed", "pending", "verified", "disputed", "withdrawn"},
    "space-type": set(),
    "membership-role": set(),
    "identifier-scheme": {"be-kbo"},
}  # fmt: skip


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_scheme_has_the_required_concepts_each_fully_labelled(scheme: str) -> None:
    graph = ontology.graph()
    iri = URIRef(CONCEPT + scheme)
    assert (iri, RDF.type, SKOS.ConceptScheme) in graph
    assert _languages(graph, iri, SKOS.prefLabel) == ["en", "fr", "nl"]
    concepts = set(graph.subjects(SKOS.inScheme, iri))
    codes = {str(c).removeprefix(f"{CONCEPT}{scheme}/") for c in concepts}
    assert SCHEMES[scheme] <= codes, SCHEMES[scheme] - codes
    for concept in concepts:
        assert (concept, RDF.type, SKOS.Concept) in graph or (
            concept,
            RDF.type,
            URIRef("http://www.w3.org/ns/org#Role"),
        ) in graph
        assert _languages(graph, concept, SKOS.prefLabel) == ["en", "fr", "nl"], concept
        assert _languages(graph, concept, SKOS.definition) == ["en", "fr", "nl"], concept
        assert (iri, SKOS.hasTopConcept, concept) in graph and (
            concept,
            SKOS.topConceptOf,
            iri,
        ) in graph


def test_every_relationship_kind_reads_both_ways_and_names_its_property() -> None:
    graph = ontology.graph() + Graph().parse(ontology.ONTOLOGY_FILE)
    declared = ontology.reused_vocabularies() + graph
    kinds = list(graph.subjects(SKOS.inScheme, URIRef(CONCEPT + "relationship-kind")))
    assert kinds
    for kind in kinds:
        assert _languages(graph, kind, URIRef(CG + "inverseLabel")) == ["en", "fr", "nl"], kind
        (prop,) = graph.objects(kind, URIRef(CG + "relationProperty"))
        assert any(True for _ in declared.triples((prop, RDF.type, None))), (
            f"{prop} is not declared"
        )


def test_sectors_map_to_nace() -> None:
    graph = ontology.graph()
    for sector in graph.subjects(SKOS.inScheme, URIRef(CONCEPT + "sector")):
        targets = [
            str(o) for p in (SKOS.narrowMatch, SKOS.relatedMatch) for o in graph.objects(sector, p)
        ]
        assert any("nace" in t for t in targets), sector


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_model_file_round_trips_through_pyoxigraph(path: Path) -> None:
    original = Graph().parse(path, format="turtle")
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    back = Graph().parse(
        data=store.dump(format=ox.RdfFormat.N_QUADS, from_graph=ox.DefaultGraph()), format="nt"
    )
    assert isomorphic(original, back)


def test_worked_example_conforms_without_any_result() -> None:
    from creative_graph.validation import Validator

    report = Validator.default().validate(Graph().parse(EXAMPLE))
    assert report.conforms, report.violations
    assert report.results == (), report.results


def test_worked_example_uses_every_own_class_property_and_relationship_kind() -> None:
    example = Graph().parse(EXAMPLE)
    model = Graph().parse(ontology.ONTOLOGY_FILE)
    used = set(example.predicates()) | set(example.objects(None, RDF.type))
    annotations = set(model.subjects(RDF.type, OWL.AnnotationProperty))
    for term in own_terms(model):
        if term not in annotations:
            assert term in used, f"{term} is not used in the worked example"
    for kind in ontology.graph().subjects(SKOS.inScheme, URIRef(CONCEPT + "relationship-kind")):
        prop = ontology.graph().value(kind, URIRef(CG + "relationProperty"))
        assert prop in used, f"relationship kind {kind} ({prop}) is not in the worked example"


def _vocabulary_terms(graph: Graph) -> set[URIRef]:
    terms = set(graph.predicates()) | {
        o for o in graph.objects(None, RDF.type) if isinstance(o, URIRef)
    }
    for predicate in (SH.path, SH.targetClass, SH["class"], SH.datatype):
        terms |= {o for o in graph.objects(None, predicate) if isinstance(o, URIRef)}
    return {
        t
        for t in terms
        if not str(t).startswith(
            ("https://example.org/", "https://w3id.org/creative-graph/shapes#")
        )
    }


@pytest.mark.parametrize(
    "path",
    [*shapes.files(), ROOT / "ontology" / "examples" / "brussels-creative.ttl"],
    ids=lambda p: p.name,
)
def test_every_term_used_is_declared(path: Path) -> None:
    declared = declared_terms()
    undeclared = [
        str(term)
        for term in _vocabulary_terms(Graph().parse(path))
        if not is_declared(term, declared)
    ]
    assert undeclared == []
