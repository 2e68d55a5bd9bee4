"""Named, parameterised queries at /api/queries/{name}, against the real server and demo data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from endpoint.named_queries import QueryFileError, read_query

pytestmark = pytest.mark.e2e
JSON = {"Accept": "application/sparql-results+json"}


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def sparql(server_url: str, query: str) -> list[dict[str, str]]:
    return rows(httpx.get(server_url + "/sparql", params={"query": query}, headers=JSON))


def test_a_parameter_is_bound_not_pasted(live_server) -> None:
    url = live_server.url + "/api/queries/actors-by-sector"
    theatres = rows(httpx.get(url, params={"sector": "performing-arts"}, headers=JSON))
    expected = sparql(
        live_server.url,
        "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a "
        "<http://data.europa.eu/m8g/sector> <https://w3id.org/creative-graph/concept/sector/performing-arts> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }",
    )
    assert len(theatres) == int(expected[0]["n"])
    # text that would break a query if pasted into it is just text to look for
    hostile = '"))) } DELETE WHERE { ?s ?p ?o } #'
    search = httpx.get(
        live_server.url + "/api/queries/search-actors", params={"text": hostile}, headers=JSON
    )
    assert rows(search) == []


def test_parameters_are_typed_and_checked(live_server) -> None:
    base = live_server.url + "/api/queries/"
    assert httpx.get(base + "actors-by-sector", params={"sector": "nonsense"}).status_code == 422
    assert httpx.get(base + "actors-by-sector").status_code == 422  # required
    assert (
        httpx.get(base + "actors-in-municipality", params={"municipality": "2100"}).status_code
        == 422
    )
    csv = httpx.get(base + "actors-per-municipality", headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "municipality,name,actors"
    assert httpx.get(base + "funded-venues", headers={"Accept": "image/png"}).status_code == 406


def test_openapi_documents_each_query_with_its_parameters(live_server) -> None:
    spec = httpx.get(live_server.url + "/openapi.json").json()
    operation = spec["paths"]["/api/queries/actors-by-type"]["get"]
    (parameter,) = operation["parameters"]
    assert parameter["name"] == "type" and parameter["required"] is True
    schema = spec["components"]["schemas"][parameter["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "fablab" in schema["enum"] and "theatre" in schema["enum"]
    assert operation["summary"] == "Actors of one type"
    # no page that would fetch scripts from a CDN
    assert httpx.get(live_server.url + "/docs").status_code == 404


def test_a_broken_query_file_is_named_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rq"
    broken.write_text(
        "#+ summary: x\n#+ param nope string: absent variable\nSELECT * WHERE { ?s ?p ?o }\n"
    )
    with pytest.raises(QueryFileError, match=r"broken.rq:2: the query has no variable \?nope"):
        read_query(broken)
