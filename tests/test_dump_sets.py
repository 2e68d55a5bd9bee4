"""Which set of dumps is served, and how sets come and go: the newest complete set of the
snapshot or an earlier one; a set being written, or left half written by a killed writer,
never counts; an old set goes only once a newer one is complete; background runs one at a
time, requests meanwhile coalesced."""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox

from creative_graph import dumps
from creative_graph.store import StoreWriter

GRAPH = "http://x.example/graph/things"
WRITER = "import sys; from pathlib import Path; from creative_graph import dumps; " + (
    "dumps.write(Path(sys.argv[1]))"
)


def publish(store: Path, n: int, many: int = 0) -> str:
    """Publish a snapshot with thing `n` added (and `many` more triples); its name."""
    with StoreWriter(store) as writer:
        writer.update(
            f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://x.example/thing/{n}> "
            f'<http://purl.org/dc/terms/title> "Thing {n}"@en }} }}'
        )
        if many:
            lines = {
                f'<http://x.example/s/{i}> <http://x.example/p> "value {i}"' for i in range(many)
            }
            writer.replace_graph(f"{GRAPH}/many", lines)
        return writer.publish()


def sets(store: Path) -> set[str]:
    return {p.name for p in (store / "dumps").iterdir() if p.is_dir()}


def served_quads(store: Path, snapshot: str) -> set[ox.Quad]:
    found = dumps.latest(store, snapshot)
    assert found is not None
    content = gzip.decompress((found.folder / "all.nq.gz").read_bytes())
    return set(ox.parse(content, format=ox.RdfFormat.N_QUADS))


def thing(n: int) -> ox.Quad:
    return ox.Quad(
        ox.NamedNode(f"http://x.example/thing/{n}"),
        ox.NamedNode("http://purl.org/dc/terms/title"),
        ox.Literal(f"Thing {n}", language="en"),
        ox.NamedNode(GRAPH),
    )


def test_the_newest_complete_set_is_served_and_an_incomplete_newer_one_ignored(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    assert dumps.latest(store, None) is None
    first = publish(store, 1)
    assert dumps.latest(store, first) is None and dumps.read(store, first) is None
    dumps.write(store)
    second = publish(store, 2)
    found = dumps.latest(store, second)  # not written yet: the earlier set
    assert found is not None and found.snapshot == first
    assert dumps.served_snapshot(store, second) == first
    assert thing(2) not in served_quads(store, second)
    dumps.write(store)
    assert dumps.served_snapshot(store, second) == second
    assert thing(2) in served_quads(store, second)
    assert dumps.served_snapshot(store, first) == first  # never a set newer than the snapshot

    third = publish(store, 3)
    root = store / "dumps"
    shutil.copytree(root / second, root / f"{third}.tmp")  # being written
    shutil.copytree(root / second, root / third)  # left with a short file
    with (root / third / "all.nq.gz").open("r+b") as short:
        short.truncate(10)
    assert dumps.served_snapshot(store, third) == second
    (root / third / "all.nq.gz").unlink()
    (root / third / dumps.MANIFEST).unlink()  # no manifest at all
    assert dumps.served_snapshot(store, third) == second
    assert dumps.read(store, third) == dumps.read(store, second)

    files = dumps.write(store)  # replaces what was left
    assert dumps.served_snapshot(store, third) == third
    assert thing(3) in served_quads(store, third)
    assert dumps.read(store, third) == files
    assert not any(name.endswith(".tmp") for name in sets(store))


def test_an_old_set_goes_only_once_a_newer_one_is_complete(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = publish(store, 1)
    dumps.write(store, keep=1)
    second = publish(store, 2)
    dumps.write(store, keep=1)
    # the one before the newest stays for downloads begun
    assert sets(store) == {first, second}
    third = publish(store, 3)
    (store / "dumps" / f"{third}.tmp").mkdir()  # a newer set being written: nothing goes
    assert dumps.served_snapshot(store, third) == second
    assert {first, second} <= sets(store)
    dumps.write(store, keep=1)
    assert sets(store) == {second, third}


def test_a_killed_writer_leaves_the_served_set_whole(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = publish(store, 1, many=30_000)  # so that writing its dumps takes a while
    dumps.write(store)
    expected = {f.name: f.sha256 for f in dumps.read(store, first) or []}
    for attempt in range(2, 5):
        second = publish(store, attempt)
        building = store / "dumps" / f"{second}.tmp"
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store)])
        while writer.poll() is None and not any(building.glob("*.gz")):
            time.sleep(0.005)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if building.exists():  # killed midway (else it finished first: try again)
            break
    assert building.exists(), "the writer always finished before it could be killed"
    found = dumps.latest(store, second)
    assert found is not None and found.snapshot == first
    for name, sha256 in expected.items():
        assert hashlib.sha256((found.folder / name).read_bytes()).hexdigest() == sha256
    dumps.write(store)  # the next writer starts again and finishes
    assert dumps.served_snapshot(store, second) == second
    assert not building.exists()


def test_requests_during_a_run_make_one_more_run_for_the_latest_snapshot(tmp_path: Path) -> None:
    store = tmp_path / "store"
    publish(store, 1)
    dumps.write(store)
    refresher = dumps.Refresher(store)
    latest = ""
    for n in (2, 3, 4):
        latest = publish(store, n)
        refresher.request()  # returns at once
    runs: set[int | None] = set()
    deadline = time.monotonic() + 120
    while refresher.busy:
        children = [
            p for p in multiprocessing.active_children() if p.name == "creative-graph dumps"
        ]
        assert len(children) <= 1  # one at a time
        runs.update(p.pid for p in children)
        assert time.monotonic() < deadline, "the dumps were not written"
        time.sleep(0.005)
    assert 1 <= len(runs) <= 2  # three requests, one run and at most one more
    assert dumps.served_snapshot(store, latest) == latest
    assert thing(4) in served_quads(store, latest)
