"""SPARQL text read without a parser: the SERVICE calls and LOADs must include every one that
pyoxigraph's own parser reads, whatever the text looks like.

The judge is pyoxigraph itself: each text is run on a small store, and a loopback HTTP listener
(a real socket) records whether pyoxigraph called it. Whenever it did, `service_targets` must
have named the call (so the endpoint refuses it before pyoxigraph sees the query).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from loopback import Listener, listening

from endpoint.sparql_text import has_dataset_clause, load_targets, service_targets, varies


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with listening() as running:
        yield running


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """A store on which the patterns before a SERVICE in the texts below have solutions, so
    that pyoxigraph does call it."""
    store = ox.Store()
    subject, predicate = ox.NamedNode("http://x.example/s"), ox.NamedNode("http://x.example/p")
    for value in ("a", True, 1, "x#", 'x"#'):
        store.add(ox.Quad(subject, predicate, ox.Literal(value)))
    store.add(ox.Quad(subject, predicate, ox.NamedNode("http://127.0.0.1:")))
    return store


def calls_listener(store: ox.Store, listener: Listener, query: str) -> bool:
    """Whether pyoxigraph, running `query`, sent the listener a request."""
    before = len(listener.paths)
    try:
        results = store.query(query)
        if not isinstance(results, ox.QueryBoolean):
            list(results)
    except SyntaxError:
        return False
    except (OSError, RuntimeError):  # a call that failed was still made, or not: the listener says
        pass
    return len(listener.paths) > before


# Texts pyoxigraph reads as calls; {E} is the listener's URL, {B} its base. Each hid its call
# from the endpoint's former check.
BYPASSES = {
    "comment ended by CR": "SELECT * WHERE { #x\rSERVICE <{E}> { ?s ?p ?o } }",
    "comment ended by CR LF": "SELECT * WHERE { #x\r\nSERVICE <{E}> { ?s ?p ?o } }",
    "keyword glued to an empty prefix": "PREFIX : <{B}> SELECT * { SERVICE:x { ?s ?p ?o } }",
    "keyword glued to SILENT": "SELECT * WHERE { SERVICESILENT<{E}>{ ?s ?p ?o } }",
    "keyword glued to true": "SELECT * WHERE { ?s ?p trueSERVICE<{E}>{ ?s ?p ?o } }",
    "keyword glued to a number": "SELECT * WHERE { ?s ?p 1SERVICE<{E}>{ ?s ?p ?o } }",
    "keyword after a prefix that makes no IRI": (
        "PREFIX ex: <http://127.0.0.1:> SELECT * { ?s ?p ex:SERVICE<{E}>{ ?s ?p ?o } }"
    ),
    "less-than read as an IRI, then a comment": (
        "PREFIX : <{B}> SELECT * { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE:x#>\n"
        "{ ?s ?p ?o } }"
    ),
    "less-than read as an IRI, then a string": (
        "SELECT * { BIND(1 AS ?a) BIND(2 AS ?b) BIND(3 AS ?c) FILTER(?a<?b&&'x>'!=?c) "
        "SERVICE <{E}> { } ?s ?p '' }"
    ),
}
# Texts that name a call only in comments, strings or IRIs: pyoxigraph calls nothing
NOT_CALLS = {
    "comment": "SELECT * WHERE { ?s ?p ?o } # SERVICE <{E}> { }",
    "comment at the end, no line end": "SELECT * WHERE { ?s ?p ?o }\n#SERVICE <{E}> {",
    "comment after a CR": "SELECT * WHERE { ?s ?p ?o }\r#SERVICE <{E}> { }",
    "string": "SELECT * WHERE { ?s ?p 'SERVICE <{E}> { }' }",
    "string holding #": "SELECT * WHERE { ?s ?p '#' . ?s ?p 'SERVICE <{E}> {' }",
    "escaped quote": 'SELECT * WHERE { ?s ?p "\\" SERVICE <{E}> { ?s ?p ?o } \\"" }',
    "long string over lines": "SELECT * WHERE { ?s ?p '''\n#'\nSERVICE <{E}> { }''' }",
    "IRI": "SELECT * WHERE { GRAPH <{B}service/g> { ?s ?p ?o } }",
    "IRIs in a VALUES row": "SELECT * { VALUES (?a ?b) { (<{B}a> <{B}service/b>) } }",
    "a variable and a name": "SELECT ?service WHERE { ?service a <{B}Service> }",
    "dotless i": "SELECT * WHERE { SERV\u0131CE <{E}> { ?s ?p ?o } }",
}


def _text(template: str, listener: Listener) -> str:
    return template.replace("{E}", listener.base + "sparql").replace("{B}", listener.base)


@pytest.mark.parametrize("name", BYPASSES)
def test_every_call_pyoxigraph_makes_is_found(store, listener, name: str) -> None:
    text = _text(BYPASSES[name], listener)
    assert calls_listener(store, listener, text), "the text no longer makes a call"
    assert service_targets(text), name


@pytest.mark.parametrize("name", NOT_CALLS)
def test_calls_only_in_comments_strings_and_iris_are_not_calls(store, listener, name) -> None:
    text = _text(NOT_CALLS[name], listener)
    assert not calls_listener(store, listener, text)
    assert service_targets(text) == []


def test_targets_are_named_as_written() -> None:
    assert service_targets("SELECT * { SERVICE <http://a.example/> { } }") == [
        ("http://a.example/", True)
    ]
    assert service_targets("select * { service silent <http://b.example/> {} }") == [
        ("http://b.example/", True)
    ]
    assert service_targets("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }") == [("?endpoint", False)]
    assert service_targets("PREFIX ex: <http://c.example/> SELECT * { SERVICE ex:s { } }") == [
        ("ex:s", False)
    ]


# The fuzz: SERVICE calls written every way the grammar allows, after and among comments,
# strings and IRIs that hold the characters which end or open them
SEPARATORS = [" ", "\n", "\r", "\r\n", "\t", "", "#c\n", "#c\r", "#c\r\n", " #'\"<{ \n", "#\\\r"]
KEYWORDS = ["SERVICE", "service", "Service", "sErViCe"]
SILENTS = ["", " SILENT", "SILENT", " silent ", "#s\rSILENT\n"]
TARGETS = ["<{B}x>", ":x", "ex:x", "<{B}x#f>"]
BEFORE = [
    "", "?s ?p ?o .", "?s ?p ?o", "?s ?p true", "?s ?p 1", "FILTER(true)", "BIND(1 AS ?a)",
    "?s ?p 'x#' .", '?s ?p "x\\"#" .', "?s <http://x.example/#p> ?o .",
    "BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)", "?s ?p '''a\n#b''' .", '?s ?p """x\r""" .',
    "OPTIONAL { ?s ?p ?o }", "?s ?p ?o FILTER(?o != 'SERVICE')",
]  # fmt: skip
JUNK = ["", "#SERVICE <http://x.example/> {", "# '", '# "', "# <", "'#' ", '"#"', "<{B}#>", "#\\"]
PIECES = [
    *"#\r\n'\"<>\\ {}():.;?",
    "SERVICE", "true", "1", "#c", "'x'", '"y"', "<http://x.example/a>", "SILENT", "a",
]  # fmt: skip
SEEDS = [
    "PREFIX : <{B}> SELECT * WHERE { ?s ?p ?o . SERVICE <{B}x> { ?s ?p ?o } }",
    "PREFIX : <{B}> SELECT * WHERE { ?s ?p 'x' # c\n SERVICE :x { ?s ?p ?o } }",
    "PREFIX : <{B}> SELECT * WHERE { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b) SERVICE:x { } }",
]


def _composed(rng: random.Random) -> str:
    pick = rng.choice
    return (
        "PREFIX : <{B}> PREFIX ex: <{B}> SELECT * WHERE { "
        + pick(BEFORE) + pick(SEPARATORS) + pick(JUNK) + pick(SEPARATORS)
        + pick(KEYWORDS) + pick(SILENTS) + pick(SEPARATORS) + pick(TARGETS) + pick(SEPARATORS)
        + "{ ?s ?p ?o }" + pick(SEPARATORS) + pick(["", "?s ?p ?o", "#end"]) + " }"
        + pick(["", "#tail", "\r", "#t\r"])
    )  # fmt: skip


def _mutated(rng: random.Random) -> str:
    text = rng.choice(SEEDS)
    for _ in range(rng.randint(1, 4)):
        at, piece, how = rng.randrange(len(text) + 1), rng.choice(PIECES), rng.random()
        if how < 0.5:
            text = text[:at] + piece + text[at:]
        elif how < 0.8:
            text = text[:at] + piece + text[at + 1 :]
        else:
            text = text[:at] + text[at + 1 :]
    return text


def test_fuzz_no_call_pyoxigraph_makes_is_missed(store, listener) -> None:
    rng = random.Random(20261121)
    made = 0
    for number in range(3000):
        text = _text(_composed(rng) if number % 2 else _mutated(rng), listener)
        if calls_listener(store, listener, text):
            made += 1
            assert service_targets(text), repr(text)
    assert made > 300  # the fuzz does write calls, hundreds of them


def test_load_is_found_where_an_update_can_load() -> None:
    url = "http://127.0.0.1:9/data.ttl"
    for update in (
        f"LOAD <{url}>",
        f"#x\rLOAD <{url}>",
        f"CLEAR ALL ;\nload silent <{url}> INTO GRAPH <http://g.example/>",
        "PREFIX ex: <http://x.example/> LOAD ex:data",
        f"CLEAR ALL;LOAD<{url}>",
    ):
        assert load_targets(update), update
    for update in (
        "INSERT DATA { <http://a.example/> <http://x.example/download> <http://b.example/> }",
        f"INSERT DATA {{ <http://a.example/> <http://x.example/p> 'LOAD <{url}>' }}",
        f"CLEAR ALL # LOAD <{url}>",
    ):
        assert load_targets(update) == [], update


def test_a_dataset_clause_after_a_comment_ended_by_cr_is_seen() -> None:
    assert has_dataset_clause("DELETE { ?s ?p ?o } #x\rUSING <http://g.example/> WHERE { }")
    assert not has_dataset_clause("DELETE { ?s ?p ?o } #x USING <http://g.example/>\nWHERE { }")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT (RAND() AS ?r) WHERE { }",
        "SELECT (NOW () AS ?n) WHERE { }",
        "SELECT (uuid() AS ?u) WHERE { }",
        "SELECT (STRUUID() AS ?u) WHERE { }",
        "SELECT (BNODE(?x) AS ?b) WHERE { ?x ?p ?o }",
        "SELECT (NOW #comment\n () AS ?n) WHERE { }",
        "SELECT * WHERE { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }",
    ],
)
def test_queries_whose_answers_vary(query: str) -> None:
    assert varies(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?a WHERE { ?a <http://xmlns.com/foaf/0.1/knows> ?b }",
        "SELECT * WHERE { ?s ?p 'NOW()' } # RAND()",
        "SELECT * WHERE { ?s <http://x.example/random> ?o }",
    ],
)
def test_queries_whose_answers_do_not_vary(query: str) -> None:
    assert not varies(query)
