"""The SPARQL endpoint benchmark's query mix parses, and its helpers read answers right (untimed)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import load_bench

from endpoint.named_queries import load_queries


def _bench() -> ModuleType:
    return load_bench("endpoint_bench")


MIX = _bench().load_mix()
ACTOR = "http://localhost:8000/id/actor/a"


def test_the_mix_has_each_kind_of_query() -> None:
    assert len(MIX) >= 10
    assert {q.kind for q in MIX} == {"select", "ask", "construct"}
    assert all(q.summary != q.name for q in MIX), "every query file has a #+ summary: line"


@pytest.mark.parametrize("query", MIX, ids=lambda q: q.name)
def test_every_query_parses_with_pyoxigraph(query: Any) -> None:
    bench = _bench()
    text = bench.render(query.template, bench.substitutions(ACTOR, [ACTOR, ACTOR + "2"]))
    results = ox.Store().query(text, use_default_graph_as_union=True)
    expected = {"ask": ox.QueryBoolean, "construct": ox.QueryTriples}.get(query.kind)
    assert isinstance(results, expected or ox.QuerySolutions)
    # the comment line that makes every cold request's text new keeps it valid
    ox.Store().query(bench.text_for(text, "cold", "test"))


def test_a_placeholder_left_unreplaced_is_an_error() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        _bench().render("SELECT * WHERE { {{actor}} ?p ?o }", {})


def test_every_named_query_parameter_has_an_example_value() -> None:
    bench = _bench()
    for named in load_queries():
        assert {p.name for p in named.parameters} <= set(bench.NAMED_EXAMPLES), named.name


def test_signature_counts_rows_booleans_and_distinct_triples() -> None:
    bench = _bench()
    rows = {"head": {"vars": ["x"]}, "results": {"bindings": [{}, {}, {}]}}
    assert bench.signature("select", json.dumps(rows).encode()) == "3 rows"
    assert bench.signature("ask", b'{"head": {}, "boolean": false}') == "false"
    triple = b"<http://a> <http://b> <http://c> .\n"
    assert bench.signature("construct", triple * 2) == "1 triples"


def test_median_and_p95_of_a_run() -> None:
    run = _bench().Run(latencies_ms=[float(n) for n in range(1, 21)])
    assert run.median == 10.5
    assert run.p95 == 19.0
