"""Mapper for the ReInHerit Digital Hub best practices: Markdown files with YAML front matter.

Each file documents one practice of a European museum or heritage organisation. It becomes a
`schema:CreativeWork` (a documented case) derived from a source record (`prov:Entity`). The
organisation running the practice (`orgbestpractice`) and the ReInHerit partner who documented
it (`partnerbestpractice`) become actors (`org:Organization`), one per distinct name across all
files (`linking.name_key`); the two are `cg:partnerOf` each other when they differ.

Privacy: `personsbestpractice` and `emailbestpractice` name a contact person and are never
mapped. Those names, and every e-mail address, are also removed from the free texts that are
mapped, and a comma-separated part of an organisation name that names a person ("Mag. Susanne
...") is dropped. The Markdown body after the front matter is not mapped.

Places: `locationbestpractice` is free text ("Dublin, Republic of Ireland", "Athens", "Online",
"Greece, Georgia, Romania, ..."). Every country it names (English names of the EU authority
table in `ingest/reference/eu-countries.csv`) becomes `dct:spatial` of the practice. A place
named without a country takes the country it has in another record ("Athens" -> "Athens,
Greece"), or in `KNOWN_PLACES`. An organisation's site is the place of the practices it runs,
when a strict majority of them lie in one country; no coordinates are given.

PyYAML cannot read a tab inside a plain scalar (valid YAML 1.2, written by the hub's CMS in one
file): such front matter is read again with its tabs replaced by spaces.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import CG, CV, LOCN, ORG, SCHEMA, concept
from ingest.errors import Problem, SourceError
from ingest.linking import Reference, name_key
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped

LOCATOR = "front matter"
PERSONAL_FIELDS = ("personsbestpractice", "emailbestpractice")
LONG_TEXTS = (
    "resourcesbestpractice",
    "successbestpractice",
    "challengesbestpractice",
    "transferbestpractice",
    "infosbestpractice",
)
URL_FIELDS = ("urlsbestpractice", "urlsbestpracticeTwo", "urlsbestpracticeThree")
AUDIENCES = {"PROFESSIONAL": "cultural-institutions", "VISITOR": "citizens"}
LICENCES = {"cc by 2.0": "https://creativecommons.org/licenses/by/2.0/"}
# The hub's static files (`pdf: /bppdf/....pdf`) are served from the root of its deployment.
HUB = "https://reinherit-hub.eu/"
# Acronyms that PROVENANCE.md spells out: the long name is an alternative label and gives the type.
KNOWN_NAMES = {"ECTN": "European Cultural Tourism Network"}
# Places that records name without a country and no other record pairs with one.
KNOWN_PLACES = {"brussels": "BE"}
# Country names the EU table spells otherwise, mapped to the table's own two-letter codes.
COUNTRY_ALIASES = {
    "Czech Republic": "CZ",
    "Holland": "NL",
    "UK": "UK",
    "Great Britain": "UK",
    "England": "UK",
    "Scotland": "UK",
    "Wales": "UK",
}
REDACTED = "[personal data removed]"

FIELDS = {
    "skos:prefLabel": "orgbestpractice / partnerbestpractice",
    "skos:altLabel": "orgbestpractice / partnerbestpractice",
    "org:classification": "orgbestpractice / partnerbestpractice",
    "cg:partnerOf": "orgbestpractice / partnerbestpractice",
    "org:hasPrimarySite": "locationbestpractice",
    "org:hasPrimarySite|org:hasSite": "locationbestpractice",
    "geo:hasGeometry": "locationbestpractice",
    "locn:address": "locationbestpractice",
    "cv:adminUnit": "locationbestpractice",
    "locn:postName": "locationbestpractice",
    "dct:audience": "target-audience",
    "schema:name": "title",
    "schema:description": "desc",
    "schema:datePublished": "date",
    "schema:keywords": "theme / formtypbestpractice / keywordsbestpractice",
    "schema:about": "orgbestpractice",
    "schema:contributor": "partnerbestpractice",
}

# Actor type from words of the name; the earliest match wins ("Museum of ..., University of
# Athens" is a museum). Patterns are matched case-insensitively on the cleaned name.
_KINDS: tuple[tuple[str, str], ...] = (
    ("museum", r"\w*museum(s)?\b|\bmus[eé]e(s)?\b|\bmuseo\b|\bmuzeu(l|m)\b"),
    ("higher-education", r"\buniversit(y|ies|à|é|at|ät|ad)\b|\bcollege\b"),
    ("foundation", r"\bfoundation\b|\bstiftung\b|\bfondation\b|\bfundaci[oó]n\b"),
    ("association", r"\bassociation\b|\bverein\b|\bfriends of\b|\bsociety\b"),
    ("network", r"\bnetwork\b|\bnetzwerk\b"),
    ("research-centre", r"\bresearch\b|\bcentre of excellence\b|\bcoe\b"),
    (
        "public-body",
        r"\bcity (council|hall)\b|\bcounty council\b|\bcity of\b|\bmunicipal(ity)?\b"
        r"|\bregion(al)?\b|\bministry\b|\bdiputaci[oó]n\b|\bpublic (enterprise|utility)\b"
        r"|\bboard of tourism\b|\btourism board\b",
    ),
    ("company", r"\bgmbh\b|\bges\.?m\.?b\.?h\b|\bltd\b|\baps\b|\bcompany\b|\bs\.?r\.?l\b"),
)
_KIND_PATTERN = re.compile("|".join(f"(?P<k{i}>{p})" for i, (_, p) in enumerate(_KINDS)), re.I)
FALLBACK_KIND = "organisation"

_EMAIL = re.compile(r"(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_HONORIFIC = re.compile(r"^(mag|dr|prof|konsul|mr|mrs|ms|dipl|ing)\b\.?\s", re.I)
_ORG_WORDS = re.compile(
    r"\b(institute|university|museum|council|centre|center|foundation|association|"
    r"municipality|department|school|ltd|gmbh|network|consortium|ministry|office)\b",
    re.I,
)
_ACRONYM = re.compile(r"^(?P<name>.*\S)\s*\((?P<acronym>[A-Za-z][A-Za-z0-9&.-]{1,9})\)$")
_QUOTES = "\"'\u2018\u2019\u201c\u201d\u201e"
_EMPTY = {"", "n/a", "na", "-", "none", "tbd"}
_IRI_CHARS = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.I)


class _Countries:
    """English country names (and a few aliases) -> the EU table's two-letter code."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        names: dict[str, str] = {}
        path = reference.directory / "eu-countries.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["iso2"] and row["deprecated"] != "true":
                    names[row["name_en"]] = row["iso2"]
        names.update(COUNTRY_ALIASES)
        self.by_name = {n.casefold(): code for n, code in names.items()}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self.pattern = re.compile(
            rf"(?<![\w-])(?:the\s+)?(?:republic\s+of\s+)?(?P<name>{alternatives})(?![\w-])", re.I
        )

    def find(self, text: str) -> list[str]:
        """Codes of the countries named in `text`, in order, without repeats."""
        found: list[str] = []
        for match in self.pattern.finditer(text):
            code = self.by_name[match.group("name").casefold()]
            if code not in found:
                found.append(code)
        return found

    def is_country(self, text: str) -> bool:
        return self.pattern.fullmatch(text.strip()) is not None

    def iri(self, code: str) -> str | None:
        return self.reference.country_iri(code)


@dataclass(frozen=True)
class Place:
    countries: tuple[str, ...]
    place: str | None = None  # the city or region before the country, when there is one country


def _place_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _without_online(text: str) -> str:
    text = re.sub(r"\b(and\s+|at\s+the\s+)?online\b", " ", text, flags=re.I)
    return " ".join(text.strip(" -/\u2013&").split())


def parse_location(text: str, countries: _Countries, gazetteer: dict[str, str]) -> Place:
    """The countries a free-text location names and, with exactly one, the place before it

    ("Dublin, Republic of Ireland" -> IE, "Dublin"). A location naming no country is looked up
    in `gazetteer` (place key -> country code), part by part from the end.
    """
    found = countries.find(text)
    plain = re.sub(r"\([^)]*\)", " ", text)
    parts = [p for p in (_without_online(p) for p in re.split(r"[,;]", plain)) if p]
    if len(found) > 1:
        return Place(tuple(found))
    if not found:
        for part in reversed(parts):
            code = gazetteer.get(_place_key(part))
            if code:
                return Place((code,), part)
        return Place(())
    holders = [i for i, part in enumerate(parts) if countries.find(part)]
    if not holders:  # the country was only inside brackets: "Graz (Austria)"
        return Place(tuple(found), parts[-1] if parts else None)
    for part in reversed(parts[: holders[-1]]):
        if not countries.is_country(part):
            # "Harghta County Council, Romania" names an institution, not a place
            return Place(tuple(found), None if _ORG_WORDS.search(part) else part)
    return Place(tuple(found))


@dataclass
class Record:
    """One file's front matter. The personal fields are taken out of `data` when it is read
    and kept apart, only to remove the same values from the free texts."""

    path: Path
    data: dict[str, Any]
    personal: dict[str, str] = field(default_factory=dict)
    page_id: str | None = None
    place: Place = Place(())

    @classmethod
    def read(cls, path: Path) -> Record:
        data = read_front_matter(path)
        personal = {name: str(data.pop(name) or "") for name in PERSONAL_FIELDS if name in data}
        return cls(path, data, personal)

    @property
    def file(self) -> str:
        return self.path.name


@dataclass
class Actor:
    key: str
    label: str
    acronym: str | None
    records: list[Record] = field(default_factory=list)
    runs: list[Record] = field(default_factory=list)  # records whose orgbestpractice it is


# ---- reading -----------------------------------------------------------------------------------


def read_front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a Markdown file, as a mapping; `SourceError` when malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except UnicodeDecodeError as error:
        raise SourceError(path, f"not UTF-8 text (byte {error.start})") from error
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].rstrip() != "---":
        raise SourceError(path, "no YAML front matter: the first line must be '---'", 1)
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), None)
    if end is None:
        raise SourceError(path, "the YAML front matter is not closed by a '---' line", 1)
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as error:
        data = _retry_without_tabs(block, error, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(path, "the YAML front matter is not a mapping of fields", 2)
    return {str(k): v for k, v in data.items()}


def _retry_without_tabs(block: str, error: yaml.YAMLError, path: Path) -> Any:
    if "\t" in block and "'\\t'" in str(error):
        try:
            return yaml.safe_load(block.replace("\t", " "))
        except yaml.YAMLError:
            pass
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 2 if mark is not None else 2  # the front matter starts on line 2
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    message = f"{context}: {problem}" if context else str(problem)
    raise SourceError(path, f"the YAML front matter is not valid: {message}", line) from error


# ---- values ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A scalar as stripped text, or None for empty, 'n/a' and non-scalars."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return None if text.casefold() in _EMPTY else text


def _person_needles(
    personal: dict[str, str], org_texts: Iterable[str], countries: _Countries
) -> list[str]:
    """Values of the personal fields of a record, to remove them from what is mapped.

    The persons field sometimes adds an organisation or a country ("Cristina ..., National
    Institute ... - INCDT, Romania"): only parts that look like a person's name (two or more
    words, not an acronym, a country or an organisation named in the record) are taken apart.
    """
    needles = [v for v in (_text(value) for value in personal.values()) if v]
    for value in personal.values():  # "a@example.org b@example.org", "a@x.org, b@y.org"
        needles += [w for w in re.split(r"[\s,;]+", value) if "@" in w]
    raw = _text(personal.get("personsbestpractice"))
    if not raw:
        return sorted(set(needles), key=len, reverse=True)
    orgs = [o.casefold() for o in org_texts]
    for part in re.split("\\s*(?:[/,;|&]|\\band\\b|\\s[-\u2013]\\s)\\s*", raw):
        part = part.strip()
        if len(part.split()) < 2 or part.isupper() or not part[0].isupper():
            continue
        if _ORG_WORDS.search(part) or countries.find(part):
            continue
        if any(part.casefold() in org for org in orgs):
            continue  # "Pinto | CIM do Ave": the organisation, not a person
        needles.append(part)
    return sorted(set(needles), key=len, reverse=True)


class Scrubber:
    """Removes a record's contact persons and every e-mail address from free text."""

    def __init__(self, needles: list[str]) -> None:
        self.pattern = (
            re.compile("|".join(re.escape(n) + r"[\w-]*" for n in needles), re.I)
            if needles
            else None
        )

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub(REDACTED, text)
        if self.pattern is not None:
            text = self.pattern.sub(REDACTED, text)
        return text


def clean_org_name(raw: str, needles: list[str], countries: _Countries, place: str | None) -> str:
    """An organisation name without persons, trailing country and place, or outer quotes."""
    text = " ".join(raw.split())
    if len(text) > 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    lowered = [n.casefold() for n in needles]
    parts = [p.strip() for p in text.split(",")]
    kept = [
        p
        for p in parts
        if p and not _HONORIFIC.match(p) and not any(n in p.casefold() for n in lowered)
    ]
    place_key = _place_key(place) if place else None
    while len(kept) > 1 and (
        countries.is_country(kept[-1]) or (place_key and _place_key(kept[-1]) == place_key)
    ):
        kept.pop()
    return ", ".join(kept)


def split_acronym(name: str) -> tuple[str, str | None]:
    """'Pafos Regional Board of Tourism (PRBT)' -> ('Pafos Regional Board of Tourism', 'PRBT')."""
    match = _ACRONYM.match(name)
    if not match:
        return name, None
    rest, acronym = match.group("name"), match.group("acronym")
    if sum(c.isupper() for c in acronym) < 2 or "," in rest or " and " in rest:
        return name, None
    return rest, acronym


def actor_kind(name: str) -> str:
    match = _KIND_PATTERN.search(name)
    if not match:
        return FALLBACK_KIND
    index = next(int(k[1:]) for k, v in match.groupdict().items() if v is not None)
    return _KINDS[index][0]


def http_iri(value: str) -> str | None:
    """`value` when it is an absolute http(s) IRI with a host, else None."""
    text = value.strip()
    if not _IRI_CHARS.match(text):
        return None
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return text if host and "." in host else None


def xsd_datetime(value: Any) -> Literal | None:
    """A timestamp as a canonical xsd:dateTime (UTC as Z), a date as xsd:date."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        fraction = f"{value.microsecond:06d}".rstrip("0")
        text += f".{fraction}" if fraction else ""
        text += "Z" if value.tzinfo is not None else ""
        return Literal(text, datatype=XSD.dateTime, normalize=False)
    if isinstance(value, date):
        return Literal(value.isoformat(), datatype=XSD.date, normalize=False)
    return None


def keywords(value: Any) -> list[str]:
    text = _text(value)
    if not text:
        return []
    seen: dict[str, str] = {}
    for word in re.split(r"[,;#\n]+", text):
        word = " ".join(word.split()).strip(" .")
        if word and word.casefold() not in _EMPTY:
            seen.setdefault(word.casefold(), word)
    return list(seen.values())


# ---- mapping -----------------------------------------------------------------------------------


class _Mapping:
    def __init__(self, manifest: SourceManifest, iris: Iris) -> None:
        self.source = manifest.name
        self.iris = iris
        self.mapped = Mapped(graph=Graph(), fields=dict(FIELDS))
        self.countries = _Countries(Reference())
        self.gazetteer: dict[str, str] = dict(KNOWN_PLACES)
        self.actors: dict[str, Actor] = {}
        self.records = [Record.read(path) for path in manifest.files]

    def problem(
        self, record: Record, field: str, value: object, message: str, severity: str
    ) -> None:
        shown = "" if value is None else str(value)
        self.mapped.problems.append(Problem(record.file, LOCATOR, field, shown, message, severity))

    def run(self) -> Mapped:
        self.mapped.records_read = len(self.records)
        self._learn_places()
        seen: dict[str, str] = {}
        for record in self.records:
            page_id = _text(record.data.get("pageId"))
            if page_id is None:
                self.problem(record, "pageId", None, "the record has no pageId", "Violation")
                continue
            if page_id in seen:
                message = f"pageId already used by {seen[page_id]}"
                self.problem(record, "pageId", page_id, message, "Violation")
                continue
            seen[page_id] = record.file
            record.page_id = page_id
            self._map_practice(record, page_id)
        for actor in self.actors.values():
            self._map_actor(actor)
        self.mapped.actors = len(self.actors)
        return self.mapped

    def _learn_places(self) -> None:
        """Place -> country from records that write "Place, Country", for places named alone."""
        for record in self.records:
            text = _text(record.data.get("locationbestpractice"))
            if text:
                found = parse_location(text, self.countries, {})
                if len(found.countries) == 1 and found.place:
                    self.gazetteer.setdefault(_place_key(found.place), found.countries[0])

    def _node(self, kind: str, key: str, record: Record) -> URIRef:
        node = URIRef(self.iris.thing(kind, key))
        self.mapped.locators.setdefault(str(node), (record.file, LOCATOR))
        return node

    def _actor(self, field: str, record: Record, needles: list[str], place: Place) -> Actor | None:
        raw = _text(record.data.get(field))
        if raw is None:
            return None
        name = clean_org_name(raw, needles, self.countries, place.place)
        label, acronym = split_acronym(name)
        key = name_key(label)
        if not key:  # the value is not shown: what is left out may name a person
            self.problem(record, field, None, "no usable organisation name", "Warning")
            return None
        actor = self.actors.get(key)
        if actor is None:
            actor = self.actors[key] = Actor(key, label, acronym)
        elif actor.acronym is None:
            actor.acronym = acronym
        if record not in actor.records:
            actor.records.append(record)
        return actor

    def _map_practice(self, record: Record, page_id: str) -> None:
        data, graph = record.data, self.mapped.graph
        key = record_key(self.source, page_id)
        work = self._node("work", key, record)
        entity = self._node("record", f"{self.source}-{page_id}", record)
        graph.add((entity, RDF.type, PROV.Entity))
        graph.add((entity, DCTERMS.identifier, Literal(page_id)))
        graph.add((work, RDF.type, SCHEMA.CreativeWork))
        graph.add((work, DCTERMS.identifier, Literal(page_id)))
        graph.add((work, PROV.wasDerivedFrom, entity))

        org_raw = _text(data.get("orgbestpractice"))
        partner_raw = _text(data.get("partnerbestpractice"))
        orgs = [t for t in (org_raw, partner_raw) if t]
        needles = _person_needles(record.personal, orgs, self.countries)
        scrub = Scrubber(needles)

        title = _text(data.get("title"))
        if title:
            graph.add((work, SCHEMA.name, Literal(scrub(title), lang="en")))
        else:
            self.problem(record, "title", None, "a practice needs a title", "Violation")
        description = _text(data.get("desc"))
        if description:
            graph.add((work, SCHEMA.description, Literal(scrub(description), lang="en")))
        published = data.get("date")
        if published is not None:
            literal = xsd_datetime(published)
            if literal is None:
                self.problem(record, "date", published, "not an ISO date or timestamp", "Warning")
            else:
                graph.add((work, SCHEMA.datePublished, literal))
        self._licence(record, work)
        self._links(record, work)
        for word in [_text(data.get("theme")), _text(data.get("formtypbestpractice"))]:
            if word:
                graph.add((work, SCHEMA.keywords, Literal(scrub(word))))
        for word in keywords(data.get("keywordsbestpractice")):
            graph.add((work, SCHEMA.keywords, Literal(scrub(word))))
        period = _text(data.get("timebestpractice"))
        if period:
            graph.add((work, SCHEMA.temporalCoverage, Literal(scrub(" ".join(period.split())))))
        self._audiences(record, work)
        for name in LONG_TEXTS:
            text = _text(data.get(name))
            if text:
                value_key = record_key(self.source, f"{page_id}/{name}")
                value = self._node("property-value", value_key, record)
                graph.add((work, SCHEMA.additionalProperty, value))
                graph.add((value, RDF.type, SCHEMA.PropertyValue))
                graph.add((value, SCHEMA.propertyID, Literal(name)))
                graph.add((value, SCHEMA.value, Literal(scrub(text), lang="en")))

        location = _text(data.get("locationbestpractice"))
        place = parse_location(location, self.countries, self.gazetteer) if location else Place(())
        if location:
            graph.add((work, SCHEMA.spatialCoverage, Literal(scrub(" ".join(location.split())))))
        for code in place.countries:
            country = self.countries.iri(code)
            if country:
                graph.add((work, DCTERMS.spatial, URIRef(country)))

        org = self._actor("orgbestpractice", record, needles, place)
        partner = self._actor("partnerbestpractice", record, needles, Place(()))
        if org is None:
            self.problem(record, "orgbestpractice", None, "no organisation runs it", "Warning")
        else:
            org.runs.append(record)
            graph.add((work, SCHEMA.about, self._actor_iri(org, record)))
        if partner is not None:
            graph.add((work, SCHEMA.contributor, self._actor_iri(partner, record)))
        if org is not None and partner is not None and org.key != partner.key:
            a, b = self._actor_iri(org, record), self._actor_iri(partner, record)
            graph.add((a, CG.partnerOf, b))
            graph.add((b, CG.partnerOf, a))
        record.place = place

    def _licence(self, record: Record, work: URIRef) -> None:
        licence = _text(record.data.get("license"))
        if licence is None:
            self.problem(record, "license", None, "no licence stated", "Warning")
        elif licence.casefold() in LICENCES:
            self.mapped.graph.add((work, SCHEMA.license, URIRef(LICENCES[licence.casefold()])))
        else:
            self.problem(record, "license", licence, "unknown licence: not stated", "Warning")

    def _links(self, record: Record, work: URIRef) -> None:
        graph = self.mapped.graph
        links = [(name, SCHEMA.url) for name in URL_FIELDS] + [("thumbnail", SCHEMA.image)]
        for name, predicate in links:
            text = _text(record.data.get(name))
            if text is None:
                continue
            iri = http_iri(text)
            if iri is None:
                message = "not an absolute http(s) IRI: left out"
                self.problem(record, name, text, message, "Info")
            else:
                graph.add((work, predicate, URIRef(iri)))
        pdf = _text(record.data.get("pdf"))
        if pdf:
            iri = http_iri(urljoin(HUB, pdf)) if pdf.startswith("/") else http_iri(pdf)
            if iri is None:
                self.problem(record, "pdf", pdf, "not a path or IRI of a document", "Info")
            else:
                graph.add((work, SCHEMA.associatedMedia, URIRef(iri)))

    def _audiences(self, record: Record, work: URIRef) -> None:
        values = record.data.get("target-audience")
        values = values if isinstance(values, list) else [values] if values else []
        for value in values:
            code = AUDIENCES.get(str(value).strip().upper())
            if code is None:
                self.problem(record, "target-audience", value, "unknown target group", "Warning")
            else:
                self.mapped.graph.add(
                    (work, DCTERMS.audience, URIRef(concept("target-group", code)))
                )

    def _actor_iri(self, actor: Actor, record: Record) -> URIRef:
        return self._node("actor", record_key(self.source, f"organisation/{actor.key}"), record)

    def _map_actor(self, actor: Actor) -> None:
        graph = self.mapped.graph
        node = self._actor_iri(actor, actor.records[0])
        graph.add((node, RDF.type, ORG.Organization))
        graph.add((node, SKOS.prefLabel, Literal(actor.label, lang="en")))
        long_name = KNOWN_NAMES.get(actor.label)
        for alternative in (actor.acronym, long_name):
            if alternative:
                graph.add((node, SKOS.altLabel, Literal(alternative, lang="en")))
        kind = actor_kind(long_name or actor.label)
        graph.add((node, ORG.classification, URIRef(concept("actor-type", kind))))
        for record in actor.records:
            entity = URIRef(self.iris.thing("record", f"{self.source}-{record.page_id}"))
            graph.add((node, PROV.wasDerivedFrom, entity))
        self._site(actor, node)

    def _site(self, actor: Actor, node: URIRef) -> None:
        placed = [(r, r.place) for r in actor.runs if len(r.place.countries) == 1]
        if not placed:
            return
        counts = Counter(p.countries[0] for _, p in placed)
        code, top = counts.most_common(1)[0]
        if top * 2 <= len(placed):
            self.problem(
                actor.runs[0],
                "locationbestpractice",
                ", ".join(sorted(counts)),
                f"the practices of {actor.label!r} lie in different countries: no site given",
                "Info",
            )
            return
        country = self.countries.iri(code)
        if country is None:
            return
        record = next(r for r, p in placed if p.countries[0] == code)
        key = record_key(self.source, f"organisation/{actor.key}")
        site, address = self._node("site", key, record), self._node("address", key, record)
        graph = self.mapped.graph
        graph.add((node, ORG.hasPrimarySite, site))
        graph.add((site, RDF.type, ORG.Site))
        graph.add((site, LOCN.address, address))
        graph.add((address, RDF.type, LOCN.Address))
        graph.add((address, CV.adminUnit, URIRef(country)))
        postname = next((p.place for _, p in placed if p.countries[0] == code and p.place), None)
        if postname:
            graph.add((address, LOCN.postName, Literal(postname, lang="en")))


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    """Every file of the manifest is read before anything is mapped: one malformed file stops
    the source with a `SourceError` naming it, and nothing is loaded."""
    return _Mapping(manifest, iris).run()
