"""SPARQL text read token by token: the shortcut for text that never names the keyword."""

from __future__ import annotations

import pytest

from endpoint.sparql_text import targets_of, tokens


def _scanned(text: str, keyword: str) -> list[tuple[str, bool]]:
    """Every token read, no shortcut: what `targets_of` must always agree with."""
    found = list(tokens(text))
    targets = []
    for index, token in enumerate(found):
        if token.keyword != keyword:
            continue
        following = found[index + 1 : index + 3]
        if following and following[0].keyword == "SILENT":
            following = following[1:]
        if not following:
            targets.append(("", False))
        elif following[0].kind == "iri":
            targets.append((following[0].text[1:-1], True))
        else:
            targets.append((following[0].text, False))
    return targets


TEXTS = [
    "SELECT * WHERE { SERVICE <http://a.example/> { ?s ?p ?o } }",
    "select * { service silent <http://a.example/> {} Service ?e {} }",
    "SELECT * { ?s ?p ?o } # SERVICE <http://x.example/>",
    "SELECT * { ?s ?p 'SERVICE <http://x.example/>' }",
    'SELECT * { ?s ?p """a "quoted" SERVICE""" . SERVICE <http://b.example/> {} }',
    "SELECT * { ?s <http://x.example/SERVICE> ?o }",
    'SELECT * { ?s ?p "unterminated SERVICE <http://c.example/> { } }',
    "SELECT * { ?s ?p 'it''s' . SERVICE <http://d.example/> {} }",
    "SELECT * { FILTER (?a < ?b) SERVICE <http://e.example/> {} }",
    "SELECT * { ?s ex:SERVICE ?o . ?s ?p cv:PublicService }",
    "SELECT * { 1SERVICE <http://f.example/> {} }",
    "SELECT * { ?sService ?p ?o } #SERVICE\nSERVICE",
    "SELECT * { <a#b> ?p ?o . SERVICE<http://g.example/>{} }",
    "SELECT * { ?s ?p ?o } # services are described elsewhere",
    "SELECT * { ?s ?p 'x'#comment 'SERVICE <http://h.example/>'\n SERVICE <http://i.example/> {} }",
    'SELECT * { ?s ?p "\\"SERVICE <http://j.example/>" }',
    "SERV\u0130CE <http://k.example/> {}",  # dotted capital I: never the keyword
    "SERV\u0131CE <http://l.example/> {}",  # dotless i: its capital is I, as the scan reads it
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_shortcut_finds_what_a_full_scan_finds(text: str) -> None:
    assert targets_of(text, "SERVICE") == _scanned(text, "SERVICE")
    assert targets_of(text, "LOAD") == _scanned(text, "LOAD")


def test_a_text_without_the_keyword_outside_comments_and_strings_has_no_target() -> None:
    assert targets_of("SELECT * { ?s ?p 'SERVICE <http://x.example/>' } # SERVICE", "SERVICE") == []
    assert targets_of("SELECT * { SERVICE <http://x.example/> {} }", "SERVICE") == [
        ("http://x.example/", True)
    ]
