"""Pages of creative ecosystems and networks of ecosystems: who takes part, where, since when.

The page of a `cg:CreativeEcosystem` or `cg:EcosystemNetwork` is its actor page
(`endpoint/resources.py`) with more: its names, description and territory, the networks it
belongs to (role and period when an `org:Membership` says so), and its members (`org:memberOf`
it, or an `org:Membership` of it) by name, `PAGE_SIZE` per page, with their type, municipality
or territory, role and period, counts by type, their points on the map, and the SPARQL query
that lists them all. Every query starts from the ecosystem's IRI or from the members of one
page (`VALUES`), so it reads the index entries of those things only, whatever the store holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlencode

from rdflib import Graph, Literal, URIRef

from creative_graph.namespaces import CG, CONCEPT, PREFIXES
from creative_graph.store import StoreReader
from endpoint import labels as labelling
from endpoint import maps
from endpoint.labels import labels, rank

ECOSYSTEM = f"{CG}CreativeEcosystem"
NETWORK = f"{CG}EcosystemNetwork"
KINDS = {ECOSYSTEM: "ecosystem", NETWORK: "network"}
PAGE_SIZE = 100
# Links to the thing that its page shows as members and memberships, not as "Pointed to by".
MEMBER_LINKS = tuple(
    f"http://www.w3.org/ns/org#{name}" for name in ("memberOf", "organization", "member")
)
REFNIS = "http://vocab.belgif.be/auth/refnis"
QUERY_PREFIXES = (
    "PREFIX org: <http://www.w3.org/ns/org#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX dct: <http://purl.org/dc/terms/>\n"
    "PREFIX locn: <http://www.w3.org/ns/locn#>\n"
    "PREFIX cv: <http://data.europa.eu/m8g/>\n"
    "PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
    "PREFIX time: <http://www.w3.org/2006/time#>\n"
    "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
)
# The role and period of a membership ?membership (inside a group that binds it).
TENURE = """
    OPTIONAL { ?membership org:role ?role }
    OPTIONAL { ?membership org:memberDuring ?period .
               OPTIONAL { ?period time:hasBeginning/time:inXSDDate ?start }
               OPTIONAL { ?period time:hasEnd/time:inXSDDate ?end } }"""


class NoSuchPage(LookupError):
    """A page of members past the last one."""


@dataclass(frozen=True)
class Link:
    """A thing named by its label, and where a page links it."""

    iri: str
    label: str
    href: str


@dataclass(frozen=True)
class Tenure:
    """The role and period of one membership."""

    role: Link | None
    start: str | None
    end: str | None

    @property
    def period(self) -> str:
        if self.start and self.end:
            return f"{self.start} to {self.end}"
        if self.start:
            return f"since {self.start}"
        return f"until {self.end}" if self.end else ""


@dataclass(frozen=True)
class Affiliation:
    """A network (or other organisation) the thing is a member of."""

    organization: Link
    tenures: tuple[Tenure, ...]


@dataclass(frozen=True)
class Member:
    thing: Link
    types: tuple[Link, ...]
    place: str
    territories: tuple[Link, ...]
    tenures: tuple[Tenure, ...]
    person: bool


@dataclass(frozen=True)
class TypeCount:
    type: Link | None  # None: members without a type
    count: int


@dataclass
class Collective:
    """What an ecosystem or network page shows beyond the actor page."""

    kind: str  # "ecosystem" or "network"
    names: list[tuple[str, str]]  # (name, language), every name it has
    description: str | None
    territories: list[Link]
    member_of: list[Affiliation]
    total: int
    by_type: list[TypeCount]
    members: list[Member]
    page: int
    pages: int
    first: int  # position of the first member shown, from 1
    query_link: str
    map: str | None


def kind(graph: Graph, subject: URIRef) -> str | None:
    """`"ecosystem"` or `"network"` when the description types the thing so, else None."""
    types = {str(t) for t in graph.objects(subject, URIRef(PREFIXES["rdf"] + "type"))}
    return next((KINDS[t] for t in (ECOSYSTEM, NETWORK) if t in types), None)


def href(iri: str, base: str) -> str:
    """Our own things and concepts link to this site's pages, other web IRIs to themselves;
    any other scheme (a source may write `javascript:...` as a territory) gets no link."""
    if iri.startswith(f"{base}id/"):
        return iri.replace(f"{base}id/", "/doc/", 1)
    if iri.startswith(str(CONCEPT)):
        return iri.replace(str(CONCEPT), "/concept/", 1)
    return iri if iri.startswith(("http://", "https://")) else ""


def members_pattern(thing: str) -> str:
    """The graph pattern binding ?member to every member of `thing`."""
    return (
        f"{{ ?member org:memberOf <{thing}> }} UNION "
        f"{{ ?membership org:organization <{thing}> ; org:member ?member }}"
    )


def listing_query(thing: str) -> str:
    """The query behind the member list, for people to run and change: every member at once."""
    return (
        f"{QUERY_PREFIXES}# the members of <{thing}>, their names and types\n"
        "SELECT DISTINCT ?member ?name ?type WHERE {\n"
        f"  {members_pattern(thing)}\n"
        "  OPTIONAL { ?member skos:prefLabel ?name }\n"
        "  OPTIONAL { ?member org:classification ?type }\n"
        "}\nORDER BY ?member"
    )


def _select(reader: StoreReader, query: str) -> list[dict[str, str]]:
    return reader.select(QUERY_PREFIXES + query)


@dataclass(frozen=True)
class Roster:
    """Every member of one ecosystem or network, in page order, and its counts."""

    members: tuple[str, ...]
    by_type: tuple[tuple[str | None, int], ...]  # (actor type, members), None: no type
    by_municipality: dict[str, int]  # REFNIS code -> members there


# Rosters of the latest pages asked for, per published snapshot: the next pages of a large
# ecosystem read only their own members (a roster of 10,000 members takes ~0.4 s to build).
_rosters: OrderedDict[tuple[str, str | None, str], Roster] = OrderedDict()
_rosters_lock = threading.Lock()
ROSTERS_KEPT = 32


def roster(reader: StoreReader, thing: str) -> Roster:
    """The roster of `thing` in the published snapshot (built once per snapshot)."""
    key = (str(reader.directory), reader.snapshot.name, thing)
    with _rosters_lock:
        if key in _rosters:
            _rosters.move_to_end(key)
            return _rosters[key]
    found = _build_roster(reader, thing)
    with _rosters_lock:
        _rosters[key] = found
        while len(_rosters) > ROSTERS_KEPT:
            _rosters.popitem(last=False)
    return found


def _build_roster(reader: StoreReader, thing: str) -> Roster:
    members = f"{{ SELECT DISTINCT ?member WHERE {{ {members_pattern(thing)} }} }}"
    # ordered by the name the page shows: the label of the first language in the pages' order
    # (en, fr, nl, any), the smallest of that language; one OPTIONAL, read by subject
    ordered = _select(
        reader,
        f"""SELECT ?member (MIN(?ranked) AS ?key) WHERE {{
          {members} OPTIONAL {{ ?member skos:prefLabel|rdfs:label ?label }}
          BIND (CONCAT(IF(LANG(?label) = "en", "0", IF(LANG(?label) = "fr", "1",
                       IF(LANG(?label) = "nl", "2", "3"))),
                       LCASE(STR(COALESCE(?label, ?member)))) AS ?ranked)
        }} GROUP BY ?member ORDER BY SUBSTR(?key, 2) ?member""",
    )
    by_type = _select(
        reader,
        # DISTINCT: an actor two sources describe has its type once in each of their graphs
        f"""SELECT ?type (COUNT(DISTINCT ?member) AS ?n) WHERE {{
          {members} OPTIONAL {{ ?member org:classification ?type }} }} GROUP BY ?type""",
    )
    by_unit = _select(
        reader,
        f"""SELECT ?unit (COUNT(DISTINCT ?member) AS ?n) WHERE {{
          {members} ?member org:hasPrimarySite/locn:address/cv:adminUnit ?unit
          FILTER (STRSTARTS(STR(?unit), "{REFNIS}")) }} GROUP BY ?unit""",
    )
    return Roster(
        members=tuple(row["member"] for row in ordered),
        by_type=tuple((row.get("type"), int(row["n"])) for row in by_type),
        by_municipality={row["unit"].rsplit("/", 1)[1]: int(row["n"]) for row in by_unit},
    )


def _details(
    reader: StoreReader, thing: str, shown: list[str]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Of the members shown: type, territory, municipality (with its language), point and
    whether a person; and the role and period of their memberships of `thing`."""
    if not shown:
        return [], []
    values = " ".join(f"<{m}>" for m in shown)
    details = _select(
        reader,
        f"""SELECT ?member ?type ?territory ?place (LANG(?place) AS ?lang) ?wkt ?person WHERE {{
          VALUES ?member {{ {values} }}
          OPTIONAL {{ ?member org:classification ?type }}
          OPTIONAL {{ ?member dct:spatial ?territory }}
          OPTIONAL {{ ?member org:hasPrimarySite ?site .
                     OPTIONAL {{ ?site locn:address/locn:adminUnitL2 ?place }}
                     OPTIONAL {{ ?site geo:hasGeometry/geo:asWKT ?wkt }} }}
          BIND (EXISTS {{ ?member a foaf:Person }} AS ?person) }}""",
    )
    tenures = _select(
        reader,
        f"""SELECT ?member ?role ?start ?end WHERE {{
          VALUES ?member {{ {values} }}
          ?membership org:member ?member ; org:organization <{thing}> . {TENURE} }}""",
    )
    return details, tenures


def _affiliations(reader: StoreReader, thing: str) -> list[dict[str, str]]:
    """Rows of ?organization ?role ?start ?end: what `thing` is a member of, and how."""
    return _select(
        reader,
        f"""SELECT ?organization ?role ?start ?end WHERE {{
          {{ <{thing}> org:memberOf ?organization }}
          UNION
          {{ ?membership org:member <{thing}> ; org:organization ?organization . {TENURE} }} }}""",
    )


def _tenures(rows: list[dict[str, str]], named: dict[str, str], base: str) -> tuple[Tenure, ...]:
    found = []
    for row in rows:
        role = row.get("role")
        tenure = Tenure(
            Link(role, named.get(role, role), href(role, base)) if role else None,
            row.get("start"),
            row.get("end"),
        )
        if (tenure.role or tenure.start or tenure.end) and tenure not in found:
            found.append(tenure)
    return tuple(found)


def _link(iri: str, named: dict[str, str], base: str) -> Link:
    """Named by the graph, else by a well-known code list (municipalities, NUTS, countries)."""
    return Link(iri, labelling.name(iri, named), href(iri, base))


def view(reader: StoreReader, graph: Graph, subject: URIRef, base: str, page: int) -> Collective:
    """The page of an ecosystem or network (`kind` says which); NoSuchPage past the last page."""
    thing = str(subject)
    members = roster(reader, thing)
    total = len(members.members)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NoSuchPage(f"There are {total} members, {PAGE_SIZE} a page: no page {page}.")
    shown = list(members.members[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    details, member_tenures = _details(reader, thing, shown)
    affiliations = _affiliations(reader, thing)
    spatial = URIRef(f"{PREFIXES['dct']}spatial")
    territories = sorted({str(t) for t in graph.objects(subject, spatial)})
    named = labels(
        reader,
        set(shown) | set(territories)
        | {row[k] for row in details for k in ("type", "territory") if k in row}
        | {concept for concept, _ in members.by_type if concept}
        | {row[k] for row in member_tenures + affiliations for k in ("role", "organization")
           if k in row},
    )  # fmt: skip
    listed = [_member(m, details, member_tenures, named, base) for m in shown]
    by_type = [
        TypeCount(_link(concept, named, base) if concept else None, n)
        for concept, n in members.by_type
    ]
    by_type.sort(key=lambda c: (-c.count, c.type is None, c.type.label.lower() if c.type else ""))
    organizations: dict[str, list[dict[str, str]]] = {}
    for row in affiliations:
        organizations.setdefault(row["organization"], []).append(row)
    member_of = [
        Affiliation(_link(org, named, base), _tenures(rows, named, base))
        for org, rows in organizations.items()
    ]
    member_of.sort(key=lambda a: a.organization.label.lower())
    return Collective(
        kind=kind(graph, subject) or "ecosystem",
        names=_names(graph, subject),
        description=_preferred(graph, subject, f"{PREFIXES['dct']}description"),
        territories=[_link(t, named, base) for t in territories],
        member_of=member_of,
        total=total,
        by_type=by_type,
        members=listed,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        query_link="/sparql?" + urlencode({"query": listing_query(thing)}),
        map=_map(details, listed, members.by_municipality),
    )


def _member(
    iri: str,
    details: list[dict[str, str]],
    tenures: list[dict[str, str]],
    named: dict[str, str],
    base: str,
) -> Member:
    rows = [row for row in details if row["member"] == iri]
    places = sorted({(rank(row.get("lang", "")), row["place"]) for row in rows if "place" in row})
    types = sorted({row["type"] for row in rows if "type" in row})
    territories = sorted({row["territory"] for row in rows if "territory" in row})
    return Member(
        thing=Link(iri, named.get(iri, iri), href(iri, base)),
        types=tuple(_link(t, named, base) for t in types),
        place=places[0][1] if places else "",
        territories=tuple(_link(t, named, base) for t in territories),
        tenures=_tenures([row for row in tenures if row["member"] == iri], named, base),
        person=any(row.get("person") == "true" for row in rows),
    )


def _map(
    details: list[dict[str, str]], listed: list[Member], by_municipality: dict[str, int]
) -> str | None:
    """The members of this page as points, the municipalities of all members shaded."""
    wkt = {row["member"]: row["wkt"] for row in details if "wkt" in row}
    points = []
    for member in listed:
        found = maps.wkt_point(wkt[member.thing.iri]) if member.thing.iri in wkt else None
        if found:
            points.append(maps.Point(*found, member.thing.label, member.thing.href))
    notes = {code: f"{n} member{'s' if n != 1 else ''}" for code, n in by_municipality.items()}
    return maps.draw(points, notes, "Members in the Brussels-Capital Region")


def _names(graph: Graph, subject: URIRef) -> list[tuple[str, str]]:
    found = []
    for prop in ("prefLabel", "altLabel"):
        for name in graph.objects(subject, URIRef(f"{PREFIXES['skos']}{prop}")):
            if isinstance(name, Literal):
                found.append((str(name), name.language or ""))
    return sorted(set(found), key=lambda n: (rank(n[1]), n[1], n[0]))


def _preferred(graph: Graph, subject: URIRef, prop: str) -> str | None:
    values = [v for v in graph.objects(subject, URIRef(prop)) if isinstance(v, Literal)]
    values.sort(key=lambda v: (rank(v.language or ""), str(v)))
    return str(values[0]) if values else None


def _roles(thing: dict[str, object], tenures: tuple[Tenure, ...], prop: str) -> list[object]:
    """`thing` as the value of `prop` (member, memberOf), or schema.org's Role pattern when a
    role or period is known: an OrganizationRole holding `prop` and its roleName, dates."""
    if not tenures:
        return [thing]
    roles: list[object] = []
    for tenure in tenures:
        role: dict[str, object] = {"@type": "OrganizationRole", prop: thing}
        if tenure.role:
            role["roleName"] = tenure.role.label
        if tenure.start:
            role["startDate"] = tenure.start
        if tenure.end:
            role["endDate"] = tenure.end
        roles.append(role)
    return roles


def schema_org(collective: Collective, document: dict[str, object]) -> dict[str, object]:
    """The actor page's schema.org Organization, with its other names, its territory
    (`areaServed`), the networks it belongs to (`memberOf`) and the members on this page
    (`member`), as OrganizationRoles when a role or period is known."""
    result = dict(document)
    others = sorted({name for name, _ in collective.names if name != document.get("name")})
    if others:
        result["alternateName"] = others
    if collective.description and "description" not in result:
        result["description"] = collective.description
    if collective.territories:
        result["areaServed"] = [
            {"@type": "AdministrativeArea", "@id": t.iri, "name": t.label}
            for t in collective.territories
        ]
    member_of = [
        role
        for a in collective.member_of
        for role in _roles(
            {"@type": "Organization", "@id": a.organization.iri, "name": a.organization.label},
            a.tenures,
            "memberOf",
        )
    ]
    if member_of:
        result["memberOf"] = member_of
    members = [
        role
        for m in collective.members
        for role in _roles(
            {
                "@type": "Person" if m.person else "Organization",
                "@id": m.thing.iri,
                "name": m.thing.label,
            },
            m.tenures,
            "member",
        )
    ]
    if members:
        result["member"] = members
    return result
