"""The cost of a validated write of a modest graph: a Graph Store PUT of a few thousand triples.

    .venv/bin/python bench/write_bench.py                  # on the demo store (built first)
    .venv/bin/python bench/write_bench.py --store STORE    # on an ingested store, copied
    .venv/bin/python bench/write_bench.py --graph brussels-culture-poi brussels-city-subsidies

The store is the demo's (`creative-graph ingest` of every bundled source, ~33,000 triples) or a
copy of STORE (the original is never written). The body is what a steward would upload, as
Turtle: a generated steward source (`bench/steward_generator.py`, `--actors`, 240 by default:
~9,100 triples, ~420 KB) mapped to triples, or (`--graph NAME ...`) the first `--triples`
triples of these graphs of the store (nodes the store already describes). Then:

1. **stages**: in this process, with the server's validator, each stage of `Writes.apply`
   timed for a Graph Store PUT of the body into a new graph `{BASE}graph/upload`, the same PUT
   again (replacing what the first wrote), and a one-triple SPARQL Update (an actor's
   `skos:altLabel`): parsing the body, the change on the trial copy, the graphs it changed,
   the PROV record, the focus (the nodes it can affect), the shapes after and before the
   change, adopting, publishing, the change stream's sync, and the rest (the trial copy and
   its checkpoint, the lock).
2. **http**: a real server (`creative-graph serve`, its write worker, default limits, the
   dumps refreshed in the background after each write) on another copy: the same two PUTs and
   a PUT of the body's first 500 triples into another new graph; seconds per request as the
   client sees them.

Prints the commit measured and the load average (`bench/measured.py`). The script measures
the checkout it lives in, so a copy of it in a worktree of an older commit measures that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from measured import load_average, revision  # bench/measured.py (this script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))  # measure the code of this checkout
TOKEN = "bench-write-token-0123456789abcdef"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
PREFIXES = {
    "id": "id/",  # under the base IRI
    "cg": "https://w3id.org/creative-graph/ns#",
    "concept": "https://w3id.org/creative-graph/concept/",
    "org": "http://www.w3.org/ns/org#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "locn": "http://www.w3.org/ns/locn#",
    "schema": "https://schema.org/",
    "cv": "http://data.europa.eu/m8g/",
    "dct": "http://purl.org/dc/terms/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def demo_store(store: Path, base: str) -> None:
    """Every bundled source ingested into `store`, as `make demo` does."""
    env = {**os.environ, "CREATIVE_GRAPH_STORE": str(store), "CREATIVE_GRAPH_BASE_IRI": base}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whichever the command was installed from
    command = [str(Path(sys.executable).with_name("creative-graph")), "ingest"]
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)


def body(workdir: Path, args: argparse.Namespace, store: Path) -> bytes:
    """The triples to upload, as Turtle: a generated steward source's, or the store's own."""
    import pyoxigraph as ox

    base = args.base_iri
    if args.graph:
        from creative_graph.store import StoreReader

        reader = StoreReader(store)
        triples: list[ox.Triple] = []
        for name in args.graph:
            found = reader.graph(f"{base}graph/{name}", ox.RdfFormat.N_TRIPLES)
            assert found is not None, f"the store has no graph {name}"
            quads = ox.parse(found[0], format=ox.RdfFormat.N_TRIPLES)
            triples += [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        triples = triples[: args.triples]
    else:
        import steward_generator

        from creative_graph.iris import Iris
        from ingest.manifest import load_manifest
        from ingest.mappers import mappers

        source = steward_generator.write_source(workdir / "upload", args.actors, 7, "upload")
        manifest = load_manifest(source)
        staged = mappers()[manifest.mapper](manifest, Iris(base)).staged()
        triples = list(ox.parse(staged.ntriples(), format=ox.RdfFormat.N_TRIPLES))
    prefixes = {k: v if "://" in v else base + v for k, v in PREFIXES.items()}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)


@contextmanager
def timed(times: dict[str, float], owner: object, name: str, label: str) -> Iterator[None]:
    original = getattr(owner, name)

    def run(*args: Any, **options: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **options)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - began

    with patch.object(owner, name, run):
        yield


def stages(store: Path, data: bytes, base: str) -> dict[str, dict[str, float]]:
    """Each stage of `Writes.apply` (seconds) for each write (see the module's docstring)."""
    import pyoxigraph as ox

    from creative_graph import store as stores
    from creative_graph.descriptions import actors_query
    from creative_graph.sparql_validation import SparqlValidator
    from endpoint.graph_store import _triples
    from endpoint.write_worker import Replace, Update

    validator = SparqlValidator.default()
    graph = f"{base}graph/upload"
    began = time.perf_counter()
    triples = _triples("text/turtle", data, graph)
    parse = time.perf_counter() - began
    actor = stores.StoreReader(store).select(actors_query() + " ORDER BY ?actor LIMIT 1")[0]
    where = f"GRAPH ?g {{ <{actor['actor']}> a ?c }}"
    graph_of = stores.StoreReader(store).select(f"SELECT ?g WHERE {{ {where} }} LIMIT 1")[0]["g"]
    label = f'<{actor["actor"]}> <{ALT_LABEL}> "bench"@en'
    put = Replace(ox.NamedNode(graph), tuple(triples))
    changes = {
        "PUT, new graph": (put, data, parse),
        "PUT, replacing": (put, data, parse),
        "1-triple update": (
            Update(f"INSERT DATA {{ GRAPH <{graph_of}> {{ {label} }} }}", base),
            b"",
            0.0,
        ),
    }
    columns = {}
    for column, (change, request, parsed) in changes.items():
        columns[column] = _apply(store, validator, base, change, request) | {"parse": parsed}
        columns[column]["total"] += parsed
    return columns


def _apply(store: Path, validator: Any, base: str, change: Any, request: bytes) -> dict[str, float]:
    from creative_graph import ldes, writes
    from creative_graph import store as stores
    from creative_graph.iris import Iris

    times: dict[str, float] = {}
    before: list[float] = []  # the shapes' time before the change, inside `_violations`' total
    original_before = writes.Writes._violations_before

    def violations_before(self: Any, *args: Any) -> Any:
        mark = times.get("shapes", 0.0)
        try:
            return original_before(self, *args)
        finally:
            before.append(times.get("shapes", 0.0) - mark)

    def change_timed(copy: Any) -> Any:
        began = time.perf_counter()
        try:
            return change(copy)
        finally:
            times["change"] = time.perf_counter() - began

    steps: list[tuple[object, str, str]] = [
        (writes, "_changed_graphs", "changed graphs"),
        (writes.Writes, "_record", "PROV record"),
        (writes.Writes, "_focus", "focus"),
        (writes.Writes, "_violations", "shapes"),
        (stores.StoreWriter, "adopt", "adopt"),
        (stores.StoreWriter, "publish", "publish"),
        (ldes.ChangeLog, "sync_latest", "change stream"),
    ]
    with ExitStack() as stack:
        for owner, name, label in steps:
            stack.enter_context(timed(times, owner, name, label))
        stack.enter_context(patch.object(writes.Writes, "_violations_before", violations_before))
        target = writes.Writes(store, validator, Iris(base), refresh_dumps=False)
        began = time.perf_counter()
        target.apply(change_timed, "bench write", request)
        total = time.perf_counter() - began
    shapes = times.pop("shapes", 0.0)
    figures = {"parse": 0.0, "change": times.pop("change")}
    for label in ("changed graphs", "PROV record", "focus"):
        figures[label] = times.pop(label, 0.0)
    figures["shapes after"] = shapes - sum(before)
    figures["shapes before"] = sum(before)
    figures.update(times)
    figures["rest"] = total - sum(figures.values())
    figures["total"] = total
    return figures


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(store: Path, data: bytes, base: str) -> list[tuple[str, int, float]]:
    """PUTs over HTTP to a real server on `store`: (request, status, seconds) each."""
    import httpx
    import pyoxigraph as ox

    port = free_port()
    env = {
        **os.environ,
        "CREATIVE_GRAPH_STORE": str(store),
        "CREATIVE_GRAPH_BASE_IRI": base,
        "CREATIVE_GRAPH_WRITE_TOKEN": TOKEN,
        "CREATIVE_GRAPH_LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }
    command = [str(Path(sys.executable).with_name("creative-graph")), "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE))
    small = ox.serialize(triples[:500], format=ox.RdfFormat.TURTLE)
    requests = [
        (f"PUT {len(triples):,} triples into a new graph", "upload", data),
        (f"PUT {len(triples):,} triples replacing them", "upload", data),
        ("PUT 500 triples into a new graph", "upload-small", small),
    ]
    rows = []
    try:
        with httpx.Client(timeout=120) as client:
            for _ in range(600):
                try:
                    if client.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            time.sleep(2)  # the write worker starts in the background
            for label, name, content in requests:
                began = time.perf_counter()
                answer = client.put(
                    f"{url}/store",
                    params={"graph": f"{base}graph/{name}"},
                    content=content,
                    headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
                )
                rows.append((label, answer.status_code, time.perf_counter() - began))
                print(f"  {label}: {answer.status_code} in {rows[-1][2]:.2f} s", flush=True)
            for _ in range(1200):  # the dumps the writes asked for, before the store goes
                listed = client.get(f"{url}/dumps", headers={"Accept": "application/json"})
                if listed.is_success and listed.json().get("up_to_date"):
                    break
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def copy(store: Path, to: Path) -> Path:
    left_out = shutil.ignore_patterns("dumps", "incoming", "ldes-scratch-*", "writer.lock")
    shutil.copytree(store, to, ignore=left_out)
    return to


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actors", type=int, default=240, help="generated actors in the body")
    parser.add_argument("--graph", nargs="+", help="the body from these graphs of the store")
    parser.add_argument("--triples", type=int, default=9000, help="at most, with --graph")
    parser.add_argument("--store", type=Path, help="an ingested store to copy (default: demo)")
    parser.add_argument("--base-iri", default="http://localhost:8000/", help="the store's")
    parser.add_argument("--skip-http", action="store_true", help="only the stages")
    args = parser.parse_args(argv)
    print(f"measured: {revision()}")
    print(f"load average at start: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="write-bench-") as temporary:
        workdir = Path(temporary)
        if args.store:
            store = copy(args.store, workdir / "store")
        else:
            store = workdir / "store"
            demo_store(store, args.base_iri)
        data = body(workdir, args, store)
        print(f"body: {len(data):,} bytes of Turtle", flush=True)
        columns = stages(copy(store, workdir / "stages"), data, args.base_iri)
        rows = [] if args.skip_http else http(copy(store, workdir / "http"), data, args.base_iri)
    print(f"load average at end: {load_average()}")
    print("\n| stage of Writes.apply, s | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for stage in next(iter(columns.values())):
        cells = " | ".join(f"{figures.get(stage, 0.0):.2f}" for figures in columns.values())
        print(f"| {stage} | {cells} |")
    if rows:
        print("\n| request over HTTP | status | s |\n|---|---:|---:|")
        for label, status, seconds in rows:
            print(f"| {label} | {status} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
