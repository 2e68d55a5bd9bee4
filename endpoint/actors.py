"""Who an actor is, as the top of its page says it: names, and facts read from its description.

The facts (`facts`) are the concepts it points to by their labels, linked to them (type,
sectors, target groups, status, territory, premises, municipality, NUTS region, country), its
address with the house number (`locn:thoroughfare` and `locn:locatorDesignator`), website and
contact, identifiers by scheme, the same thing in other datasets, and when a source last
updated it. `schema_org` says the same and what surrounds it (`endpoint/neighbours.py`) in
schema.org JSON-LD: an `Organization` with its `PostalAddress`, services offered, grants
received and networks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef

from creative_graph.descriptions import ACTOR_CLASSES
from creative_graph.namespaces import PREFIXES
from endpoint import maps
from endpoint.ecosystems import Link, href
from endpoint.labels import REFNIS, name, rank
from endpoint.neighbours import Neighbours

NS = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
SCHEMA, SKOS, ORG, DCT, CV, LOCN = (NS[p] for p in ("schema", "skos", "org", "dct", "cv", "locn"))
# Actors that schema.org calls an Organization (people are left without JSON-LD).
ORGANIZATIONS = frozenset(ACTOR_CLASSES) - {f"{NS['foaf']}Person"}
# What the page calls the concepts an actor points to, in the order it shows them.
CONCEPTS = (
    ("Type", f"{ORG}classification"),
    ("Sectors", f"{CV}sector"),
    ("Target groups", f"{DCT}audience"),
    ("Status", "https://w3id.org/creative-graph/ns#operationalStatus"),
    ("Territory", f"{DCT}spatial"),
)
ELSEWHERE = (
    ("Same as", f"{NS['owl']}sameAs"),
    ("Also at", f"{SCHEMA}sameAs"),
    ("See also", f"{NS['rdfs']}seeAlso"),
    ("Other pages", f"{NS['foaf']}page"),
)
UNITS = (  # administrative units of an address, by the start of their IRIs
    ("Municipality", REFNIS),
    ("NUTS region", "http://data.europa.eu/nuts/code/"),
    ("Country", "http://publications.europa.eu/resource/authority/country/"),
)
# Countries whose addresses put the house number before the street ("10 Downing Street").
NUMBER_FIRST = {"GB", "UK", "GBR", "IE", "IRL", "US", "USA", "CA", "CAN", "AU", "AUS", "NZ", "NZL",
                "FR", "FRA", "LU", "LUX"}  # fmt: skip
EMAIL = re.compile(r"(?:mailto:)?([^@\s<>\"']+@[^@\s<>\"']+)")
TELEPHONE = re.compile(r"[+\d][\d ()./-]{3,}")


@dataclass(frozen=True)
class Fact:
    """One line of the summary: what it is, and its values (each linked when it can be)."""

    label: str
    values: tuple[Link, ...]


def is_actor(graph: Graph, subject: URIRef) -> bool:
    types = {str(t) for t in graph.objects(subject, URIRef(f"{NS['rdf']}type"))}
    return bool(types & set(ACTOR_CLASSES))


def names(graph: Graph, subject: URIRef) -> list[tuple[str, str]]:
    """Every name (`skos:prefLabel`, `skos:altLabel`) with its language, in the pages' order."""
    found = {
        (str(label), label.language or "")
        for prop in ("prefLabel", "altLabel")
        for label in graph.objects(subject, URIRef(f"{SKOS}{prop}"))
        if isinstance(label, Literal)
    }
    return sorted(found, key=lambda n: (rank(n[1]), n[1], n[0]))


def by_text(found: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Names with the languages each is given in: `MAD Brussels (en, fr, nl)` once."""
    grouped: dict[str, list[str]] = {}
    for text, language in found:
        grouped.setdefault(text, []).append(language)
    return [(text, [lang for lang in langs if lang]) for text, langs in grouped.items()]


def title(graph: Graph, subject: URIRef) -> str:
    """The name a page goes by: its first `skos:prefLabel` in the pages' order (a service or a
    grant: its `schema:name`, or `rdfs:label`), else its IRI."""
    for prop in (f"{SKOS}prefLabel", f"{SCHEMA}name", f"{NS['rdfs']}label"):
        found = preferred(graph, subject, prop)
        if found:
            return found
    return str(subject)


def preferred(graph: Graph, subject: URIRef | None, prop: str) -> str | None:
    """The literal of `prop` in the pages' language order (the smallest within a language)."""
    return next(iter(_literals(graph, subject, prop)), None)


def _objects(graph: Graph, subject: URIRef | None, prop: str) -> list[str]:
    return [] if subject is None else sorted({str(o) for o in graph.objects(subject, URIRef(prop))})


def _literals(graph: Graph, subject: URIRef | None, prop: str) -> list[str]:
    """The distinct literals of `prop`, in the pages' language order (then alphabetical)."""
    if subject is None:
        return []
    values = [v for v in graph.objects(subject, URIRef(prop)) if isinstance(v, Literal)]
    values.sort(key=lambda v: (rank(v.language or ""), str(v)))
    return list(dict.fromkeys(str(v) for v in values))


def _links(iris: list[str], named: dict[str, str], base: str) -> tuple[Link, ...]:
    found = (Link(i, name(i, named), href(i, base)) for i in iris)
    return tuple(sorted(found, key=lambda link: link.label.lower()))


def _texts(values: list[str]) -> tuple[Link, ...]:
    return tuple(Link("", value, "") for value in values)


def site(graph: Graph, subject: URIRef) -> URIRef | None:
    """The actor's primary site, or else one of its sites."""
    for prop in ("hasPrimarySite", "hasSite"):
        found = _objects(graph, subject, f"{ORG}{prop}")
        if found:
            return URIRef(found[0])
    return None


def address(graph: Graph, subject: URIRef) -> URIRef | None:
    """The address of the actor's site (or its own `locn:address`, as a person's)."""
    holder = site(graph, subject) or subject
    found = _objects(graph, holder, f"{LOCN}address")
    return URIRef(found[0]) if found else None


def street(graph: Graph, place: URIRef, every_language: bool = False) -> str | None:
    """The street and house number: `Place du Nouveau Marché aux Grains 10` (the number first
    where the country writes it so, `10 Downing Street`); with `every_language`, the street's
    names in each language (`Rue de l'Exemple / Voorbeeldstraat 5`)."""
    streets = _literals(graph, place, f"{LOCN}thoroughfare")
    if not streets:
        return None
    way = " / ".join(streets) if every_language else streets[0]
    number = preferred(graph, place, f"{LOCN}locatorDesignator")
    if not number:
        return way
    countries = {c.upper() for c in _literals(graph, place, f"{LOCN}adminUnitL1")} | {
        unit.rsplit("/", 1)[-1] for unit in _objects(graph, place, f"{CV}adminUnit")
    }
    return f"{number} {way}" if countries & NUMBER_FIRST else f"{way} {number}"


def _address_facts(graph: Graph, place: URIRef, named: dict[str, str], base: str) -> list[Fact]:
    """The address on one line, and its administrative units by their names."""
    line = street(graph, place, every_language=True)
    lines = [line] if line else _literals(graph, place, f"{LOCN}fullAddress")
    towns = " / ".join(_literals(graph, place, f"{LOCN}postName"))
    post = " ".join(filter(None, [preferred(graph, place, f"{LOCN}postCode"), towns]))
    if post:
        lines.append(post)
    found = [Fact("Address", _texts([", ".join(lines)] if lines else []))]
    units = _objects(graph, place, f"{CV}adminUnit")
    for label, start in UNITS:
        linked = _links([u for u in units if u.startswith(start)], named, base)
        if not linked and start == REFNIS:  # a municipality the address only names
            linked = _texts(_literals(graph, place, f"{LOCN}adminUnitL2")[:1])
        found.append(Fact(label, linked))
    others = [u for u in units if not u.startswith(tuple(start for _, start in UNITS))]
    found.append(Fact("Administrative unit", _links(others, named, base)))
    return found


def _contact(graph: Graph, point: URIRef, base: str) -> list[Fact]:
    emails = []
    for value in _objects(graph, point, f"{CV}email"):
        found = EMAIL.fullmatch(value)
        emails.append(Link(value, found[1], f"mailto:{found[1]}") if found else Link("", value, ""))
    phones = []
    for value in _objects(graph, point, f"{CV}telephone"):
        number = value.removeprefix("tel:")
        dial = "".join(c for c in number if c.isdigit() or c == "+")
        phones.append(Link("", number, f"tel:{dial}" if TELEPHONE.fullmatch(number) else ""))
    pages = _objects(graph, point, f"{CV}contactPage")
    return [
        Fact("E-mail", tuple(emails)),
        Fact("Telephone", tuple(phones)),
        Fact("Contact page", tuple(Link(p, p, href(p, base)) for p in pages)),
    ]


def facts(
    graph: Graph, subject: URIRef, named: dict[str, str], base: str, updated: str | None
) -> list[Fact]:
    """The summary of an actor's page, every IRI named by its label (`named`); only the facts
    it has."""
    found = [Fact(label, _links(_objects(graph, subject, p), named, base)) for label, p in CONCEPTS]
    found.append(Fact("Founded", _texts(_literals(graph, subject, f"{SCHEMA}foundingDate"))))
    found.append(Fact("Dissolved", _texts(_literals(graph, subject, f"{SCHEMA}dissolutionDate"))))
    premises = _objects(graph, site(graph, subject), f"{DCT}type")
    found.append(Fact("Premises", _links(premises, named, base)))
    place = address(graph, subject)
    if place is not None:
        found += _address_facts(graph, place, named, base)
    homepages = _objects(graph, subject, f"{NS['foaf']}homepage")
    found.append(Fact("Website", tuple(Link(p, p, href(p, base)) for p in homepages)))
    for point in _objects(graph, subject, f"{CV}contactPoint"):
        found += _contact(graph, URIRef(point), base)
    for identifier in _objects(graph, subject, f"{NS['adms']}identifier"):
        schemes = _objects(graph, URIRef(identifier), f"{DCT}conformsTo")
        label = name(schemes[0], named) if schemes else "Identifier"
        notations = _literals(graph, URIRef(identifier), f"{SKOS}notation")
        found.append(Fact(label, _texts(notations)))
    for label, prop in ELSEWHERE:
        iris = _objects(graph, subject, prop)
        found.append(Fact(label, tuple(Link(i, i, href(i, base)) for i in iris)))
    if updated:
        found.append(Fact("Last updated", _texts([moment(updated)])))
    return [fact for fact in found if fact.values]


def moment(stamp: str) -> str:
    """`2024-05-01T10:20:30.123Z` -> `2024-05-01 10:20 UTC`."""
    if "T" not in stamp:
        return stamp
    day, time = stamp.split("T", 1)
    return f"{day} {time[:5]}{' UTC' if time.endswith(('Z', '+00:00')) else ''}"


def schema_org(
    graph: Graph,
    subject: URIRef,
    neighbours: Neighbours | None = None,
    named: dict[str, str] | None = None,
) -> dict[str, object] | None:
    """schema.org JSON-LD for search engines: an Organization with its names, address, place,
    identifiers, other pages, services (`makesOffer`), grants received (`funding`) and the
    organisations it is a member of; None for things that are not organisations."""
    types = {str(t) for t in graph.objects(subject, URIRef(f"{NS['rdf']}type"))}
    if not types & ORGANIZATIONS:
        return None
    heading = title(graph, subject)
    document: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": str(subject),
        "name": heading,
    }
    others = sorted({n for n, _ in names(graph, subject)} - {heading})
    if others:
        document["alternateName"] = others
    homepage = _objects(graph, subject, f"{NS['foaf']}homepage")
    if homepage:
        document["url"] = homepage[0]
    description = preferred(graph, subject, f"{DCT}description")
    if description:
        document["description"] = description
    place = address(graph, subject)
    if place is not None:
        document["address"] = postal_address(graph, place)
    point = _point(graph, subject)
    if point:
        document["geo"] = {"@type": "GeoCoordinates", "longitude": point[0], "latitude": point[1]}
    identifiers = [
        {"@type": "PropertyValue", "propertyID": name(scheme, named or {}), "value": notation}
        for identifier in _objects(graph, subject, f"{NS['adms']}identifier")
        for scheme in _objects(graph, URIRef(identifier), f"{DCT}conformsTo")[:1] or [""]
        for notation in _literals(graph, URIRef(identifier), f"{SKOS}notation")
    ]
    if identifiers:
        document["identifier"] = identifiers
    same = _objects(graph, subject, f"{NS['owl']}sameAs") + _objects(
        graph, subject, f"{SCHEMA}sameAs"
    )
    if same:
        document["sameAs"] = sorted(set(same))
    if neighbours is not None:
        document.update(_around(neighbours))
    return document


def postal_address(graph: Graph, place: URIRef) -> dict[str, str]:
    """schema.org's PostalAddress of a `locn:Address`: the street with its house number."""
    postal = {"@type": "PostalAddress"}
    values = {
        "streetAddress": street(graph, place),
        "postalCode": preferred(graph, place, f"{LOCN}postCode"),
        "addressLocality": preferred(graph, place, f"{LOCN}postName")
        or preferred(graph, place, f"{LOCN}adminUnitL2"),
        "addressCountry": preferred(graph, place, f"{LOCN}adminUnitL1"),
    }
    postal.update({key: value for key, value in values.items() if value})
    return postal


def _point(graph: Graph, subject: URIRef) -> tuple[float, float] | None:
    holder = site(graph, subject) or subject
    geometry = _objects(graph, holder, f"{NS['geo']}hasGeometry")
    wkt = _literals(graph, URIRef(geometry[0]), f"{NS['geo']}asWKT") if geometry else []
    return maps.wkt_point(wkt[0]) if wkt else None


def _thing(link: Link, kind: str = "Organization") -> dict[str, object]:
    return {"@type": kind, "@id": link.iri, "name": link.label}


def _around(neighbours: Neighbours) -> dict[str, object]:
    found: dict[str, object] = {}
    offers = []
    for service in neighbours.services:
        offered: dict[str, object] = {"@type": "Service", "@id": service.page.iri}
        kinds = [kind.label for kind in service.kinds]
        offered["name"] = service.page.label or ", ".join(kinds)
        if kinds:
            offered["serviceType"] = kinds
        if service.audiences:
            offered["audience"] = [
                {"@type": "Audience", "audienceType": a.label} for a in service.audiences
            ]
        offers.append({"@type": "Offer", "itemOffered": offered})
    if offers:
        found["makesOffer"] = offers
    grants = []
    for grant in neighbours.received:
        given: dict[str, object] = {"@type": "MonetaryGrant", "@id": grant.page.iri}
        if grant.funder:
            given["funder"] = _thing(grant.funder)
        if grant.value is not None:
            value = grant.value
            number = int(value) if value == value.to_integral_value() else float(value)
            amount: dict[str, object] = {"@type": "MonetaryAmount", "value": number}
            if grant.currency:
                amount["currency"] = grant.currency
            given["amount"] = amount
        if grant.year:
            given["startDate"] = grant.year
        if grant.purpose:
            given["description"] = grant.purpose
        grants.append(given)
    if grants:
        found["funding"] = grants
    member_of = [
        r.other
        for r in neighbours.relations
        if r.forward and r.reading.iri.endswith("/relationship-kind/membership")
    ]
    if member_of:
        found["memberOf"] = [_thing(link) for link in member_of]
    return found
