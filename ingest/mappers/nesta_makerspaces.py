"""Mapper for Nesta's open dataset of UK makerspaces (2015 survey, identifiable file).

One row of `ukmakerspacesidentifiabledata.csv` is one makerspace's survey answers. Each named row
becomes an actor (`org:Organization`) with a contact point, a primary site (address, amenities,
equipment, floor size; the survey has no coordinates), services (workspace, prototyping
equipment, training, events) and the remaining short answers as `schema:additionalProperty`.

The file is read as bytes: it is Windows-1252 with stray bytes of a Mac export (0x90 is a right
quote) and bare CR line breaks inside quoted fields, so it is decoded here and parsed with the csv
module in strict mode. Columns are found by their header names. Free-text prose answers (ambitions,
challenges, success stories, founders' backgrounds, relationships, notes) are left out: they name
people. Person names found in contact fields are dropped as well.

Record key: the survey has no identifier, so a row is identified by its timestamp and its name
(whitespace collapsed, case folded), e.g. "11-Jan-15 build brighton"; `record_key` turns that into
the stable opaque key of every IRI minted for the row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import CG, CV, LOCN, ORG, SCHEMA, concept
from ingest.errors import Problem, SourceError
from ingest.linking import NUTS, Reference
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped

# ---- columns (by header name) ------------------------------------------------------------------

TIMESTAMP = "Timestamp"
COLLECTED_BY = "Collected by"
NAME = "Name of makerspace"
WEBSITE = "Website / URL"
TWITTER = "Twitter"
FACEBOOK = "Facebook"
OTHER_ONLINE = "Other online presence / social media account"
IRC = "IRC Channel"
MAILING_LIST = "Public mailing list, newsgroup or forum"
EMAIL = "Email address"
PHONE = "Phone number"
ADDRESS = "Address"
POSTCODE = "Postcode"
REGION = "Region"
AREA = "Area"
FLOOR_M2 = "Floor space (sq m)"
FLOOR_FT2 = "Floor space (sq ft )"
OPENED = "Date your space opened (or plans to open)"
CLOSED = "Date your space closed (if it is no longer running)"
IF_CLOSED = "If closed:"
ACCESS = "What access do people have to the space?"
FEES = "Please tell us about your membership fees"
FEE_TYPE = "Membership fee structure type"
MONTHLY_COST = "cost to member/user per month"
AMENITIES = "Amenities / facilities"
ACCESSIBILITY = "Accessibility for those with special needs"
MATERIALS_SHOP = "Do you have a materials shop?"
MATERIALS_PROVIDED = "Are materials provided"
MATERIAL_TYPES = "Types of materials used in the space"
TRAINING = "What training do you offer?"
EVENTS = "What events do you run?"
PROGRAMMES = "Other programmes"

# Without these the file is not the survey this mapper knows.
REQUIRED = (TIMESTAMP, NAME, WEBSITE, EMAIL, PHONE, ADDRESS, POSTCODE, REGION, AREA)

# Equipment by domain: an answer other than a "no" is a feature of the site ("Equipment:
# Woodwork") and makes the prototyping-equipment service; the tool lists themselves are not copied.
EQUIPMENT = (
    "General workshop equipment",
    "General Hand tools (manual)",
    "General Hand tools (powered)",
    "General workshop (bench mounted/freestanding tools)",
    "Woodwork",
    "Metalwork",
    "Fine metalwork (e.g. jewellery)",
    "Fabrics",
    "Ceramics",
    "Plastics",
    "Glass",
    "Painting and graphic arts",
    "Print making",
    "Photography and film making",
    "Science, Synthetic Bio, Chemistry",
    "Computing",
    "Digital fabrication",
    "Electronics",
    "Audio and music",
    "Sculpture",
    "Construction and architecture",
    "Display",
    "Project documentation",
)
# Short answers kept verbatim as schema:additionalProperty (propertyID = the column name), "No"
# included. Columns starting with SURVEY_PREFIXES too (bucketed percentages and counts).
SURVEY_ANSWERS = (
    COLLECTED_BY,
    "Type of location",
    "Was your makerspace previously at another location",
    "Who owns or hosts your physical space?",
    IF_CLOSED,
    FEE_TYPE,
    "Are there any other areas of practice you support?",
    "Does your space specialise in any tools or technologies?",
    "Which tools can be operated only after induction?",
    "Which tools are operated only by staff?",
    "Does your space specialise in any materials?",
    "Do you accept donations of materials and components for general use?",
    "Do you keep a list of members or regular users?",
    "Current membership or userbase",
    "cluster type by size",
    "Have you adopted a code of conduct?",
    "Staff and support",
    PROGRAMMES,
    "Do you produce accounts?",
    "Founders",  # the kind of founder (informal group, individual, company), never names
    "Legal Structure",
)
SURVEY_PREFIXES = (
    "Gender balance of members or regular users [",
    "What ethnic groups are represented amongst your membership? [",
    "Total visits in ",
    "Unique users in ",
    "User types in ",
    "Purpose of user visits in ",
)
USER_TYPES = "User types in "

# Answers that say "nothing here"; they are neither mapped nor reported.
_NONE = {"", "n/a", "na", "none", "none officially", "unlisted", "no", "-", "?", "tbc", "unknown"}
_NONE |= {"natm"}  # "not at the moment"
_NEGATIVE = re.compile(r"^(no|none|n/?a|not really|not yet|nothing|not sure|tbc|natm)\b", re.I)

# ---- concepts ----------------------------------------------------------------------------------

# Actor type from the name; the first pattern that matches wins, default makerspace.
_KINDS = (
    (re.compile(r"fab\s*lab", re.I), "fablab"),
    (re.compile(r"hack", re.I), "hackerspace"),
    (re.compile(r"\bstudios?\b", re.I), "studio"),
)
# Sectors besides design, only when the name says so.
_SECTORS = (
    (re.compile(r"sculpt", re.I), "visual-arts"),
    (re.compile(r"architect", re.I), "architecture"),
)
# "User types in November 2014 [X]" -> target groups.
_USER_GROUPS = {
    "visitors or observers": ("citizens",),
    "hobbyist": ("makers",),
    "startups": ("startups",),
    "sole traders/microbusinesses": ("freelancers", "micro-enterprises"),
    "smes": ("smes",),
    "corporates, and large orgs": ("corporates",),
    "students": ("students",),
}
# Who may use the space -> target groups.
_ACCESS_GROUPS = (
    (re.compile(r"\bmember", re.I), ("makers",)),
    (re.compile(r"\bpublic\b|open access", re.I), ("citizens",)),
)
# Event kinds -> target groups of the events service.
_EVENT_GROUPS = (
    (re.compile(r"public events|free events", re.I), ("citizens",)),
    (re.compile(r"family events|families|after school", re.I), ("children",)),
    (re.compile(r"corporate|business events", re.I), ("corporates",)),
    (re.compile(r"member events", re.I), ("makers",)),
)
# Other programmes that are training for a group: (pattern, service name, target groups).
_PROGRAMMES = (
    (re.compile(r"school programmes", re.I), "School programmes", ("children", "young-people")),
    (
        re.compile(r"affiliated programmes|code ?club", re.I),
        "Affiliated programmes (Code Club, STEM Ambassadors, Young Rewired State, Raspberry Jam)",
        ("children", "young-people"),
    ),
    (
        re.compile(r"qualification opportunities", re.I),
        "Qualification opportunities (BTEC, CPD)",
        ("students",),
    ),
)
# Survey options of multi-choice columns (some contain commas) -> feature names.
_AMENITIES = {
    "Long term project storage": "Long term project storage",
    "Shared kitchen": "Shared kitchen",
    "Bookable event space": "Bookable event space",
    "Social, non-working area": "Social, non-working area",
    "Reception desk or area": "Reception desk or area",
    "Toilets": "Toilets",
    "Caf_ on site": "Caf\u00e9 on site",
    "Caf\u00e9 on site": "Caf\u00e9 on site",
    "Library": "Library",
    "Wifi": "Wifi",
    "Wired ethernet": "Wired ethernet",
    "Carpark": "Carpark",
    "Offices or incubator space": "Offices or incubator space",
    "Gallery": "Gallery",
    "Workshop": "Workshop",
}
_ACCESSIBILITY = {
    "Wheelchair accessible": "Wheelchair accessible",
    "Children allowed in workspace": "Children allowed in workspace",
    "Children welcome, but not in workspace": "Children welcome, but not in workspace",
    "Guide dogs welcome": "Guide dogs welcome",
    "All dogs welcome": "All dogs welcome",
}
_MATERIALS = {
    option: f"Materials: {option}"
    for option in (
        "Metals",
        "Plastics",
        "Fabrics, yarns",
        "Wood and derivatives",
        "Paper and card",
        "Electronics",
        "Biological or organic",
        "Stone, clay, ceramics",
        "Inks, paints",
        "Chemicals",
    )
}
# Region column (England's regions, the nations) -> NUTS 1 code (NUTS 2016, the last with the UK).
_REGIONS = {
    "north east": "UKC",
    "north west": "UKD",
    "yorkshire and humber": "UKE",
    "yorkshire and the humber": "UKE",
    "east midlands": "UKF",
    "west midlands": "UKG",
    "east of england": "UKH",
    "london": "UKI",
    "south east": "UKJ",
    "south west": "UKK",
    "wales": "UKL",
    "scotland": "UKM",
    "northern ireland": "UKN",
    "north ireland": "UKN",
}

# ---- value patterns ----------------------------------------------------------------------------

# Stricter than the shape's pattern on purpose: an e-mail must be the whole answer.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TELEPHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}$")  # the shape's pattern
_PHONE_RUN = re.compile(r"[+(]?\d[\d ()./-]*\d")
_HOST_ONLY = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:[/?#]\S*)?$", re.I)
_IRI_FORBIDDEN = re.compile(r'[\s<>"{}|\\^`]')
_TWITTER = re.compile(r"@([A-Za-z0-9_]{1,15})\b")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_AMOUNT = re.compile(r"^\u00a3?\s*(\d+(?:\.\d+)?)$")
_AREA_M2 = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:sq\.? ?m)?$", re.I)
_CARE_OF = re.compile(r"\(?\bc/o\b\s*([^,)\n]*)\)?", re.I)
# Sentences, not addresses: some answers explain why there is no address.
_PROSE = re.compile(r"\b(we|our|us|are|were|says)\b", re.I)
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class _Row:
    """One data row: its number (1-based, header excluded) and its answers by column name."""

    number: int
    line: int  # line of the file where the row starts
    answers: dict[str, str]
    fields: int  # how many fields the row has
    expected: int  # how many the header has

    def get(self, column: str) -> str:
        """The answer, stripped; "" for an empty answer or a column the file does not have."""
        return self.answers.get(column, "").strip()


# ---- reading -----------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # a future UTF-8 export
    except UnicodeDecodeError:
        pass
    # Windows-1252, plus 0x90 (undefined there) which the legacy Mac export used for a right
    # quote ("Frederick\u2019s Place"); any other undefined byte becomes U+FFFD.
    return raw.replace(b"\x90", b"\x92").decode("cp1252", errors="replace")


def _line_at(text: str, offset: int) -> int:
    return len(_LINES.split(text[:offset]))


def _read_rows(path: Path) -> Iterator[_Row]:
    """The data rows; `SourceError` when the file is not this survey's CSV."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except OSError as error:
        raise SourceError(path, f"cannot be read: {error.strerror}") from error
    text = _decode(raw)
    if not text.strip():
        raise SourceError(path, "the file is empty")
    if "\x00" in text:
        line = _line_at(text, text.index("\x00"))
        raise SourceError(path, "binary data (a NUL byte): not a CSV text file", line)
    # newline="": the csv module sees CR, LF and CRLF and keeps CRs inside quoted fields.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise SourceError(path, f"not valid CSV: {error}", reader.line_num) from error
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise SourceError(
            path,
            "not the Nesta makerspaces survey: missing column(s) "
            + ", ".join(repr(name) for name in missing),
            1,
        )

    def rows() -> Iterator[_Row]:
        number = 0
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise SourceError(
                    path,
                    f"not valid CSV: {error} (data row {number + 1}, which starts at line "
                    f"{start}; lines end at CR, LF or CRLF)",
                    reader.line_num,
                ) from error
            if not fields:
                continue  # a blank line between records
            number += 1
            answers = dict(zip(header, fields, strict=False))
            yield _Row(number, start, answers, len(fields), len(header))

    return rows()


# ---- small value parsers -----------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _verbatim(text: str) -> str:
    """An answer as text: lines kept (as LF), spaces in each line collapsed, blank lines dropped."""
    lines = (" ".join(line.split()) for line in _LINES.split(text))
    return "\n".join(line for line in lines if line)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _is_none(text: str) -> bool:
    return _one_line(text).strip(" .!").casefold() in _NONE


def _is_positive(text: str) -> bool:
    return not _is_none(text) and not _NEGATIVE.match(_one_line(text))


def web_iri(text: str, fix_host: bool = True) -> str | None:
    """An http(s) IRI, or None. `fix_host`: "www.x.org/y" and "x.org" get "http://"."""
    candidate = text.strip().rstrip(".,;")
    if fix_host and "://" not in candidate and _HOST_ONLY.match(candidate):
        candidate = "http://" + candidate
    if _IRI_FORBIDDEN.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "." not in host:
        return None
    return candidate


def _link_iris(text: str, fix_host: bool) -> list[str]:
    """Every web address in a free-text answer (split at spaces and commas)."""
    found: list[str] = []
    for token in re.split(r"[\s,]+", text):
        if token.lower().startswith("irc://"):
            iri = token.rstrip(".,;") if not _IRI_FORBIDDEN.search(token) else None
        elif "@" in token and "/" not in token and _EMAIL.match(token.rstrip(".,;")):
            iri = "mailto:" + token.rstrip(".,;")
        else:
            iri = web_iri(token, fix_host)
        if iri and iri not in found:
            found.append(iri)
    return found


def email(text: str) -> str | None:
    """The e-mail address the answer is, or None (prose around an address is not accepted)."""
    value = _one_line(text).removeprefix("mailto:")
    if _EMAIL.match(value):
        return value
    # "name@gmail .com": a space slipped in; never join the words of a sentence.
    if len(value.split()) <= 3 and _EMAIL.match(value.replace(" ", "")):
        return value.replace(" ", "")
    return None


def telephones(text: str) -> list[str]:
    """UK phone numbers in an answer: "(0)" and brackets around the area code tidied, the
    leading 0 that spreadsheets drop restored; names and remarks around them left out."""
    numbers: list[str] = []
    for part in re.split(r"/|,|;|\bor\b", text):
        for match in _PHONE_RUN.finditer(part):
            number = " ".join(match.group().split())
            if number.startswith("+"):
                number = number.replace("(0)", "")
            else:
                number = number.replace("(0)", "0")
            number = " ".join(number.replace("(", " ").replace(")", " ").split()).strip(" -./")
            digits = re.sub(r"\D", "", number)
            if re.fullmatch(r"[1-9][0-9]{9}", number):
                number, digits = "0" + number, "0" + digits
            if 10 <= len(digits) <= 13 and _TELEPHONE.match(number) and number not in numbers:
                numbers.append(number)
    return numbers


def postcode(text: str) -> tuple[str, bool]:
    """(postcode, looks like a UK postcode); spacing and case normalised when it does."""
    value = _one_line(text).strip(" ,.").upper()
    match = _UK_POSTCODE.match(value.replace(" ", "")) or _UK_POSTCODE.match(value)
    if match:
        return f"{match.group(1)} {match.group(2)}", True
    return _one_line(text).strip(" ,."), False


def survey_date(text: str) -> Literal | None:
    """A dd/mm/yyyy, mm/yyyy or yyyy answer as xsd:date, xsd:gYearMonth or xsd:gYear."""
    value = _one_line(text)
    for form, datatype in (("%d/%m/%Y", XSD.date), ("%m/%Y", XSD.gYearMonth), ("%Y", XSD.gYear)):
        try:
            parsed = datetime.strptime(value, form).date()
        except ValueError:
            continue
        lexical = {XSD.date: parsed.isoformat(), XSD.gYearMonth: parsed.isoformat()[:7]}
        return Literal(lexical.get(datatype, f"{parsed.year:04d}"), datatype=datatype)
    return None


def _timestamp(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%d-%b-%y").date()
    except ValueError:
        return None


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def excel_range(text: str) -> str | None:
    """The range a spreadsheet read as a date: "Oct-20" was 10-20, "03-Aug" was 3-8."""
    value = _one_line(text).lower()
    match = re.fullmatch(r"([a-z]{3})-(\d{1,2})", value)
    if match and match.group(1) in _MONTHS:
        return f"{_MONTHS.index(match.group(1)) + 1}-{int(match.group(2))}"
    match = re.fullmatch(r"(\d{1,2})-([a-z]{3})", value)
    if match and match.group(2) in _MONTHS:
        return f"{int(match.group(1))}-{_MONTHS.index(match.group(2)) + 1}"
    return None


def choices(text: str, known: dict[str, str]) -> tuple[list[str], list[str]]:
    """The known options of a comma-joined multi-choice answer (their labels) and the rest."""
    rest = _one_line(text)
    found: list[str] = []
    for option in sorted(known, key=len, reverse=True):
        pattern = re.compile(r"(?:^|(?<=,))\s*" + re.escape(option) + r"\s*(?=,|$)", re.I)
        if pattern.search(rest):
            rest = pattern.sub("", rest, count=1)
            if known[option] not in found:
                found.append(known[option])
    others = [part.strip() for part in rest.split(",") if part.strip()]
    return found, others


def actor_kind(name: str) -> str:
    for pattern, kind in _KINDS:
        if pattern.search(name):
            return kind
    return "makerspace"


def record_id(row: _Row) -> str:
    """The row's stable identifier: timestamp and normalised name."""
    return " ".join(f"{row.get(TIMESTAMP)} {_one_line(row.get(NAME)).casefold()}".split())


# ---- mapping -----------------------------------------------------------------------------------

FIELDS = {
    "skos:prefLabel": NAME,
    "org:classification": NAME,
    "cv:sector": NAME,
    "foaf:homepage": WEBSITE,
    "schema:sameAs": f"{TWITTER} / {FACEBOOK} / {OTHER_ONLINE}",
    "cv:contactPoint": f"{EMAIL} / {PHONE}",
    "cv:email": EMAIL,
    "cv:telephone": PHONE,
    "cv:contactPage": f"{IRC} / {MAILING_LIST}",
    "locn:fullAddress": ADDRESS,
    "locn:postCode": POSTCODE,
    "locn:adminUnitL2": AREA,
    "cv:adminUnit": f"{REGION} (NUTS 1) and the country",
    "geo:hasGeometry": "(the survey gives no coordinates)",
    "schema:foundingDate": OPENED,
    "schema:dissolutionDate": CLOSED,
    "cg:operationalStatus": f"{CLOSED} / {IF_CLOSED}",
    "dct:audience": f"{USER_TYPES}... / {EVENTS} / {PROGRAMMES}",
    "schema:price": MONTHLY_COST,
}


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    mapped = Mapped(graph=Graph(), fields=dict(FIELDS))
    reference = Reference()
    for path in manifest.files:
        seen: dict[str, int] = {}
        for row in _read_rows(path):
            mapped.records_read += 1
            _RowMapper(row, path.name, manifest.name, iris, reference, mapped, seen).map()
    return mapped


class _RowMapper:
    """Maps one survey row; warnings for values it has to drop go to `mapped.problems`."""

    def __init__(
        self,
        row: _Row,
        file: str,
        source: str,
        iris: Iris,
        reference: Reference,
        mapped: Mapped,
        seen: dict[str, int],
    ) -> None:
        self.row, self.file, self.source, self.iris = row, file, source, iris
        self.reference, self.mapped, self.seen = reference, mapped, seen
        self.graph = mapped.graph
        self.name = _one_line(row.get(NAME))
        self.locator = f"row {row.number} ({self.name})" if self.name else f"row {row.number}"
        self.id = record_id(row)
        self.key = record_key(source, self.id)
        self.address_text = ""  # the address, contact persons left out (see read_address)
        self.persons: list[str] = []  # names of contact persons the row gives

    # -- helpers --

    def problem(self, column: str, value: str, message: str, severity: str = "Warning") -> None:
        self.mapped.problems.append(
            Problem(self.file, self.locator, column, value, message, severity)
        )

    def node(self, kind: str, part: str | None = None) -> URIRef:
        """A minted node of this row: `part` names one of several nodes of the same kind."""
        key = self.key
        if part is not None:
            key = record_key(self.source, f"{self.id}\x1f{kind}\x1f{part}")
        iri = URIRef(self.iris.thing(kind, key))
        self.mapped.locators[str(iri)] = (self.file, self.locator)
        return iri

    def value_node(self, kind: str, *parts: str) -> tuple[URIRef, bool]:
        """A value shared by every row that gives it (a feature, a survey answer): its IRI
        comes from what it says, not from the row, and it is described once. True when new."""
        iri = URIRef(self.iris.thing(kind, record_key(self.source, "\x1f".join((kind, *parts)))))
        new = str(iri) not in self.mapped.locators
        if new:  # located at the first row that gives it
            self.mapped.locators[str(iri)] = (self.file, self.locator)
        return iri, new

    def add(self, subject: URIRef, predicate: URIRef, value: URIRef | Literal) -> None:
        self.graph.add((subject, predicate, value))

    def property_value(self, actor: URIRef, column: str, value: str) -> None:
        text = _verbatim(value)
        if not text:
            return
        node, new = self.value_node("property-value", column, text)
        self.add(actor, SCHEMA.additionalProperty, node)
        if new:
            self.add(node, RDF.type, SCHEMA.PropertyValue)
            self.add(node, SCHEMA.propertyID, Literal(column))
            self.add(node, SCHEMA.value, Literal(text))

    # -- the row --

    def map(self) -> None:
        row = self.row
        if row.fields != row.expected:
            self.problem(
                "",
                f"{row.fields} fields",
                f"the row has {row.fields} fields where the header has {row.expected}: a quote "
                f"or a separator is broken (the row starts at line {row.line})",
                "Violation",
            )
            return
        if not self.name:
            self.problem(NAME, "", f"row {row.number} has no name: skipped")
            return
        if self.id in self.seen:
            self.problem(
                NAME,
                self.name,
                f"same timestamp and name as row {self.seen[self.id]}: one space, two rows?",
                "Violation",
            )
            return
        self.seen[self.id] = row.number
        actor = self.node("actor")
        self.address_text, self.persons = self.read_address()
        self.actor_core(actor)
        self.online(actor)
        self.contact(actor)
        audiences = self.audiences(actor)
        self.site(actor)
        self.dates(actor)
        self.services(actor, audiences)
        self.answers(actor)
        self.mapped.actors += 1

    def actor_core(self, actor: URIRef) -> None:
        row = self.row
        self.add(actor, RDF.type, ORG.Organization)
        self.add(actor, SKOS.prefLabel, Literal(self.name, lang="en"))
        self.add(actor, ORG.classification, URIRef(concept("actor-type", actor_kind(self.name))))
        self.add(actor, CV.sector, URIRef(concept("sector", "design")))
        for pattern, sector in _SECTORS:
            if pattern.search(self.name):
                self.add(actor, CV.sector, URIRef(concept("sector", sector)))
        record = URIRef(self.iris.thing("record", f"{self.source}-{self.key}"))
        self.mapped.locators[str(record)] = (self.file, self.locator)
        self.add(actor, PROV.wasDerivedFrom, record)
        self.add(record, RDF.type, PROV.Entity)
        self.add(record, DCTERMS.identifier, Literal(self.id))
        created = _timestamp(row.get(TIMESTAMP))
        if created:
            self.add(record, DCTERMS.created, Literal(created.isoformat(), datatype=XSD.date))
        if row.get(COLLECTED_BY).lower().startswith("makerspace"):
            self.add(record, PROV.wasAttributedTo, actor)  # the space answered the survey itself

    def online(self, actor: URIRef) -> None:
        row = self.row
        website = row.get(WEBSITE)
        if website and not _is_none(website):
            iri = web_iri(website)
            if iri:
                self.add(actor, FOAF.homepage, URIRef(iri))
            else:
                self.problem(WEBSITE, website, "not a web address: left out")
        twitter = row.get(TWITTER)
        if twitter and not _is_none(twitter):
            handle = _TWITTER.search(twitter)
            if handle:
                self.add(actor, SCHEMA.sameAs, URIRef(f"https://twitter.com/{handle.group(1)}"))
            else:
                self.problem(TWITTER, twitter, "not a Twitter @handle: left out")
        facebook = row.get(FACEBOOK)
        if facebook and not _is_none(facebook):
            iri = web_iri(facebook)
            if iri:
                self.add(actor, SCHEMA.sameAs, URIRef(iri))
            else:
                self.problem(FACEBOOK, facebook, "not a web address: left out")
        other = row.get(OTHER_ONLINE)
        links = [i for i in _link_iris(other, fix_host=True) if not i.startswith("mailto:")]
        # Personal profiles (linkedin.com/in/...) are a person's, not the space's.
        for iri in links:
            if "linkedin.com/in/" not in iri.lower():
                self.add(actor, SCHEMA.sameAs, URIRef(iri))
        if other and not links and not _is_none(other):
            self.property_value(actor, OTHER_ONLINE, other)

    def contact(self, actor: URIRef) -> None:
        row = self.row
        values: list[tuple[URIRef, URIRef | Literal]] = []
        answer = row.get(EMAIL)
        if answer and not _is_none(answer):
            address = email(answer)
            mailbox = _letters(address.split("@")[0]) if address else ""
            # Full name or first name of a contact person the address named.
            names = {_letters(p) for p in self.persons} | {
                _letters(p.split()[0]) for p in self.persons
            }
            if address and mailbox in names:
                self.problem(EMAIL, answer, "the address of a contact person: left out")
            elif address:
                values.append((CV.email, Literal(address)))
            else:
                self.problem(EMAIL, answer, "not an e-mail address: left out")
        answer = row.get(PHONE)
        if answer and not _is_none(answer):
            numbers = telephones(answer)
            values += [(CV.telephone, Literal(number)) for number in numbers]
            if not numbers:
                self.problem(PHONE, answer, "no telephone number in this answer: left out")
        for column in (IRC, MAILING_LIST):
            answer = row.get(column)
            links = _link_iris(answer, fix_host=False)
            values += [(CV.contactPage, URIRef(link)) for link in links]
            if answer and not links and not _is_none(answer):
                self.property_value(actor, column, answer)
        if not values:
            return
        point = self.node("contact-point")
        self.add(actor, CV.contactPoint, point)
        self.add(point, RDF.type, CV.ContactPoint)
        for predicate, value in values:
            self.add(point, predicate, value)

    def audiences(self, actor: URIRef) -> list[str]:
        """Target groups from the user-type shares (any share given: the lowest is "< 10%") and
        from who may use the space (members are makers; public access means citizens)."""
        groups: list[str] = []
        for pattern, targets in _ACCESS_GROUPS:
            if pattern.search(self.row.get(ACCESS)):
                groups += [group for group in targets if group not in groups]
        for column, answer in self.row.answers.items():
            bracket = re.match(re.escape(USER_TYPES) + r".*\[(.+)\]$", column)
            if not bracket or not re.search(r"[1-9]|<", answer):
                continue
            for group in _USER_GROUPS.get(bracket.group(1).strip().casefold(), ()):
                if group not in groups:
                    groups.append(group)
        for group in groups:
            self.add(actor, DCTERMS.audience, URIRef(concept("target-group", group)))
        return groups

    def site(self, actor: URIRef) -> None:
        row = self.row
        full_address = self.address_text
        code = row.get(POSTCODE)
        region = _one_line(row.get(REGION))
        area = _one_line(row.get(AREA))
        features = self.features()
        floor = _AREA_M2.match(_one_line(row.get(FLOOR_M2)))
        if not (full_address or code or region or area or features or floor):
            return
        site = self.node("site")
        self.add(actor, ORG.hasPrimarySite, site)
        self.add(site, RDF.type, ORG.Site)
        self.add(site, DCTERMS.type, URIRef(concept("space-type", "workshop")))
        if full_address or code or region or area:
            address = self.node("address")
            self.add(site, LOCN.address, address)
            self.add(address, RDF.type, LOCN.Address)
            if full_address:
                self.add(address, LOCN.fullAddress, Literal(full_address))
            if code:
                value, valid = postcode(code)
                self.add(address, LOCN.postCode, Literal(value))
                if not valid:
                    self.problem(POSTCODE, code, "does not look like a UK postcode: kept as given")
            country = self.reference.country_iri("GB")
            if country:
                self.add(address, CV.adminUnit, URIRef(country))
            if region:
                nuts = _REGIONS.get(region.casefold())
                if nuts:
                    self.add(address, CV.adminUnit, URIRef(NUTS + nuts))
                else:
                    self.problem(REGION, region, "not a UK region or nation: left out")
            if area:
                # The local authority (district or borough), not the post town.
                self.add(address, LOCN.adminUnitL2, Literal(area, lang="en"))
        for name in features:
            feature, new = self.value_node("feature", name)
            self.add(site, SCHEMA.amenityFeature, feature)
            if new:
                self.add(feature, RDF.type, SCHEMA.LocationFeatureSpecification)
                self.add(feature, SCHEMA.name, Literal(name, lang="en"))
                self.add(feature, SCHEMA.value, Literal(True))
        if floor:
            size = self.node("floor-size")
            self.add(site, SCHEMA.floorSize, size)
            self.add(size, RDF.type, SCHEMA.QuantitativeValue)
            self.add(size, SCHEMA.value, Literal(Decimal(floor.group(1))))
            self.add(size, SCHEMA.unitCode, Literal("MTK"))  # UN/CEFACT: square metre

    def read_address(self) -> tuple[str, list[str]]:
        """The address on one line, and the names of contact persons it gave (left out of it):
        a "c/o" name, or a line of words without digits that the e-mail's name part spells."""
        answer = self.row.get(ADDRESS)
        if not answer:
            return "", []
        if len(answer.split()) > 25 or _PROSE.search(answer):
            self.problem(ADDRESS, _one_line(answer)[:80], "not an address but a remark: left out")
            return "", []
        mailbox = _letters(self.row.get(EMAIL).split("@")[0])
        lines: list[str] = []
        persons: list[str] = []
        for line in _LINES.split(answer):
            persons += [m.group(1).strip() for m in _CARE_OF.finditer(line)]
            line = " ".join(_CARE_OF.sub("", line).split()).strip(" ,")
            words = len(line.split()) > 1 and not re.search(r"\d", line)
            if words and mailbox and _letters(line) == mailbox:
                persons.append(line)
            elif line:
                lines.append(line)
        return ", ".join(lines), [p for p in persons if _letters(p)]

    def features(self) -> list[str]:
        row = self.row
        names: list[str] = []
        for column, known in ((AMENITIES, _AMENITIES), (ACCESSIBILITY, _ACCESSIBILITY)):
            found, _others = choices(row.get(column), known)
            names += found
        names += [f"Equipment: {column}" for column in self.equipment()]
        if row.get(MATERIALS_SHOP).lower().startswith("yes"):
            names.append("Materials shop")
        if row.get(MATERIALS_PROVIDED).lower().startswith("yes"):
            names.append("Materials provided")
        found, _others = choices(row.get(MATERIAL_TYPES), _MATERIALS)
        return names + found

    def equipment(self) -> list[str]:
        return [column for column in EQUIPMENT if _is_positive(self.row.get(column))]

    def dates(self, actor: URIRef) -> None:
        row = self.row
        opened, closed = row.get(OPENED), row.get(CLOSED)
        founded = survey_date(opened) if opened else None
        if founded is not None:
            self.add(actor, SCHEMA.foundingDate, founded)
        elif opened:
            self.problem(OPENED, opened, "not a date (dd/mm/yyyy): kept as text")
            self.property_value(actor, OPENED, opened)
        if not closed:
            return
        ended = survey_date(closed)
        reopened = ended is not None and founded is not None and str(founded) > str(ended)
        if "temporar" in row.get(IF_CLOSED).lower():
            status = concept("operational-status", "temporarily-closed")
            self.add(actor, CG.operationalStatus, URIRef(status))
            self.property_value(actor, CLOSED, closed)
        elif ended is not None and not reopened:
            self.add(actor, SCHEMA.dissolutionDate, ended)
            self.add(actor, CG.operationalStatus, URIRef(concept("operational-status", "ceased")))
        else:
            # It closed at a previous address and has opened again since, or no date was given.
            self.property_value(actor, CLOSED, closed)

    def services(self, actor: URIRef, audiences: list[str]) -> None:
        row = self.row
        access, fees, fee_type = row.get(ACCESS), row.get(FEES), row.get(FEE_TYPE)
        cost = row.get(MONTHLY_COST)
        if any(not _is_none(v) for v in (access, fees, fee_type, cost) if v):
            name = "Workspace" + (f": {_one_line(access)}" if access else "")
            service = self.service(actor, "workspace", name, audiences)
            self.offer(actor, service, fees, cost)
        if self.equipment():
            self.service(actor, "prototyping-equipment", "Prototyping equipment", audiences)
        training = self.options(row.get(TRAINING), r"no training")
        if training:
            self.service(actor, "training", "Training: " + ", ".join(training), audiences)
        events = self.options(row.get(EVENTS), r"no events")
        if events:
            groups = [
                group
                for pattern, targets in _EVENT_GROUPS
                if any(pattern.search(option) for option in events)
                for group in targets
            ]
            self.service(actor, "events", "Events: " + ", ".join(events), groups or audiences)
        programmes = row.get(PROGRAMMES)
        for pattern, name, groups in _PROGRAMMES:
            if pattern.search(programmes):
                self.service(actor, "training", name, list(groups))

    def options(self, answer: str, negative: str) -> list[str]:
        """The options of a multi-choice answer, without "no ..." and empty ones."""
        if _is_none(answer):
            return []
        parts = [part.strip() for part in _one_line(answer).split(",")]
        return [p for p in parts if p and not _is_none(p) and not re.match(negative, p, re.I)]

    def service(self, actor: URIRef, kind: str, name: str, groups: Iterable[str]) -> URIRef:
        service = self.node("service", f"{kind}\x1f{name}")
        self.add(service, RDF.type, SCHEMA.Service)
        self.add(service, SCHEMA.provider, actor)
        self.add(service, DCTERMS.type, URIRef(concept("service-type", kind)))
        self.add(service, SCHEMA.name, Literal(name, lang="en"))
        for group in dict.fromkeys(groups):
            self.add(service, DCTERMS.audience, URIRef(concept("target-group", group)))
        return service

    def offer(self, actor: URIRef, service: URIRef, fees: str, cost: str) -> None:
        amount = _AMOUNT.match(_one_line(cost)) if cost else None
        if cost and not amount and not _is_none(cost):
            restored = excel_range(cost)
            if restored:
                self.problem(
                    MONTHLY_COST,
                    cost,
                    f"a spreadsheet had turned the range {restored} into a date: restored",
                    "Info",
                )
            self.property_value(actor, MONTHLY_COST, restored or cost)
        description = _verbatim(fees) if fees and not _is_none(fees) else ""
        if not (amount or description):
            return
        offer = self.node("offer")
        self.add(service, SCHEMA.offers, offer)
        self.add(offer, RDF.type, SCHEMA.Offer)
        if amount:
            self.add(offer, SCHEMA.price, Literal(Decimal(amount.group(1))))
            self.add(offer, SCHEMA.priceCurrency, Literal("GBP"))
        if description:
            self.add(offer, SCHEMA.description, Literal(description, lang="en"))

    def answers(self, actor: URIRef) -> None:
        row = self.row
        for column, answer in row.answers.items():
            wanted = column in SURVEY_ANSWERS or column.startswith(SURVEY_PREFIXES)
            if wanted and answer.strip():
                self.property_value(actor, column, answer)
        # What the multi-choice columns say beyond the survey's options (which are features).
        for column, known in (
            (AMENITIES, _AMENITIES),
            (ACCESSIBILITY, _ACCESSIBILITY),
            (MATERIAL_TYPES, _MATERIALS),
        ):
            _found, others = choices(row.get(column), known)
            others = [o for o in others if not _is_none(o)]
            if others:
                self.property_value(actor, column, ", ".join(others))
        if not _AREA_M2.match(_one_line(row.get(FLOOR_M2))):
            for column in (FLOOR_M2, FLOOR_FT2):
                if row.get(column) and not _is_none(row.get(column)):
                    self.property_value(actor, column, row.get(column))
