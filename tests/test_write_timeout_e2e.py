"""A write over its time limit really stops, on a real `creative-graph serve` process.

The audit's update (a count over three copies of every quad) sent with the write token: the
client gets 503 within the limit and a small margin, the store is exactly as before, the
process that ran it is gone, the next write succeeds at once, and a server asked to stop in the
middle of such a write stops promptly and leaves no child process behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import free_socket, wait_until_served

from creative_graph.settings import Settings

pytestmark = pytest.mark.e2e

CLI = str(Path(sys.executable).with_name("creative-graph"))
TOKEN = "write-timeout-e2e-token-0123456789"
LIMIT = 2.0  # CREATIVE_GRAPH_WRITE_TIMEOUT for these servers
MARGIN = 1.5  # seconds past the limit a stopped write may take to answer
UPDATE = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
SLOW = (
    "INSERT { GRAPH <http://test.example/graph/audit> { <http://test.example/n> "
    "<http://test.example/count> ?n } } WHERE { SELECT (COUNT(*) AS ?n) WHERE { "
    "GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } } }"
)
TSV = {"Accept": "text/tab-separated-values"}
EVERY_QUAD = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    store: Path


@pytest.fixture
def served(demo_store: Settings, tmp_path: Path) -> Iterator[Served]:
    """`creative-graph serve` on a copy of the demo store, writes on, a short write limit."""
    shutil.copytree(demo_store.store, tmp_path / "store")
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    environment = {
        **os.environ,
        "CREATIVE_GRAPH_STORE": str(tmp_path / "store"),
        "CREATIVE_GRAPH_BASE_IRI": demo_store.base_iri,
        "CREATIVE_GRAPH_WRITE_TOKEN": TOKEN,
        "CREATIVE_GRAPH_WRITE_TIMEOUT": str(LIMIT),
        "CREATIVE_GRAPH_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(url, process)
        served = Served(url, process, tmp_path / "store")
        dumps_caught_up(served)  # the start's own catch-up run must not count as a burner
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def dumps_caught_up(served: Served) -> None:
    """Wait for the dumps of the published snapshot (none yet: 404)."""
    deadline = time.monotonic() + 60
    while True:
        listing = httpx.get(served.url + "/dumps")
        if listing.status_code == 200 and listing.json()["up_to_date"]:
            return
        assert time.monotonic() < deadline, "the dumps did not catch up"
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The process's child processes (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running, that is: not gone and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def busiest_child(pid: int, seconds: float = 0.5) -> tuple[int, float]:
    """The child that used the most CPU over `seconds`, and how much it used."""
    before = {child: cpu_seconds(child) for child in children(pid)}
    time.sleep(seconds)
    used = {child: cpu_seconds(child) - spent for child, spent in before.items()}
    return max(used.items(), key=lambda item: item[1], default=(0, 0.0))


def state(client: httpx.Client) -> tuple[str, str, str]:
    """The published snapshot, the ETag of an answer, and every quad (sorted)."""
    snapshot = client.get("/healthz").json()["snapshot"]
    answer = client.get("/sparql", params={"query": EVERY_QUAD}, headers=TSV)
    assert answer.status_code == 200, answer.text
    quads = "\n".join(sorted(answer.text.splitlines()))
    return snapshot, answer.headers["etag"], quads


def slow_write(url: str, answers: list) -> threading.Thread:
    """The audit's update, sent from a thread; its answer (or error) and time go to `answers`."""

    def send() -> None:
        started = time.monotonic()
        try:
            answers.append(httpx.post(url + "/sparql", content=SLOW, headers=UPDATE, timeout=60))
        except httpx.HTTPError as error:
            answers.append(error)
        answers.append(time.monotonic() - started)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_write_over_the_limit_is_stopped_changes_nothing_and_the_next_write_runs(
    served: Served,
) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        before = state(client)
        answers: list = []
        thread = slow_write(served.url, answers)
        time.sleep(0.5)
        burner, used = busiest_child(served.process.pid)
        assert used > 0.2, "no child process was running the write"
        thread.join(timeout=LIMIT + 10)
        assert answers, f"no answer within {LIMIT + 10:g} s"
        response, seconds = answers
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert "stopped" in response.text and "nothing was changed" in response.text
        assert seconds < LIMIT + MARGIN, seconds
        assert not alive(burner), "the process that ran the write is still there"

        assert state(client) == before  # same snapshot, same ETag, same quads

        edits = "http://test.example/graph/edits"
        started = time.monotonic()
        written = client.post(
            "/sparql",
            content=f"INSERT DATA {{ GRAPH <{edits}> {{ <http://test.example/note> "
            f'<http://purl.org/dc/terms/title> "after the stopped write" }} }}',
            headers=UPDATE,
        )
        assert written.status_code == 204, written.text
        assert time.monotonic() - started < 5  # a new worker was started meanwhile
        seen = client.get(
            "/sparql",
            params={"query": f"SELECT ?t WHERE {{ GRAPH <{edits}> {{ ?n ?p ?t }} }}"},
            headers=TSV,
        )
        assert "after the stopped write" in seen.text
        assert client.get("/healthz").json()["snapshot"] != before[0]
        audit = client.get(
            "/sparql", params={"query": "ASK { GRAPH <http://test.example/graph/audit> {} }"}
        )
        assert audit.json()["boolean"] is False
    # the stopped write's trial copy was dropped by the next writer: one primary is left
    assert len([p for p in served.store.glob("primary*") if p.is_dir()]) == 1

    dumps_caught_up(served)  # after the accepted write, the dumps run on their own
    deadline = time.monotonic() + 10
    while (busiest := busiest_child(served.process.pid))[1] > 0.1:
        assert time.monotonic() < deadline, f"child {busiest[0]} keeps using the CPU"


def test_the_server_stops_promptly_in_the_middle_of_a_long_write(served: Served) -> None:
    answers: list = []
    slow_write(served.url, answers)
    time.sleep(0.5)
    burner, used = busiest_child(served.process.pid)
    assert used > 0.2, "no child process was running the write"
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(timeout=LIMIT + 5)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not stop while a write was running")
    assert time.monotonic() - started < LIMIT + 3
    deadline = time.monotonic() + 3
    while alive(burner):
        assert time.monotonic() < deadline, "the write's process outlived the server"
        time.sleep(0.1)
