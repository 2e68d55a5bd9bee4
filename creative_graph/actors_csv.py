"""The CSV of actors (`actors.csv` among the dumps): one row per organisation.

Made in one pass over the N-Triples files the other dumps are made from, not by a SPARQL
query over the snapshot: at 100,000 actors a `GROUP BY` query with these columns took ~30 s,
and its `ORDER BY` another ~8 s (pyoxigraph decodes every term it compares), against ~10 s
for the pass. Rows are sorted by actor IRI. Where a column holds one value and the graph has
several, the smallest is taken, and for names the largest in code-point order (which keeps
"Théâtre" over "Theatre" when two sources differ only in accents; the `name` column is the
English, French or Dutch name, in that order, else any), so the same data always gives the
same file.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pyoxigraph as ox

COLUMNS = (
    "actor", "name_en", "name_fr", "name_nl", "name", "types", "sectors", "post_code",
    "municipality", "country", "website", "enterprise_number", "sources",
)  # fmt: skip
ORGANIZATION = ox.NamedNode("http://www.w3.org/ns/org#Organization")
MUNICIPALITIES = "http://vocab.belgif.be/"
COUNTRIES = "http://publications.europa.eu/resource/authority/country/"
# predicate -> the key its values are kept under
WANTED = {
    ox.NamedNode(iri): key
    for iri, key in (
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "type"),
        ("http://www.w3.org/2004/02/skos/core#prefLabel", "label"),
        ("http://www.w3.org/ns/org#classification", "types"),
        ("http://data.europa.eu/m8g/sector", "sectors"),
        ("http://www.w3.org/ns/org#hasPrimarySite", "site"),
        ("http://www.w3.org/ns/locn#address", "address"),
        ("http://www.w3.org/ns/locn#postCode", "post_code"),
        ("http://data.europa.eu/m8g/adminUnit", "unit"),
        ("http://xmlns.com/foaf/0.1/homepage", "website"),
        ("http://www.w3.org/ns/adms#identifier", "identifier"),
        ("http://www.w3.org/2004/02/skos/core#notation", "notation"),
    )
}
Facts = dict[str, defaultdict[str, set[str]]]


def _read(files: Iterable[tuple[str | None, Path]]) -> tuple[dict[str, set[str]], Facts]:
    """The organisations with the named graphs that type them, and the wanted facts by subject."""
    actors: dict[str, set[str]] = {}
    facts: Facts = {}
    for graph, path in files:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            key = WANTED.get(quad.predicate)
            if key is None:
                continue
            subject, value = quad.subject.value, quad.object
            if key == "type":
                if value == ORGANIZATION and graph is not None:
                    actors.setdefault(subject, set()).add(graph)
                continue
            if key == "label" and isinstance(value, ox.Literal):
                key = f"label@{value.language or ''}"
            facts.setdefault(subject, defaultdict(set))[key].add(value.value)
    return actors, facts


def _first(values: Iterable[str]) -> str:
    return min(values, default="")


def _row(actor: str, graphs: set[str], facts: Facts) -> list[str]:
    own = facts.get(actor) or defaultdict(set)
    names = {lang: max(own[f"label@{lang}"], default="") for lang in ("en", "fr", "nl")}
    any_name = next(
        (name for name in names.values() if name),
        max(
            (v for key, values in own.items() if key.startswith("label@") for v in values),
            default="",
        ),
    )
    addresses = {a for site in own["site"] for a in facts.get(site, {}).get("address", ())}
    parts = [facts[a] for a in sorted(addresses) if a in facts]
    units = {unit for part in parts for unit in part["unit"]}
    numbers = (n for i in own["identifier"] for n in facts.get(i, {}).get("notation", ()))
    return [
        actor, names["en"], names["fr"], names["nl"], any_name,
        " ".join(sorted(own["types"])), " ".join(sorted(own["sectors"])),
        _first(code for part in parts for code in part["post_code"]),
        _first(u for u in units if u.startswith(MUNICIPALITIES)),
        _first(u for u in units if u.startswith(COUNTRIES)),
        _first(own["website"]), _first(numbers), " ".join(sorted(graphs)),
    ]  # fmt: skip


def write(files: Iterable[tuple[str | None, Path]], out: IO[bytes]) -> int:
    """Write the CSV (UTF-8, CRLF, a header row) of the N-Triples `files`, each given with the
    named graph it holds (None: the default graph, which types no actor). Returns the rows."""
    actors, facts = _read(files)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for count, actor in enumerate(sorted(actors), start=1):
        writer.writerow(_row(actor, actors[actor], facts))
        if count % 10_000 == 0:
            out.write(text.getvalue().encode("utf-8"))
            text.seek(0)
            text.truncate()
    out.write(text.getvalue().encode("utf-8"))
    return len(actors)
