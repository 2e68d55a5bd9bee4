"""Mapper for the City of Brussels subsidies 2019-2024 (yearly JSON exports, opendata.brussels.be).

Each file is a JSON array of flat records, one per subsidy granted by the City. The field names
and value types drift between years (see `data/sources/brussels-city-subsidies/PROVENANCE.md`), so
every field is looked up under each of its known names (`FIELD_NAMES`). Quirks handled:

- amounts are Belgian-formatted strings in 2019-2021 ("1.050.000,00"), JSON numbers in 2022-2024
  (with binary noise such as 53935.020000000004, rounded to the cent); 2019 has only the budgeted
  amount, later years the granted amount (`montant_octroye_toegekend_bedrag`), which wins;
- KBO/BCE numbers are strings, integers (2020-2021) or dotted ("1002.339.503"), nearly always
  without their leading 0: `linking.normalise_kbo` gives the 10 digits, `linking.kbo_is_valid`
  the mod-97 check (a failing number is a warning and is not loaded);
- names and texts are often bilingual, "fr / nl", "fr - nl" (also with an en dash; nl first, a part
  repeated): they are split when the parts are clearly French and Dutch, else tagged @fr, @nl
  when clearly Dutch, and names that are clearly brands (one word, or English) @mul;
- "X en abrégé Y" / "X afgekort Y": X is the name, Y an alternative name (`skos:altLabel`).

What is made (terms of docs/MODEL.md only, every node named by `iris.thing`, no blank node):

- the City of Brussels, the funder: `org:Organization`, `cv:PublicOrganisation`, public body,
  its enterprise number, a site whose address names the municipality 21004, NUTS 3 BE100, Belgium;
- one actor per beneficiary, keyed by its valid KBO number, else by its name (`name_key`); a
  name without a number joins the one actor of this source that bears the same name and has a
  number, if there is exactly one. `rdfs:seeAlso` the KBO entity: a name in a subsidy list does
  not prove that the actor *is* that legal entity, so no `owl:sameAs`. A beneficiary without a
  number whose name looks like a person's is not published (an Info problem says so);
- one `schema:MonetaryGrant` per record (funder, beneficiary, name, purpose, budget article,
  year, amount in EUR), and the direct `beneficiary schema:funder City` triple;
- one `prov:Entity` per record (`file record N`), from which grants and actors are derived.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import ADMS, CV, LOCN, ORG, SCHEMA, concept
from ingest.errors import Problem, SourceError
from ingest.json_files import read_json
from ingest.linking import Reference, kbo_entity_iri, kbo_is_valid, name_key, normalise_kbo
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped

# Each field under every name it has had in the yearly exports (first found wins).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "grantor": ("ville_de_bruxelles_stad_brussel",),
    "subsidy": ("nom_du_subside_naam_subsidie", "nom_de_la_subvention_naam_van_de_subsidie"),
    "beneficiary": (
        "beneficiaire_begunstigde",
        "nom_du_beneficiaire_de_la_subvention_naam_begunstigde_van_de_subsidie",
    ),
    "kbo": (
        "numero_bce_kbo_nummer",
        "le_numero_de_bce_du_beneficiaire_de_la_subvention_kbo_nummer_van_de_begunstigde_van_de_subsidie",
    ),
    "purpose": (
        "objet_du_subside_doel_van_de_subsidie",
        "l_objet_de_la_subvention_doel_van_de_subsidie",
    ),
    "article": ("article_budgetaire_begrotingsartikel", "article_complet_volledig_artikel"),
    "granted": ("montant_octroye_toegekend_bedrag",),
    "year": (
        "annee_budgetaire_debut_octroi_begroting_jaar_begin_toekenning",
        "l_annee_de_debut_d_octroi_de_la_subvention_beginjaar_waarin_de_subsidie_wordt_toegekend",
    ),
}
# 2019's only amount, "budget_2019_begroting_2019"; later years' planned amount (not mapped:
# the granted amount is what the City paid) also names the budget year.
BUDGET_AMOUNT = re.compile(r"^budget_(\d{4})_begroting_\d{4}$")
PLANNED_AMOUNT = re.compile(r"^montant_prevu_au_budget_(\d{4})_")


def _names(kind: str) -> str:
    return " / ".join(FIELD_NAMES[kind])


FIELDS = {
    "skos:prefLabel": _names("beneficiary"),
    "skos:altLabel": _names("beneficiary"),
    "org:classification": _names("beneficiary"),
    "adms:identifier": _names("kbo"),
    "skos:notation": _names("kbo"),
    "schema:name": _names("subsidy"),
    "schema:description": _names("purpose"),
    "schema:identifier": _names("article"),
    "schema:startDate": _names("year"),
    "schema:amount": "montant_octroye_toegekend_bedrag / budget_2019_begroting_2019",
    "schema:value": "montant_octroye_toegekend_bedrag / budget_2019_begroting_2019",
    "schema:fundedItem": _names("beneficiary"),
}

CITY_KBO = "0207373429"  # Ville de Bruxelles / Stad Brussel; passes the mod-97 check
CITY_REFNIS = "21004"
CITY_NAMES = {"fr": "Ville de Bruxelles", "nl": "Stad Brussel"}
CITY_AS_GRANTOR = "Ville de Bruxelles / Stad Brussel"  # 2019's grantor field
CURRENCY = "EUR"
_CENT = Decimal("0.01")

# ---- amounts --------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_CURRENCY_MARK = re.compile(r"^(?:€|eur)|(?:€|eur)$", re.IGNORECASE)


def parse_amount(value: object) -> Decimal:
    """An amount in euro from a JSON number or a Belgian- or plain-formatted string.

    "3.000,00", "1.050.000,00", "150,00", "1 250", "1.250" (thousands), "12500.5", 1500.0;
    floats are rounded to the cent (they carry binary noise). Raises ValueError with the reason.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        number = Decimal(repr(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    elif isinstance(value, str):
        number = _parse_amount_text(value)
    else:
        raise ValueError(f"not an amount (a JSON {type(value).__name__})")
    if number < 0:
        raise ValueError("a grant cannot be negative")
    return number


def _parse_amount_text(value: str) -> Decimal:
    text = _CURRENCY_MARK.sub("", _SPACES.sub("", value)).strip()
    if re.fullmatch(r"\d+", text):
        digits = text
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", text):  # 1.050.000,00 - 1.250
        digits = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d+", text):  # 150,00
        digits = text.replace(",", ".")
    elif re.fullmatch(r"\d+\.\d+", text):  # 12500.50 (a single dot before three digits: above)
        digits = text
    else:
        raise ValueError("not an amount in euro (expected e.g. 1.250,00 or 1250.00)")
    try:
        return Decimal(digits)
    except InvalidOperation as error:  # pragma: no cover - the patterns above are decimals
        raise ValueError("not an amount") from error


def canonical_decimal(number: Decimal) -> str:
    """xsd:decimal's canonical form, as pyoxigraph stores it: 12500, 12500.5, 0.05."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


# ---- languages ------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_FRENCH_WORDS = _word_set(
    """le la les l du des au aux et pour sur dans avec un une d à ou par chez entre sous sans ce
    cette qui que est son sa ses leur abrégé subside subsides subvention subventions organisation
    projet projets cotisation membre frais maison centre ville commune ordinaire extraordinaire
    quartier école musée musées bibliothèque bibliothèques exposition expositions soutien
    activités jeunes jeunesse édition événement évènement spectacle théâtre danse culture
    culturel culturelle culturelles association appel bruxelles il ils elle elles nous vous
    sociale social nationale royale générale"""
)
_DUTCH_WORDS = _word_set(
    """het van voor een op met naar der den aan bij uit ook te tot zijn wordt vzw ivzw afgekort
    toelage toelagen subsidie subsidies organisatie evenement tentoonstelling tentoonstellingen
    lidmaatschapsbijdrage begroting gewone buitengewone werking stad gemeente huis centrum wijk
    jeugd editie kosten ondersteuning muziek kunst kunsten erfgoed bibliotheek musea vereniging
    stichting project projectoproep brussel"""
)
_ENGLISH_WORDS = _word_set(
    "the of and for brussels music events agency club week city cities records project projects"
    " world organization society square"
)
_FRENCH_ACCENTS = frozenset("éèêàâçôûùîœ")
_FRENCH_ENDINGS = ("aire", "ique", "eux", "euse")
_DUTCH_CLUSTERS = ("ij", "aa", "uu", "schap", "heid")
_DUTCH_ENDINGS = ("tie", "ties", "isch", "ische", "iek")
_WORD = re.compile(r"[^\W\d_]+")
# Bilingual separators; a slash between two digits (a date) is not one.
_SEPARATOR = re.compile(r"\s+[-\u2013\u2014]\s+|\s*[\u2013\u2014/]\s*")
_ABBREVIATION = re.compile(r",?\s*\ben\s+[aé]br\w*\.?\s*:?\s*|\s+afgekort\s*:?\s*", re.IGNORECASE)
_TRIM = ' ,;:"“”«»'  # around an abbreviation
_PART_TRIM = " ,;:"  # around a part of a bilingual text


def _clean(text: str) -> str:
    return " ".join(text.split())


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _raw_scores(text: str) -> tuple[int, int]:
    french = dutch = 0
    # Words in capitals ("BEER PROJECT", "LE PONT DES ARTS") are names: they mark no language.
    for word in (w.casefold() for w in _WORD.findall(text) if len(w) == 1 or not w.isupper()):
        if (
            word in _FRENCH_WORDS
            or any(c in _FRENCH_ACCENTS for c in word)
            or word.endswith(_FRENCH_ENDINGS)
        ):
            french += 1
        if (
            word in _DUTCH_WORDS
            or any(c in word for c in _DUTCH_CLUSTERS)
            or word.endswith(_DUTCH_ENDINGS)
        ):
            dutch += 1
    return french, dutch


def _scores(text: str) -> tuple[int, int]:
    """(French, Dutch) marks of a text, not counting an abbreviation clause when it can."""
    french, dutch = _raw_scores(_split_abbreviation(text)[0])
    return (french, dutch) if french != dutch else _raw_scores(text)


def _language(text: str) -> str | None:
    french, dutch = _scores(text)
    if french == dutch:
        return None
    return "fr" if french > dutch else "nl"


def _split_abbreviation(text: str) -> tuple[str, str | None]:
    """("Grandir en Santé", "GES") from "Grandir en Santé en abrégé GES"."""
    found = _ABBREVIATION.search(text)
    if found is None or found.start() == 0:
        return text, None
    name = text[: found.start()].strip(_TRIM)
    short = text[found.end() :].strip(_TRIM)
    return (name, short or None) if name else (text, None)


def _parts(text: str) -> list[tuple[int, int]]:
    """Spans of the parts of a text cut at its bilingual separators, identical parts once."""
    cuts = [
        m
        for m in _SEPARATOR.finditer(text)
        if not (m.start() > 0 and m.end() < len(text))
        or not (text[m.start() - 1].isdigit() and text[m.end()].isdigit())
    ]
    spans, start = [], 0
    for cut in [*cuts, None]:
        end = cut.start() if cut else len(text)
        piece = text[start:end]
        left = len(piece) - len(piece.lstrip(_PART_TRIM))
        right = len(piece.rstrip(_PART_TRIM))
        if right > left:
            spans.append((start + left, start + right))
        start = cut.end() if cut else len(text)
    seen: set[str] = set()
    unique = []
    for begin, end in spans:
        key = _clean(text[begin:end]).casefold()
        if key not in seen:
            seen.add(key)
            unique.append((begin, end))
    return unique


def bilingual(text: str, default: str) -> dict[str, str]:
    """A text by language: {"fr": ..., "nl": ...} when it is "fr / nl" (or "nl - fr" ...),
    else the whole text under its language, or `default` when the text does not say."""
    text = _clean(text)
    spans = _parts(text)
    if len(spans) == 1 and spans[0] != (0, len(text)):  # "X / X": once
        text = text[spans[0][0] : spans[0][1]]
    elif len(spans) > 1:
        languages = [_language(text[b:e]) for b, e in spans]
        runs: list[tuple[str, int, int]] = []  # language, first part, last part
        for index, language in enumerate(languages):
            if language is None:
                runs = []
                break
            if runs and runs[-1][0] == language:
                runs[-1] = (language, runs[-1][1], index)
            else:
                runs.append((language, index, index))
        if len(runs) == 2:
            return {
                language: text[spans[first][0] : spans[last][1]] for language, first, last in runs
            }
    return {_language(text) or default: text}


def _name_default(name: str) -> str:
    """@mul for a name that is clearly a brand (one word, or English words), else @fr."""
    words = _words(_split_abbreviation(name)[0])
    if len(words) == 1 or any(word in _ENGLISH_WORDS for word in words):
        return "mul"
    return "fr"


# ---- natural persons ------------------------------------------------------------------------

_PARTICLES = _word_set(
    "van de der den du da di del della von le la el al ben bel ibn ter ten vande vander d"
)
_ARTICLES = _word_set("le la les l' un une the het een")
# Words that never make up a person's name: legal forms, kinds of organisation, prepositions.
_ORGANISATION_WORDS = _word_set(
    """asbl vzw aisbl ivzw sprl srl sa nv bv scrl cvba sc cv ltd limited llp cic club comite
    association assoc vereniging collectif collective festival theatre cie compagnie company
    ensemble orchestre orkest choeur chorale koor fondation stichting foundation centre center
    centrum maison huis atelier ateliers studio studios school ecole institut instituut academie
    academy musee museum groupe group team network reseau netwerk project projet projects
    production productions prod records editions agency cities city ville stad brussels
    bruxelles brussel belgium belgique belgie europe european international federation federatie
    union unie partnership trading services service art arts culture cultuur cultural culturel
    music musique muziek sport sports jeunesse jeugd quartier wijk scouts chiro parc park jardin
    tuin potager cafe bar radio film films cinema galerie gallery garden factory lab hub autour
    pour sans avec sur sous entre chez des aux au et of for and in op voor met en athenee royal
    royale koninklijk koninklijke coordination institute ordre orde brocante gym kitchen"""
)
_ORGANISATION_ENDINGS = ("club", "groep", "comite", "raad", "school", "jeugd")
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*\.?")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".")


def looks_like_person(name: str) -> bool:
    """Does a name read like one or more people's names ("Anne Drabs", "DUPONT Jean", ...)?

    Deliberately eager: a two-word brand without any organisation word ("Five Lions") is taken
    for a person too, because publishing a person's name is worse than missing an actor.
    """
    pieces = [p for p in re.split(r"\s*(?:,|&|\bet\b|\band\b)\s*", _clean(name)) if p]
    return bool(pieces) and all(_person_piece(piece) for piece in pieces)


def _person_piece(text: str) -> bool:
    tokens = text.split()
    if not 2 <= len(tokens) <= 5 or tokens[0].casefold() in _ARTICLES:
        return False
    words = [t for t in tokens if _fold(t) not in _PARTICLES]
    if len(words) < 2:
        return False
    return all(
        _NAME_TOKEN.fullmatch(t)
        and t[0].isupper()
        and _fold(t) not in _ORGANISATION_WORDS
        and not _fold(t).endswith(_ORGANISATION_ENDINGS)
        for t in words
    )


# ---- records --------------------------------------------------------------------------------

_LEGAL_ASSOCIATION = re.compile(r"\b(?:a\.?s\.?b\.?l|v\.?z\.?w|a\.?i\.?s\.?b\.?l|ivzw)\b", re.I)


@dataclass
class _Record:
    file: str
    number: int
    locator: str
    year: str
    beneficiary: str  # as written, whitespace normalised
    own_key: str  # "kbo:0123456789" or "name:..." from this record alone
    kbo: str | None  # valid 10-digit number
    kbo_field: str
    subsidy: str
    purpose: str
    article: str
    amount: Decimal | None
    actor_key: str = ""  # the actor it names, once grouped


@dataclass
class _Actor:
    key: str  # "kbo:..." or "name:..."
    kbo: str | None
    names: list[tuple[str, _Record]] = field(default_factory=list)


def _read_records(path: Path) -> list[Any]:
    document = read_json(path)
    if not isinstance(document, list):
        raise SourceError(path, "not a JSON array of subsidy records")
    return document


def _get(record: dict[str, Any], kind: str) -> tuple[str, Any]:
    for name in FIELD_NAMES[kind]:
        if name in record:
            return name, record[name]
    return FIELD_NAMES[kind][0], None


def _text(value: Any) -> str:
    return _clean(value) if isinstance(value, str) else ""


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    graph = Graph()
    mapped = Mapped(graph=graph, fields=dict(FIELDS))
    source = manifest.name
    records: list[_Record] = []
    for path in manifest.files:
        for number, raw in enumerate(_read_records(path), start=1):
            mapped.records_read += 1
            record = _parse_record(raw, number, path.name, mapped.problems)
            if record is not None:
                records.append(record)

    city = _map_city(manifest, iris, mapped)
    actors = _group_actors(records, mapped.problems)
    actor_iris = {}
    for actor in actors.values():
        actor_iris[actor.key] = _map_actor(actor, source, iris, city, mapped)
    occurrences: Counter[str] = Counter()
    for record in records:
        beneficiary = actor_iris[record.actor_key]
        _map_grant(record, beneficiary, city, source, iris, occurrences, mapped)
    return mapped


def _parse_record(raw: Any, number: int, file: str, problems: list[Problem]) -> _Record | None:
    if not isinstance(raw, dict):
        problems.append(Problem(file, f"record {number}", "", "", "not a JSON object"))
        return None
    name_field, name_value = _get(raw, "beneficiary")
    beneficiary = _text(name_value)
    locator = f"record {number} ({beneficiary})"
    if not beneficiary:
        problems.append(
            Problem(file, f"record {number}", name_field, repr(name_value), "no beneficiary name")
        )
        return None
    grantor_field, grantor = _get(raw, "grantor")
    city = name_key(CITY_AS_GRANTOR)
    if grantor is not None and name_key(_text(grantor)) != city:
        problems.append(
            Problem(file, locator, grantor_field, str(grantor), "the grantor is not the City")
        )
        return None

    kbo_field, kbo_value = _get(raw, "kbo")
    kbo = None
    if kbo_value is not None and str(kbo_value).strip():
        digits = normalise_kbo(kbo_value)
        if digits is None:
            problems.append(
                Problem(file, locator, kbo_field, str(kbo_value),
                        "not a Belgian enterprise number: not loaded", "Warning")
            )  # fmt: skip
        elif not kbo_is_valid(digits):
            problems.append(
                Problem(file, locator, kbo_field, str(kbo_value),
                        f"{digits} fails the mod-97 check: not loaded as an identifier",
                        "Warning")
            )  # fmt: skip
        else:
            kbo = digits
    if kbo is None and looks_like_person(beneficiary):
        problems.append(
            Problem(file, f"record {number}", name_field, "",
                    "looks like a natural person: not published", "Info")
        )  # fmt: skip
        return None
    own_key = f"kbo:{kbo}" if kbo else f"name:{name_key(beneficiary) or beneficiary.casefold()}"

    year = _year(raw)
    if year is None:
        year_field, year_value = _get(raw, "year")
        problems.append(
            Problem(file, locator, year_field, repr(year_value), "no budget year (YYYY)")
        )
        return None
    amount_field, amount_value = _amount_field(raw)
    amount = None
    if amount_field is None:
        problems.append(Problem(file, locator, _names("granted"), "", "no amount field"))
        return None
    if amount_value is None or (isinstance(amount_value, str) and not amount_value.strip()):
        problems.append(
            Problem(file, locator, amount_field, "", "no amount: grant loaded without one",
                    "Warning")
        )  # fmt: skip
    else:
        try:
            amount = parse_amount(amount_value)
        except ValueError as error:
            problems.append(Problem(file, locator, amount_field, str(amount_value), str(error)))
            return None
    return _Record(
        file=file, number=number, locator=locator, year=year, beneficiary=beneficiary,
        own_key=own_key, kbo=kbo, kbo_field=kbo_field, subsidy=_text(_get(raw, "subsidy")[1]),
        purpose=_text(_get(raw, "purpose")[1]), article=_text(_get(raw, "article")[1]),
        amount=amount,
    )  # fmt: skip


def _year(raw: dict[str, Any]) -> str | None:
    value = _text(str(_get(raw, "year")[1] or ""))
    if re.fullmatch(r"\d{4}", value):
        return value
    for name in raw:
        found = BUDGET_AMOUNT.match(name) or PLANNED_AMOUNT.match(name)
        if found:
            return found.group(1)
    return None


def _amount_field(raw: dict[str, Any]) -> tuple[str | None, Any]:
    name, value = _get(raw, "granted")
    if name in raw:
        return name, value
    for name in raw:
        if BUDGET_AMOUNT.match(name):
            return name, raw[name]
    return None, None


# ---- actors ---------------------------------------------------------------------------------


def _name_keys(name: str) -> set[str]:
    keys = {name_key(name)}
    for text in bilingual(name, "fr").values():
        keys.add(name_key(_split_abbreviation(text)[0]))
    return {k for k in keys if k}


def _group_actors(records: list[_Record], problems: list[Problem]) -> dict[str, _Actor]:
    """Actors by key: a valid KBO number, else the name; a name without a number joins the one
    numbered actor of this source with that name, when there is exactly one."""
    actors: dict[str, _Actor] = {}
    numbered_by_name: dict[str, set[str]] = {}
    for record in records:
        if record.kbo:
            actors.setdefault(record.own_key, _Actor(record.own_key, record.kbo))
            for key in _name_keys(record.beneficiary):
                numbered_by_name.setdefault(key, set()).add(record.own_key)
    for record in records:
        key = record.own_key
        if not record.kbo:
            owners = set().union(
                *(numbered_by_name.get(k, set()) for k in _name_keys(record.beneficiary))
            )
            key = owners.pop() if len(owners) == 1 else key
        actor = actors.setdefault(key, _Actor(key, None))
        _check_same_number(actor, record, problems)
        actor.names.append((record.beneficiary, record))
        record.actor_key = key
    return actors


def _significant_words(name: str) -> set[str]:
    return {w for w in name_key(name).split() if len(w) > 2}


def _check_same_number(actor: _Actor, record: _Record, problems: list[Problem]) -> None:
    if not actor.kbo or not actor.names or not record.kbo:
        return
    known = set().union(*(_significant_words(name) for name, _ in actor.names))
    if known and not known & _significant_words(record.beneficiary):
        first = actor.names[0][0]
        problems.append(
            Problem(record.file, record.locator, record.kbo_field, actor.kbo,
                    f"the same enterprise number is given to {first!r}: one actor", "Info")
        )  # fmt: skip


@dataclass(frozen=True)
class _City:
    iri: URIRef
    key: str


def _map_city(manifest: SourceManifest, iris: Iris, mapped: Mapped) -> _City:
    graph = mapped.graph
    reference = Reference()
    key = record_key(manifest.name, f"kbo:{CITY_KBO}")
    city = URIRef(iris.thing("actor", key))
    site, address = URIRef(iris.thing("site", key)), URIRef(iris.thing("address", key))
    identifier = URIRef(iris.thing("identifier", key))
    where = (manifest.files[0].name, "grantor (Ville de Bruxelles / Stad Brussel)")
    for node in (city, site, address, identifier):
        mapped.locators[str(node)] = where
    graph.add((city, RDF.type, ORG.Organization))
    graph.add((city, RDF.type, CV.PublicOrganisation))
    for language, name in CITY_NAMES.items():
        graph.add((city, SKOS.prefLabel, Literal(name, lang=language)))
    graph.add((city, ORG.classification, URIRef(concept("actor-type", "public-body"))))
    if kbo_is_valid(CITY_KBO):
        _identifier(graph, city, identifier, CITY_KBO)
    graph.add((city, ORG.hasPrimarySite, site))
    graph.add((site, RDF.type, ORG.Site))
    graph.add((site, LOCN.address, address))
    graph.add((address, RDF.type, LOCN.Address))
    municipality = reference.municipalities[CITY_REFNIS]
    graph.add((address, CV.adminUnit, URIRef(municipality.iri)))
    graph.add((address, CV.adminUnit, URIRef(municipality.nuts3_iri)))
    country = reference.country_iri("BE")
    if country:
        graph.add((address, CV.adminUnit, URIRef(country)))
    graph.add((address, LOCN.adminUnitL2, Literal(municipality.name_fr, lang="fr")))
    graph.add((address, LOCN.adminUnitL2, Literal(municipality.name_nl, lang="nl")))
    mapped.actors += 1
    return _City(city, f"kbo:{CITY_KBO}")


def _identifier(graph: Graph, actor: URIRef, identifier: URIRef, number: str) -> None:
    graph.add((actor, ADMS.identifier, identifier))
    graph.add((identifier, RDF.type, ADMS.Identifier))
    graph.add((identifier, SKOS.notation, Literal(number)))
    graph.add((identifier, DCTERMS.conformsTo, URIRef(concept("identifier-scheme", "be-kbo"))))
    graph.add((actor, RDFS.seeAlso, URIRef(kbo_entity_iri(number))))


def _labels(name: str) -> dict[str, tuple[str, str | None]]:
    """Language -> (name, abbreviation) of one beneficiary name as written."""
    return {
        language: _split_abbreviation(text)
        for language, text in bilingual(name, _name_default(name)).items()
    }


def _map_actor(actor: _Actor, source: str, iris: Iris, city: _City, mapped: Mapped) -> URIRef:
    graph = mapped.graph
    if actor.key == city.key:  # the City funding itself: its names are known
        iri = city.iri
    else:
        key = record_key(source, actor.key)
        iri = URIRef(iris.thing("actor", key))
        graph.add((iri, RDF.type, ORG.Organization))
        mapped.actors += 1
        latest_name, latest = actor.names[-1]
        mapped.locators[str(iri)] = (latest.file, latest.locator)
        preferred = _labels(latest_name)
        taken = set()
        for language, (name, _) in preferred.items():
            graph.add((iri, SKOS.prefLabel, Literal(name, lang=language)))
            taken.add((language, name_key(name) or name.casefold()))
        for name, _ in reversed(actor.names):  # other names, most recent first
            for language, (text, short) in _labels(name).items():
                for label in (text, short):
                    if label is None:
                        continue
                    mark = (language, name_key(label) or label.casefold())
                    if mark not in taken:
                        taken.add(mark)
                        graph.add((iri, SKOS.altLabel, Literal(label, lang=language)))
        kind = (
            "association"
            if any(_LEGAL_ASSOCIATION.search(name) for name, _ in actor.names)
            else "organisation"
        )
        graph.add((iri, ORG.classification, URIRef(concept("actor-type", kind))))
        if actor.kbo:
            identifier = URIRef(iris.thing("identifier", key))
            mapped.locators[str(identifier)] = (latest.file, latest.locator)
            _identifier(graph, iri, identifier, actor.kbo)
    if iri != city.iri:
        graph.add((iri, SCHEMA.funder, city.iri))
    for _, record in actor.names:
        graph.add((iri, PROV.wasDerivedFrom, _record_node(record, source, iris, mapped)))
    return iri


def _record_node(record: _Record, source: str, iris: Iris, mapped: Mapped) -> URIRef:
    node = URIRef(iris.thing("record", record_key(source, f"{record.file}#{record.number}")))
    if str(node) not in mapped.locators:
        mapped.locators[str(node)] = (record.file, record.locator)
        mapped.graph.add((node, RDF.type, PROV.Entity))
        mapped.graph.add(
            (node, DCTERMS.identifier, Literal(f"{record.file} record {record.number}"))
        )
    return node


# ---- grants ---------------------------------------------------------------------------------


def _map_grant(
    record: _Record,
    beneficiary: URIRef,
    city: _City,
    source: str,
    iris: Iris,
    occurrences: Counter[str],
    mapped: Mapped,
) -> None:
    """One grant; its key is its content (year, beneficiary, article, purpose), not its place
    in the file, and the n-th identical record gets the n-th key."""
    content = "\x1f".join((record.year, record.own_key, record.article, record.purpose))
    occurrences[content] += 1
    key = record_key(source, f"grant:{content}\x1f{occurrences[content]}")
    grant = URIRef(iris.thing("grant", key))
    mapped.locators[str(grant)] = (record.file, record.locator)
    graph = mapped.graph
    graph.add((grant, RDF.type, SCHEMA.MonetaryGrant))
    graph.add((grant, SCHEMA.funder, city.iri))
    graph.add((grant, SCHEMA.fundedItem, beneficiary))
    graph.add((grant, SCHEMA.startDate, Literal(record.year, datatype=XSD.gYear)))
    for language, text in (bilingual(record.subsidy, "fr") if record.subsidy else {}).items():
        graph.add((grant, SCHEMA.name, Literal(text, lang=language)))
    for language, text in (bilingual(record.purpose, "fr") if record.purpose else {}).items():
        graph.add((grant, SCHEMA.description, Literal(text, lang=language)))
    if record.article:
        graph.add((grant, SCHEMA.identifier, Literal(record.article)))
    if record.amount is not None:
        amount = URIRef(iris.thing("amount", key))
        mapped.locators[str(amount)] = (record.file, record.locator)
        graph.add((grant, SCHEMA.amount, amount))
        graph.add((amount, RDF.type, SCHEMA.MonetaryAmount))
        value = canonical_decimal(record.amount)
        graph.add((amount, SCHEMA.value, Literal(value, datatype=XSD.decimal)))
        graph.add((amount, SCHEMA.currency, Literal(CURRENCY)))
    graph.add((grant, PROV.wasDerivedFrom, _record_node(record, source, iris, mapped)))
