"""The `creative-graph` command as a user runs it: real processes, temporary stores, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import DEMO_SOURCE, demo_features, wait_until_served

from creative_graph.ldes import ChangeLog
from creative_graph.store import StoreWriter

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
CLI = str(Path(sys.executable).parent / "creative-graph")


def run(*args: str, store: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CREATIVE_GRAPH_STORE": str(store),
        "CREATIVE_GRAPH_LOG_LEVEL": "warning",
        **env,
    }
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, env=environment, timeout=300
    )


def test_help_teaches_the_commands(tmp_path: Path) -> None:
    result = run("--help", store=tmp_path)
    assert result.returncode == 0
    for command in ("ingest", "validate", "serve"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def test_ingest_demo_source_then_reingest_unchanged(tmp_path: Path) -> None:
    first = run("ingest", str(DEMO_SOURCE), store=tmp_path / "store")
    assert first.returncode == 0, first.stderr
    assert f"{len(demo_features())} actors" in first.stdout
    second = run("ingest", str(DEMO_SOURCE), store=tmp_path / "store")
    assert second.returncode == 0
    assert "unchanged" in second.stdout


def test_ingest_writes_the_dumps_of_what_it_published(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run("ingest", str(DEMO_SOURCE), store=store)
    assert result.returncode == 0, result.stderr
    assert "dumps:" in result.stderr
    snapshot = (store / "PUBLISHED").read_text().strip()
    written = {p.name for p in (store / "dumps" / snapshot).iterdir()}
    assert {"all.nq.gz", "all.ttl.gz", "actors.csv", "brussels-culture-poi.nq.gz"} <= written
    again = run("dumps", store=store)
    assert again.returncode == 0, again.stderr
    # ... and appends to the change stream: one version per actor it created
    actors = len(demo_features())
    assert f"change stream: {actors:,} versions appended ({actors:,} created" in result.stderr
    assert ChangeLog(store).count() == actors
    unchanged = run("ingest", str(DEMO_SOURCE), store=store)
    assert "change stream: 0 versions appended" in unchanged.stderr
    assert "0 actors compared" in unchanged.stderr  # nothing changed: no actor described again
    assert ChangeLog(store).count() == actors


def test_ingest_without_paths_loads_every_declared_source(tmp_path: Path) -> None:
    result = run("ingest", store=tmp_path / "store", CREATIVE_GRAPH_SOURCES=str(DEMO_SOURCE.parent))
    assert result.returncode == 0, result.stderr
    assert "brussels-culture-poi:" in result.stdout


def test_ingest_invalid_feature_exits_1_naming_it(tmp_path: Path, source_copy: Path) -> None:
    (path,) = source_copy.glob("*.geojson")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["features"][41]["properties"]["TXT_FRE"] = ""
    document["features"][41]["properties"]["TXT_DUT"] = None
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("ingest", str(source_copy), store=tmp_path / "store")
    assert result.returncode == 1
    assert "feature 42 (ID" in result.stdout and "needs a name" in result.stdout
    assert "nothing loaded" in result.stderr
    assert not (tmp_path / "store" / "PUBLISHED").exists()


def test_ingest_malformed_json_exits_2_with_file_and_line(
    tmp_path: Path, source_copy: Path
) -> None:
    (path,) = source_copy.glob("*.geojson")
    path.write_text(
        '{"type": "FeatureCollection",\n "features": [\n {"type": "Feature",, }]}', encoding="utf-8"
    )
    result = run("ingest", str(source_copy), store=tmp_path / "store")
    assert result.returncode == 2
    assert f"{path.name}:3" in result.stderr.replace("\n", "")


def test_ingest_missing_source_exits_2(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nowhere"), store=tmp_path / "store")
    assert result.returncode == 2
    assert "source.toml" in result.stderr


def test_ingest_into_a_store_being_written_exits_3(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store"):
        result = run("ingest", str(DEMO_SOURCE), store=tmp_path / "store")
    assert result.returncode == 3
    assert "another process" in result.stderr


def test_validate_exit_codes_and_report(tmp_path: Path) -> None:
    valid = HERE / "data" / "valid-actor.ttl"
    assert run("validate", str(valid), store=tmp_path).returncode == 0

    broken = tmp_path / "broken.ttl"
    broken.write_text(
        valid.read_text(encoding="utf-8").replace("50.812219", "150.812219"), encoding="utf-8"
    )
    result = run("validate", str(broken), store=tmp_path, COLUMNS="200")
    assert result.returncode == 1
    for expected in ("Violation", "http://test.example/id/geometry-1", "geo:asWKT", "latitude"):
        assert expected in result.stdout

    unparsable = tmp_path / "bad.ttl"
    unparsable.write_text(
        "@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b .\n", encoding="utf-8"
    )
    result = run("validate", str(valid), str(unparsable), store=tmp_path)
    assert result.returncode == 2
    assert f"{unparsable}:3" in result.stderr.replace("\n", "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_sparql_on_the_requested_port(tmp_path: Path) -> None:
    assert run("ingest", str(DEMO_SOURCE), store=tmp_path / "store").returncode == 0
    port = _free_port()
    environment = {
        **os.environ,
        "CREATIVE_GRAPH_STORE": str(tmp_path / "store"),
        "CREATIVE_GRAPH_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=environment)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_served(url, server)
        query = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a <http://www.w3.org/ns/org#Organization> }"
        response = httpx.get(
            url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"}
        )
        assert response.text.splitlines() == ["n", str(len(demo_features()))]
    finally:
        server.terminate()
        server.wait(timeout=10)


def _break_features(source: Path, numbers: list[int]) -> None:
    (path,) = source.glob("*.geojson")
    document = json.loads(path.read_text(encoding="utf-8"))
    for number in numbers:
        document["features"][number - 1]["geometry"]["coordinates"] = [400.0, 50.8]
    path.write_text(json.dumps(document), encoding="utf-8")


def test_skip_invalid_loads_the_rest_and_reports_the_rejected(
    tmp_path: Path, source_copy: Path
) -> None:
    _break_features(source_copy, [3, 10])
    strict = run("ingest", str(source_copy), store=tmp_path / "store")
    assert strict.returncode == 1
    result = run("ingest", "--skip-invalid", "--json", str(source_copy), store=tmp_path / "store")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "loaded"
    assert outcome["rejected_records"] == 2
    assert outcome["actors"] == len(demo_features()) - 2
    report = Path(outcome["rejected_report"]).read_text(encoding="utf-8")
    assert report.startswith("file,record,field,value,message")
    assert "feature 3 (ID" in report and "feature 10 (ID" in report and "longitude" in report


def test_json_output_and_sources_listing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    sources_dir = str(DEMO_SOURCE.parent)
    before = json.loads(
        run("sources", "--json", store=store, CREATIVE_GRAPH_SOURCES=sources_dir).stdout
    )
    assert {row["status"] for row in before} == {"never ingested"}
    result = run("ingest", "--json", str(DEMO_SOURCE), store=store)
    outcome = json.loads(result.stdout)
    assert outcome["source"] == "brussels-culture-poi"
    assert outcome["coverage"]["municipality"] == outcome["actors"] == len(demo_features())
    after = json.loads(
        run("sources", "--json", store=store, CREATIVE_GRAPH_SOURCES=sources_dir).stdout
    )
    (row,) = [r for r in after if r["source"] == "brussels-culture-poi"]
    assert row["status"] == "up to date" and row["actors"] == len(demo_features())
