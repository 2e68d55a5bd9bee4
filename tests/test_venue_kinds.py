"""Venue kinds guessed from French and Dutch venue names, and their place in the SKOS scheme."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ingest.mappers import venue_kinds
from ingest.mappers.venue_kinds import FALLBACK, venue_kind

ACTOR_TYPES = Path(__file__).resolve().parents[1] / "ontology" / "concepts" / "actor-type.ttl"
SCHEME = URIRef("https://w3id.org/creative-graph/concept/actor-type")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("MUSEE HORTA", "museum"),
        ("HORTA MUSEUM", "museum"),
        ("MUSEA VAN DE STAD BRUSSEL", "museum"),
        ("MUSEES DE L'UCL - BRUXELLES", "museum"),
        ("THEATRE VARIA", "theatre"),
        ("MAGIC LAND THEATER", "theatre"),
        ("THEATRE ROYAL DE LA MONNAIE", "theatre"),
        ("CINEMA STYX", "cinema"),
        ("BIOSCOOP VENDOME", "cinema"),
        ("CINEMATEK", "cinema"),
        ("BIBLIOTHEQUE WITTOCKIANA", "library"),
        ("OPENBARE BIBLIOTHEEK JETTE", "library"),
        ("ARCHIVES DU PALAIS ROYAL", "archive"),
        ("ARCHIEF VAN HET KONINKLIJK PALEIS", "archive"),
        ("GEMEENSCHAPSCENTRUM DE KRIEKELAAR", "cultural-centre"),
        ("CENTRE CULTUREL D'UCCLE", "cultural-centre"),
        ("CULTUREEL CENTRUM OUDERGEM", "cultural-centre"),
        ("CULTUURCENTRUM DE RIJKE KLAREN", "cultural-centre"),
        ("CENTRE D'ART CHAPELLE DE BOONDAEL", "art-gallery"),
        ("B-GALLERY - GALERIE BORTIER", "art-gallery"),
        ("SALLE DE CONCERT DU CONSERVATOIRE", "concert-venue"),
    ],
)
def test_kind_is_read_from_a_keyword_in_the_name(name, kind):
    assert venue_kind(name) == kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("MUSEE DU THEATRE ROYAL DE TOONE VII", "museum"),
        ("THEATRE DU MUSEE", "theatre"),
        ("ARCHIVES ET MUSEE DE LA VIE FLAMANDE A BRUXELLES", "archive"),
        ("MUSEE BIBLIOTHEQUE MICHEL DE GHELDERODE", "museum"),
        ("ESPACE MAGH - CENTRE CULTUREL MAGRHEBIN", "cultural-centre"),
    ],
)
def test_earliest_keyword_in_the_name_wins(name, kind):
    assert venue_kind(name) == kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Théâtre Varia", "theatre"),
        ("Musée Horta", "museum"),
        ("Médiathèque de la Communauté française", "library"),
        ("Cinéma Galeries", "cinema"),
        ("centre culturel d'uccle", "cultural-centre"),
    ],
)
def test_accents_and_letter_case_are_ignored(name, kind):
    assert venue_kind(name) == kind


@pytest.mark.parametrize(
    "name",
    [
        "SINT-LUKASARCHIEF",  # ARCHIEF only as the end of a compound
        "KAAITHEATER",  # THEATER only as the end of a compound
        "BEURSSCHOUWBURG",  # SCHOUWBURG only as the end of a compound
        "MUSEUMSTRAAT 12",  # MUSEUM / MUSEUMS only as the start of a compound
        "CINEMATOGRAPHE",  # CINEMA only as the start of a word
    ],
)
def test_keywords_count_only_as_whole_words(name):
    assert venue_kind(name) == FALLBACK


@pytest.mark.parametrize(
    ("name", "kind"),
    [("XL-THEATRE", "theatre"), ("CAFE-THEATRE DES 2 GARES", "theatre"), ("L'OPERA", "theatre")],
)
def test_hyphen_and_apostrophe_separate_words(name, kind):
    assert venue_kind(name) == kind


@pytest.mark.parametrize("name", ["FLAGEY", "HALLES DE SCHAERBEEK", "KVS", ""])
def test_name_without_keyword_gives_the_generic_cultural_venue(name):
    assert venue_kind(name) == "cultural-venue"


def test_no_name_at_all_gives_the_fallback():
    assert venue_kind() == FALLBACK


def test_second_name_is_tried_when_the_first_has_no_keyword():
    assert venue_kind("INSTITUT CULTUREL DE MAALBEEK", "CULTUREEL CENTRUM DE MAALBEEK") == (
        "cultural-centre"
    )


def test_first_name_with_a_keyword_decides():
    assert venue_kind("MUSEE CHARLIER", "CHARLIER THEATER") == "museum"


@pytest.mark.parametrize(
    "name", ["CENTRE  CULTUREL D'UCCLE", "CENTRE\nCULTUREL D'UCCLE", "SALLE\tDE CONCERT"]
)
def test_whitespace_inside_a_multi_word_keyword_does_not_matter(name):
    single_spaced = " ".join(name.split())
    assert venue_kind(single_spaced) != FALLBACK
    assert venue_kind(name) == venue_kind(single_spaced)


def _codes() -> list[str]:
    return sorted(set(venue_kinds._KEYWORDS) | {FALLBACK})


@pytest.fixture(scope="module")
def actor_types() -> Graph:
    return Graph().parse(ACTOR_TYPES, format="turtle")


@pytest.mark.parametrize("code", _codes())
def test_every_kind_is_a_concept_of_the_actor_type_scheme(actor_types, code):
    concept = URIRef(f"https://w3id.org/creative-graph/concept/actor-type/{code}")
    assert (concept, RDF.type, SKOS.Concept) in actor_types
    assert (concept, SKOS.inScheme, SCHEME) in actor_types
    assert (concept, SKOS.notation, Literal(code)) in actor_types


def test_scheme_file_declares_the_scheme(actor_types):
    assert (SCHEME, RDF.type, SKOS.ConceptScheme) in actor_types
