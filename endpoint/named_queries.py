"""Named, parameterised SPARQL queries as web API calls: `/api/queries/{name}?param=value`.

Like grlc, each query is a file (`endpoint/queries/{name}.rq`) whose header comments say what
it does and which variables are parameters:

    #+ summary: Actors working in a sector
    #+ description: ... (may repeat)
    #+ param sector code:sector: what the parameter means
    #+ example sector: performing-arts

Parameter types: `string`, `integer`, `iri`, `refnis` (a municipality's REFNIS code, bound
as its vocab.belgif.be IRI) and `code:{scheme}` (a code of one of our SKOS schemes, bound as
the concept IRI). Every parameter is required and takes one value: pyoxigraph binds one term
to a variable, so a repeated parameter is refused, never half used. Values are bound to the
query's variables by pyoxigraph (`substitutions`, SPARQL SEP-0007), never pasted into the
query text. A value that is missing, repeated or not of its type gets `400` with a JSON body
naming the parameter, the value and the type expected.

The same text is an example on the query page, where nothing is bound: a query must answer
there too (a filter on an unbound parameter falls back to its example with `COALESCE`).

`/openapi.json` documents each query (types, patterns, codes, examples, result media types)
and, completed by `document(app)`, the SPARQL protocol at `/sparql`; `/docs` shows it with
Swagger UI (installed by npm like YASGUI, served from `endpoint/ui/node_modules`) or, without
npm, as a plain page.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from rdflib.namespace import SKOS

import ontology
from creative_graph import __version__
from creative_graph.namespaces import CONCEPT, concept
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, ResultTooLarge, StoreReader
from endpoint.caching import not_modified, validators
from endpoint.negotiation import choose
from endpoint.workers import QueryRunner, QueryTimeout, ServerBusy, WorkerFailed

HERE = Path(__file__).parent
QUERIES = HERE / "queries"
# Swagger UI as npm installs it (`make install`: endpoint/ui/package.json); absent without npm
SWAGGER_UI = HERE / "ui" / "node_modules" / "swagger-ui-dist"
REFNIS = "http://vocab.belgif.be/auth/refnis2025/"
RESULT_TYPES = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/json": "application/sparql-results+json",
    "text/csv": "text/csv",
    "text/tab-separated-values": "text/tab-separated-values",
    "application/sparql-results+xml": "application/sparql-results+xml",
}
TYPES = ("string", "integer", "iri", "refnis")
_PARAM = re.compile(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+(\S+):\s+(.*)$")
_EXAMPLE = re.compile(r"^example\s+([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


class QueryFileError(Exception):
    """A query file's header cannot be read (raised at start-up, naming the file and line)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # string, integer, iri, refnis, code:{scheme}
    description: str
    example: str | None = None


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
    examples: dict[str, str] = {}
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
            if kind not in TYPES and not kind.startswith("code:"):
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
        elif (match := _EXAMPLE.match(line[2:].strip())) is not None:
            name, value = match.groups()
            if name not in {p.name for p in parameters}:
                raise QueryFileError(f"{path}:{number}: an example of no parameter ({name})")
            examples[name] = value.strip()
        else:
            raise QueryFileError(
                f"{path}:{number}: expected summary, description, param or example"
            )
    if not summary:
        raise QueryFileError(f"{path}: no '#+ summary:' line")
    parameters = [
        Parameter(p.name, p.type, p.description, examples.get(p.name)) for p in parameters
    ]
    return NamedQuery(path.stem, summary, " ".join(description), tuple(parameters), text)


def load_queries(directory: Path = QUERIES) -> list[NamedQuery]:
    return [read_query(path) for path in sorted(directory.glob("*.rq"))]


def scheme_codes(queries: list[NamedQuery]) -> dict[str, list[str]]:
    """The codes of each concept scheme the queries' `code:{scheme}` parameters name."""
    schemes = {p.type.removeprefix("code:") for q in queries for p in q.parameters}
    schemes = {s for s in schemes if s not in TYPES}
    if not schemes:
        return {}
    graph = ontology.graph()
    codes = {}
    for scheme in sorted(schemes):
        prefix = f"{CONCEPT}{scheme}/"
        found = (str(c) for c in graph.subjects(SKOS.inScheme, None))
        codes[scheme] = sorted({c.removeprefix(prefix) for c in found if c.startswith(prefix)})
        if not codes[scheme]:
            raise QueryFileError(f"no concept scheme {scheme!r}")
    return codes


def expected(parameter: Parameter, codes: dict[str, list[str]]) -> str:
    """What a value of the parameter must be, in words."""
    if parameter.type.startswith("code:"):
        scheme = parameter.type.removeprefix("code:")
        return f"a code of the {scheme} scheme ({', '.join(codes.get(scheme, []))})"
    return {
        "string": "text",
        "integer": "an integer",
        "iri": "an absolute IRI",
        "refnis": "a five-digit REFNIS code",
    }[parameter.type]


def is_valid(parameter: Parameter, value: str, codes: dict[str, list[str]]) -> bool:
    if parameter.type.startswith("code:"):
        return value in codes.get(parameter.type.removeprefix("code:"), ())
    if parameter.type == "integer":
        return re.fullmatch(r"[+-]?[0-9]+", value) is not None
    if parameter.type == "iri":
        return _IRI.match(value) is not None
    if parameter.type == "refnis":
        return re.fullmatch(r"[0-9]{5}", value) is not None
    return True


def binding(parameter: Parameter, value: Any) -> tuple[str, str, str | None]:
    """("iri" or "literal", value, datatype) to bind, for the worker; ValueError if invalid.

    Codes are not checked against their scheme here (`is_valid` does, with the codes)."""
    raw = str(value)
    if parameter.type.startswith("code:"):
        return ("iri", concept(parameter.type.removeprefix("code:"), raw), None)
    if parameter.type != "string" and not is_valid(parameter, raw, {}):
        raise ValueError(f"{raw!r} is not {expected(parameter, {})}")
    if parameter.type == "refnis":
        return ("iri", REFNIS + raw, None)
    if parameter.type == "iri":
        return ("iri", raw, None)
    if parameter.type == "integer":
        return ("literal", str(int(raw)), "http://www.w3.org/2001/XMLSchema#integer")
    return ("literal", raw, None)


@dataclass(frozen=True)
class Problem:
    """Why one parameter of a request cannot be used."""

    parameter: str
    value: str | list[str] | None
    expected: str
    message: str


def problems(
    named: NamedQuery, given: list[tuple[str, str]], codes: dict[str, list[str]]
) -> list[Problem]:
    """What is wrong with a request's parameters (missing, repeated, not of their type)."""
    found = []
    for parameter in named.parameters:
        values = [value for key, value in given if key == parameter.name]
        wanted = expected(parameter, codes)
        if not values:
            message = f"parameter '{parameter.name}' is missing: give {wanted}"
            found.append(Problem(parameter.name, None, wanted, message))
        elif len(values) > 1:
            message = (
                f"parameter '{parameter.name}' is given {len(values)} times "
                f"({', '.join(map(repr, values))}); it takes one value, {wanted}"
            )
            found.append(Problem(parameter.name, values, wanted, message))
        elif not is_valid(parameter, values[0], codes):
            message = f"parameter '{parameter.name}': {values[0]!r} is not {wanted}"
            found.append(Problem(parameter.name, values[0], wanted, message))
    return found


def bad_request(found: list[Problem]) -> JSONResponse:
    """400 with a message naming each parameter, its value and its type, and the details."""
    message = "; ".join(problem.message for problem in found)
    return JSONResponse(
        {"message": message, "detail": [asdict(problem) for problem in found]}, status_code=400
    )


def router(reader: StoreReader, pool: QueryRunner, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/queries", tags=["named queries"])
    queries = load_queries()
    codes = scheme_codes(queries)

    @api.get("", summary="The named queries and their parameters")
    def index() -> JSONResponse:
        return JSONResponse(
            [
                {
                    "name": q.name,
                    "summary": q.summary,
                    "description": q.description,
                    "url": f"/api/queries/{q.name}",
                    "parameters": [asdict(p) for p in q.parameters],
                    "sparql": q.text,
                }
                for q in queries
            ]
        )

    for named in queries:
        api.add_api_route(
            f"/{named.name}",
            _endpoint(named, codes, reader, pool, settings),
            methods=["GET"],
            summary=named.summary,
            description=named.description
            + "\n\nResults: SPARQL JSON (default), CSV, TSV or XML, by `Accept`.",
            response_class=Response,
            name=named.name,
            operation_id=named.name,
            responses=_responses(),
            openapi_extra={"parameters": [_parameter_spec(p, codes) for p in named.parameters]},
        )
    return api


def _endpoint(
    named: NamedQuery,
    codes: dict[str, list[str]],
    reader: StoreReader,
    pool: QueryRunner,
    settings: Settings,
) -> Any:
    async def answer(request: Request) -> Response:
        found = problems(named, request.query_params.multi_items(), codes)
        if found:
            return bad_request(found)
        media_type = choose(request.headers.get("accept") or "*/*", list(RESULT_TYPES))
        if media_type is None:
            return PlainTextResponse(
                f"Not available in any type you accept; available: {', '.join(RESULT_TYPES)}\n",
                status_code=406,
            )
        media_type = RESULT_TYPES[media_type]
        substitutions = {p.name: binding(p, request.query_params[p.name]) for p in named.parameters}
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

    answer.__name__ = named.name.replace("-", "_")
    return answer


# ---- OpenAPI and /docs ---------------------------------------------------------------------

SCHEMAS = {
    "SparqlResults": {
        "description": "SPARQL 1.1 Query Results JSON Format (a SELECT's solutions).",
        "type": "object",
        "properties": {
            "head": {
                "type": "object",
                "properties": {"vars": {"type": "array", "items": {"type": "string"}}},
            },
            "results": {
                "type": "object",
                "properties": {
                    "bindings": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/components/schemas/RdfTerm"},
                        },
                    }
                },
            },
            "boolean": {"type": "boolean", "description": "An ASK query's answer."},
        },
        "required": ["head"],
    },
    "RdfTerm": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["uri", "literal", "bnode", "triple"]},
            "value": {"type": "string"},
            "datatype": {"type": "string", "format": "iri"},
            "xml:lang": {"type": "string"},
        },
        "required": ["type", "value"],
    },
    "ParameterError": {
        "description": "What is wrong with a named query's parameters.",
        "type": "object",
        "properties": {
            "message": {"type": "string"},
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "parameter": {"type": "string"},
                        "value": {
                            "description": "the value given; every value if repeated; null "
                            "if missing",
                            "oneOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "string"}},
                                {"type": "null"},
                            ],
                        },
                        "expected": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "required": ["parameter", "expected", "message"],
                },
            },
        },
        "required": ["message", "detail"],
    },
}
TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _solutions() -> dict[str, Any]:
    """The media types of a SELECT's answer, as an OpenAPI `content`."""
    table = {"type": "string", "description": "a header line of variable names, then one row each"}
    return {
        "application/sparql-results+json": {
            "schema": {"$ref": "#/components/schemas/SparqlResults"}
        },
        "application/sparql-results+xml": {"schema": {"type": "string"}},
        "text/csv": {"schema": table},
        "text/tab-separated-values": {"schema": table},
    }


def _responses() -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The solutions, in the type `Accept` asks for.",
            "content": _solutions(),
        },
        304: {"description": "Not modified since the `ETag` or date you sent."},
        400: {
            "description": "A parameter is missing, repeated or not of its type.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ParameterError"}}
            },
        },
        403: {"description": "The result is over the server's size limit.", "content": TEXT},
        406: {"description": "No type you accept is offered.", "content": TEXT},
        503: {"description": "Too busy or over the time limit: retry later.", "content": TEXT},
    }


def _parameter_spec(parameter: Parameter, codes: dict[str, list[str]]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if parameter.type == "integer":
        schema = {"type": "integer"}
    elif parameter.type == "iri":
        schema = {"type": "string", "format": "iri"}
    elif parameter.type == "refnis":
        schema = {"type": "string", "pattern": r"^\d{5}$"}
    elif parameter.type.startswith("code:"):
        schema = {"type": "string", "enum": codes[parameter.type.removeprefix("code:")]}
    spec = {
        "name": parameter.name,
        "in": "query",
        "required": True,
        "description": f"{parameter.description} ({expected(parameter, {})}; given once)",
        "schema": schema,
    }
    if parameter.example is not None:
        spec["example"] = (
            int(parameter.example) if schema["type"] == "integer" else parameter.example
        )
    return spec


def document(app: FastAPI) -> None:
    """Complete the app's OpenAPI document (the SPARQL protocol at /sparql, the schemas the
    named queries refer to) and show it at /docs: Swagger UI when npm installed it, or a plain
    page of the operations."""
    described = app.openapi  # FastAPI's own, which keeps its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(described())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    swagger = SWAGGER_UI.is_dir()
    if swagger:
        app.mount("/ui/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html templates
    templates.env.globals["version"] = __version__

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "api.html",
            {"swagger": swagger, "operations": operations(app.openapi())},
        )


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The documented operations, for the plain docs page: method, path, summary, parameters."""
    return [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": operation.get("parameters", []),
        }
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    ]


def complete(spec: dict[str, Any]) -> None:
    """Add to FastAPI's document what its routes cannot say: /sparql's parameters, bodies and
    media types, the shared schemas, the write token."""
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {}).update(SCHEMAS)
    components.setdefault("securitySchemes", {})["writeToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator's write token (CREATIVE_GRAPH_WRITE_TOKEN), for updates.",
    }
    spec["tags"] = [
        {
            "name": "SPARQL",
            "description": "The SPARQL 1.1 Protocol (queries; updates with a token).",
        },
        {"name": "named queries", "description": "Parameterised queries, values bound safely."},
    ]
    sparql = spec["paths"].get("/sparql")
    if sparql is not None:
        for method, operation in _sparql_operations().items():
            if method in sparql:
                sparql[method] = {"operationId": sparql[method].get("operationId"), **operation}


def _sparql_operations() -> dict[str, dict[str, Any]]:
    # endpoint.sparql imports this module (its examples are the named queries): import late
    from endpoint.sparql import FORMAT_NAMES, GRAPH_FORMATS, SD_FORMATS

    def graphs(name: str, meaning: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "description": meaning,
            "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
            "style": "form",
            "explode": True,
        }

    dataset = [
        graphs(
            "default-graph-uri",
            "A graph of the default graph (repeatable); without it, "
            "the default graph is the union of all named graphs.",
        ),
        graphs("named-graph-uri", "A named graph the query may use (repeatable)."),
    ]
    format_ = {
        "name": "format",
        "in": "query",
        "description": "The result format, instead of `Accept`.",
        "schema": {"type": "string", "enum": list(FORMAT_NAMES)},
    }
    example = (
        "SELECT ?type (COUNT(DISTINCT ?actor) AS ?actors) WHERE { ?actor a "
        "<http://www.w3.org/ns/org#Organization> ; <http://www.w3.org/ns/org#classification> "
        "?type } GROUP BY ?type ORDER BY DESC(?actors)"
    )
    graph_types = sorted(set(GRAPH_FORMATS) | set(SD_FORMATS))
    answers = {
        **_solutions(),
        "application/json": {"schema": {"$ref": "#/components/schemas/SparqlResults"}},
        **{media_type: {"schema": {"type": "string"}} for media_type in graph_types},
    }
    errors = {
        "304": {"description": "Not modified since the `ETag` or date you sent (GET)."},
        "400": {"description": "A malformed query or parameter.", "content": TEXT},
        "403": {
            "description": "A SERVICE off the allow-list, too large a result, writes off.",
            "content": TEXT,
        },
        "406": {"description": "No type you accept fits the query's kind.", "content": TEXT},
        "503": {"description": "Too busy or over the time limit: retry later.", "content": TEXT},
    }
    ok = {
        "200": {
            "description": "SELECT and ASK: SPARQL JSON, XML, CSV or TSV. CONSTRUCT and DESCRIBE "
            "(and GET without a query, the Service Description): Turtle, N-Triples, JSON-LD or "
            "RDF/XML. By `Accept` or `format`.",
            "content": answers,
        }
    }
    form_properties: dict[str, Any] = {
        "query": {"type": "string", "description": "A SPARQL 1.1 query."},
        "update": {"type": "string", "description": "A SPARQL 1.1 Update (write token)."},
    }
    for name in (
        "default-graph-uri",
        "named-graph-uri",
        "using-graph-uri",
        "using-named-graph-uri",
    ):
        form_properties[name] = {"type": "array", "items": {"type": "string", "format": "iri"}}
    form_properties["format"] = format_["schema"]
    return {
        "get": {
            "tags": ["SPARQL"],
            "summary": "Run a SPARQL query",
            "description": "SPARQL 1.1 Protocol query by GET. Without `query`, the Service "
            "Description (RDF `Accept`) or, in a browser, the query page.",
            "parameters": [
                {
                    "name": "query",
                    "in": "query",
                    "description": "A SPARQL 1.1 query.",
                    "schema": {"type": "string"},
                    "example": example,
                },
                *dataset,
                format_,
            ],
            "responses": {**ok, **errors},
        },
        "post": {
            "tags": ["SPARQL"],
            "summary": "Run a SPARQL query or update",
            "description": "SPARQL 1.1 Protocol query by POST (form or direct), or an update "
            "with the write token. An update answers 204, or 422 with the shapes' violations.",
            "parameters": [
                *dataset,
                graphs("using-graph-uri", "An update's USING graph (repeatable)."),
                graphs("using-named-graph-uri", "An update's USING NAMED graph (repeatable)."),
                format_,
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": form_properties},
                        "encoding": {
                            name: {"style": "form", "explode": True}
                            for name in form_properties
                            if name.endswith("-uri")
                        },
                    },
                    "application/sparql-query": {
                        "schema": {"type": "string"},
                        "example": example,
                    },
                    "application/sparql-update": {"schema": {"type": "string"}},
                },
            },
            "security": [{}, {"writeToken": []}],
            "responses": {
                **ok,
                "204": {"description": "The update was applied and published."},
                **errors,
                "401": {"description": "An update without the write token.", "content": TEXT},
                "413": {"description": "A body over the server's limit.", "content": TEXT},
                "415": {"description": "A body of another type or charset.", "content": TEXT},
                "422": {"description": "The update would break the shapes: nothing written."},
            },
        },
    }
