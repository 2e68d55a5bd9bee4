"""What the graph says about one thing: the thing's own triples and the nodes it owns.

An actor's page (`/doc/...`) and each version in the change stream (`/ldes/actors`) carry the
same description, so a consumer of the stream ends with what the pages show.
"""

from __future__ import annotations

OWNED = ("site", "address", "geometry", "identifier", "contact", "amount")

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


def describe_many_query(iris: list[str], base: str) -> str:
    """SELECT ?actor ?s ?p ?o: the descriptions of several things at once."""
    values = " ".join(f"<{iri}>" for iri in iris)
    return (
        f"SELECT DISTINCT ?actor ?s ?p ?o WHERE {{ VALUES ?actor {{ {values} }} "
        f"{_patterns('?actor', base)} }}"
    )
