"""The actor type of a cultural venue, guessed from words in its French or Dutch name.

The sources give venues no type; names such as "MUSEE ...", "GEMEENSCHAPSCENTRUM ..." say it.
The earliest keyword in the name wins ("MUSEE DU THEATRE ..." is a museum); no keyword gives
the generic `cultural-venue`.
"""

from __future__ import annotations

import re

from ingest.labels import strip_accents

FALLBACK = "cultural-venue"

_KEYWORDS: dict[str, tuple[str, ...]] = {
    "museum": ("MUSEE", "MUSEES", "MUSEUM", "MUSEA", "MUSEUMS", "FILMMUSEUM"),
    "theatre": ("THEATRE", "THEATRES", "THEATER", "THEATERS", "SCHOUWBURG", "OPERA"),
    "cinema": ("CINEMA", "BIOSCOOP", "CINEMATEK"),
    "library": ("BIBLIOTHEQUE", "BIBLIOTHEEK", "MEDIATHEQUE", "MEDIATHEEK"),
    "archive": ("ARCHIVES", "ARCHIEF", "ARCHIEVEN"),
    "cultural-centre": (
        "CENTRE CULTUREL", "CULTUREEL CENTRUM", "CULTUURCENTRUM", "GEMEENSCHAPSCENTRUM",
        "MAISON DE LA CULTURE", "CULTURENHUIS", "FOYER CULTUREL",
    ),
    "art-gallery": ("GALERIE", "GALERIES", "GALERIJ", "KUNSTHAL", "CENTRE D'ART", "KUNSTCENTRUM"),
    "concert-venue": ("SALLE DE CONCERT", "CONCERTZAAL", "CONCERTGEBOUW"),
}  # fmt: skip

# The ESSnet-Culture sector a kind of venue works in, when the kind says it.
SECTOR_OF_KIND = {
    "museum": "heritage",
    "theatre": "performing-arts",
    "concert-venue": "performing-arts",
    "cinema": "audiovisual-multimedia",
    "library": "libraries",
    "archive": "archives",
    "art-gallery": "visual-arts",
}

_PATTERN = re.compile(
    r"\b("
    + "|".join(
        re.escape(k)
        for k in sorted({k for ks in _KEYWORDS.values() for k in ks}, key=len, reverse=True)
    )
    + r")\b"
)
_KIND_OF = {keyword: kind for kind, keywords in _KEYWORDS.items() for keyword in keywords}


def venue_kind(*names: str) -> str:
    """Code of the actor-type concept for a venue called `names` (tried in order)."""
    for name in names:
        match = _PATTERN.search(" ".join(strip_accents(name).upper().split()))
        if match:
            return _KIND_OF[match.group(1)]
    return FALLBACK
