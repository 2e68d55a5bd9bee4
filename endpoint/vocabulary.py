"""The published model: ontology at /ns, concepts at /concept/..., shapes at /shapes.

Each resolves at the path of its IRI (https://w3id.org/creative-graph/ns, .../concept/sector/design,
...) with HTML for people and Turtle, JSON-LD, RDF/XML or N-Triples for machines, chosen by
`Accept` or by a suffix (`/ns.ttl`). Content comes from the ontology and shapes files of the
running version, loaded once per application.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, SH, SKOS

import ontology
import shapes
from creative_graph.namespaces import CONCEPT
from endpoint.representations import (
    BY_MEDIA_TYPE,
    HTML,
    RdfFormat,
    alternates,
    json_for_html,
    not_acceptable,
    preferred,
    rdf_response,
    split_suffix,
)

log = logging.getLogger(__name__)
LANGUAGES = ("en", "fr", "nl")


@dataclass
class Model:
    """The ontology, concept schemes and shapes of this version, parsed once."""

    @cached_property
    def ontology(self) -> Graph:
        return Graph().parse(ontology.ONTOLOGY_FILE, format="turtle")

    @cached_property
    def concepts(self) -> Graph:
        return ontology.graph()

    @cached_property
    def shapes(self) -> Graph:
        return shapes.graph()

    @cached_property
    def ontology_html(self) -> str:
        from pylode import OntPub  # heavy import, only when someone asks for the HTML

        # pyLODE shows one label per term; give it the English view (RDF keeps en, fr and nl).
        english = Graph()
        for prefix, namespace in self.ontology.namespaces():
            english.bind(prefix, namespace)
        for s, p, o in self.ontology:
            if not isinstance(o, Literal) or o.language in (None, "en"):
                english.add((s, p, o))
        return OntPub(english).make_html()

    def scheme(self, name: str) -> Graph | None:
        scheme = URIRef(f"{CONCEPT}{name}")
        if (scheme, RDF.type, SKOS.ConceptScheme) not in self.concepts:
            return None
        graph = _bound_like(self.concepts)
        graph += self.concepts.triples((scheme, None, None))
        for concept in self.concepts.subjects(SKOS.inScheme, scheme):
            graph += self.concepts.triples((concept, None, None))
        return graph

    def concept(self, name: str, code: str) -> Graph | None:
        concept = URIRef(f"{CONCEPT}{name}/{code}")
        if (concept, SKOS.inScheme, URIRef(f"{CONCEPT}{name}")) not in self.concepts:
            return None
        graph = _bound_like(self.concepts)
        graph += self.concepts.triples((concept, None, None))
        return graph


def _bound_like(source: Graph) -> Graph:
    graph = Graph()
    for prefix, namespace in source.namespaces():
        graph.bind(prefix, namespace)
    return graph


def _by_language(graph: Graph, subject: URIRef, predicate: URIRef) -> dict[str, str]:
    return {
        o.language or "": str(o)
        for o in graph.objects(subject, predicate)
        if isinstance(o, Literal)
    }


def _concept_view(graph: Graph, concept: URIRef) -> dict[str, object]:
    mappings = []
    for predicate in (
        SKOS.exactMatch,
        SKOS.closeMatch,
        SKOS.broadMatch,
        SKOS.narrowMatch,
        SKOS.relatedMatch,
    ):
        for target in sorted(graph.objects(concept, predicate)):
            mappings.append((graph.namespace_manager.normalizeUri(predicate), str(target)))
    return {
        "iri": str(concept),
        "path": str(concept).removeprefix("https://w3id.org/creative-graph"),
        "notation": str(graph.value(concept, SKOS.notation) or ""),
        "labels": _by_language(graph, concept, SKOS.prefLabel),
        "definitions": _by_language(graph, concept, SKOS.definition),
        "alt_labels": sorted(str(o) for o in graph.objects(concept, SKOS.altLabel)),
        "mappings": mappings,
    }


def _shape_rows(graph: Graph) -> list[dict[str, str]]:
    rows = []
    for node_shape in sorted(graph.subjects(RDF.type, SH.NodeShape)):
        target = graph.value(node_shape, SH.targetClass)
        if target is None:
            continue
        for prop in graph.objects(node_shape, SH.property):
            path = graph.value(prop, SH.path)
            rows.append(
                {
                    "target": graph.namespace_manager.normalizeUri(target),
                    "shape": graph.namespace_manager.normalizeUri(prop)
                    if isinstance(prop, URIRef)
                    else "",
                    "path": graph.namespace_manager.normalizeUri(path)
                    if isinstance(path, URIRef)
                    else "(path)",
                    "severity": str(graph.value(prop, SH.severity) or SH.Violation).rsplit("#", 1)[
                        -1
                    ],
                    "message": str(graph.value(prop, SH.message) or ""),
                }
            )
    return rows


def router(templates: Jinja2Templates) -> APIRouter:
    api = APIRouter()
    model = Model()

    def answer(
        request: Request,
        path: str,
        graph: Graph,
        html: Callable[[], Response],
        forced: RdfFormat | None = None,
    ) -> Response:
        media_type = forced.media_type if forced else preferred(request)
        headers = {"Vary": "Accept", "Link": alternates(path)}
        if media_type == HTML:
            response = html()
            response.headers.update(headers)
            return response
        if media_type not in BY_MEDIA_TYPE:
            return not_acceptable()
        return rdf_response(graph, BY_MEDIA_TYPE[media_type], headers)

    @api.get("/ns", response_class=Response)
    @api.get("/ns{suffix:path}", response_class=Response, include_in_schema=False)
    def ontology_document(request: Request, suffix: str = "") -> Response:
        """The ontology: HTML documentation (pyLODE) or RDF."""
        rest, forced = split_suffix("ns" + suffix)
        if rest != "ns" and not rest.startswith("ns/"):
            return PlainTextResponse("Not found\n", status_code=404)
        version = rest.removeprefix("ns").removeprefix("/")
        current = str(model.ontology.value(URIRef(ontology.ONTOLOGY_IRI), OWL.versionInfo))
        if version and version != current:
            return PlainTextResponse(
                f"Version {version} is not served here; the current version is {current}.\n",
                status_code=404,
            )
        return answer(
            request, "/ns", model.ontology, lambda: HTMLResponse(model.ontology_html), forced
        )

    @api.get("/concept", response_class=Response)
    def schemes(request: Request) -> Response:
        """All concept schemes."""
        listing = []
        for scheme in sorted(model.concepts.subjects(RDF.type, SKOS.ConceptScheme)):
            listing.append(
                {
                    **_concept_view(model.concepts, scheme),
                    "size": len(set(model.concepts.subjects(SKOS.inScheme, scheme))),
                }
            )
        graph = _bound_like(model.concepts)
        for scheme in model.concepts.subjects(RDF.type, SKOS.ConceptScheme):
            graph += model.concepts.triples((scheme, None, None))
        return answer(
            request,
            "/concept",
            graph,
            lambda: templates.TemplateResponse(request, "schemes.html", {"schemes": listing}),
        )

    @api.get("/concept/{name}", response_class=Response)
    def scheme(request: Request, name: str) -> Response:
        """One concept scheme with its concepts."""
        name, forced = split_suffix(name)
        graph = model.scheme(name)
        if graph is None:
            return PlainTextResponse(f"No concept scheme named {name!r}.\n", status_code=404)
        iri = URIRef(f"{CONCEPT}{name}")
        concepts = sorted(
            (_concept_view(graph, c) for c in graph.subjects(SKOS.inScheme, iri)),
            key=lambda view: view["labels"].get("en", view["iri"]),  # type: ignore[union-attr]
        )
        context = {
            "scheme": _concept_view(graph, iri),
            "concepts": concepts,
            "languages": LANGUAGES,
        }
        return answer(
            request,
            f"/concept/{name}",
            graph,
            lambda: templates.TemplateResponse(request, "scheme.html", context),
            forced,
        )

    @api.get("/concept/{name}/{code}", response_class=Response)
    def concept(request: Request, name: str, code: str) -> Response:
        """One concept."""
        code, forced = split_suffix(code)
        graph = model.concept(name, code)
        if graph is None:
            return PlainTextResponse(f"No concept {code!r} in scheme {name!r}.\n", status_code=404)
        view = _concept_view(graph, URIRef(f"{CONCEPT}{name}/{code}"))
        scheme_view = _concept_view(model.concepts, URIRef(f"{CONCEPT}{name}"))
        defined_term = {
            "@context": "https://schema.org",
            "@type": "DefinedTerm",
            "@id": view["iri"],
            "termCode": code,
            "name": [{"@value": v, "@language": k} for k, v in sorted(view["labels"].items())],  # type: ignore[union-attr]
            "description": [
                {"@value": v, "@language": k}
                for k, v in sorted(view["definitions"].items())  # type: ignore[union-attr]
            ],
            "inDefinedTermSet": scheme_view["iri"],
        }
        context = {
            "concept": view, "scheme": scheme_view, "languages": LANGUAGES,
            "json_ld": json_for_html(defined_term),
        }  # fmt: skip
        return answer(
            request,
            f"/concept/{name}/{code}",
            graph,
            lambda: templates.TemplateResponse(request, "concept.html", context),
            forced,
        )

    @api.get("/shapes", response_class=Response)
    @api.get("/shapes{suffix}", response_class=Response, include_in_schema=False)
    def shapes_document(request: Request, suffix: str = "") -> Response:
        """The SHACL shapes every published resource must conform to."""
        rest, forced = split_suffix("shapes" + suffix)
        if rest != "shapes":
            return PlainTextResponse("Not found\n", status_code=404)
        rows = _shape_rows(model.shapes)
        return answer(
            request,
            "/shapes",
            model.shapes,
            lambda: templates.TemplateResponse(request, "shapes.html", {"rows": rows}),
            forced,
        )

    return api
