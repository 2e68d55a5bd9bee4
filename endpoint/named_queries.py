"""Named, parameterised SPARQL queries as web API calls: `/api/queries/{name}?param=value`.

Like grlc, each query is a file (`endpoint/queries/{name}.rq`) whose header comments say what
it does and which variables are parameters:

    #+ summary: Actors working in a sector
    #+ description: ... (may repeat)
    #+ param sector code:sector: what the parameter means

Parameter types: `string`, `integer`, `iri`, `refnis` (a municipality's REFNIS code, bound
as its vocab.belgif.be IRI) and `code:{scheme}` (a code of one of our SKOS schemes, bound as
the concept IRI; the codes are listed in the OpenAPI description). Values are bound to the
query's variables by pyoxigraph (`substitutions`, SPARQL SEP-0007), never pasted into the
query text. Each query is a typed FastAPI route, so `/openapi.json` documents them all.
"""

from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from rdflib.namespace import SKOS

import ontology
from creative_graph.namespaces import CONCEPT, concept
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, ResultTooLarge, StoreReader
from endpoint.caching import not_modified, validators
from endpoint.negotiation import choose
from endpoint.workers import QueryRunner, QueryTimeout, ServerBusy, WorkerFailed

QUERIES = Path(__file__).parent / "queries"
REFNIS = "http://vocab.belgif.be/auth/refnis2025/"
RESULT_TYPES = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/json": "application/sparql-results+json",
    "text/csv": "text/csv",
    "text/tab-separated-values": "text/tab-separated-values",
    "application/sparql-results+xml": "application/sparql-results+xml",
}
_PARAM = re.compile(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+(\S+):\s+(.*)$")


class QueryFileError(Exception):
    """A query file's header cannot be read (raised at start-up, naming the file and line)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # string, integer, iri, refnis, code:{scheme}
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    text: str


def read_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    summary, description, parameters = "", [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            continue
        key, _, value = line[2:].strip().partition(":")
        if key == "summary":
            summary = value.strip()
        elif key == "description":
            description.append(value.strip())
        elif (match := _PARAM.match(line[2:].strip())) is not None:
            name, kind, meaning = match.groups()
            if kind not in ("string", "integer", "iri", "refnis") and not kind.startswith("code:"):
                raise QueryFileError(f"{path}:{number}: unknown parameter type {kind!r}")
            if not re.search(rf"[?$]{name}\b", body):
                raise QueryFileError(f"{path}:{number}: the query has no variable ?{name}")
            # pyoxigraph binds (SEP-0007) only variables the SELECT clause projects
            projection = re.search(r"SELECT(.*?)(WHERE|\{)", body, re.DOTALL | re.IGNORECASE)
            if projection is None or not re.search(rf"[?$]{name}\b", projection.group(1)):
                raise QueryFileError(
                    f"{path}:{number}: select ?{name} too: only projected variables can be bound"
                )
            parameters.append(Parameter(name, kind, meaning.strip()))
        else:
            raise QueryFileError(f"{path}:{number}: expected summary, description or param")
    if not summary:
        raise QueryFileError(f"{path}: no '#+ summary:' line")
    return NamedQuery(path.stem, summary, " ".join(description), tuple(parameters), text)


def load_queries(directory: Path = QUERIES) -> list[NamedQuery]:
    return [read_query(path) for path in sorted(directory.glob("*.rq"))]


def _codes(scheme: str) -> list[str]:
    prefix = f"{CONCEPT}{scheme}/"
    graph = ontology.graph()
    return sorted(
        str(c).removeprefix(prefix)
        for c in graph.subjects(SKOS.inScheme, None)
        if str(c).startswith(prefix)
    )


def _annotation(parameter: Parameter) -> Any:
    if parameter.type == "integer":
        return int
    if parameter.type.startswith("code:"):
        codes = _codes(parameter.type.removeprefix("code:"))
        if not codes:
            raise QueryFileError(f"no concept scheme {parameter.type.removeprefix('code:')!r}")
        return enum.Enum(f"{parameter.name}_codes", {c: c for c in codes}, type=str)
    return str


def _query_default(parameter: Parameter) -> Any:
    pattern = r"^\d{5}$" if parameter.type == "refnis" else None
    return Query(..., description=parameter.description, pattern=pattern)


def binding(parameter: Parameter, value: Any) -> tuple[str, str, str | None]:
    """("iri" or "literal", value, datatype) to bind, for the worker; ValueError if invalid."""
    raw = value.value if isinstance(value, enum.Enum) else value
    if parameter.type.startswith("code:"):
        return ("iri", concept(parameter.type.removeprefix("code:"), raw), None)
    if parameter.type == "refnis":
        return ("iri", REFNIS + raw, None)
    if parameter.type == "iri":
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$", raw):
            raise ValueError(f"not an absolute IRI: {raw!r}")
        return ("iri", raw, None)
    if parameter.type == "integer":
        return ("literal", str(raw), "http://www.w3.org/2001/XMLSchema#integer")
    return ("literal", str(raw), None)


def router(reader: StoreReader, pool: QueryRunner, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/queries", tags=["named queries"])
    queries = load_queries()

    @api.get("", summary="The named queries and their parameters")
    def index() -> JSONResponse:
        return JSONResponse(
            [
                {
                    "name": q.name,
                    "summary": q.summary,
                    "description": q.description,
                    "url": f"/api/queries/{q.name}",
                    "parameters": [p.__dict__ for p in q.parameters],
                    "sparql": q.text,
                }
                for q in queries
            ]
        )

    for named in queries:
        api.add_api_route(
            f"/{named.name}",
            _endpoint(named, reader, pool, settings),
            methods=["GET"],
            summary=named.summary,
            description=named.description
            + "\n\nResults: SPARQL JSON (default), CSV, TSV or XML, by `Accept`.",
            response_class=Response,
            name=named.name,
        )
    return api


def _endpoint(named: NamedQuery, reader: StoreReader, pool: QueryRunner, settings: Settings) -> Any:
    async def answer(request: Request, **values: Any) -> Response:
        media_type = choose(request.headers.get("accept") or "*/*", list(RESULT_TYPES))
        if media_type is None:
            return PlainTextResponse(
                f"Not available in any type you accept; available: {', '.join(RESULT_TYPES)}\n",
                status_code=406,
            )
        media_type = RESULT_TYPES[media_type]
        try:
            substitutions = {
                p.name: binding(p, values[p.name]) for p in named.parameters if p.name in values
            }
        except ValueError as error:
            return PlainTextResponse(f"{error}\n", status_code=422)
        headers = {"Vary": "Accept", **validators(reader.snapshot, media_type)}
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        job = {
            "query": named.text,
            "results": media_type,
            "graph": None,
            "default_graphs": [],
            "named_graphs": [],
            "base_iri": settings.base_iri + "sparql",
            "max_result_bytes": settings.max_result_bytes,
            "max_result_rows": settings.max_result_rows,
            "substitutions": substitutions,
        }
        try:
            output = await pool.arun(job)
        except (QueryTimeout, ServerBusy) as error:
            return PlainTextResponse(f"{error}\n", status_code=503, headers={"Retry-After": "5"})
        except ResultTooLarge as error:
            return PlainTextResponse(f"Refused: {error}\n", status_code=403)
        except ValueError as error:
            return PlainTextResponse(f"Cannot run this query: {error}\n", status_code=400)
        except WorkerFailed as error:
            return PlainTextResponse(f"{error}\n", status_code=500)
        assert isinstance(output, QueryOutput)
        headers = {"Vary": "Accept", **validators(output.snapshot, media_type)}
        headers["X-Cache"] = "hit" if output.cached else "miss"
        return Response(output.body, media_type=output.media_type, headers=headers)

    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_ONLY, annotation=Request)
    ]
    parameters += [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_query_default(p),
            annotation=_annotation(p),
        )
        for p in named.parameters
    ]
    answer.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    answer.__name__ = named.name.replace("-", "_")
    return answer
