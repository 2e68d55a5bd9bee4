"""What the graph says about one thing: the thing's own triples and the nodes it owns.

An actor's page (`/doc/...`) and each version in the change stream (`/ldes/actors`) carry the
same description, so a consumer of the stream ends with what the pages show. The stream
describes a few things through the subject index (`describe_many`), every actor of a large
graph by reading it once (`describe_all`), and finds which things a change could concern
(`affected`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path

from creative_graph.store import Snapshot, StoreReader

OWNED = ("site", "address", "geometry", "identifier", "contact", "amount")
SITE_PARTS = ("address", "geometry")  # owned through the thing's sites
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

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


def actors_query(among: Sequence[str] | None = None) -> str:
    """SELECT ?actor: every actor of the graph with an IRI, once (only those `among` these)."""
    classes = " ".join(f"<{c}>" for c in ACTOR_CLASSES)
    values = "" if among is None else f"VALUES ?actor {{ {' '.join(f'<{i}>' for i in among)} }} "
    return (
        f"SELECT DISTINCT ?actor WHERE {{ {values}VALUES ?class {{ {classes} }} ?actor a ?class "
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


def affected(reader: StoreReader, subjects: Iterable[str], base: str) -> tuple[set[str], Snapshot]:
    """The things whose descriptions may differ once the triples of `subjects` changed: the
    subjects themselves, the things linking to the owned nodes among them, and the things
    linking to a site that links to a changed address or geometry. Links are looked up in the
    snapshot read: a link added or removed is a change of the subject that holds it, so that
    subject is among `subjects` already."""
    changed = set(subjects)
    parts = _under(changed, base, OWNED)
    linking, snapshot = reader.linking(sorted(parts))
    near = set().union(*linking.values())
    sites = set().union(*(linking[p] for p in _under(parts, base, SITE_PARTS)))
    further, _ = reader.linking(sorted(_under(sites, base, ("site",))))
    return changed | near | set().union(*further.values()), snapshot


def describe_all(
    reader: StoreReader, base: str, folder: Path
) -> tuple[Snapshot, Iterator[tuple[str, tuple[str, ...]]]]:
    """Every actor of the published snapshot with its description (as `describe_many` gives
    it), in IRI order, and the snapshot read.

    The snapshot is read once, graph by graph (`StoreReader.dump_graphs`), into a scratch
    SQLite file in `folder`, and the descriptions are put together from there: for a whole
    graph about twice as fast as a lookup per subject (term decoding dominates either way,
    and the dump has no seeks), in flat memory. The caller removes `folder`.
    """
    db = sqlite3.connect(folder / "descriptions.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # scratch: nothing to recover
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE lines (subject TEXT NOT NULL, chunk TEXT NOT NULL)")
    actors: set[str] = set()
    typed = tuple(f" <{RDF_TYPE}> <{c}> ." for c in ACTOR_CLASSES)

    def keep(text: bytes) -> None:
        rows: list[tuple[str, str]] = []
        subject, bucket = "", []
        for line in text.decode("utf-8").split("\n")[:-1]:
            token = line[: line.find(" ")]
            if token != subject:
                if bucket:
                    rows.append((subject[1:-1], "\n".join(bucket)))
                subject, bucket = token, []
            if token.startswith("<"):  # blank nodes are never part of a description
                bucket.append(line)
                if line.endswith(typed):
                    actors.add(token[1:-1])
        if bucket:
            rows.append((subject[1:-1], "\n".join(bucket)))
        db.executemany("INSERT INTO lines VALUES (?, ?)", rows)

    try:
        db.execute("BEGIN")
        snapshot = reader.dump_graphs(keep)
        db.execute("COMMIT")
        db.execute("CREATE INDEX by_subject ON lines (subject)")
    except BaseException:
        db.close()
        raise

    def lines_of(iri: str) -> list[str]:
        rows = db.execute("SELECT chunk FROM lines WHERE subject = ?", (iri,))
        return [line for (chunk,) in rows for line in chunk.split("\n")]

    def described() -> Iterator[tuple[str, tuple[str, ...]]]:
        with closing(db):
            for actor in sorted(actors):
                own = lines_of(actor)
                lines = set(own)
                for part in _under(_links(own), base, OWNED):
                    found = lines_of(part)
                    lines.update(found)
                    if _under({part}, base, ("site",)):
                        for deeper in _under(_links(found), base, SITE_PARTS):
                            lines.update(lines_of(deeper))
                yield actor, tuple(sorted(lines))

    return snapshot, described()


def _links(lines: Iterable[str]) -> set[str]:
    """The IRIs N-Triples lines (`<s> <p> <o> .`) point to."""
    found = set()
    for line in lines:
        start = line.find(" ", line.find(" ") + 1) + 1  # subjects and predicates hold no space
        if line.startswith("<", start) and not line.startswith("<<", start):
            found.add(line[start + 1 : -3])
    return found
