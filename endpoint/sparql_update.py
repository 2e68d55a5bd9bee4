"""SPARQL 1.1 Update over the Protocol: POST form (`update=`) or POST direct, at /sparql.

Only the holder of the operator's token writes (`endpoint.authorization`). An update runs on
a copy of the store and is published only if the shapes find no new violation
(`creative_graph.writes`); otherwise nothing changes and the client gets 422 with the
violations. `using-graph-uri` / `using-named-graph-uri` become `USING` clauses. The default
graph of an update is the store's own default graph (queries see the union of all graphs):
name the graph you change with `GRAPH`, `WITH` or `INSERT DATA { GRAPH <g> { ... } }`.
`LOAD` is refused (the server never fetches what a client names; send the data with the Graph
Store Protocol instead), and `SERVICE` is held to the same allow-list as queries. An update
runs in the write worker (`endpoint.write_worker`): past `WRITE_TIMEOUT` it is stopped, nothing
changes, and the client gets 503.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from creative_graph.settings import Settings
from creative_graph.store import StoreError
from creative_graph.validation import ValidationResult
from creative_graph.writes import WriteRefused
from endpoint import authorization
from endpoint.federation import refused_services
from endpoint.negotiation import choose
from endpoint.sparql_text import has_dataset_clause, targets_of, with_dataset
from endpoint.write_worker import Update, WriterFailed, WriteTimeout, WriteWorker


class UpdateError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _graph_iris(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    iris = [value for key, value in params if key == name]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as error:
            raise UpdateError(400, f"{name} {iri!r} is not an IRI: {error}") from error
    return iris


def prepared(update: str, params: Sequence[tuple[str, str]], settings: Settings) -> str:
    """The update to run, with the protocol's dataset; raises `UpdateError` if it may not run."""
    default = _graph_iris(params, "using-graph-uri")
    named = _graph_iris(params, "using-named-graph-uri")
    if (default or named) and has_dataset_clause(update):
        raise UpdateError(
            400,
            "the update names its own dataset (USING or WITH) and the request gives "
            "using-graph-uri/using-named-graph-uri too; the SPARQL 1.1 Protocol forbids both",
        )
    if targets_of(update, "LOAD"):
        raise UpdateError(
            403,
            "LOAD is refused: this server never fetches data from addresses a client names; "
            "send the data itself with the Graph Store Protocol (PUT or POST /store?graph=...)",
        )
    refused = refused_services(update, frozenset(settings.service_allowlist))
    if refused:
        raise UpdateError(
            403,
            "federated SERVICE calls are only allowed to the operator's allow-list; "
            f"refused SERVICE {', '.join(refused)}",
        )
    text = with_dataset(update, default, named) if default or named else update
    try:  # syntax first, on an empty store, before any copy of the real one is made
        ox.Store().update(text, base_iri=settings.base_iri + "sparql")
    except SyntaxError as error:
        raise UpdateError(400, f"Malformed update: {error}") from error
    return text


def violations_response(request: Request, violations: Sequence[ValidationResult]) -> Response:
    """422 with what the shapes found, as JSON or plain text as the client prefers."""
    if choose(request.headers.get("accept"), ["text/plain", "application/json"]) == (
        "application/json"
    ):
        document = {
            "error": "the change does not conform to the shapes; nothing was written",
            "violations": [
                {
                    "focus_node": v.focus_node,
                    "path": v.path,
                    "value": v.value,
                    "message": v.message,
                    "shape": v.source_shape,
                }
                for v in violations
            ],
        }
        return Response(json.dumps(document, indent=1), 422, media_type="application/json")
    lines = [
        "Refused: the change does not conform to the shapes; nothing was written.",
        f"{len(violations)} new violation(s):",
        *(
            f"- {v.focus_node} {v.path}" + (f" = {v.value}" if v.value else "") + f": {v.message}"
            for v in violations
        ),
    ]
    return PlainTextResponse("\n".join(lines) + "\n", status_code=422)


def busy_response(error: StoreError) -> Response:
    return PlainTextResponse(f"{error}\n", status_code=503, headers={"Retry-After": "10"})


def stopped_response(error: WriteTimeout | WriterFailed) -> Response:
    """A write stopped over its time limit (503, as a query), or its worker died: 503 when
    nothing changed, else 500 (it may have been applied)."""
    if isinstance(error, WriterFailed) and error.committed:
        return PlainTextResponse(f"{error}\n", status_code=500)
    return PlainTextResponse(f"{error}\n", status_code=503, headers={"Retry-After": "5"})


async def answer(
    request: Request,
    update: str,
    params: Sequence[tuple[str, str]],
    writes: WriteWorker | None,
    settings: Settings,
) -> Response:
    refused = authorization.refusal(request, settings)
    if refused is not None:
        return refused
    assert writes is not None  # a token is set, so the app made a `WriteWorker`
    try:
        text = prepared(update, params, settings)
    except UpdateError as error:
        return PlainTextResponse(error.message + "\n", status_code=error.status)
    change = Update(text, settings.base_iri + "sparql")
    try:
        await run_in_threadpool(writes.apply, change, "SPARQL Update at /sparql", update.encode())
    except WriteRefused as error:
        return violations_response(request, error.violations)
    except StoreError as error:
        return busy_response(error)
    except (WriteTimeout, WriterFailed) as error:
        return stopped_response(error)
    return Response(status_code=204)
