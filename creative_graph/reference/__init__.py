"""Reference data both sides use: the Brussels municipal boundaries (see PROVENANCE.md)."""

from pathlib import Path

BRUSSELS_MUNICIPALITIES = Path(__file__).parent / "brussels-municipalities.geojson"
