"""Readable labels: UPPER-CASE venue names from the UrbIS source re-cased for people to read."""

from __future__ import annotations

import pytest

from ingest.labels import readable, strip_accents

# Names as they appear in the UrbIS "zones of interest - culture" layer (TXT_FRE / TXT_DUT).
SOURCE_NAMES = {
    "MRBAB - MUSEE ANTOINE WIERTZ": "MRBAB - Musee Antoine Wiertz",
    "CENTRE CULTUREL D'ANDERLECHT - ESCALE NORD": "Centre Culturel d'Anderlecht - Escale Nord",
    "THEATRE DE QUAT'SOUS": "Theatre de Quat'sous",
    "CINEMA ACTOR'S STUDIO": "Cinema Actor's Studio",
    "MUSEE DU THEATRE ROYAL DE TOONE VII": "Musee du Theatre Royal de Toone VII",
    "GEMEENSCHAPSCENTRUM DE KRIEKELAAR": "Gemeenschapscentrum de Kriekelaar",
    "MUSEUM VOOR FOLKLORE EN TRADITIE": "Museum voor Folklore en Traditie",
    "HUIS VAN DE VLAAMSE FILM": "Huis van de Vlaamse Film",
    "MUSEE DE L'IMPRIMERIE": "Musee de l'Imprimerie",
    "ARCHIVES DE L'ETAT": "Archives de l'Etat",
    "L'EXPERIMENTARIUM": "L'Experimentarium",
    "D'IETEREN GALLERY": "D'Ieteren Gallery",
    "KOEK'S THEATRE": "Koek's Theatre",
    "XL-THEATRE - THEATRE DU GRAND MIDI": "XL-Theatre - Theatre du Grand Midi",
    "BKR - PALAIS DE CHARLES DE LORRAINE": "BKR - Palais de Charles de Lorraine",
    "KVS": "KVS",
    "MRAH - LA TOUR JAPONAISE": "MRAH - La Tour Japonaise",
    "LA RAFFINERIE - CHARLEROI DANSES": "La Raffinerie - Charleroi Danses",
    "PALAIS DES BEAUX-ARTS - BOZAR": "Palais des Beaux-Arts - Bozar",
    "IMAL - CENTER FOR DIGITAL CULTURES AND TECHNOLOGY": (
        "IMAL - Center for Digital Cultures and Technology"
    ),
    "THEATRE 140": "Theatre 140",
    "BRUXELLA 1238": "Bruxella 1238",
}


@pytest.mark.parametrize(("source", "expected"), SOURCE_NAMES.items())
def test_upper_case_source_names_become_readable(source, expected):
    assert readable(source) == expected


@pytest.mark.parametrize(
    "source",
    ["MRBAB - MUSEE ANTOINE WIERTZ", "BKR - PALAIS DE CHARLES DE LORRAINE", "XL-THEATRE"],
)
def test_acronyms_keep_their_capitals(source):
    acronym = source.replace("-", " ").split()[0]
    assert readable(source).startswith(acronym)


def test_roman_numerals_stay_upper_case():
    assert readable("MUSEE DU THEATRE ROYAL DE TOONE VII").endswith("Toone VII")


def test_an_article_opening_the_label_is_capitalised():
    assert readable("LA BELLONE") == "La Bellone"
    assert readable("DE KRIEKELAAR") == "De Kriekelaar"


def test_an_article_opening_a_dash_segment_is_capitalised():
    assert readable("MUSEE D'ARCHITECTURE - LA LOGE") == "Musee d'Architecture - La Loge"


def test_elided_article_inside_a_name_is_lower_case_and_the_next_word_capitalised():
    assert readable("THEATRE DE LA TOISON D'OR") == "Theatre de la Toison d'Or"


def test_accented_capitals_are_kept_and_only_the_case_changes():
    assert readable("THÉÂTRE DES MARTYRS") == "Théâtre des Martyrs"


def test_accents_missing_in_the_source_are_not_guessed():
    assert readable("MUSEE DE LA MEDECINE") == "Musee de la Medecine"


@pytest.mark.parametrize(
    "label",
    [
        "Musée Fin-de-Siècle",
        "Théâtre de la Vie",
        "WIELS Contemporary Art Centre",
        "de Kriekelaar",
        "BOZAR - Centre for Fine Arts",
    ],
)
def test_mixed_case_labels_are_returned_unchanged(label):
    assert readable(label) == label


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("  THEATRE   VARIA  ", "Theatre Varia"),
        ("THEATRE\tVARIA\n", "Theatre Varia"),
        ("CENTRE CULTUREL\n D'UCCLE", "Centre Culturel d'Uccle"),
        ("Théâtre   Varia ", "Théâtre Varia"),
    ],
)
def test_whitespace_is_collapsed(label, expected):
    assert readable(label) == expected


def test_empty_and_blank_labels_give_an_empty_string():
    assert readable("") == ""
    assert readable("   ") == ""


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_readable_is_idempotent(source):
    once = readable(source)
    assert readable(once) == once


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("MUSEE COMMUNAL DE WOLUWE ST LAMBERT", "Musee Communal de Woluwe St Lambert"),
        (
            "CENTRE CULTUREL DE WOLUWE-ST-LAMBERT - WOLUBILIS",
            "Centre Culturel de Woluwe-St-Lambert - Wolubilis",
        ),
    ],
)
def test_saint_abbreviated_st_is_not_kept_as_an_acronym(source, expected):
    assert readable(source) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Théâtre", "Theatre"),
        ("MUSÉE", "MUSEE"),
        ("Médiathèque", "Mediatheque"),
        ("Bibliothèque de l'École", "Bibliotheque de l'Ecole"),
        ("Ça Balance", "Ca Balance"),
        ("België", "Belgie"),
        ("Koekelberg", "Koekelberg"),
        ("", ""),
    ],
)
def test_strip_accents_removes_diacritics(text, expected):
    assert strip_accents(text) == expected


def test_strip_accents_keeps_letters_that_are_not_accented_forms():
    # Œ and Æ are letters of their own, not a base letter plus a combining mark.
    assert strip_accents("Œuvre Ærø") == "Œuvre Ærø"
