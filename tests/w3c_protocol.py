"""Reads the W3C SPARQL 1.1 Protocol and Graph Store Protocol test manifests and judges
responses the way they say.

The manifests (`tests/conformance/w3c/`, copied from w3c/rdf-tests with their provenance)
describe each test as HTTP requests (HTTP Vocabulary in RDF) with the expected status, result
format, ASK answer, response headers, response graph (compared by isomorphism) and `Location`
of each response, the named graphs to load first (`ut:graphData`) and the features a test
needs (`mf:requires`). Nothing here knows our server; the e2e tests send the requests to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

ROOT = Path(__file__).parent / "conformance" / "w3c"
PROTOCOL_MANIFEST = ROOT / "sparql11-protocol" / "manifest.ttl"
GRAPH_STORE_MANIFESTS = tuple(
    ROOT / "graph-store-protocol" / "graph-store-protocol" / f"manifest-{kind}.ttl"
    for kind in ("indirect", "direct")
)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")

# http-statusCodes terms the manifests use: a class of codes or one exact code
STATUS_RANGES = {
    HTS.StatusCode2xx: range(200, 300),
    HTS.StatusCode3xx: range(300, 400),
    HTS.StatusCode4xx: range(400, 500),
    HTS.StatusCode5xx: range(500, 600),
    HTS.OK: range(200, 201),
    HTS.Created: range(201, 202),
    HTS.NoContent: range(204, 205),
    HTS.NotFound: range(404, 405),
}
# mf:expectedFormat -> the media types that satisfy it (the test names list the syntaxes)
FORMATS = {
    "boolean": {"application/sparql-results+xml", "application/sparql-results+json"},
    "tabular": {
        "application/sparql-results+xml",
        "application/sparql-results+json",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "text/html"},
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as in the manifest, starting with /sparql/
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    @property
    def is_update(self) -> bool:
        """An update operation: `update=` in the query string or form, or a SPARQL Update body."""
        text = self.path + "&" + (self.body or b"").decode("utf-8", "replace")
        content_type = dict(self.headers).get("content-type", "")
        return bool(re.search(r"[?&]update=", text)) or "sparql-update" in content_type


@dataclass(frozen=True)
class Expected:
    statuses: tuple[range, ...]
    format: str | None
    boolean: bool | None
    headers: tuple[tuple[str, str], ...] = ()  # compared by media type for content-type
    graph: str | None = None  # Turtle the response body must be isomorphic to
    location: bool = False  # a Location header is expected (mf:expectedLocation)

    def problems(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> list[str]:
        """What is wrong with a response, in words; empty when it passes."""
        found = []
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if not any(status in accepted for accepted in self.statuses):
            wanted = ", ".join(f"{r.start}-{r.stop - 1}" for r in self.statuses)
            found.append(f"status {status}, expected {wanted}")
        media_type = content_type.split(";")[0].strip().lower()
        for name, value in self.headers:
            given = headers.get(name, "")
            if name == "content-type":
                same = given.split(";")[0].strip().lower() == value.split(";")[0].strip().lower()
            else:
                same = given == value
            if not same:
                found.append(f"header {name}: {given!r}, expected {value!r}")
        if self.location and not headers.get("location"):
            found.append("no Location header")
        if self.graph is not None:
            found += _graph_problems(self.graph, media_type, body)
        if self.format and media_type not in FORMATS[self.format]:
            found.append(f"Content-Type {content_type!r} is not a {self.format} format")
        if self.boolean is not None:
            answer = ask_answer(media_type, body)
            if answer is not self.boolean:
                found.append(f"ASK answered {answer}, expected {self.boolean}")
        return found


@dataclass(frozen=True)
class ProtocolTest:
    id: str  # the local name in the manifest, e.g. query_post_form
    name: str
    approved: bool
    graph_data: tuple[tuple[str, Path], ...]  # (graph IRI, N-Triples file) to load first
    steps: tuple[tuple[Request, Expected], ...]
    requires: tuple[str, ...] = ()  # mf:requires, local names (IndirectGraphIdentification)

    @property
    def is_update(self) -> bool:
        return any(request.is_update for request, _ in self.steps)


def ask_answer(media_type: str, body: bytes) -> bool | None:
    """The boolean of a SPARQL XML or JSON ASK result; None if the body is not one."""
    try:
        if media_type == "application/sparql-results+json":
            value = json.loads(body).get("boolean")
            return value if isinstance(value, bool) else None
        if media_type == "application/sparql-results+xml":
            ns = "{http://www.w3.org/2005/sparql-results#}"
            element = ElementTree.fromstring(body).find(f"{ns}boolean")
            return None if element is None else element.text == "true"
    except (ValueError, ElementTree.ParseError):
        return None
    return None


RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


def _graph_problems(expected: str, media_type: str, body: bytes) -> list[str]:
    if media_type not in RDF_SYNTAXES:
        return [f"the body is {media_type or 'untyped'}, not an RDF graph"]
    try:
        given = Graph().parse(data=body, format=RDF_SYNTAXES[media_type])
    except Exception as error:  # any parser's error is the server's fault here
        return [f"the body does not parse as {media_type}: {error}"]
    wanted = Graph().parse(data=expected, format="turtle")
    if not isomorphic(given, wanted):
        return [
            f"the graph returned ({len(given)} triples) is not the one expected ({len(wanted)})"
        ]
    return []


def _list(graph: Graph, node: object) -> list:
    return list(Collection(graph, node)) if node is not None else []


def _file(iri: object) -> Path:
    """A file: IRI (relative names in the manifest resolve against its location) as a path."""
    return Path(unquote(urlparse(str(iri)).path))


def _body(graph: Graph, node: object) -> bytes | None:
    if node is None:
        return None
    text = str(graph.value(node, CNT.chars))
    encoding = str(graph.value(node, CNT.characterEncoding) or "UTF-8")
    # UTF-16 as a server would receive it from a client: with its byte-order mark
    return text.encode("utf-16" if encoding.upper() == "UTF-16" else encoding)


def load_graph_store() -> list[ProtocolTest]:
    return [test for manifest in GRAPH_STORE_MANIFESTS for test in load(manifest)]


def load(manifest: Path = PROTOCOL_MANIFEST) -> list[ProtocolTest]:
    graph = Graph().parse(manifest, format="turtle")
    (root,) = graph.subjects(RDF.type, MF.Manifest)
    tests = []
    for entry in _list(graph, graph.value(root, MF.entries)):
        action = graph.value(entry, MF.action)
        steps = []
        for request in _list(graph, graph.value(action, HT.requests)):
            headers = tuple(
                (str(graph.value(h, HT.fieldName)).lower(), str(graph.value(h, HT.fieldValue)))
                for h in _list(graph, graph.value(request, HT.headers))
            )
            response = graph.value(request, HT.resp)
            response_headers = tuple(
                (str(graph.value(h, HT.fieldName)).lower(), str(graph.value(h, HT.fieldValue)))
                for h in _list(graph, graph.value(response, HT.headers))
            )
            response_body = graph.value(response, HT.body)
            expected_format = graph.value(response, MF.expectedFormat)
            expected_boolean = graph.value(response, MF.expectedBoolean)
            statuses = tuple(
                STATUS_RANGES[URIRef(s)] for s in graph.objects(response, MF.expectedStatus)
            )
            steps.append(
                (
                    Request(
                        str(graph.value(request, HT.methodName)),
                        str(graph.value(request, HT.absolutePath)),
                        headers,
                        _body(graph, graph.value(request, HT.body)),
                    ),
                    Expected(
                        statuses,
                        str(expected_format) if expected_format is not None else None,
                        expected_boolean.toPython() if expected_boolean is not None else None,
                        response_headers,
                        str(graph.value(response_body, CNT.chars))
                        if response_body is not None
                        else None,
                        graph.value(response, MF.expectedLocation) is not None,
                    ),
                )
            )
        graph_data = tuple(
            sorted(
                (str(graph.value(d, RDFS.label)), _file(graph.value(d, UT.graph)))
                for d in graph.objects(entry, UT.graphData)
            )
        )
        tests.append(
            ProtocolTest(
                id=str(entry).rsplit("#", 1)[1],
                name=str(graph.value(entry, MF.name)),
                approved=(entry, DAWGT.approval, DAWGT.Approved) in graph,
                graph_data=graph_data,
                steps=tuple(steps),
                requires=tuple(
                    sorted(str(r).rsplit("#", 1)[1] for r in graph.objects(entry, MF.requires))
                ),
            )
        )
    return tests
