"""The SPARQL 1.1 Protocol endpoint at /sparql: query by GET, POST form and POST direct.

Updates (POST form `update=` or POST `application/sparql-update`) go to
`endpoint.sparql_update`, for the holder of the write token only.

The result format is negotiated from `Accept` (or forced with `format=`) once the query kind
is known: SELECT/ASK in SPARQL JSON, XML, CSV or TSV; CONSTRUCT/DESCRIBE in Turtle,
N-Triples, JSON-LD, RDF/XML, N-Quads or TriG (the triples in the default graph). A query's
`FROM` / `FROM NAMED` give its dataset, and `default-graph-uri` / `named-graph-uri` replace
it; with neither, the default graph is the union of all named graphs. Queries run in worker
processes that also serialise the results (`endpoint.workers`), behind a result cache
(`endpoint.result_cache`) that keeps no answer that may vary (`endpoint.sparql_text.varies`).

`GET /sparql` without a query answers the Service Description or, to a browser, the query
page, by `Accept` with its q-values.

`QueryAnswers` answers query requests without the framework's objects, so that the route and
the fast path in front of the framework (`endpoint.sparql_fast`) give the same answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates

from creative_graph.namespaces import sparql_prefixes
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, ResultTooLarge, StoreError, StoreReader
from endpoint import service_description, sparql_update
from endpoint.caching import fresh, validators
from endpoint.federation import refused_services
from endpoint.named_queries import load_queries
from endpoint.negotiation import choose
from endpoint.representations import json_for_html
from endpoint.result_cache import CachedPool
from endpoint.sparql_text import varies
from endpoint.workers import QueryTimeout, ServerBusy, WorkerFailed
from endpoint.write_worker import WriteWorker

log = logging.getLogger(__name__)

SOLUTION_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
# Short names for the `format` parameter, for links typed in a browser.
FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "nquads": "application/n-quads",
    "nq": "application/n-quads",
    "trig": "application/trig",
}
SOLUTION_TYPES = list(SOLUTION_FORMATS)
GRAPH_TYPES = list(GRAPH_FORMATS)
SD_FORMATS = service_description.MEDIA_TYPES  # the service description's own types
PAGE_TYPE = "text/html"
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

# DISTINCT: pyoxigraph 0.5's union default graph repeats a triple held by several graphs
EXAMPLE_QUERY = """SELECT ?type (COUNT(DISTINCT ?actor) AS ?actors) WHERE {
  ?actor a org:Organization ; org:classification ?concept .
  ?concept skos:prefLabel ?type .
  FILTER (LANG(?type) = "en")
}
GROUP BY ?type
ORDER BY DESC(?actors)"""


class ProtocolError(Exception):
    """A request the SPARQL protocol rejects, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def single_parameter(params: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise ProtocolError(
            400, f"the '{name}' parameter must be given once, not {len(values)} times"
        )
    return values[0] if values else None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes (before reading it when declared)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"request body over the limit of {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ProtocolError(413, f"request body over the limit of {limit} bytes")
    return body


async def _protocol_parameters(request: Request, limit: int) -> list[tuple[str, str]]:
    """All protocol parameters of a request: the URL's, plus a form body's or a direct query."""
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        check_charset(content_type)
        body = await read_body(request, limit)
    else:
        body = b""
    return parameters(request.method, request.url.query, content_type, body)


def check_charset(content_type: str) -> None:
    """Refuse (415) a body in another charset than UTF-8, before reading it."""
    charset = _charset(content_type.partition(";")[2])
    if charset not in (None, "utf-8", "utf8"):
        raise ProtocolError(415, f"send the request body in UTF-8, not {charset}")


def parameters(
    method: str, query_string: str, content_type: str, body: bytes
) -> list[tuple[str, str]]:
    """The protocol parameters of a request whose body (`check_charset`-ed) has been read."""
    params = list(_decoded(query_string))
    if method != "POST":
        return params
    content_type = content_type.partition(";")[0].strip().lower()
    if content_type == FORM_TYPE:
        try:
            return params + list(_decoded(body.decode("utf-8")))
        except UnicodeDecodeError as error:
            raise ProtocolError(400, "the form body is not UTF-8") from error
    direct = {QUERY_TYPE: "query", UPDATE_TYPE: "update"}.get(content_type)
    if direct is not None:
        if any(key in ("query", "update") for key, _ in params):
            raise ProtocolError(
                400, f"a direct POST carries the {direct} in its body, not in the URL"
            )
        try:
            return [*params, (direct, body.decode("utf-8"))]
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the {direct} body is not UTF-8") from error
    raise ProtocolError(
        415,
        f"POST a query as {FORM_TYPE} (query=...) or as {QUERY_TYPE}, an update as "
        f"{FORM_TYPE} (update=...) or as {UPDATE_TYPE}; not {content_type or 'no type'}",
    )


def _decoded(form: str) -> tuple[tuple[str, str], ...]:
    """`name=value&...` decoded; a small form seen lately is decoded once."""
    return _decoded_small(form) if len(form) <= 8192 else _parse_form(form)


# percent-decoding a query costs more (in Python) than answering it from the result cache;
# 256 forms of at most 8 KiB keep the memo to a few MB
@lru_cache(maxsize=256)
def _decoded_small(form: str) -> tuple[tuple[str, str], ...]:
    return _parse_form(form)


def _parse_form(form: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(form, keep_blank_values=True))


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _formats(
    headers: Mapping[str, str], params: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    """Best media type for solutions and for graphs, from `format=` or else `Accept`."""
    forced = single_parameter(params, "format")
    if forced is not None:
        media_type = FORMAT_NAMES.get(forced.lower(), forced.lower())
        if media_type not in SOLUTION_FORMATS and media_type not in GRAPH_FORMATS:
            raise ProtocolError(
                400, f"unknown format {forced!r}; use one of {', '.join(FORMAT_NAMES)}"
            )
        return (
            media_type if media_type in SOLUTION_FORMATS else None,
            media_type if media_type in GRAPH_FORMATS else None,
        )
    return _negotiated(headers.get("accept"))


@lru_cache(maxsize=256)  # clients send the same few Accept headers again and again
def _negotiated(accept: str | None) -> tuple[str | None, str | None]:
    return choose(accept, SOLUTION_TYPES), choose(accept, GRAPH_TYPES)


def with_charset(media_type: str) -> str:
    textual = media_type.startswith("text/") or media_type.endswith(
        ("+json", "+xml", "/json", "/xml")
    )
    return f"{media_type}; charset=utf-8" if textual else media_type


@dataclass(frozen=True)
class Reply:
    """An answer without the framework: the route makes a Response of it, the fast path sends
    it as it is."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


def text_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """What a PlainTextResponse of `message` sends."""
    return Reply(
        status, {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}, message.encode()
    )


def response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=reply.headers)


class QueryAnswers:
    """Answers SPARQL query requests (not updates, not the page): the one implementation of
    the route and of the fast path.

    A repeated query is answered from the result cache; a miss waits for a worker. Both on the
    event loop: no thread hand-off.
    """

    def __init__(self, reader: StoreReader, pool: CachedPool, settings: Settings) -> None:
        self.reader = reader
        self.pool = pool
        self.settings = settings
        self.allowlist = frozenset(settings.service_allowlist)
        self.base_iri = settings.base_iri + "sparql"

    async def answer(
        self, method: str, query: str, params: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> Reply:
        """The reply to `query`; `headers` are the request's, looked up by lower-case name."""
        try:
            return await self._answer(method, query, params, headers)
        except ProtocolError as error:
            return text_reply(error.status, error.message + "\n")
        except (QueryTimeout, ServerBusy) as error:
            return text_reply(503, f"{error}\n", {"Retry-After": "5"})
        except ResultTooLarge as error:
            return text_reply(
                403,
                f"Refused: {error}; ask for fewer rows (LIMIT, OFFSET) or fewer variables\n",
            )
        except WorkerFailed as error:
            return text_reply(500, f"{error}\n")
        except SyntaxError as error:
            return text_reply(400, f"Malformed query: {error}\n")
        except ValueError as error:  # a value the query cannot use: a graph that is no IRI
            return text_reply(400, f"Cannot run this query: {error}\n")
        except (StoreError, OSError) as error:  # what the app's handler answers elsewhere
            log.error("store error on /sparql: %s", error)
            return text_reply(503, f"The store is unavailable: {error}\n")

    async def _answer(
        self, method: str, query: str, params: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> Reply:
        try:
            solutions_type, graph_type = _formats(headers, params)
        except ProtocolError as error:
            self._check_services(query)  # refusing SERVICE comes first
            raise error
        request = {
            "query": query,
            "results": SOLUTION_FORMATS[solutions_type].media_type if solutions_type else None,
            "graph": GRAPH_FORMATS[graph_type].media_type if graph_type else None,
            "default_graphs": [v for k, v in params if k == "default-graph-uri"],
            "named_graphs": [v for k, v in params if k == "named-graph-uri"],
            # relative IRIs in a query resolve against the endpoint (SPARQL 1.1 Protocol 2.1.4)
            "base_iri": self.base_iri,
            "max_result_bytes": self.settings.max_result_bytes,
            "max_result_rows": self.settings.max_result_rows,
        }
        key = self.pool.key(request)  # None for an answer that may vary: never kept
        output: QueryOutput | str | None = self.pool.lookup(key)
        if output is None:
            # a cached answer passed this check when it was computed (same text, same list)
            self._check_services(query)
            output = await self.pool.acompute(key, request)
        if not isinstance(output, QueryOutput):
            offered = SOLUTION_FORMATS if output != "graph" else GRAPH_FORMATS
            return text_reply(
                406,
                f"Cannot answer a {output} result in any type you accept; available: "
                f"{', '.join(offered)}\n",
            )
        media_type = solutions_type if output.kind != "graph" else graph_type
        assert media_type is not None
        reply_headers = {
            "Content-Type": with_charset(media_type),
            "Vary": "Accept",
            "X-Cache": "hit" if output.cached else "miss",
        }
        if method in ("GET", "HEAD"):
            if varies(query):  # RAND(), NOW(), a SERVICE call...: the next answer may differ
                reply_headers["Cache-Control"] = "no-store"
                return Reply(200, reply_headers, output.body)
            # only once the query has answered: a request that would not get 200 without its
            # conditions (a malformed query, 406, 503) gets that, never 304 (RFC 9110 §13.2.1)
            validated = validators(output.snapshot, media_type, _variant(request))
            unchanged = fresh(headers, validated | {"Vary": "Accept"})
            if unchanged is not None:
                return Reply(304, unchanged)
            reply_headers |= validated
        return Reply(200, reply_headers, output.body)

    def _check_services(self, query: str) -> None:
        refused = refused_services(query, self.allowlist)
        if refused:
            raise ProtocolError(
                403,
                "federated queries are only allowed to the operator's allow-list; "
                f"refused SERVICE {', '.join(refused)}",
            )


def _variant(request: dict[str, Any]) -> str:
    """The protocol's dataset in an ETag: a query's answers on two datasets never share a
    validator ("" without one; the query's text, FROM included, is in the URL)."""
    graphs = request["default_graphs"], request["named_graphs"]
    if not any(graphs):
        return ""
    return hashlib.blake2b(json.dumps(graphs).encode(), digest_size=8).hexdigest()


def router(
    reader: StoreReader,
    answers: QueryAnswers,
    templates: Jinja2Templates,
    settings: Settings,
    writes: WriteWorker | None = None,
) -> APIRouter:
    api = APIRouter()

    def description(request: Request, rdf_type: str) -> Response:
        """The Service Description, for clients that GET the endpoint without a query."""
        names = [row["g"] for row in reader.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")]
        graph = service_description.describe(
            str(request.url.replace(query="")), names, updates=writes is not None
        )
        body = service_description.serialized(graph, rdf_type)
        return Response(body, media_type=with_charset(rdf_type), headers={"Vary": "Accept"})

    examples = [
        {"name": q.name, "summary": q.summary, "description": q.description, "query": q.text}
        for q in load_queries()
    ]

    def query_page(request: Request) -> Response:
        """YASGUI (when npm installed it) or a plain form, with the example queries."""
        endpoint = str(request.url.replace(query=""))
        initial = f"{sparql_prefixes()}\n{EXAMPLE_QUERY}"
        config = {"endpoint": endpoint, "initial": initial, "examples": examples}
        return templates.TemplateResponse(
            request,
            "sparql.html",
            {
                "initial": initial,
                "endpoint": endpoint,
                "examples": examples,
                "config": json_for_html(config),
            },
            headers={"Vary": "Accept"},
        )

    async def answer(request: Request) -> Response:
        try:
            params = await _protocol_parameters(request, settings.max_body_bytes)
            query = single_parameter(params, "query")
            update = single_parameter(params, "update")
            if query is not None and update is not None:
                raise ProtocolError(400, "send a query or an update, not both")
            if update is not None:
                if request.method != "POST":
                    raise ProtocolError(400, "an update changes data: send it with POST, never GET")
                return await sparql_update.answer(request, update, params, writes, settings)
            if query is None:
                if request.method == "POST":
                    raise ProtocolError(
                        400,
                        f"nothing to do: POST a query (query=... as {FORM_TYPE}, or the query "
                        f"itself as {QUERY_TYPE}) or an update (update=... or {UPDATE_TYPE})",
                    )
                # the description for RDF clients, the page for browsers, by Accept and its q
                offered = [*SD_FORMATS, PAGE_TYPE]
                chosen = choose(request.headers.get("accept"), offered)
                if chosen is None:  # a client that wants results and sent no query
                    raise ProtocolError(
                        400,
                        "missing 'query' parameter; without one, /sparql answers its service "
                        f"description ({', '.join(SD_FORMATS)}) or the "
                        f"query page ({PAGE_TYPE})",
                    )
                return query_page(request) if chosen == PAGE_TYPE else description(request, chosen)
        except ProtocolError as error:
            return PlainTextResponse(error.message + "\n", status_code=error.status)
        return response(await answers.answer(request.method, query, params, request.headers))

    route_each_method(api, "/sparql", answer, ("GET", "POST", "HEAD"), "sparql")
    api.add_api_route("/sparql", _options, methods=["OPTIONS"], include_in_schema=False)
    api.add_api_route(
        "/sparql", _not_allowed, methods=["PUT", "DELETE", "PATCH"], include_in_schema=False
    )
    return api


def route_each_method(
    api: APIRouter, path: str, handler: Callable[..., Any], methods: tuple[str, ...], name: str
) -> None:
    """One OpenAPI operation per method (FastAPI names them after the route, not the method)."""
    for method in methods:
        api.add_api_route(
            path,
            handler,
            methods=[method],
            response_class=Response,
            name=f"{name}_{method.lower()}",
            include_in_schema=method != "HEAD",
        )


ALLOW = "GET, HEAD, POST, OPTIONS"


async def _options() -> Response:
    """What /sparql allows (RFC 9110 §9.3.7; a browser's CORS preflight is the middleware's)."""
    return Response(status_code=204, headers={"Allow": ALLOW})


async def _not_allowed() -> Response:
    return PlainTextResponse("use GET, HEAD or POST\n", status_code=405, headers={"Allow": ALLOW})
