"""What the graph says about one thing: the thing's own triples and the nodes it owns.

An actor's page (`/doc/...`) and each version in the change stream (`/ldes/actors`) carry the
same description, so a consumer of the stream ends with what the pages show.
"""

from __future__ import annotations

from collections.abc import Sequence

from creative_graph.store import Snapshot, StoreReader

OWNED = ("site", "address", "geometry", "identifier", "contact", "amount")
SITE_PARTS = ("address", "geometry")  # owned through the thing's sites

# Every class whose instances are actors (organisations of every kind, and people).
ACTOR_CLASSES = (
    "http://www.w3.org/ns/org#Organization",
    "http://www.w3.org/ns/org#FormalOrganization",
    "http://www.w3.org/ns/org#OrganizationalCollaboration",
    "http://www.w3.org/ns/org#OrganizationalUnit",
    "http://data.europa.eu/m8g/PublicOrganisation",
    "https://w3id.org/creative-graph/ns#CreativeEcosystem",
    "https://w3id.org/creative-graph/ns#EcosystemNetwork",
    "http://xmlns.com/foaf/0.1/Person",
)


def _starts(variable: str, base: str, kinds: tuple[str, ...]) -> str:
    return " || ".join(f'STRSTARTS(STR({variable}), "{base}id/{kind}/")' for kind in kinds)


def _patterns(thing: str, base: str) -> str:
    """Triples ?s ?p ?o of `thing` (a variable or an IRI): its own, its parts', its sites'."""
    return f"""
      {{ {thing} ?p ?o BIND ({thing} AS ?s) }}
      UNION
      {{ {thing} ?link ?s . ?s ?p ?o .
         FILTER (isIRI(?s) && ({_starts("?s", base, OWNED)})) }}
      UNION
      {{ {thing} ?link ?site . ?site ?link2 ?s . ?s ?p ?o .
         FILTER (isIRI(?site) && isIRI(?s) && ({_starts("?site", base, ("site",))})
                 && ({_starts("?s", base, ("address", "geometry"))})) }}"""


def describe_query(iri: str, base: str) -> str:
    """CONSTRUCT the description of `iri`."""
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {_patterns(f'<{iri}>', base)} }}"


def actors_query() -> str:
    """SELECT ?actor: every actor of the graph with an IRI, once."""
    classes = " ".join(f"<{c}>" for c in ACTOR_CLASSES)
    return (
        f"SELECT DISTINCT ?actor WHERE {{ VALUES ?class {{ {classes} }} ?actor a ?class "
        "FILTER isIRI(?actor) }"
    )


def describe_many(
    reader: StoreReader, iris: Sequence[str], base: str
) -> tuple[dict[str, tuple[str, ...]], Snapshot]:
    """The descriptions of several things (as `describe_query` gives them), as sorted N-Triples
    lines, and the snapshot read. Walks the subject index instead of a query: a query that
    follows every link of a thing also walks its concepts and their schemes before filtering."""
    own, snapshot = reader.triples_about(iris)
    parts = {iri: _under(own[iri].links, base, OWNED) for iri in iris}
    found, _ = reader.triples_about(sorted(set().union(*parts.values())))
    deeper = {
        iri: set().union(
            *(_under(found[p].links, base, SITE_PARTS) for p in _under(parts[iri], base, ("site",)))
        )
        for iri in iris
    }
    more, _ = reader.triples_about(sorted(set().union(*deeper.values()) - found.keys()))
    found.update(more)
    described = {}
    for iri in iris:
        lines = set(own[iri].lines)
        for part in parts[iri] | deeper[iri]:
            lines |= found[part].lines
        described[iri] = tuple(sorted(f"{line} ." for line in lines))
    return described, snapshot


def _under(iris: set[str], base: str, kinds: tuple[str, ...]) -> set[str]:
    """The IRIs of things of the given kinds (`{base}id/{kind}/...`)."""
    prefixes = tuple(f"{base}id/{kind}/" for kind in kinds)
    return {iri for iri in iris if iri.startswith(prefixes)}
