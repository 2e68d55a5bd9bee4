"""Generate a realistic steward CSV (docs/STEWARD-TEMPLATE.md) of any size, deterministically.

Every value is one the steward-csv mapper and the shapes accept, drawn from the project's own
reference data:

- types, services, target groups and sectors are codes of `ontology/concepts/*.ttl`, and names
  and descriptions use those concepts' English, French and Dutch labels;
- post codes are the Brussels ones of `ingest/reference/belgian-postcodes.csv` (1050 and the
  other shared codes get the municipality's name too), and each longitude/latitude is a point
  inside that municipality's polygon (`creative_graph/reference/brussels-municipalities.geojson`);
- about 30 % of the rows carry a Belgian enterprise number that passes the mod-97 check,
  written in the usual ways (`0876.543.270`, `BE 0876543270`, `0876543270`);
- rows point at other rows: networks (`member_of`), partners, hosts and funders.

Names, ids, website hosts and enterprise numbers are unique within a file and do not collide
between files generated with seeds that differ modulo 64, so two generated sources loaded side
by side do not match each other's actors (identity matching merges nothing). The same
(actors, seed) always gives byte-identical output.

Run: .venv/bin/python bench/steward_generator.py OUT_DIR [--actors N] [--seed S] [--name NAME]
writes OUT_DIR/actors.csv and OUT_DIR/source.toml, a source `creative-graph ingest` accepts.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

ROOT = Path(__file__).resolve().parents[1]
CONCEPTS = ROOT / "ontology" / "concepts"
REFERENCE = ROOT / "ingest" / "reference"
BOUNDARIES = ROOT / "creative_graph" / "reference" / "brussels-municipalities.geojson"
CONCEPT_BASE = "https://w3id.org/creative-graph/concept/"

COLUMNS = (
    "id", "name_en", "name_fr", "name_nl", "type", "services", "target_groups", "sectors",
    "street", "number", "postcode", "municipality", "country", "longitude", "latitude",
    "website", "email", "phone", "enterprise_number", "description_en", "description_fr",
    "description_nl", "member_of", "partner_of", "hosted_by", "funded_by",
)  # fmt: skip

# Fixed-length syllables: a concatenation decodes one way only, so distinct indexes give
# distinct names (and distinct name keys, website hosts and ids).
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]  # 70
_WORD = len(_SYLLABLES) ** 2  # a two-syllable word
_NAME_SPACE = _WORD**2  # 24,010,000 names of two words
_SEED_SLOTS = 64  # seeds differing modulo 64 draw from disjoint index sets
_KBO_LOW, _KBO_SPAN = 2_000_000, 18_000_000  # 8-digit bases 02000000..19999999

_STREETS_FR = ("Rue", "Avenue", "Chaussée", "Place", "Boulevard", "Quai", "Square", "Drève")
_STREET_WORDS = (
    ("des Tanneurs", "Huidevetters"), ("du Midi", "Zuid"), ("de la Loi", "Wet"),
    ("des Arts", "Kunst"), ("du Canal", "Kanaal"), ("de Flandre", "Vlaanderen"),
    ("du Marché", "Markt"), ("des Brasseurs", "Brouwers"), ("de la Station", "Station"),
    ("du Moulin", "Molen"), ("des Ateliers", "Werkplaatsen"), ("de l'Église", "Kerk"),
    ("du Parc", "Park"), ("des Fleurs", "Bloemen"), ("de la Senne", "Zenne"),
    ("du Théâtre", "Theater"), ("des Palais", "Paleizen"), ("de la Source", "Bron"),
)  # fmt: skip
_STREETS_NL = ("straat", "laan", "steenweg", "plein", "kaai", "dreef")
_TLDS = (".be", ".be", ".be", ".brussels", ".org", ".eu", ".com")
_PLATFORMS = ("https://www.facebook.com/", "https://www.instagram.com/")
# Types whose rows other rows point at, and the types the remaining rows draw from.
_NETWORK_TYPES = ("network", "cluster", "association")
_FUNDER_TYPES = ("public-body", "foundation")
_HOST_TYPES = ("hub", "coworking-space", "cultural-centre", "incubator")


@dataclass(frozen=True)
class Concept:
    code: str
    labels: dict[str, str]  # en, fr, nl


@dataclass(frozen=True)
class Municipality:
    refnis: str
    name_fr: str
    name_nl: str
    postcodes: tuple[str, ...]
    shared: frozenset[str]  # post codes that also belong to another municipality
    points: tuple[tuple[float, float], ...]  # points inside its polygon


@cache
def concepts(scheme: str) -> tuple[Concept, ...]:
    """The concepts of one scheme of `ontology/concepts/`, with their labels, sorted by code."""
    graph = Graph().parse(CONCEPTS / f"{scheme}.ttl", format="turtle")
    found = []
    for node in graph.subjects(SKOS.inScheme, URIRef(CONCEPT_BASE + scheme)):
        labels = {
            label.language: str(label)
            for label in graph.objects(node, SKOS.prefLabel)
            if label.language in ("en", "fr", "nl")
        }
        found.append(Concept(str(node).rsplit("/", 1)[1], labels))
    return tuple(sorted(found, key=lambda c: c.code))


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i, (xi, yi, *_) in enumerate(ring):
        xj, yj, *_ = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@cache
def municipalities(points_each: int = 64) -> tuple[Municipality, ...]:
    """The 19 Brussels municipalities: post codes, names and points inside each polygon."""
    with (REFERENCE / "belgian-municipalities.csv").open(encoding="utf-8", newline="") as handle:
        names = {row["refnis"]: row for row in csv.DictReader(handle)}
    codes: dict[str, list[str]] = {}
    owners: dict[str, set[str]] = {}
    with (REFERENCE / "belgian-postcodes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["refnis"].startswith("21"):  # the Brussels-Capital Region
                codes.setdefault(row["refnis"], []).append(row["postcode"])
                owners.setdefault(row["postcode"], set()).add(row["refnis"])
    geojson = json.loads(BOUNDARIES.read_text("utf-8"))
    rng = random.Random(21000)  # the same points whatever the caller's seed
    found = []
    for feature in sorted(geojson["features"], key=lambda f: f["properties"]["refnis"]):
        refnis = feature["properties"]["refnis"]
        geometry = feature["geometry"]
        parts = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        outer = max((part[0] for part in parts), key=len)
        lons, lats = [p[0] for p in outer], [p[1] for p in outer]
        points: list[tuple[float, float]] = []
        while len(points) < points_each:
            lon, lat = rng.uniform(min(lons), max(lons)), rng.uniform(min(lats), max(lats))
            if _inside(lon, lat, outer):
                points.append((round(lon, 5), round(lat, 5)))
        postcodes = tuple(sorted(set(codes[refnis])))
        found.append(
            Municipality(
                refnis, names[refnis]["name_fr"], names[refnis]["name_nl"], postcodes,
                frozenset(c for c in postcodes if len(owners[c]) > 1), tuple(points),
            )
        )  # fmt: skip
    return tuple(found)


def kbo_number(base: int) -> str:
    """The 10-digit enterprise number with 8-digit `base` and its mod-97 check digits."""
    check = 97 - base % 97
    return f"{base:08d}{check:02d}"


def _permute(index: int, space: int, multiplier: int, offset: int) -> int:
    """A bijection of range(space) (multiplier coprime to space): spreads sequential indexes."""
    return (index * multiplier + offset) % space


def _word(number: int) -> str:
    first, second = divmod(number, len(_SYLLABLES))
    return (_SYLLABLES[first] + _SYLLABLES[second]).capitalize()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _written_kbo(number: str, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"{number[:4]}.{number[4:7]}.{number[7:]}"
    if style < 0.75:
        return f"BE {number}"
    return number


class _Generator:
    def __init__(self, actors: int, seed: int) -> None:
        self.actors, self.seed = actors, seed
        self.rng = random.Random(seed)
        self.types = {c.code: c for c in concepts("actor-type")}
        self.services = concepts("service-type")
        self.groups = concepts("target-group")
        self.sectors = concepts("sector")
        self.places = municipalities()
        self.ordinary = sorted(
            set(self.types) - set(_NETWORK_TYPES) - set(_FUNDER_TYPES) - {"organisation"}
        )
        # Every 50th row is a network, every 100th (from row 1) a funder, every 20th a host.
        self.networks = [i for i in range(actors) if i % 50 == 0]
        self.funders = [i for i in range(actors) if i % 100 == 1]
        self.hosts = [i for i in range(actors) if i % 20 == 2]
        self._network_set, self._funder_set = set(self.networks), set(self.funders)
        self._host_set = set(self.hosts)
        self.names = [self._name(i) for i in range(actors)]
        self.ids = [_slug(name) for name in self.names]

    def _name(self, index: int) -> str:
        slot = index * _SEED_SLOTS + self.seed % _SEED_SLOTS
        number = _permute(slot % _NAME_SPACE, _NAME_SPACE, 7_368_787, 1_234_567)
        first, second = divmod(number, _WORD)
        suffix = f" {slot // _NAME_SPACE + 1}" if slot >= _NAME_SPACE else ""
        return f"{_word(first)} {_word(second)}{suffix}"

    def _kbo(self, index: int) -> str:
        slot = (index * _SEED_SLOTS + self.seed % _SEED_SLOTS) % _KBO_SPAN
        return kbo_number(_KBO_LOW + _permute(slot, _KBO_SPAN, 7_368_787, 4_242_421))

    def _type(self, index: int) -> str:
        if index in self._network_set:
            return self.rng.choice(_NETWORK_TYPES)
        if index in self._funder_set:
            return self.rng.choice(_FUNDER_TYPES)
        if index in self._host_set:
            return self.rng.choice(_HOST_TYPES)
        return self.rng.choice(self.ordinary)

    def _others(self, pool: Sequence[int], index: int, most: int) -> list[str]:
        candidates = [i for i in self.rng.sample(pool, min(len(pool), most + 1)) if i != index]
        return [self.ids[i] for i in candidates[: self.rng.randint(1, most)]]

    def rows(self) -> Iterator[dict[str, str]]:
        for index in range(self.actors):
            yield self._row(index)

    def _row(self, index: int) -> dict[str, str]:
        rng = self.rng
        kind = self.types[self._type(index)]
        name = self.names[index]
        sectors = rng.sample(self.sectors, rng.choice((1, 1, 1, 2, 2, 3)))
        groups = rng.sample(self.groups, rng.choice((0, 1, 2, 2, 3)))
        services = rng.sample(self.services, rng.choice((0, 0, 1, 1, 2, 3)))
        row = dict.fromkeys(COLUMNS, "")
        row["id"] = self.ids[index]
        row["type"] = kind.code
        languages = rng.choice((("en", "fr", "nl"), ("fr", "nl"), ("fr",), ("nl",), ("en",)))
        for language in languages:
            label = kind.labels[language]
            row[f"name_{language}"] = f"{name} {label}" if language != "fr" else f"{label} {name}"
        row["services"] = ";".join(s.code for s in services)
        row["target_groups"] = ";".join(g.code for g in groups)
        row["sectors"] = ";".join(s.code for s in sectors) if rng.random() < 0.95 else ""
        place = rng.choice(self.places)
        if rng.random() < 0.9:
            self._address(row, place)
        if rng.random() < 0.85:
            lon, lat = rng.choice(place.points)
            row["longitude"], row["latitude"] = f"{lon:.5f}", f"{lat:.5f}"
        slug = self.ids[index]
        host = f"{slug}{rng.choice(_TLDS)}"
        if rng.random() < 0.7:
            row["website"] = (
                f"{rng.choice(_PLATFORMS)}{slug.replace('-', '')}"
                if rng.random() < 0.1
                else f"https://{'www.' if rng.random() < 0.6 else ''}{host}/"
            )
        if rng.random() < 0.6:
            row["email"] = f"{rng.choice(('info', 'contact', 'hello', 'bonjour'))}@{host}"
        if rng.random() < 0.4:
            row["phone"] = f"+32 2 {rng.randint(200, 799)} {rng.randint(10, 99)} " + str(
                rng.randint(10, 99)
            )
        if rng.random() < 0.3:
            row["enterprise_number"] = _written_kbo(self._kbo(index), rng)
        if rng.random() < 0.7:
            sector = sectors[0].labels
            row["description_en"] = (
                f"{kind.labels['en']} in {place.name_fr} working in {sector['en'].lower()}."
            )
            if rng.random() < 0.5:
                row["description_fr"] = (
                    f"{kind.labels['fr']} à {place.name_fr}, actif dans le secteur "
                    f"« {sector['fr'].lower()} »."
                )
            if rng.random() < 0.4:
                row["description_nl"] = (
                    f"{kind.labels['nl']} in {place.name_nl}, actief in de sector "
                    f"'{sector['nl'].lower()}'."
                )
        if rng.random() < 0.3:
            row["member_of"] = ";".join(self._others(self.networks, index, 2))
        if rng.random() < 0.2:
            row["partner_of"] = ";".join(self._others(range(self.actors), index, 2))
        if rng.random() < 0.05:
            row["hosted_by"] = ";".join(self._others(self.hosts, index, 1))
        if rng.random() < 0.15:
            row["funded_by"] = ";".join(self._others(self.funders, index, 2))
        return row

    def _address(self, row: dict[str, str], place: Municipality) -> None:
        rng = self.rng
        french, dutch = rng.choice(_STREET_WORDS)
        street_fr = f"{rng.choice(_STREETS_FR)} {french}"
        street_nl = f"{dutch}{rng.choice(_STREETS_NL)}"
        row["street"] = rng.choice((street_fr, street_nl, f"{street_fr} / {street_nl}"))
        number = str(rng.randint(1, 250))
        row["number"] = number if rng.random() < 0.8 else f"{number} bte {rng.randint(1, 9)}"
        postcode = rng.choice(place.postcodes)
        row["postcode"] = postcode
        if postcode in place.shared or rng.random() < 0.5:
            row["municipality"] = rng.choice((place.name_fr, place.name_nl))
        if rng.random() < 0.2:
            row["country"] = "BE"


def write_csv(path: Path, actors: int, seed: int = 1) -> int:
    """Write a steward CSV of `actors` rows to `path`; returns the number of rows."""
    if actors < 1:
        raise ValueError("actors must be at least 1")
    generator = _Generator(actors, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(generator.rows())
    return actors


def write_source(directory: Path, actors: int, seed: int = 1, name: str = "bench-steward") -> Path:
    """A declared source (`source.toml` + `actors.csv`) in `directory`; returns `directory`."""
    write_csv(directory / "actors.csv", actors, seed)
    (directory / "source.toml").write_text(
        f'name = "{name}"\n'
        f'title = "Generated steward CSV: {actors} actors (seed {seed})"\n'
        'mapper = "steward-csv"\n'
        'files = ["actors.csv"]\n'
        'publisher = "creative-graph benchmark"\n'
        'attribution = "creative-graph benchmark (generated, fictitious actors)"\n\n'
        "[licence]\n"
        'name = "Creative Commons Attribution 4.0 International (CC BY 4.0)"\n'
        'iri = "https://creativecommons.org/licenses/by/4.0/"\n',
        encoding="utf-8",
    )
    return directory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("directory", type=Path, help="where to write actors.csv and source.toml")
    parser.add_argument("--actors", type=int, default=100_000, help="rows (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--name", default="bench-steward", help="source name (default %(default)s)")
    args = parser.parse_args(argv)
    write_source(args.directory, args.actors, args.seed, args.name)
    print(f"wrote {args.actors} actors to {args.directory / 'actors.csv'}")


if __name__ == "__main__":
    main()
