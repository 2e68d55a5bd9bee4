"""A crash or kill at any moment of an ingest leaves the previous version of the store intact."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEMO_SOURCE

from creative_graph.store import StoreReader, StoreWriter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CLI = str(Path(sys.executable).parent / "creative-graph")
GRAPH = "http://localhost:8000/graph/brussels-culture-poi"


def big_source(root: Path, features: int, seed: int) -> Path:
    """The demo source with `features` synthetic venues spread over Brussels."""
    target = root / f"source-{seed}"
    target.mkdir(parents=True)
    (target / "source.toml").write_text(
        (DEMO_SOURCE / "source.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (geojson,) = DEMO_SOURCE.glob("*.geojson")
    rng = random.Random(seed)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "ID": float(i),
                    "TXT_FRE": f"LIEU {seed} {i}",
                    "TXT_DUT": f"PLEK {seed} {i}",
                },
                "geometry": {
                    "type": "Point",
                    "coordinates": [rng.uniform(4.30, 4.42), rng.uniform(50.81, 50.88)],
                },
            }
            for i in range(features)
        ],
    }
    (target / geojson.name).write_text(json.dumps(collection), encoding="utf-8")
    return target


def ingest(source: Path, store: Path) -> subprocess.Popen:
    env = {**os.environ, "CREATIVE_GRAPH_STORE": str(store), "CREATIVE_GRAPH_LOG_LEVEL": "warning"}
    # output goes nowhere: a full pipe would block the very process the test kills
    command = [CLI, "ingest", "--json", str(source)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def state(store: Path) -> tuple[str | None, int, str]:
    """Published snapshot, triples in the source graph as served, and a digest of them."""
    reader = StoreReader(store)
    rows = reader.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
    return reader.snapshot.name, len(rows), str(hash(frozenset(tuple(r.values()) for r in rows)))


def primary_triples(store: Path) -> int:
    with StoreWriter(store) as writer:  # also proves the killed writer left a store that opens
        return len(writer.graph_lines(GRAPH))


def test_killing_an_ingest_at_any_moment_leaves_the_previous_version(tmp_path: Path) -> None:
    store = tmp_path / "store"
    old_source, new_source = big_source(tmp_path, 400, seed=1), big_source(tmp_path, 1500, seed=2)
    assert ingest(old_source, store).wait(timeout=300) == 0
    old = state(store)
    started = time.monotonic()
    assert ingest(new_source, store).wait(timeout=600) == 0
    duration = time.monotonic() - started
    new = state(store)
    assert old[1] > 5_000 and new[1] > old[1]
    assert ingest(old_source, store).wait(timeout=300) == 0
    assert state(store)[1:] == old[1:]

    outcomes = []
    for fraction in (0.1, 0.3, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99):
        process = ingest(new_source, store)
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        served = state(store)[1:]
        assert served in (old[1:], new[1:]), f"partial graph served after a kill at {fraction:.0%}"
        assert primary_triples(store) in (old[1], new[1])
        outcomes.append(served == new[1:])
        if served == new[1:]:
            assert ingest(old_source, store).wait(timeout=300) == 0
    assert not all(outcomes), "every kill came too late to test anything"
    assert ingest(new_source, store).wait(timeout=600) == 0
    assert state(store)[1:] == new[1:]


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_an_ingest_killed_while_writing_its_dumps_leaves_no_process_behind(
    tmp_path: Path,
) -> None:
    """The dumps and the change stream are written by child processes after the publish; a
    kill of the ingest then must not leave them waiting forever (they used to)."""
    store, source = tmp_path / "store", big_source(tmp_path, 1500, seed=3)
    for _ in range(5):  # the children live a second or two: catch them
        process = ingest(source, store)
        children: set[int] = set()
        while process.poll() is None and not children:
            children = children_of(process.pid)
            time.sleep(0.02)
        if children:
            break
        shutil.rmtree(store)
    assert children, "the ingest ended before its children could be seen"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(child) for child in children), "children outlived the killed ingest"
