"""Federated queries: find the SERVICE targets of a query, so that only allow-listed ones run.

pyoxigraph fetches whatever IRI a `SERVICE` clause names; a public endpoint that let it would
make requests to any host on a client's behalf (server-side request forgery). The query is
scanned token by token — IRIs, strings and comments are skipped as wholes, so a `SERVICE` inside
a literal does not count — and every target must be on the operator's allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<word>[A-Za-z_][\w\-.:]*|[?$]\w+)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class ServiceUse:
    target: (
        str  # the IRI without angle brackets, or the token written (a variable, a prefixed name)
    )
    is_iri: bool


def service_uses(query: str) -> list[ServiceUse]:
    """Every `SERVICE [SILENT] target` of a SPARQL query, in order."""
    tokens = [
        (match.lastgroup, match.group())
        for match in _TOKEN.finditer(query)
        if match.lastgroup not in ("comment", None)
    ]
    uses = []
    for index, (kind, text) in enumerate(tokens):
        if kind != "word" or text.upper() != "SERVICE":
            continue
        following = tokens[index + 1 : index + 3]
        if following and following[0][1].upper() == "SILENT":
            following = following[1:]
        if not following:
            uses.append(ServiceUse("", False))
            continue
        target_kind, target = following[0]
        is_iri = target_kind == "iri"
        uses.append(ServiceUse(target[1:-1] if is_iri else target, is_iri))
    return uses


def refused_services(query: str, allowlist: frozenset[str]) -> list[str]:
    """The SERVICE targets of `query` that are not allowed (variables never are)."""
    return [
        use.target or "(missing)"
        for use in service_uses(query)
        if not (use.is_iri and use.target in allowlist)
    ]
