"""Identity across sources: the same real-world actor in several sources becomes one actor IRI.

Mappers mint actor IRIs from their own record keys. Before validation, each actor is matched
against the actors other sources registered, in order of strength: Belgian enterprise number,
then website host, then normalised name within the same municipality. A match renames the actor
to the existing canonical IRI (its source records stay linked by `prov:wasDerivedFrom`); no match
keeps the minted key. When strong evidence (enterprise number, website) ties an actor to two
existing keys, the younger key is replaced by the older one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, SKOS

from creative_graph.iris import Iris
from creative_graph.namespaces import ADMS, CV, LOCN, ORG, concept
from ingest.linking import NUTS, REFNIS, name_key, normalise_kbo, website_host
from ingest.mappers import Mapped
from ingest.registry import Registry
from ingest.staging import Staging

KBO_SCHEME = concept("identifier-scheme", "be-kbo")
STRONG = ("kbo", "host")
# which claims of other sources a region-scoped name may match (see `match_keys`)
REGION_MATCHES = {
    "name-region": ("name-region-unplaced",),
    "name-region-unplaced": ("name-region", "name-region-unplaced"),
}
# Hosts shared by many unrelated actors: a page there says nothing about who the actor is.
PLATFORM_HOSTS = {
    "facebook.com", "instagram.com", "twitter.com", "x.com", "linkedin.com", "meetup.com",
    "fablabs.io", "hackerspaces.org", "wordpress.com", "blogspot.com", "wix.com", "google.com",
    "sites.google.com", "eventbrite.com", "youtube.com", "github.com", "bruxelles.be",
    "brussels.be", "brussel.be", "europa.eu",
}  # fmt: skip
IDENTITY_TITLE = "Actor identity: replaced actor IRIs and their survivors"
ORGANISATION_CLASSES = {ORG.Organization, ORG.FormalOrganization, ORG.OrganizationalCollaboration,
                        ORG.OrganizationalUnit, CV.PublicOrganisation,
                        URIRef("https://w3id.org/creative-graph/ns#CreativeEcosystem"),
                        URIRef("https://w3id.org/creative-graph/ns#EcosystemNetwork")}  # fmt: skip


@dataclass
class Resolution:
    renames: dict[str, str] = field(default_factory=dict)  # minted actor IRI -> canonical IRI
    records: dict[str, str] = field(default_factory=dict)  # local key -> canonical key
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, key)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (replaced key, survivor key)
    matched: int = 0  # actors found in another source


@dataclass
class Evidence:
    """What the mapped triples say about one actor that can identify it across sources."""

    enterprise_numbers: list[str] = field(default_factory=list)
    homepages: list[str] = field(default_factory=list)
    units: set[str] = field(default_factory=set)  # cv:adminUnit IRIs of its sites' addresses
    labels: list[str] = field(default_factory=list)


def units_by_actor(staging: Staging) -> dict[str, set[str]]:
    """The administrative units (cv:adminUnit) of each actor's sites' addresses."""
    units: dict[str, set[str]] = defaultdict(set)
    query = (
        f"SELECT ?a ?u WHERE {{ ?a <{ORG.hasPrimarySite}>|<{ORG.hasSite}> ?site . "
        f"?site <{LOCN.address}> ?address . ?address <{CV.adminUnit}> ?u }}"
    )
    for actor, unit in staging.select(query):
        units[actor].add(unit)
    return units


def enterprise_numbers(staging: Staging) -> Iterator[tuple[str, str]]:
    """(actor, notation) of every Belgian enterprise number identifier."""
    yield from staging.select(  # type: ignore[misc]
        f"SELECT ?a ?n WHERE {{ ?a <{ADMS.identifier}> ?i . "
        f"?i <{DCTERMS.conformsTo}> <{KBO_SCHEME}> ; <{SKOS.notation}> ?n }}"
    )


def evidence(staging: Staging, actors: list[str]) -> dict[str, Evidence]:
    found = {actor: Evidence() for actor in actors}
    for actor, number in enterprise_numbers(staging):
        if actor in found:
            found[actor].enterprise_numbers.append(number)
    for actor, homepage in staging.select(f"SELECT ?a ?h WHERE {{ ?a <{FOAF.homepage}> ?h }}"):
        if actor in found:
            found[actor].homepages.append(homepage)
    for actor, units in units_by_actor(staging).items():
        if actor in found:
            found[actor].units = units
    for actor, label in staging.select(f"SELECT ?a ?l WHERE {{ ?a <{SKOS.prefLabel}> ?l }}"):
        if actor in found:
            found[actor].labels.append(label)
    return found


def match_keys(facts: Evidence, region: str | None = None) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs that identify an actor across sources, strongest kinds first.

    `region` is the NUTS 3 code assumed for actors without an address (see `match_region`).
    """
    for raw in facts.enterprise_numbers:
        number = normalise_kbo(raw)
        if number:
            yield "kbo", number
    for homepage in facts.homepages:
        host = website_host(homepage)
        if host and not _on_platform(host):
            yield "host", host
    units = facts.units
    municipalities = {u.removeprefix(REFNIS) for u in units if u.startswith(REFNIS)}
    regions = {
        u.removeprefix(NUTS) for u in units if u.startswith(NUTS) and len(u) - len(NUTS) == 5
    }
    placed = bool(municipalities)
    if not regions and not placed and region:
        regions = {region}
    for label in facts.labels:
        key = name_key(label)
        if not key:
            continue
        for municipality in municipalities:
            yield "name", f"{key}|{municipality}"
        for nuts3 in regions:
            yield ("name-region" if placed else "name-region-unplaced"), f"{key}|{nuts3}"


def _on_platform(host: str) -> bool:
    """True for a platform host or any of its subdomains (someone.wordpress.com)."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in PLATFORM_HOSTS for i in range(len(labels) - 1))


def organisations(staging: Staging) -> list[str]:
    """Every organisation the staged triples describe, whoever minted its IRI."""
    classes = " ".join(f"<{c}>" for c in sorted(ORGANISATION_CLASSES))
    query = f"SELECT DISTINCT ?a WHERE {{ VALUES ?c {{ {classes} }} ?a a ?c FILTER isIRI(?a) }}"
    return sorted(actor for (actor,) in staging.select(query))


def actors(staging: Staging, iris: Iris) -> list[str]:
    """The organisations whose IRIs this instance minted (the ones identity may rename)."""
    prefix = iris.thing("actor", "")
    return [a for a in organisations(staging) if a.startswith(prefix)]


def resolve(
    mapped: Mapped, source: str, registry: Registry, iris: Iris, region: str | None = None
) -> Resolution:
    """Decide the canonical key of every actor the mapper produced (nothing is written yet)."""
    resolution = Resolution()
    prefix = iris.thing("actor", "")
    staging = mapped.staged()
    keys_of = {
        actor: sorted(set(match_keys(facts, region)))
        for actor, facts in evidence(staging, actors(staging, iris)).items()
    }
    # a value several actors of this very source share (a university host) identifies none of them
    shared = Counter(pair for keys in keys_of.values() for pair in keys)
    claims = registry.claims_of_others(
        source,
        ((k, value) for (kind, value) in shared for k in REGION_MATCHES.get(kind, (kind,))),
    )
    known_records = registry.record_keys(source)
    for actor, all_keys in keys_of.items():
        local = actor.removeprefix(prefix)
        keys = [pair for pair in all_keys if shared[pair] == 1]
        found: dict[str, set[str]] = {}
        for kind, value in keys:
            # a name within a region is evidence only when one side's municipality is unknown
            kinds = REGION_MATCHES.get(kind, (kind,))
            claimed = set().union(*(claims.get((k, value), set()) for k in kinds))
            if len(claimed) == 1:  # ambiguous evidence merges nothing
                found.setdefault(kind.removesuffix("-unplaced"), set()).update(claimed)
        strong = set().union(*(found.get(kind, set()) for kind in STRONG))
        known = known_records.get(local)
        if known:
            canonical = known
        elif strong:
            canonical = min(strong, key=lambda k: (registry.created(k), k))
        elif len(found.get("name", set())) == 1:
            canonical = next(iter(found["name"]))
        elif len(found.get("name-region", set())) == 1:
            canonical = next(iter(found["name-region"]))
        else:
            canonical = local
        if canonical != local and not known:
            resolution.matched += 1
        for other in sorted(strong - {canonical}):
            older = min((canonical, other), key=lambda k: (registry.created(k), k))
            younger = other if older == canonical else canonical
            resolution.merges.append((younger, older))
            canonical = older
        resolution.records[local] = canonical
        resolution.claims.extend((kind, value, canonical) for kind, value in keys)
        if canonical != local:
            resolution.renames[actor] = prefix + canonical
    return resolution


def apply(mapped: Mapped, renames: dict[str, str]) -> None:
    """Rewrite the staged triples (and the locators) with the canonical actor IRIs."""
    if not renames:
        return
    pairs = " ".join(f"(<{old}> <{new}>)" for old, new in sorted(renames.items()))
    # subjects first, then objects: a triple linking two renamed actors gets both renamed
    mapped.staged().update(
        f"DELETE {{ ?old ?p ?o }} INSERT {{ ?new ?p ?o }} "
        f"WHERE {{ VALUES (?old ?new) {{ {pairs} }} ?old ?p ?o }} ;\n"
        f"DELETE {{ ?s ?p ?old }} INSERT {{ ?s ?p ?new }} "
        f"WHERE {{ VALUES (?old ?new) {{ {pairs} }} ?s ?p ?old }}"
    )
    for old, new in renames.items():
        where = mapped.locate(old)
        if where is not None:
            mapped.locators[new] = where


def commit(resolution: Resolution, source: str, registry: Registry) -> None:
    """Persist what `resolve` decided, after the store has accepted the data."""
    write(resolution, source, registry)
    registry.commit()


def write(resolution: Resolution, source: str, registry: Registry) -> None:
    """Write what `resolve` decided into the registry's open transaction, without committing."""
    registry.ensure_actors(
        set(resolution.records.values()) | {k for pair in resolution.merges for k in pair}
    )
    for younger, older in resolution.merges:
        registry.replace(younger, older)
    registry.set_records(source, resolution.records)
    registry.set_claims(source, resolution.claims)


def identity_graph(registry: Registry, iris: Iris) -> Graph:
    """`owl:sameAs` and `dct:isReplacedBy` from every replaced actor IRI to its survivor."""
    graph = Graph()
    for replaced, survivor in registry.replacements():
        old, new = URIRef(iris.thing("actor", replaced)), URIRef(iris.thing("actor", survivor))
        graph.add((old, OWL.sameAs, new))
        graph.add((old, DCTERMS.isReplacedBy, new))
    graph.add((URIRef(iris.graph("identity")), DCTERMS.title, Literal(IDENTITY_TITLE)))
    return graph
