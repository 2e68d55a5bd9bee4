"""Links to European reference data: municipalities (REFNIS/LAU), NUTS 3, countries, KBO numbers.

Tables in `ingest/reference/` (see its PROVENANCE.md) are loaded once per `Reference` object;
mappers call these functions while they build their triples, so every source links the same way.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from ingest.municipalities import MunicipalityIndex

REFERENCE = Path(__file__).parent / "reference"
REFNIS = "http://vocab.belgif.be/auth/refnis2025/"
NUTS = "http://data.europa.eu/nuts/code/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
KBO_ENTITY = "https://org.belgif.be/id/CbeRegisteredEntity/"
# ISO 3166 alpha-2 codes that the EU authority table (its TED legacy codes) spells differently.
_ISO2_ALIASES = {"GB": "UK", "EL": "GR"}


@dataclass(frozen=True)
class Municipality:
    refnis: str
    name_fr: str
    name_nl: str
    nuts3: str

    @property
    def iri(self) -> str:
        return REFNIS + self.refnis

    @property
    def nuts3_iri(self) -> str:
        return NUTS + self.nuts3


_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def _key(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form of a name."""
    if not text.isascii():  # ASCII has no accents to strip: skip the slow per-character pass
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", text.lower()).split())


class Reference:
    """Belgian municipalities, post codes and EU countries, read from the bundled tables."""

    def __init__(self, directory: Path = REFERENCE) -> None:
        self.directory = directory

    def _rows(self, name: str) -> list[dict[str, str]]:
        with (self.directory / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    @cached_property
    def municipalities(self) -> dict[str, Municipality]:
        return {
            row["refnis"]: Municipality(row["refnis"], row["name_fr"], row["name_nl"], row["nuts3"])
            for row in self._rows("belgian-municipalities.csv")
        }

    @cached_property
    def _by_postcode(self) -> dict[str, list[Municipality]]:
        table: dict[str, list[Municipality]] = {}
        for row in self._rows("belgian-postcodes.csv"):
            table.setdefault(row["postcode"], []).append(self.municipalities[row["refnis"]])
        return table

    @cached_property
    def _by_name(self) -> dict[str, Municipality]:
        table: dict[str, Municipality] = {}
        for municipality in self.municipalities.values():
            table.setdefault(_key(municipality.name_fr), municipality)
            table.setdefault(_key(municipality.name_nl), municipality)
        return table

    @cached_property
    def _countries(self) -> dict[str, str]:
        return {
            row["iso2"]: row["code"]
            for row in self._rows("eu-countries.csv")
            if row["iso2"] and row["deprecated"] != "true"
        }

    @cached_property
    def _polygons(self) -> MunicipalityIndex:
        return MunicipalityIndex()

    def municipality_by_postcode(self, postcode: str) -> Municipality | None:
        """The municipality of a Belgian post code, when the code belongs to exactly one."""
        candidates = self._by_postcode.get(postcode.strip(), [])
        return candidates[0] if len(candidates) == 1 else None

    def municipality_by_name(self, name: str) -> Municipality | None:
        return self._by_name.get(_key(name))

    def municipality_at(self, lon: float, lat: float) -> Municipality | None:
        """The Brussels municipality containing a point (other regions: no polygons bundled)."""
        found = self._polygons.locate(lon, lat)
        return self.municipalities.get(found.refnis) if found else None

    def country_iri(self, iso2: str) -> str | None:
        """EU authority-table IRI of a country given its ISO 3166-1 alpha-2 code (BE, GB, ...)."""
        code = iso2.strip().upper()
        found = self._countries.get(_ISO2_ALIASES.get(code, code))
        return COUNTRY + found if found else None


def normalise_kbo(raw: object) -> str | None:
    """A Belgian enterprise number as its 10 digits, or None when it is not one.

    Accepts "BE 0876.543.270", "0876543270" and the 9-digit form without the leading 0 that
    spreadsheets leave behind when they read the number as an integer.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if re.fullmatch(r"\d{9,10}\.0+", text):  # a number that went through a float
        text = text.split(".")[0]
    text = re.sub(r"[\s.\-/]", "", text).upper().removeprefix("BE")
    if not text.isdigit() or len(text) not in (9, 10):
        return None
    return text.zfill(10)


def kbo_is_valid(number: str) -> bool:
    """The mod-97 check of a 10-digit Belgian enterprise number (first digit 0 or 1)."""
    if not re.fullmatch(r"[01][0-9]{9}", number):
        return False
    return 97 - int(number[:8]) % 97 == int(number[8:])


def kbo_entity_iri(number: str) -> str:
    return KBO_ENTITY + number


def website_host(url: str) -> str | None:
    """The host of a website, lower-case and without `www.`, to match actors across sources."""
    text = url.strip()
    if not text:
        return None
    if "://" not in text:
        text = "http://" + text
    host = (urlsplit(text).hostname or "").lower()
    return host.removeprefix("www.") or None


_LEGAL_FORMS = re.compile(
    r"\b(asbl|vzw|aisbl|ivzw|sprl|bvba|srl|bv|sa|nv|scrl|cvba|sc|cv|ltd|cic|llp)\b"
)
_ARTICLES = re.compile(r"\b(le|la|les|l|de|het|the|du|des|van)\b")


def name_key(name: str) -> str:
    """A name for matching: no accents, case, punctuation, articles or legal forms."""
    key = _ARTICLES.sub(" ", _LEGAL_FORMS.sub(" ", _key(name)))
    return " ".join(key.split())
