"""Readable labels from UPPER-CASE source labels (French, Dutch or English)."""

from __future__ import annotations

import re
import unicodedata

_PARTICLES = {
    # French
    "de", "du", "des", "la", "le", "les", "et", "au", "aux", "en", "sur", "pour",
    # Dutch
    "van", "der", "den", "het", "voor", "op", "in",
    # English
    "of", "the", "for", "and",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ROMAN = re.compile(r"^[IVX]{1,4}$")
_VOWELS = set("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜ")
_ELISIONS = {"l", "d", "qu"}
_ABBREVIATIONS = {"ST": "St", "STE": "Ste", "SINT": "Sint"}  # Saint(e): no vowel, not an acronym


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _is_acronym(word: str, leads_a_dash: bool) -> bool:
    if _ROMAN.match(word):
        return True
    if len(word) <= 4 and not (_VOWELS & set(word)):
        return True  # BKR, KMKG, XL
    return leads_a_dash and len(word) <= 5  # "MRBAB - MUSEE ...", "ARAU - ATELIER ..."


def readable(label: str) -> str:
    """Re-case an all-capitals label for reading; mixed-case labels are returned unchanged.

    Words become capitalised, articles and prepositions lower-case (except first), acronyms and
    roman numerals stay as they are. Accents missing in the source are not guessed.
    """
    label = " ".join(label.split())
    if any(c.islower() for c in label):
        return label
    first_dash = label.find(" - ")
    pieces: list[str] = []
    position = 0
    for number, match in enumerate(_WORD.finditer(label)):
        word = match.group()
        pieces.append(label[position : match.start()])
        starts_segment = number == 0 or label[: match.start()].rstrip().endswith("-")
        leads_a_dash = match.end() == first_dash and number == 0
        elided = label[match.end() : match.end() + 1] == "'"
        after_apostrophe = label[match.start() - 1 : match.start()] == "'"
        if word in _ABBREVIATIONS:
            pieces.append(_ABBREVIATIONS[word])
        elif elided and word.lower() in _ELISIONS:
            pieces.append(word.capitalize() if starts_segment else word.lower())
        elif after_apostrophe and pieces[-2:-1] and pieces[-2].lower() not in _ELISIONS:
            pieces.append(word.lower())  # QUAT'SOUS -> Quat'sous, ACTOR'S -> Actor's
        elif _is_acronym(word, leads_a_dash):
            pieces.append(word)
        elif word.lower() in _PARTICLES and not starts_segment:
            pieces.append(word.lower())
        else:
            pieces.append(word.capitalize())
        position = match.end()
    pieces.append(label[position:])
    return "".join(pieces)
