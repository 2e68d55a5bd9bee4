"""What surrounds an actor on its page: the services it provides, whom it is related to, who
funds it and whom it funds; found with one query.

`neighbourhood` asks the store once for everything that points at the thing or that it points
to as a relationship: its services (`schema:provider`) with their kind, target groups and
sectors; the grants it received or gave (`schema:fundedItem`, `schema:funder`) with amount,
year and purpose; its relationships both ways, read with the relationship-kind scheme
(`cg:relationProperty`, `skos:prefLabel` forwards, `cg:inverseLabel` backwards; memberships
through an `org:Membership` too, with their role); and, for the page's table of every
statement, whatever else points at it. `view` turns the rows into what the page lists, once the
IRIs are labelled (`endpoint/labels.py`, one more query). Each list stops at `SHOWN`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from creative_graph.store import QueryOutput, StoreReader
from endpoint.ecosystems import Link, href
from endpoint.labels import name, rank

SCHEMA = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
CV = "http://data.europa.eu/m8g/"
ORG = "http://www.w3.org/ns/org#"
CG = "https://w3id.org/creative-graph/ns#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FUNDER, MEMBER_OF = f"{SCHEMA}funder", f"{ORG}memberOf"
SHOWN = 500  # services, grants, relationships and other links each: more are not listed
PREFIXES = (
    f"PREFIX schema: <{SCHEMA}> PREFIX dct: <{DCT}> PREFIX cv: <{CV}> PREFIX org: <{ORG}> "
    f"PREFIX cg: <{CG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    f"PREFIX rdf: <{RDF_TYPE[:-4]}>\n"
)
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$"}
# the part of a membership row -> the direction the relationship is read in
MEMBERSHIPS = {"member-of": "from", "has-member": "to"}

Row = dict[str, str]


@dataclass(frozen=True)
class Service:
    page: Link  # the service's own page, named by the service's name ("" when it has none)
    kinds: tuple[Link, ...]
    audiences: tuple[Link, ...]
    sectors: tuple[Link, ...]


@dataclass(frozen=True)
class Grant:
    page: Link  # the grant's own page, named by the grant's name
    funder: Link | None
    beneficiary: Link | None
    value: Decimal | None
    currency: str
    year: str
    purpose: str

    @property
    def amount(self) -> str:
        return money(self.value, self.currency) if self.value is not None else ""


@dataclass(frozen=True)
class Relation:
    reading: Link  # the relationship kind as read from this actor ("member of", "hosts")
    other: Link
    role: Link | None = None
    forward: bool = True  # the actor is the subject of the relationship


@dataclass
class Around:
    """The rows of the neighbourhood query, by kind of neighbour, and which lists were cut."""

    # service or grant -> property -> its rows
    services: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    grants: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    kinds: list[Row] = field(default_factory=list)
    relations: list[Row] = field(default_factory=list)
    incoming: list[Row] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)  # "services", "grants", "relations", "incoming"

    def iris(self) -> set[str]:
        """Every IRI the page may show, to be labelled in one query (services and grants are
        named by their `schema:name`, already at hand)."""
        found = {row["node"] for row in self.kinds} | {row["node"] for row in self.incoming}
        found -= self.services.keys() | self.grants.keys()
        for values in (*self.services.values(), *self.grants.values()):
            for rows in values.values():
                found.update(row["o"] for row in rows if row.get("iri") == "true")
        for row in self.relations:
            found.update(row[k] for k in ("other", "role") if k in row)
        return found


@dataclass
class Neighbours:
    services: list[Service]
    relations: list[Relation]
    received: list[Grant]  # latest first
    given: list[Grant]
    cut: set[str]

    @staticmethod
    def totals(grants: list[Grant]) -> list[str]:
        """The sum of `grants` in each currency (`€12,500.00`)."""
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for grant in grants:
            if grant.value is not None:
                sums[grant.currency] += grant.value
        return [money(total, currency) for currency, total in sorted(sums.items())]


def money(value: Decimal, currency: str) -> str:
    """`€1,250.00`, `£80.00`, `1,250.00 CHF`."""
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{value:,.2f}" if sign else f"{value:,.2f} {currency}".strip()


def neighbourhood(reader: StoreReader, iri: str, skip: tuple[str, ...] = ()) -> Around:
    """One query for all that `view` needs; links through the properties in `skip` are left out
    (an ecosystem's page lists its members and networks itself). Filtering on strings and
    sorting are left to Python: on a store on disk `STR()` and `ORDER BY` cost more than all
    the rest (57 ms against 3 ms for the 393 links to the City of Brussels)."""
    thing, limit = f"<{iri}>", SHOWN + 1
    leave_out = f"&& ?p NOT IN ({', '.join(f'<{p}>' for p in skip)})" if skip else ""
    arms = [
        f"""{{ SELECT DISTINCT ?node WHERE {{ ?node schema:provider {thing} }} LIMIT {limit} }}
    ?node ?p ?o FILTER (?p IN (rdf:type, schema:name, dct:type, dct:audience, cv:sector))
    BIND ("service" AS ?part)""",
        f"""{{ SELECT DISTINCT ?node WHERE {{ {{ ?node schema:fundedItem {thing} }}
      UNION {{ ?node schema:funder {thing} ; schema:fundedItem ?item }} }} LIMIT {limit} }}
    {{ ?node ?p ?o FILTER (?p IN (schema:funder, schema:fundedItem, schema:startDate,
                                 schema:name, schema:description)) }}
    UNION {{ ?node schema:amount ?amount . ?amount ?p ?o
             FILTER (?p IN (schema:value, schema:currency)) }}
    BIND ("grant" AS ?part)""",
        """?node cg:relationProperty ?p ; ?q ?o FILTER (?q IN (skos:prefLabel, cg:inverseLabel))
    BIND ("kind" AS ?part)""",
        f"""{{ SELECT ?p ?other WHERE {{ ?kind cg:relationProperty ?p . {thing} ?p ?other
      FILTER (isIRI(?other) {leave_out}) }} LIMIT {limit} }}
    BIND ("from" AS ?part)""",
        f"""{{ SELECT ?p ?other WHERE {{ ?kind cg:relationProperty ?p . ?other ?p {thing}
      FILTER (isIRI(?other) {leave_out}) FILTER NOT EXISTS {{ ?other a schema:MonetaryGrant }}
    }} LIMIT {limit} }}
    BIND ("to" AS ?part)""",
        f"""{{ SELECT ?node ?p WHERE {{ ?node ?p {thing} FILTER (isIRI(?node) {leave_out}) }}
      LIMIT {limit} }}
    BIND ("incoming" AS ?part)""",
    ]
    if f"{ORG}member" not in skip and f"{ORG}organization" not in skip:
        arms += [
            f"""{{ SELECT ?other ?role WHERE {{ ?node org:{mine} {thing} ; org:{theirs} ?other
      OPTIONAL {{ ?node org:role ?role }} }} LIMIT {limit} }}
    BIND ("{part}" AS ?part)"""
            for mine, theirs, part in (
                ("member", "organization", "member-of"),
                ("organization", "member", "has-member"),
            )
        ]
    union = "\n  UNION\n".join(f"{{ {arm} }}" for arm in arms)
    rows = _select(
        reader,
        f"{PREFIXES}SELECT ?part ?node ?p ?q ?o (LANG(?o) AS ?lang) (isIRI(?o) AS ?iri) "
        f"?other ?role WHERE {{\n  {union}\n}}",
    )
    return _sorted(rows)


def _select(reader: StoreReader, query: str) -> list[Row]:
    """Rows of `query` as `{variable: lexical value}`, unbound and empty values left out. Read
    as CSV: the query binds the language and kind of each value itself, and thousands of rows
    (the grants of a large funder) parse several times faster than as SPARQL JSON."""
    output = reader.query(query, results_format=ox.QueryResultsFormat.CSV, graph_format=None)
    assert isinstance(output, QueryOutput)
    lines = csv.reader(io.StringIO(output.body.decode("utf-8"), newline=""))
    header = next(lines, [])
    return [{k: value for k, value in zip(header, line, strict=True) if value} for line in lines]


def _sorted(rows: list[Row]) -> Around:
    around = Around()
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        part = row["part"]
        if part in ("service", "grant"):
            nodes = around.services if part == "service" else around.grants
            nodes.setdefault(row["node"], {}).setdefault(row["p"], []).append(row)
            continue
        counts[part] += 1
        if part == "kind":
            around.kinds.append(row)
        elif part == "incoming":
            around.incoming.append(row)
        else:
            around.relations.append(row)
    if len(around.services) > SHOWN:
        around.cut.add("services")
    if len(around.grants) > SHOWN:
        around.cut.add("grants")
    if any(counts[part] > SHOWN for part in ("from", "to", *MEMBERSHIPS)):
        around.cut.add("relations")
    if counts["incoming"] > SHOWN:
        around.cut.add("incoming")
    return around


def view(around: Around, iri: str, named: dict[str, str], base: str) -> Neighbours:
    """What the page of `iri` lists around it, every IRI named by its label (`named`)."""
    received, given = _grants(around, iri, named, base)
    return Neighbours(
        services=_services(around, named, base),
        relations=_relations(around, received, given, named, base),
        received=received,
        given=given,
        cut=around.cut,
    )


def _best(values: dict[str, list[Row]], prop: str) -> str:
    """The literal of `prop` in the pages' language order (the smallest within a language)."""
    found = [(rank(row.get("lang", "")), row["o"]) for row in values.get(prop, ())]
    return min(found)[1] if found else ""


def _iris(values: dict[str, list[Row]], prop: str) -> list[str]:
    return sorted({row["o"] for row in values.get(prop, ()) if row.get("iri") == "true"})


def _link(iri: str, named: dict[str, str], base: str) -> Link:
    return Link(iri, name(iri, named), href(iri, base))


def _links(iris: list[str], named: dict[str, str], base: str) -> tuple[Link, ...]:
    return tuple(sorted((_link(i, named, base) for i in iris), key=lambda k: k.label.lower()))


def _services(around: Around, named: dict[str, str], base: str) -> list[Service]:
    found = [
        Service(
            page=Link(node, _best(values, f"{SCHEMA}name"), href(node, base)),
            kinds=_links(_iris(values, f"{DCT}type"), named, base),
            audiences=_links(_iris(values, f"{DCT}audience"), named, base),
            sectors=_links(_iris(values, f"{CV}sector"), named, base),
        )
        for node, values in around.services.items()
        if f"{SCHEMA}Service" in _iris(values, RDF_TYPE)
    ]
    found.sort(key=lambda s: ([k.label.lower() for k in s.kinds], s.page.label.lower()))
    return found[:SHOWN]


def _grants(
    around: Around, iri: str, named: dict[str, str], base: str
) -> tuple[list[Grant], list[Grant]]:
    """The grants `iri` received and those it gave, latest first, then by the other party."""
    received, given = [], []
    for node, values in around.grants.items():
        funders, items = _iris(values, FUNDER), _iris(values, f"{SCHEMA}fundedItem")
        try:
            value: Decimal | None = Decimal(_best(values, f"{SCHEMA}value"))
        except InvalidOperation:  # no amount (or not a number)
            value = None
        grant = Grant(
            page=Link(node, _best(values, f"{SCHEMA}name") or "grant", href(node, base)),
            funder=_link(funders[0], named, base) if funders else None,
            beneficiary=_link(items[0], named, base) if items else None,
            value=value,
            currency=_best(values, f"{SCHEMA}currency"),
            year=_best(values, f"{SCHEMA}startDate"),
            purpose=_best(values, f"{SCHEMA}description"),
        )
        if iri in items:
            received.append(grant)
        if iri in funders:
            given.append(grant)

    def ordered(grants: list[Grant], other: str) -> list[Grant]:
        def party(grant: Grant) -> str:
            link = getattr(grant, other)
            return link.label.lower() if link else ""

        grants.sort(key=lambda g: (party(g), g.purpose, g.page.iri))
        grants.sort(key=lambda g: g.year, reverse=True)  # stable: by party within a year
        return grants[:SHOWN]

    return ordered(received, "funder"), ordered(given, "beneficiary")


def _relations(
    around: Around, received: list[Grant], given: list[Grant], named: dict[str, str], base: str
) -> list[Relation]:
    """Relationships both ways, each read from this actor; a funding a grant shows (with its
    amount and year) is not repeated."""
    readings: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    kinds: dict[str, str] = {}  # property -> relationship kind
    for row in around.kinds:
        kinds[row["p"]] = row["node"]
        direction = "to" if row["q"] == f"{CG}inverseLabel" else "from"
        readings[(row["p"], direction)].append((rank(row.get("lang", "")), row["o"]))
    shown_as_grant = {
        "from": {g.funder.iri for g in received if g.funder},
        "to": {g.beneficiary.iri for g in given if g.beneficiary},
    }
    found: dict[tuple[str, str], Relation] = {}
    for row in around.relations:
        part, other = row["part"], row["other"]
        direction = MEMBERSHIPS.get(part, part)
        prop = MEMBER_OF if part in MEMBERSHIPS else row["p"]
        if prop == FUNDER and other in shown_as_grant[direction]:
            continue
        ranked = sorted(readings[(prop, direction)])
        local = prop.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        text = ranked[0][1] if ranked else local if direction == "from" else f"{local} (inverse)"
        kind = kinds.get(prop, prop)
        role = row.get("role")
        relation = Relation(
            Link(kind, text, href(kind, base)),
            _link(other, named, base),
            _link(role, named, base) if role else None,
            direction == "from",
        )
        key = (text, other)  # a partnership stated both ways, a membership stated twice: once
        if key not in found or (relation.role and not found[key].role):
            found[key] = relation
    listed = sorted(found.values(), key=lambda r: (r.reading.label, r.other.label.lower()))
    return listed[:SHOWN]
