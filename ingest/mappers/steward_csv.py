"""Mapper for the steward CSV template: one row per actor, filled in any spreadsheet.

The columns are documented for stewards in `docs/STEWARD-TEMPLATE.md`; the empty template is
`data/templates/steward-template.csv`. UTF-8 (a byte-order mark is fine), comma-separated, one
header row; only `id`, `type` and one `name_*` column are required, the others may be left out
or left empty. Multi-valued cells separate their values with `;`.

Who reports what:
- A file that cannot be read as this template (not UTF-8, not comma-separated, a missing
  required or unknown column, a row with more or fewer cells than the header, broken quoting)
  raises `SourceError` with file and line: nothing can be trusted.
- Row problems the shapes cannot see are `Problem`s made here, located `row N (id)` with N the
  line in the file (the header is line 1) and named by column: a missing or repeated id, a
  relation to an id no row has (and that is no IRI), a malformed relation IRI, a code that is
  not even code-shaped, a malformed website, coordinates that are not numbers.
- A relation names a row of the same source by its id, or anything by its IRI: absolute
  (`https://...`) or this instance's `id/{type}/{key}`, resolved against `BASE_IRI` as the `rdf`
  mapper resolves relative IRIs. Whether an organisation is there is the gate's question: the
  shapes see the types the store holds for it, so the source that describes it loads first.
- Everything else is left to SHACL on purpose, so that the rule and its message live in one
  place: an unknown concept code is emitted as the concept IRI it names (the value-set shape
  reports it), an enterprise number failing its mod-97 check is loaded as written (the
  `Identifier-kbo-check` constraint reports it), e-mails and phones as written. `FIELDS` turns
  the result's property back into the column name.

IRIs: actor, site, address, geometry, contact point, record and identifier share the key
`record_key(source, id)`; a service's key adds its code. So a row keeps its IRIs as long as the
steward keeps its id, whatever else changes.

A steward's sheet can list a whole region's actors, so this mapper writes N-Triples terms
straight to the staging store (`Mapped.triples`) instead of building an rdflib graph, which is
what made 100,000 rows take minutes and gigabytes.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import ADMS, CG, CV, GEO, LOCN, ORG, SCHEMA, concept
from ingest.errors import Problem, SourceError
from ingest.linking import Municipality, Reference, normalise_kbo
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped
from ingest.staging import iri, literal

NAME_COLUMNS = {"name_en": "en", "name_fr": "fr", "name_nl": "nl"}
DESCRIPTION_COLUMNS = {"description_en": "en", "description_fr": "fr", "description_nl": "nl"}
# Relation column -> the direct triple it becomes (MODEL.md, relationship kinds).
RELATIONS = {
    "member_of": iri(ORG.memberOf),
    "partner_of": iri(CG.partnerOf),
    "hosted_by": iri(CG.hostedBy),
    "funded_by": iri(SCHEMA.funder),
}
# Every column of the template, in the template's order.
COLUMNS = (
    "id", *NAME_COLUMNS, "type", "services", "target_groups", "sectors",
    "street", "number", "postcode", "municipality", "country", "longitude", "latitude",
    "website", "email", "phone", "enterprise_number", *DESCRIPTION_COLUMNS, *RELATIONS,
)  # fmt: skip
REQUIRED_COLUMNS = ("id", "type")
SEPARATOR = ";"
DEFAULT_COUNTRY = "BE"

# The source column(s) behind each property, for SHACL results (paths as the report renders them).
FIELDS = {
    "skos:prefLabel": "name_en / name_fr / name_nl",
    "org:classification": "type",
    "dct:type": "services",
    "schema:provider": "services",
    "dct:audience": "target_groups",
    "cv:sector": "sectors",
    "locn:thoroughfare": "street",
    "locn:locatorDesignator": "number",
    "locn:postCode": "postcode",
    "locn:postName": "municipality",
    "locn:adminUnitL1": "country",
    "locn:adminUnitL2": "postcode / municipality",
    "cv:adminUnit": "postcode / municipality / country",
    "locn:address": "street / number / postcode / municipality",
    "geo:asWKT": "longitude / latitude",
    "geo:hasGeometry": "longitude / latitude",
    "org:hasPrimarySite": "street / postcode / municipality / longitude / latitude",
    "org:hasPrimarySite|org:hasSite": "street / postcode / municipality / longitude / latitude",
    "foaf:homepage": "website",
    "cv:contactPoint": "email / phone",
    "cv:email": "email",
    "cv:telephone": "phone",
    "adms:identifier": "enterprise_number",
    "skos:notation": "enterprise_number",
    "dct:description": "description_en / description_fr / description_nl",
    "org:memberOf": "member_of",
    "cg:partnerOf": "partner_of",
    "cg:hostedBy": "hosted_by",
    "schema:funder": "funded_by",
}

# The terms this mapper writes, as N-Triples.
A = iri(RDF.type)
ORGANIZATION, SERVICE, CONTACT_POINT = (
    iri(ORG.Organization),
    iri(SCHEMA.Service),
    iri(CV.ContactPoint),
)
IDENTIFIER, SITE, ADDRESS = iri(ADMS.Identifier), iri(ORG.Site), iri(LOCN.Address)
GEOMETRY, ENTITY, WKT = iri(GEO.Geometry), iri(PROV.Entity), str(GEO.wktLiteral)
PREF_LABEL, CLASSIFICATION, AUDIENCE = (
    iri(SKOS.prefLabel),
    iri(ORG.classification),
    iri(DCTERMS.audience),
)
SECTOR, PROVIDER, TYPE = iri(CV.sector), iri(SCHEMA.provider), iri(DCTERMS.type)
DESCRIPTION, HOMEPAGE, CONTACT = iri(DCTERMS.description), iri(FOAF.homepage), iri(CV.contactPoint)
EMAIL, TELEPHONE, HAS_IDENTIFIER = iri(CV.email), iri(CV.telephone), iri(ADMS.identifier)
NOTATION, CONFORMS_TO = iri(SKOS.notation), iri(DCTERMS.conformsTo)
KBO_SCHEME = iri(concept("identifier-scheme", "be-kbo"))
PRIMARY_SITE, HAS_ADDRESS, THOROUGHFARE = (
    iri(ORG.hasPrimarySite),
    iri(LOCN.address),
    iri(LOCN.thoroughfare),
)
LOCATOR, POST_CODE, POST_NAME = iri(LOCN.locatorDesignator), iri(LOCN.postCode), iri(LOCN.postName)
ADMIN_L1, ADMIN_L2, ADMIN_UNIT = iri(LOCN.adminUnitL1), iri(LOCN.adminUnitL2), iri(CV.adminUnit)
HAS_GEOMETRY, AS_WKT = iri(GEO.hasGeometry), iri(GEO.asWKT)
DERIVED_FROM, IDENTIFIER_TEXT = iri(PROV.wasDerivedFrom), iri(DCTERMS.identifier)

_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_UNSAFE_IRI = re.compile(r'[\s<>"{}|\\^`]')
# A relation cell that is not a row id but means an IRI: absolute http(s), or this instance's
# `id/...` (and `doc/...`, a page's address pasted by mistake, to say so).
_IRI_LIKE = re.compile(r"^(https?://|id/|doc/)", re.IGNORECASE)
# Street types that give a street name's language (Brussels streets are named in both).
_FRENCH_STREETS = frozenset({
    "rue", "avenue", "av", "boulevard", "bd", "place", "chaussée", "chaussee", "quai", "square",
    "galerie", "galeries", "chemin", "drève", "dreve", "impasse", "allée", "allee", "passage",
    "parvis", "rond-point", "cité", "cite", "clos", "sentier", "grand-place",
})  # fmt: skip
_DUTCH_STREET_ENDINGS = (
    "straat", "laan", "plein", "steenweg", "kaai", "dreef", "lei", "markt", "weg", "dijk",
    "gang", "hof", "pad", "park", "singel", "vest", "berg",
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]

    @property
    def id(self) -> str:
        return self.cells.get("id", "")

    @property
    def locator(self) -> str:
        return f"row {self.line} ({self.id})" if self.id else f"row {self.line}"

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def values(self, column: str) -> list[str]:
        """The `;`-separated values of a cell, stripped, empty ones and repeats dropped."""
        seen: list[str] = []
        for value in self.get(column).split(SEPARATOR):
            value = value.strip()
            if value and value not in seen:
                seen.append(value)
        return seen


def read_rows(path: Path) -> Iterator[Row]:
    """The data rows of a steward CSV, one at a time; `SourceError` names the file and line.

    A generator, so that 100,000 rows (~230 MB as dicts) never sit in memory together.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise SourceError(
            path,
            f"not UTF-8 text (byte {error.start}): save the sheet as 'CSV UTF-8 (comma delimited)'",
            line,
        ) from error
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    header: list[str] | None = None
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if header is None:
                header = _header(path, cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue  # an empty line, or a row of empty cells a spreadsheet left behind
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            if len(cells) < len(header) or extra:
                raise SourceError(
                    path,
                    f"{len(cells)} cells where the header has {len(header)} columns "
                    "(a missing or extra comma, or a value with a comma that is not quoted?)",
                    start,
                )
            yield Row(start, {c: v.strip() for c, v in zip(header, cells, strict=False)})
    except csv.Error as error:
        raise SourceError(path, f"not valid CSV: {error}", reader.line_num) from error
    if header is None:
        raise SourceError(path, "empty file: expected a header row with the template's columns", 1)


def _header(path: Path, cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells a spreadsheet may add
    if len(names) == 1 and SEPARATOR in names[0]:
        raise SourceError(
            path,
            "the header is separated by ';', not ',': save the sheet as "
            "'CSV UTF-8 (comma delimited)'",
            1,
        )
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise SourceError(
            path,
            f"unknown column(s) {', '.join(repr(n) for n in unknown)} "
            f"(the template's columns: {', '.join(COLUMNS)})",
            1,
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SourceError(path, f"column(s) {', '.join(repeated)} appear more than once", 1)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if not any(name in names for name in NAME_COLUMNS):
        missing.append(" or ".join(NAME_COLUMNS))
    if missing:
        raise SourceError(path, f"missing required column(s): {', '.join(missing)}", 1)
    return names


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    mapped = Mapped(fields=dict(FIELDS))
    reference = Reference()
    taken: dict[str, str] = {}  # id -> "row N of file": ids key IRIs, so unique in the source
    for path in manifest.files:
        _map_file(path, manifest.name, iris, reference, mapped, taken)
    return mapped


class _RowMapper:
    """Maps one row; `problem` records what the shapes cannot see, located and named."""

    def __init__(
        self, file: str, row: Row, source: str, iris: Iris, reference: Reference, mapped: Mapped
    ) -> None:
        self.file, self.row, self.source, self.iris = file, row, source, iris
        self.reference, self.mapped = reference, mapped
        self.add = mapped.triples.add
        self.key = record_key(source, row.id)
        self.where = (file, row.locator)
        self.actor = self.node("actor")

    def node(self, kind: str, key: str | None = None) -> str:
        """Mint the IRI of a node of this row; returns it as an N-Triples term.

        The row is found again from the key its IRIs end with (`Mapped.keys`): one entry for
        the actor, site, address, geometry, contact, identifier and record, one per service.
        """
        key = key or self.key
        self.mapped.keys[key] = self.where
        return f"<{self.iris.thing(kind, key)}>"

    def problem(self, column: str, value: str, message: str, severity: str = "Violation") -> None:
        self.mapped.problems.append(
            Problem(self.file, self.row.locator, column, value, message, severity)
        )

    def concepts(self, column: str, scheme: str) -> list[str]:
        found = []
        for value in self.row.values(column):
            code = value.lower()
            if _CODE.match(code):
                found.append(iri(concept(scheme, code)))
            else:
                self.problem(
                    column, value,
                    f"not a code of <{concept(scheme, '')[:-1]}>: codes are lower-case words "
                    "joined by '-', e.g. 'performing-arts'; see docs/STEWARD-TEMPLATE.md",
                )  # fmt: skip
        return found

    def map(self, iri_of: dict[str, str]) -> None:
        add, actor, row = self.add, self.actor, self.row
        record = self.node("record")
        add(actor, A, ORGANIZATION)
        for column, language in NAME_COLUMNS.items():
            if row.get(column):
                add(actor, PREF_LABEL, literal(row.get(column), lang=language))
        for kind in self.concepts("type", "actor-type")[:1]:
            add(actor, CLASSIFICATION, kind)
        if len(row.values("type")) > 1:
            self.problem(
                "type", row.get("type"), "give one actor type; the first one is used", "Warning"
            )
        audiences = self.concepts("target_groups", "target-group")
        for audience in audiences:
            add(actor, AUDIENCE, audience)
        for sector in self.concepts("sectors", "sector"):
            add(actor, SECTOR, sector)
        for service_type in self.concepts("services", "service-type"):
            code = service_type[:-1].rsplit("/", 1)[1]
            service = self.node("service", record_key(self.source, f"{row.id}/service/{code}"))
            add(service, A, SERVICE)
            add(service, PROVIDER, actor)
            add(service, TYPE, service_type)
            for audience in audiences:
                add(service, AUDIENCE, audience)
        for column, language in DESCRIPTION_COLUMNS.items():
            if row.get(column):
                add(actor, DESCRIPTION, literal(row.get(column), lang=language))
        self.website()
        self.contact()
        self.identifier()
        self.site()
        self.relations(iri_of)
        add(actor, DERIVED_FROM, record)
        add(record, A, ENTITY)
        add(record, IDENTIFIER_TEXT, literal(row.id))

    def website(self) -> None:
        value = self.row.get("website")
        if not value:
            return
        if _UNSAFE_IRI.search(value) or not re.match(r"^https?://[^/?#]+", value, re.IGNORECASE):
            self.problem(
                "website", value,
                "a website must be a full address starting with http:// or https://, "
                "without spaces, e.g. https://www.example.be/",
            )  # fmt: skip
            return
        try:
            ox.NamedNode(value)  # the store's own IRI check (RFC 3987), before it sees the row
        except ValueError as error:
            self.problem("website", value, f"not a valid web address: {error}")
            return
        self.add(self.actor, HOMEPAGE, iri(value))

    def contact(self) -> None:
        email, phone = self.row.get("email"), self.row.get("phone")
        if not (email or phone):
            return
        contact = self.node("contact")
        self.add(self.actor, CONTACT, contact)
        self.add(contact, A, CONTACT_POINT)
        if email:
            self.add(contact, EMAIL, literal(email))
        if phone:
            self.add(contact, TELEPHONE, literal(phone))

    def identifier(self) -> None:
        raw = self.row.get("enterprise_number")
        if not raw:
            return
        # Loaded as written when it is no enterprise number at all, so that the mod-97 shape
        # reports it with row and column; the steward must fix the cell.
        number = normalise_kbo(raw) or raw
        identifier = self.node("identifier")
        self.add(self.actor, HAS_IDENTIFIER, identifier)
        self.add(identifier, A, IDENTIFIER)
        self.add(identifier, NOTATION, literal(number))
        self.add(identifier, CONFORMS_TO, KBO_SCHEME)

    def coordinates(self) -> tuple[float, float] | None:
        texts = {c: self.row.get(c) for c in ("longitude", "latitude")}
        if not any(texts.values()):
            return None
        numbers: dict[str, float] = {}
        for column, text in texts.items():
            if not text:
                self.problem(column, "", "give both longitude and latitude, or neither")
                return None
            try:
                number = float(text.replace(",", ".") if text.count(",") == 1 else text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                self.problem(column, text, "not a number in decimal degrees, e.g. 4.3517")
                return None
            numbers[column] = number
        lon, lat = numbers["longitude"], numbers["latitude"]
        if self.country() == "BE" and 49 <= lon <= 52 and 2 <= lat <= 7:
            self.problem(
                "longitude / latitude", f"{texts['longitude']} / {texts['latitude']}",
                "longitude and latitude look swapped: in Belgium the longitude is about 2.5 to "
                "6.4 and the latitude about 49.5 to 51.5",
            )  # fmt: skip
            return None
        return lon, lat

    def country(self) -> str:
        return (self.row.get("country") or DEFAULT_COUNTRY).upper()

    def municipality(self, position: tuple[float, float] | None) -> Municipality | None:
        """By post code, else by name, else by point-in-polygon (Belgian addresses only)."""
        if self.country() != "BE":
            return None
        postcode, name = self.row.get("postcode"), self.row.get("municipality")
        by_code = self.reference.municipality_by_postcode(postcode) if postcode else None
        by_name = self.reference.municipality_by_name(name) if name else None
        if by_code and by_name and by_code.refnis != by_name.refnis:
            self.problem(
                "municipality", name,
                f"post code {postcode} is in {by_code.name_fr} / {by_code.name_nl}; "
                "the post code is used",
                "Warning",
            )  # fmt: skip
        if name and by_name is None:
            self.problem(
                "municipality", name,
                "not the name of a Belgian municipality (in French or Dutch)", "Warning",
            )  # fmt: skip
        found = by_code or by_name
        if found is None and position is not None:
            found = self.reference.municipality_at(*position)
        return found

    def site(self) -> None:
        row = self.row
        position = self.coordinates()
        address_columns = ("street", "number", "postcode", "municipality")
        if position is None and not any(row.get(c) for c in address_columns):
            return
        site, address = self.node("site"), self.node("address")
        add = self.add
        add(self.actor, PRIMARY_SITE, site)
        add(site, A, SITE)
        add(site, HAS_ADDRESS, address)
        add(address, A, ADDRESS)
        for part in (p.strip() for p in row.get("street").split("/")):
            if part:
                add(address, THOROUGHFARE, literal(part, lang=street_language(part)))
        if row.get("number"):
            add(address, LOCATOR, literal(row.get("number")))
        if row.get("postcode"):
            add(address, POST_CODE, literal(row.get("postcode")))
        country = self.country()
        add(address, ADMIN_L1, literal(country))
        country_iri = self.reference.country_iri(country)
        if country_iri:
            add(address, ADMIN_UNIT, iri(country_iri))
        else:
            self.problem("country", country, "not an ISO 3166 alpha-2 country code", "Warning")
        municipality = self.municipality(position)
        name = row.get("municipality")
        if municipality is not None:
            add(address, ADMIN_UNIT, iri(municipality.iri))
            add(address, ADMIN_UNIT, iri(municipality.nuts3_iri))
            add(address, ADMIN_L2, literal(municipality.name_fr, lang="fr"))
            add(address, ADMIN_L2, literal(municipality.name_nl, lang="nl"))
        if name:
            for language in _name_languages(name, municipality):
                add(address, POST_NAME, literal(name, lang=language))
        if position is not None:
            geometry = self.node("geometry")
            lon, lat = position
            add(site, HAS_GEOMETRY, geometry)
            add(geometry, A, GEOMETRY)
            wkt = f"POINT({_decimal(lon)} {_decimal(lat)})"
            add(geometry, AS_WKT, literal(wkt, datatype=WKT))

    def relations(self, iri_of: dict[str, str]) -> None:
        for column, predicate in RELATIONS.items():
            for target in self.row.values(column):
                if target == self.row.id:
                    self.problem(column, target, "a row cannot refer to itself")
                elif target in iri_of:
                    self.add(self.actor, predicate, iri_of[target])
                elif _IRI_LIKE.match(target):
                    found = self.target_iri(column, target)
                    if found:
                        self.add(self.actor, predicate, iri(found))
                else:
                    # only for the error message: a case-insensitive look-up of the id meant
                    close = [key for key in iri_of if key.lower() == target.lower()]
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.problem(
                        column, target,
                        f"no row of {self.file} has the id {target!r}{hint}: a relation names "
                        "the id of another row of the same file, or an IRI (https://... , or "
                        "id/{type}/{key} for a thing of this instance)",
                    )  # fmt: skip

    def target_iri(self, column: str, target: str) -> str | None:
        """The IRI a relation cell names: absolute http(s), or `id/{type}/{key}` of this instance.

        Whether the store holds an organisation there is the gate's question (context types).
        """
        base = self.iris.base
        absolute = target if re.match(r"^https?://", target, re.IGNORECASE) else base + target
        if absolute.startswith(base) and not self.iris.is_thing(absolute):
            path = absolute[len(base) :]
            self.problem(
                column, target,
                f"the address of a page: relations name the thing it describes, id/{path[4:]}"
                if path.startswith("doc/")
                else "an IRI of this instance is written id/{type}/{key} (type: lower-case "
                "words joined by '-'; key: letters, digits, '-', '_'), e.g. "
                "id/ecosystem/brussels-creative",
            )  # fmt: skip
            return None
        if _UNSAFE_IRI.search(absolute):
            self.problem(column, target, "an IRI cannot contain spaces, quotes or <>{}|\\^`")
            return None
        try:
            ox.NamedNode(absolute)  # the store's own IRI check (RFC 3987)
        except ValueError as error:
            self.problem(column, target, f"not a valid IRI: {error}")
            return None
        return absolute


def _map_file(
    path: Path,
    source: str,
    iris: Iris,
    reference: Reference,
    mapped: Mapped,
    taken: dict[str, str],
) -> None:
    """Two passes over the file: the ids first (relations may point forward), then the rows."""
    file = path.name
    valid: set[int] = set()  # lines of the rows that get mapped
    iri_of: dict[str, str] = {}
    for row in read_rows(path):
        mapped.records_read += 1
        if not row.id:
            mapped.problems.append(
                Problem(file, row.locator, "id", "", "every row needs an id (its stable key)")
            )
        elif row.id in taken:
            mapped.problems.append(
                Problem(
                    file, row.locator, "id", row.id,
                    f"the id {row.id!r} is already used by {taken[row.id]}: ids must be unique "
                    "in the source",
                )
            )  # fmt: skip
        else:
            taken[row.id] = f"row {row.line} of {file}"
            valid.add(row.line)
            iri_of[row.id] = iri(iris.thing("actor", record_key(source, row.id)))
    for row in read_rows(path):
        if row.line in valid:
            _RowMapper(file, row, source, iris, reference, mapped).map(iri_of)
            mapped.actors += 1


def street_language(street: str) -> str:
    """`fr` or `nl` from the street type ("Rue ...", "...straat"), else `und` (undetermined)."""
    words = street.lower().replace("'", " ").split()
    if words and words[0] in _FRENCH_STREETS:
        return "fr"
    if any(word.endswith(_DUTCH_STREET_ENDINGS) for word in words):
        return "nl"
    return "und"


def _name_languages(name: str, municipality: Municipality | None) -> list[str]:
    """Languages of a municipality name as written: fr, nl, both (Anderlecht) or `und`."""
    if municipality is None:
        return ["und"]
    languages = [
        language
        for language, official in (("fr", municipality.name_fr), ("nl", municipality.name_nl))
        if _plain(official) == _plain(name)
    ]
    return languages or ["und"]


def _plain(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form of a name."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _decimal(number: float) -> str:
    """A coordinate as plain decimal text (WKT and the shapes' pattern want no exponent)."""
    text = f"{number:.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
