"""Identity across sources: the same real-world actor in several sources becomes one actor IRI.

Mappers mint actor IRIs from their own record keys. Before validation, each actor is matched
against the actors other sources registered, in order of strength: Belgian enterprise number,
then website host, then normalised name within the same municipality. A match renames the actor
to the existing canonical IRI (its source records stay linked by `prov:wasDerivedFrom`); no match
keeps the minted key. When strong evidence (enterprise number, website) ties an actor to two
existing keys, the younger key is replaced by the older one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, SKOS

from creative_graph.iris import Iris
from creative_graph.namespaces import ADMS, CV, LOCN, ORG, concept
from ingest.linking import NUTS, REFNIS, name_key, normalise_kbo, website_host
from ingest.mappers import Mapped
from ingest.registry import Registry

KBO_SCHEME = URIRef(concept("identifier-scheme", "be-kbo"))
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
    renames: dict[URIRef, URIRef] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)  # local key -> canonical key
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, key)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (replaced key, survivor key)
    matched: int = 0  # actors found in another source


def match_keys(graph: Graph, actor: URIRef, region: str | None = None) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs that identify `actor` across sources, strongest kinds first.

    `region` is the NUTS 3 code assumed for actors without an address (see `match_region`).
    """
    for identifier in graph.objects(actor, ADMS.identifier):
        if (identifier, DCTERMS.conformsTo, KBO_SCHEME) in graph:
            number = normalise_kbo(graph.value(identifier, SKOS.notation))
            if number:
                yield "kbo", number
    for homepage in graph.objects(actor, FOAF.homepage):
        host = website_host(str(homepage))
        if (
            host
            and host not in PLATFORM_HOSTS
            and not any(host.endswith("." + p) for p in PLATFORM_HOSTS)
        ):
            yield "host", host
    units = {
        str(unit)
        for predicate in (ORG.hasPrimarySite, ORG.hasSite)
        for site in graph.objects(actor, predicate)
        for address in graph.objects(site, LOCN.address)
        for unit in graph.objects(address, CV.adminUnit)
    }
    municipalities = {u.removeprefix(REFNIS) for u in units if u.startswith(REFNIS)}
    regions = {
        u.removeprefix(NUTS) for u in units if u.startswith(NUTS) and len(u) - len(NUTS) == 5
    }
    placed = bool(municipalities)
    if not regions and not placed and region:
        regions = {region}
    for label in graph.objects(actor, SKOS.prefLabel):
        key = name_key(str(label))
        if not key:
            continue
        for municipality in municipalities:
            yield "name", f"{key}|{municipality}"
        for nuts3 in regions:
            yield ("name-region" if placed else "name-region-unplaced"), f"{key}|{nuts3}"


def organisations(graph: Graph) -> list[URIRef]:
    """Every organisation the graph describes, whoever minted its IRI."""
    return sorted(
        {
            s
            for s, _, o in graph.triples((None, RDF.type, None))
            if o in ORGANISATION_CLASSES and isinstance(s, URIRef)
        }
    )


def actors(graph: Graph, iris: Iris) -> list[URIRef]:
    """The organisations whose IRIs this instance minted (the ones identity may rename)."""
    prefix = iris.thing("actor", "")
    return [s for s in organisations(graph) if str(s).startswith(prefix)]


def resolve(
    mapped: Mapped, source: str, registry: Registry, iris: Iris, region: str | None = None
) -> Resolution:
    """Decide the canonical key of every actor the mapper produced (nothing is written yet)."""
    resolution = Resolution()
    prefix = iris.thing("actor", "")
    keys_of = {
        actor: sorted(set(match_keys(mapped.graph, actor, region)))
        for actor in actors(mapped.graph, iris)
    }
    # a value several actors of this very source share (a university host) identifies none of them
    shared = Counter(pair for keys in keys_of.values() for pair in keys)
    for actor, all_keys in keys_of.items():
        local = str(actor).removeprefix(prefix)
        keys = [pair for pair in all_keys if shared[pair] == 1]
        found: dict[str, set[str]] = {}
        for kind, value in keys:
            # a name within a region is evidence only when one side's municipality is unknown
            kinds = REGION_MATCHES.get(kind, (kind,))
            claimed = set().union(*(registry.claimed_by_others(source, k, value) for k in kinds))
            if len(claimed) == 1:  # ambiguous evidence merges nothing
                found.setdefault(kind.removesuffix("-unplaced"), set()).update(claimed)
        strong = set().union(*(found.get(kind, set()) for kind in STRONG))
        known = registry.record_key(source, local)
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
            resolution.renames[actor] = URIRef(prefix + canonical)
    return resolution


def apply(mapped: Mapped, renames: dict[URIRef, URIRef]) -> None:
    """Rewrite the mapped graph (and its locators) with the canonical actor IRIs."""
    if not renames:
        return
    renamed = Graph()
    for prefix, namespace in mapped.graph.namespaces():
        renamed.bind(prefix, namespace)
    for s, p, o in mapped.graph:
        renamed.add((renames.get(s, s), p, renames.get(o, o)))  # type: ignore[arg-type]
    mapped.graph = renamed
    for old, new in renames.items():
        if str(old) in mapped.locators:
            mapped.locators[str(new)] = mapped.locators[str(old)]


def commit(resolution: Resolution, source: str, registry: Registry) -> None:
    """Persist what `resolve` decided, after the store has accepted the data."""
    for key in set(resolution.records.values()) | {k for pair in resolution.merges for k in pair}:
        registry.ensure_actor(key)
    for younger, older in resolution.merges:
        registry.replace(younger, older)
    registry.set_records(source, resolution.records)
    registry.set_claims(source, resolution.claims)
    registry.commit()


def identity_graph(registry: Registry, iris: Iris) -> Graph:
    """`owl:sameAs` and `dct:isReplacedBy` from every replaced actor IRI to its survivor."""
    graph = Graph()
    for replaced, survivor in registry.replacements():
        old, new = URIRef(iris.thing("actor", replaced)), URIRef(iris.thing("actor", survivor))
        graph.add((old, OWL.sameAs, new))
        graph.add((old, DCTERMS.isReplacedBy, new))
    graph.add((URIRef(iris.graph("identity")), DCTERMS.title, Literal(IDENTITY_TITLE)))
    return graph
