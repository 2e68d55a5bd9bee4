"""The CSV of actors, made from the dump's N-Triples files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from creative_graph import actors_csv

ID = "http://x.example/id/"
A = "http://x.example/graph/a"
B = "http://x.example/graph/b"
ORG = "<http://www.w3.org/ns/org#"
SKOS = "<http://www.w3.org/2004/02/skos/core#"
CV = "<http://data.europa.eu/m8g/"
LOCN = "<http://www.w3.org/ns/locn#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

SOURCE_A = f"""
<{ID}actor/1> {TYPE} {ORG}Organization> .
<{ID}actor/1> {SKOS}prefLabel> "Theatre Nord"@fr .
<{ID}actor/1> {SKOS}prefLabel> "Noord, \\"het\\" theater"@nl .
<{ID}actor/1> {ORG}classification> <http://x.example/concept/theatre> .
<{ID}actor/1> {CV}sector> <http://x.example/sector/b> .
<{ID}actor/1> {ORG}hasPrimarySite> <{ID}site/1> .
<{ID}site/1> {LOCN}address> <{ID}address/1> .
<{ID}address/1> {LOCN}postCode> "1000" .
<{ID}address/1> {CV}adminUnit> <http://publications.europa.eu/resource/authority/country/BEL> .
<{ID}address/1> {CV}adminUnit> <http://vocab.belgif.be/auth/refnis2025/21004> .
<{ID}actor/1> <http://www.w3.org/ns/adms#identifier> <{ID}identifier/1> .
<{ID}identifier/1> {SKOS}notation> "0123456749" .
<{ID}actor/2> {TYPE} {ORG}Organization> .
<{ID}actor/2> {SKOS}prefLabel> "Zebra"@de .
<http://x.example/concept/theatre> {SKOS}prefLabel> "Theatre"@en .
"""
SOURCE_B = f"""
<{ID}actor/1> {TYPE} {ORG}Organization> .
<{ID}actor/1> {SKOS}prefLabel> "Théâtre Nord"@fr .
<{ID}actor/1> {CV}sector> <http://x.example/sector/a> .
<{ID}actor/1> <http://xmlns.com/foaf/0.1/homepage> <https://nord.example/> .
"""
DEFAULT = f"""
<{ID}actor/3> {TYPE} {ORG}Organization> .
"""


def _rows(tmp_path: Path, reverse: bool = False) -> tuple[list[dict[str, str]], bytes]:
    files: list[tuple[str | None, Path]] = []
    for graph, text in ((None, DEFAULT), (A, SOURCE_A), (B, SOURCE_B)):
        path = tmp_path / f"{len(files)}.nt"
        lines = text.strip().split("\n")
        path.write_text("\n".join(reversed(lines) if reverse else lines) + "\n", encoding="utf-8")
        files.append((graph, path))
    out = io.BytesIO()
    files = files[::-1] if reverse else files
    assert actors_csv.write(files, out) == 2
    data = out.getvalue()
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))), data


def test_one_row_per_organisation_of_a_named_graph_with_its_facts(tmp_path: Path) -> None:
    rows, data = _rows(tmp_path)
    assert [row["actor"] for row in rows] == [f"{ID}actor/1", f"{ID}actor/2"]
    first, second = rows
    assert first["name_fr"] == "Théâtre Nord"  # the accented spelling of two sources
    assert first["name_nl"] == 'Noord, "het" theater'  # quoted in the CSV, read back whole
    assert first["name_en"] == ""
    assert first["name"] == "Théâtre Nord"  # no English name: the French one
    assert first["types"] == "http://x.example/concept/theatre"
    assert first["sectors"] == "http://x.example/sector/a http://x.example/sector/b"
    assert first["post_code"] == "1000"
    assert first["municipality"] == "http://vocab.belgif.be/auth/refnis2025/21004"
    assert first["country"] == "http://publications.europa.eu/resource/authority/country/BEL"
    assert first["website"] == "https://nord.example/"
    assert first["enterprise_number"] == "0123456749"
    assert first["sources"] == f"{A} {B}"
    assert second["name"] == "Zebra" and second["post_code"] == "" and second["sources"] == A
    assert data.startswith(b"actor,name_en,name_fr,")
    assert data.count(b"\r\n") == 3  # header and two rows, CRLF as in SPARQL's CSV results


def test_the_same_data_in_another_order_gives_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    assert _rows(tmp_path / "one")[1] == _rows(tmp_path / "two", reverse=True)[1]
