"""The write worker process (`endpoint.write_worker`): where its time limit stops applying, and
that it never outlives the server.

A write that passed the shapes and was allowed to commit stands: the limit passing while it is
published and the change stream synced must not answer "stopped, nothing changed" for a change
that is there. A worker whose server was killed (no clean shutdown) stops in the middle of its
write instead of burning CPU until it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_write_timeout_e2e import SLOW, alive, busiest_child

import creative_graph.writes
from creative_graph.settings import Settings
from creative_graph.sparql_validation import SparqlValidator
from creative_graph.store import StoreReader
from endpoint.write_worker import WriteWorker

pytestmark = pytest.mark.e2e

NOTE = ("http://test.example/note", "http://purl.org/dc/terms/title", "committed")
EDITS = "http://test.example/graph/edits"


class SlowChangeLog(creative_graph.writes.ChangeLog):
    """The change stream, synced `DELAY` seconds late."""

    DELAY = 0.0

    def sync_latest(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(self.DELAY)
        return super().sync_latest(*args, **kwargs)


@dataclass(frozen=True)
class SlowAfterCommit:
    """Inserts a note and, in the worker running it, makes the sync after the publish slow."""

    delay: float

    def __call__(self, store: ox.Store) -> None:
        SlowChangeLog.DELAY = self.delay
        creative_graph.writes.ChangeLog = SlowChangeLog  # type: ignore[misc]
        s, p, o = NOTE
        store.update(f'INSERT DATA {{ GRAPH <{EDITS}> {{ <{s}> <{p}> "{o}" }} }}')


def test_a_write_allowed_to_commit_stands_though_the_limit_passes_after(
    demo_store: Settings, tmp_path: Path
) -> None:
    shutil.copytree(demo_store.store, tmp_path / "store")
    settings = demo_store.model_copy(update={"store": tmp_path / "store", "write_timeout": 1.0})
    worker = WriteWorker(settings, SparqlValidator.default(), refresh_dumps=False)
    before = StoreReader(settings.store).latest()
    try:
        started = time.monotonic()
        outcome = worker.apply(SlowAfterCommit(delay=2.0), "a slow sync")
        assert time.monotonic() - started > 2.0  # the limit passed after the commit
    finally:
        worker.close()
    reader = StoreReader(settings.store)
    assert outcome.snapshot == reader.latest() != before
    s, p, o = NOTE
    assert reader.select(f"SELECT ?o WHERE {{ <{s}> <{p}> ?o }}") == [{"o": o}]


SERVER = """
import sys, time
from pathlib import Path
from creative_graph.settings import Settings
from creative_graph.sparql_validation import SparqlValidator
from endpoint.write_worker import Update, WriteWorker
settings = Settings(store=Path(sys.argv[1]), base_iri="http://test.example/", write_timeout=600)
worker = WriteWorker(settings, SparqlValidator.default(), refresh_dumps=False)
worker.apply(Update(sys.argv[2], "http://test.example/sparql"), "the audit's update")
"""


def test_the_worker_stops_when_its_server_is_killed(demo_store: Settings, tmp_path: Path) -> None:
    shutil.copytree(demo_store.store, tmp_path / "store")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path / "store"), SLOW])
    try:
        deadline = time.monotonic() + 30
        while (busiest := busiest_child(server.pid))[1] < 0.2:  # the worker runs the update
            assert server.poll() is None and time.monotonic() < deadline, "no write under way"
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.monotonic() + 3
        while alive(busiest[0]):
            assert time.monotonic() < deadline, "the write worker outlived its server"
            time.sleep(0.1)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
