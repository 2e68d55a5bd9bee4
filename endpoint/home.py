"""The home page: what this instance holds (graphs, triples, actors, ecosystems, sources and
credits)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from creative_graph.namespaces import sparql_prefixes
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from endpoint.datasets import graph_page
from endpoint.ecosystems import KINDS
from endpoint.labels import labels
from endpoint.negotiation import choose
from endpoint.sparql import EXAMPLE_QUERY

GRAPHS_QUERY = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?graph ?triples ?actors ?title ?rights WHERE {
  { SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph }
  OPTIONAL { SELECT ?graph (COUNT(DISTINCT ?actor) AS ?actors)
             WHERE { GRAPH ?graph { ?actor a org:Organization } } GROUP BY ?graph }
  OPTIONAL { GRAPH ?graph { ?graph dct:title ?title } }
  OPTIONAL { GRAPH ?graph { ?graph dct:rights/rdfs:label ?rights } }
}
ORDER BY ?graph
"""


ECOSYSTEMS_SHOWN = 50
# The instance's own ecosystems and networks (others have no page here), with their members
# counted as their pages count them (org:memberOf, or an org:Membership).
ECOSYSTEMS_QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?thing ?kind (COUNT(DISTINCT ?member) AS ?members) WHERE {
  VALUES ?kind { %s }
  ?thing a ?kind FILTER (isIRI(?thing) && STRSTARTS(STR(?thing), "%s"))
  OPTIONAL { { ?member org:memberOf ?thing }
             UNION { ?membership org:organization ?thing ; org:member ?member } }
}
GROUP BY ?thing ?kind ORDER BY ?kind ?thing LIMIT %d
"""


@dataclass(frozen=True)
class Ecosystem:
    iri: str
    kind: str  # "ecosystem" or "network"
    name: str
    members: int
    page: str


@dataclass(frozen=True)
class GraphSummary:
    graph: str
    title: str
    triples: int
    actors: int
    attribution: str
    page: str | None  # where the graph's IRI resolves here (None: nowhere on this instance)


def _summaries(reader: StoreReader, base: str) -> list[GraphSummary]:
    return [
        GraphSummary(
            graph=row["graph"],
            page=graph_page(row["graph"], base),
            title=row.get("title", ""),
            triples=int(row["triples"]),
            actors=int(row.get("actors", 0)),
            attribution=row.get("rights", ""),
        )
        for row in reader.select(GRAPHS_QUERY)
    ]


def _ecosystems(reader: StoreReader, base: str) -> list[Ecosystem]:
    kinds = " ".join(f"<{kind}>" for kind in KINDS)
    rows = reader.select(ECOSYSTEMS_QUERY % (kinds, f"{base}id/", ECOSYSTEMS_SHOWN))
    names = labels(reader, {row["thing"] for row in rows})
    found = [
        Ecosystem(
            iri=row["thing"],
            kind=KINDS[row["kind"]],
            name=names.get(row["thing"], row["thing"]),
            members=int(row["members"]),
            page=row["thing"].replace(f"{base}id/", "/doc/", 1),
        )
        for row in rows
    ]
    return sorted(found, key=lambda e: (e.kind, e.name.lower(), e.iri))


def router(reader: StoreReader, templates: Jinja2Templates, settings: Settings) -> APIRouter:
    api = APIRouter()

    @api.get("/", response_class=Response)
    async def home(request: Request, format: str | None = None) -> Response:
        graphs = await run_in_threadpool(_summaries, reader, settings.base_iri)
        ecosystems = await run_in_threadpool(_ecosystems, reader, settings.base_iri)
        snapshot = reader.snapshot
        document = {
            "base_iri": settings.base_iri,
            "snapshot": snapshot.name,
            "modified": snapshot.modified.isoformat() if snapshot.modified else None,
            "sparql_endpoint": "/sparql",
            "graphs": [asdict(g) for g in graphs],
            "actors": sum(g.actors for g in graphs),
            "triples": sum(g.triples for g in graphs),
            "ecosystems": [asdict(e) for e in ecosystems],
        }
        wants = (
            "application/json"
            if format == "json"
            else choose(request.headers.get("accept"), ["text/html", "application/json"])
        )
        if wants == "application/json":
            return JSONResponse(document, headers={"Vary": "Accept"})
        example = "/sparql?" + urlencode({"query": sparql_prefixes() + EXAMPLE_QUERY})
        return templates.TemplateResponse(
            request,
            "home.html",
            {**document, "graph_list": graphs, "example_link": example},
            headers={"Vary": "Accept"},
        )

    return api
