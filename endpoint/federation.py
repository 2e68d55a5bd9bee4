"""Federated queries: find the SERVICE targets of a query, so that only allow-listed ones run.

pyoxigraph fetches whatever IRI a `SERVICE` clause names; a public endpoint that let it would
make requests to any host on a client's behalf (server-side request forgery). The text is
read along every reading pyoxigraph's parser could make (`endpoint.sparql_text`): a `SERVICE`
counts unless it is inside a comment, string or IRI in all of them, and every target must be
on the operator's allow-list. It may refuse a call that is not one; it never misses one.
"""

from __future__ import annotations

from dataclasses import dataclass

from endpoint.sparql_text import targets_of


@dataclass(frozen=True)
class ServiceUse:
    target: str  # the IRI without angle brackets, or the token written (a variable, a name)
    is_iri: bool


def service_uses(query: str) -> list[ServiceUse]:
    """Every `SERVICE [SILENT] target` of a SPARQL query, in order."""
    return [ServiceUse(target, is_iri) for target, is_iri in targets_of(query, "SERVICE")]


def refused_services(query: str, allowlist: frozenset[str]) -> list[str]:
    """The SERVICE targets of `query` that are not allowed (variables never are)."""
    return [
        use.target or "(missing)"
        for use in service_uses(query)
        if not (use.is_iri and use.target in allowlist)
    ]
