"""SPARQL endpoint benchmark: our /sparql next to Oxigraph server, rdflib-endpoint and Virtuoso.

For each data set, the demo data (`data/sources/*`, ingested by `creative-graph ingest`) and a
generated graph (the demo sources plus a steward source of `--actors` generated actors,
`bench/steward_generator.py`), the published dump `all.nq.gz` is the data every peer loads:

- `creative-graph`: `creative-graph serve` on the ingested store, default settings (2 query
  workers, 64 MiB result cache);
- `creative-graph-memory`: the same with `CREATIVE_GRAPH_SERVE_FROM_MEMORY=true` (each query
  worker answers from its own in-memory copy of the published snapshot);
- `oxigraph-disk`: `oxigraph load` into a directory, then `oxigraph serve-read-only
  --union-default-graph` (our server also reads its snapshots read-only);
- `oxigraph-memory`: `oxigraph serve --union-default-graph` without a location, loaded by an
  HTTP POST of the N-Quads to `/store`;
- `rdflib-endpoint`: `rdflib_endpoint.SparqlEndpoint` on an rdflib `Dataset(default_union=True)`
  parsed from the N-Quads, under uvicorn;
- `virtuoso`: `virtuoso-t` (Debian's virtuoso-opensource 7) with a generated virtuoso.ini on
  loopback ports, bulk-loaded with `ld_dir` + `rdf_loader_run` (each quad in its own graph; a
  query without FROM ranges over all graphs, Virtuoso's default).

Every server runs alone, one after the other, and is stopped before the next starts. The query
mix (`bench/endpoint_queries/*.rq`) runs over HTTP (POST, form-encoded, SPARQL JSON for SELECT
and ASK, N-Triples for CONSTRUCT) in three modes: `cold` (every request's text is new: a unique
comment line comes first, so no result cache can answer it) at 1 and 8 concurrent clients, and
`repeated` (the same text every time, after one warm-up) at 1 client. Our named queries
(`/api/queries/{name}`) are timed on a second instance with the result cache off (cold) and on
the default one (repeated).

Run: make bench-endpoint                 (demo data and 10,000 generated actors)
     .venv/bin/python bench/endpoint_bench.py --actors 1000 --repeat 3     (a quick look)
     .venv/bin/python bench/endpoint_bench.py --help
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from measured import load_average, revision  # bench/measured.py (this script's folder)

ROOT = Path(__file__).resolve().parents[1]
# Measure the code of the checkout this file lives in, whatever the venv's editable install is.
sys.path.insert(1, str(ROOT))
MIX = ROOT / "bench" / "endpoint_queries"
NAMED = ROOT / "endpoint" / "queries"
BASE = "http://localhost:8000/"  # the instance IRIs' base, the same in every data set
SYSTEMS = (
    "creative-graph",
    "creative-graph-memory",
    "oxigraph-disk",
    "oxigraph-memory",
    "virtuoso",
    "rdflib-endpoint",
)
OURS, OURS_MEMORY, REFERENCE = "creative-graph", "creative-graph-memory", "oxigraph-disk"
OURSELVES = (OURS, OURS_MEMORY)
VIRTUOSO = "virtuoso"
CLI = "from creative_graph.cli import main; main()"
# Example values of the named queries' parameters (the issue's), by parameter name.
NAMED_EXAMPLES = {
    "sector": "performing-arts",
    "type": "theatre",
    "municipality": "21004",
    "text": "theat",
}
ACCEPT = {
    "select": "application/sparql-results+json",
    "ask": "application/sparql-results+json",
    "construct": "application/n-triples",
}
TARGET_COLD, TARGET_THROUGHPUT, TARGET_NAMED_MS, TARGET_MEMORY = 1.1, 0.9, 50.0, 1.5
TARGETS = (
    "targets, relative to oxigraph-disk: (a) cold queries within 1.1x of its median on every "
    "query, throughput at least 0.9x; or, serving from memory, the geometric mean of cold "
    "medians within 1.5x of Virtuoso's; (b) repeated queries answered from our result cache, "
    "faster than every peer; (c) our named queries each under 50 ms median on the demo data"
)
_unique = itertools.count(1)


class Skipped(Exception):
    """A system that cannot run here (not installed, failed to start or load): said, not fatal."""


# ---- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    summary: str
    kind: str  # select, ask, construct
    template: str  # may hold {{base}}, {{actor}}, {{actors}}


def query_kind(text: str) -> str:
    """select, ask or construct: the first query form keyword outside comments and IRIs."""
    body = re.sub(r"<[^>\s]*>|#[^\n]*", " ", text)
    found = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
    if found is None:
        raise ValueError("no SELECT, ASK or CONSTRUCT in the query")
    return found.group(1).lower()


def load_mix(directory: Path = MIX) -> list[Query]:
    """The query mix: every `*.rq` of `directory`, with its `#+ summary:` line."""
    queries = []
    for path in sorted(directory.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        summaries = [
            line[11:].strip() for line in text.splitlines() if line.startswith("#+ summary:")
        ]
        summary = summaries[0] if summaries else path.stem
        queries.append(Query(path.stem, summary, query_kind(text), text))
    return queries


def render(template: str, substitutions: dict[str, str]) -> str:
    """The query text with its `{{name}}` placeholders replaced (IRIs written `<...>`)."""
    for name, value in substitutions.items():
        template = template.replace("{{" + name + "}}", value)
    if left := re.findall(r"\{\{\w+\}\}", template):
        raise ValueError(f"unreplaced placeholder {', '.join(left)}")
    return template


def substitutions(actor: str, actors: list[str]) -> dict[str, str]:
    return {"base": BASE, "actor": f"<{actor}>", "actors": " ".join(f"<{a}>" for a in actors)}


# ---- in the child processes ---------------------------------------------------------------------


def _signature_of_results(results: Any) -> str:
    import pyoxigraph as ox

    if isinstance(results, ox.QueryBoolean):
        return "true" if bool(results) else "false"
    if isinstance(results, ox.QueryTriples):
        return f"{len(set(results))} triples"
    return f"{sum(1 for _ in results)} rows"


def child_describe(spec: dict[str, Any]) -> None:
    """Facts about the data, the actors the templates name, and the reference answers."""
    import pyoxigraph as ox

    from endpoint.named_queries import binding, load_queries

    store = ox.Store()
    store.load(path=spec["nquads"], format=ox.RdfFormat.N_QUADS)

    def select(text: str) -> list[Any]:
        return list(store.query(text, use_default_graph_as_union=True))

    counted = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    graphs = {row["g"].value: int(row["n"].value) for row in counted}
    prefixes = """PREFIX org: <http://www.w3.org/ns/org#> PREFIX cv: <http://data.europa.eu/m8g/>
        PREFIX locn: <http://www.w3.org/ns/locn#> PREFIX schema: <https://schema.org/>"""
    every = f"{prefixes} SELECT ?a WHERE {{ ?a a org:Organization }} ORDER BY STR(?a)"
    organisations = [row["a"].value for row in select(every)]
    # the actor described: the first with a site, an address, a contact point and a service
    described = select(
        f"""{prefixes} SELECT ?a WHERE {{ ?a a org:Organization ; org:hasPrimarySite/locn:address
        ?address ; cv:contactPoint ?contact . ?service schema:provider ?a }} ORDER BY STR(?a)
        LIMIT 1"""
    )
    actor = described[0]["a"].value if described else organisations[len(organisations) // 2]
    step = max(1, len(organisations) // 20)
    actors = organisations[::step][:20]
    values = substitutions(actor, actors)
    expected = {
        query.name: _signature_of_results(
            store.query(render(query.template, values), use_default_graph_as_union=True)
        )
        for query in load_mix(Path(spec["mix"]))
    }
    named: dict[str, str] = {}
    for query in load_queries(Path(spec["named"])):
        if any(p.name not in NAMED_EXAMPLES for p in query.parameters):
            continue
        terms: dict[Any, Any] = {}
        for parameter in query.parameters:
            kind, value, datatype = binding(parameter, NAMED_EXAMPLES[parameter.name])
            terms[ox.Variable(parameter.name)] = (
                ox.NamedNode(value)
                if kind == "iri"
                else ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)
            )
        results = store.query(query.text, use_default_graph_as_union=True, substitutions=terms)
        named[query.name] = _signature_of_results(results)
    print(
        json.dumps(
            {
                "graphs": graphs,
                "quads": sum(graphs.values()),
                "organisations": len(organisations),
                "actor": actor,
                "actors": actors,
                "expected": expected,
                "named": named,
            }
        ),
        flush=True,
    )


def child_rdflib(spec: dict[str, Any]) -> None:
    """rdflib-endpoint on a Dataset whose default graph is the union of the named graphs."""
    import logging

    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(spec["nquads"], format="nquads")
    seconds = time.perf_counter() - started
    graphs = {str(g.identifier): len(g) for g in dataset.graphs() if len(g)}
    Path(spec["facts"]).write_text(json.dumps({"load_s": seconds, "graphs": graphs}))
    logging.getLogger("rdflib_endpoint").setLevel(logging.CRITICAL)  # one line per query
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=spec["port"], log_level="warning")


CHILDREN = {"describe": child_describe, "rdflib": child_rdflib}


# ---- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One request: milliseconds to the last byte, or what went wrong instead."""

    ms: float
    status: int | None  # None: no answer (timeout, connection refused)
    body: bytes
    error: str | None
    cache: str | None  # our X-Cache header


class Client:
    """One persistent HTTP/1.1 connection (http.client keeps the client's own cost low)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def query(self, text: str, accept: str) -> Answer:
        body = urlencode({"query": text}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        return self.send("POST", self.path, body, headers)

    def get(self, path: str, accept: str) -> Answer:
        return self.send("GET", path, None, {"Accept": accept})

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            start = time.perf_counter()
            try:
                self._connection.request(method, path, body=body, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
            except TimeoutError:
                self.close()
                return Answer((time.perf_counter() - start) * 1000, None, b"", "timeout", None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: reconnect once, untimed
                self.close()
                if attempt == 2:
                    return Answer(0.0, None, b"", "connection lost", None)
                continue
            except OSError as error:
                self.close()
                return Answer(0.0, None, b"", f"{type(error).__name__}", None)
            ms = (time.perf_counter() - start) * 1000
            error_text = None if response.status == 200 else f"HTTP {response.status}"
            if response.getheader("X-SQL-State"):  # Virtuoso's partial ("anytime") answer
                error_text = "timeout"
            return Answer(ms, response.status, data, error_text, response.getheader("X-Cache"))
        raise AssertionError("unreachable")


def signature(kind: str, body: bytes) -> str:
    """What an answer says, to compare systems: rows, the boolean, or distinct triples."""
    if kind == "construct":
        import pyoxigraph as ox

        return f"{len(set(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)))} triples"
    document = json.loads(body)
    if "boolean" in document:
        return "true" if document["boolean"] else "false"
    return f"{len(document['results']['bindings'])} rows"


# ---- servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    system: str
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path
    load_s: float | None = None
    load_what: str = ""
    graphs: dict[str, int] | None = None  # triples per graph, when the server reports them
    note: str = ""

    def base(self) -> str:
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.netloc}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch(command: list[str], log: Path, **options: Any) -> subprocess.Popen[bytes]:
    """Start a server in its own session (so its whole process group can be stopped)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        return subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started: its process group (our own child's id), then wait."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # workers left behind in the group (spawned query workers) go too
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_ready(server: Server, seconds: float) -> None:
    """Until the endpoint answers a trivial query with 200 (or the process dies)."""
    deadline = time.time() + seconds
    client = Client(server.endpoint, timeout=5)
    try:
        while time.time() < deadline:
            if server.process.poll() is not None:
                raise Skipped(
                    f"{server.system} exited with code {server.process.returncode}: "
                    + tail(server.log)
                )
            answer = client.query("ASK { ?s ?p ?o }", ACCEPT["ask"])
            if answer.status == 200:
                return
            time.sleep(0.2)
    finally:
        client.close()
    raise Skipped(f"{server.system} did not answer within {seconds:.0f} s: {tail(server.log)}")


def tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def tool(name: str) -> str | None:
    """An executable next to this Python (the venv's `oxigraph`) or on PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(name, path=path)


def our_env(store: Path, timeout: float, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREATIVE_GRAPH_")}
    env |= {
        "CREATIVE_GRAPH_STORE": str(store),
        "CREATIVE_GRAPH_BASE_IRI": BASE,
        "CREATIVE_GRAPH_SOURCES": str(ROOT / "data" / "sources"),
        "CREATIVE_GRAPH_LOG_LEVEL": "warning",
        "CREATIVE_GRAPH_QUERY_TIMEOUT": str(timeout),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return env | {f"CREATIVE_GRAPH_{k.upper()}": v for k, v in settings.items()}


def start_ours(
    data: DataSet, args: argparse.Namespace, cache_bytes: int | None = None, memory: bool = False
) -> Server:
    port = free_port()
    settings = {} if cache_bytes is None else {"query_cache_bytes": str(cache_bytes)}
    if memory:
        settings["serve_from_memory"] = "true"
    command = [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    name = OURS_MEMORY if memory else OURS if cache_bytes is None else f"{OURS} (cache off)"
    log = data.directory / "logs" / f"{name.replace(' ', '-')}.log"
    launched = time.perf_counter()
    process = launch(command, log, env=our_env(data.store, args.timeout, **settings), cwd=ROOT)
    server = Server(name, f"http://127.0.0.1:{port}/sparql", process, log)
    server.load_what = "creative-graph ingest (above)"
    wait_ready(server, 120)
    if memory:
        copies = wait_loaded(server, 600)
        server.load_s = time.perf_counter() - launched
        server.load_what = "serve, copies into memory"
        server.note = (
            f"{len(copies)} workers, each {copies[0]['quads']:,} quads loaded in "
            + "/".join(f"{c['seconds']:.1f}" for c in copies)
            + " s"
        )
    return server


def wait_loaded(server: Server, seconds: float) -> list[dict[str, Any]]:
    """Until `/healthz` says every query worker holds its copy of the snapshot; their copies."""
    deadline = time.time() + seconds
    client = Client(server.endpoint, timeout=30)
    try:
        while time.time() < deadline:
            answer = client.get("/healthz", "application/json")
            if answer.status == 200:
                workers = json.loads(answer.body)["query_workers"]["workers"]
                copies = [w["memory_copy"] for w in workers if not w["loading"]]
                if workers and len(copies) == len(workers) and all(copies):
                    return copies
            time.sleep(0.2)
    finally:
        client.close()
    raise Skipped(f"{server.system} did not load within {seconds:.0f} s: {tail(server.log)}")


def start_oxigraph_disk(data: DataSet, args: argparse.Namespace) -> Server:
    binary = tool("oxigraph")
    if binary is None:
        raise Skipped("oxigraph not found (pip install '.[bench]')")
    location = data.directory / "oxigraph"
    shutil.rmtree(location, ignore_errors=True)
    log = data.directory / "logs" / "oxigraph-disk.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("ab") as output:
        loaded = subprocess.run(
            [binary, "load", "--location", str(location), "--file", str(data.nquads)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    if loaded.returncode != 0:
        raise Skipped(f"oxigraph load failed: {tail(log)}")
    seconds = time.perf_counter() - started
    port = free_port()
    command = [binary, "serve-read-only", "--location", str(location),
               "--bind", f"127.0.0.1:{port}", "--union-default-graph",
               "--timeout-s", str(int(args.timeout))]  # fmt: skip
    server = Server("oxigraph-disk", f"http://127.0.0.1:{port}/query", launch(command, log), log)
    server.load_s, server.load_what = seconds, "oxigraph load"
    wait_ready(server, 60)
    return server


def start_oxigraph_memory(data: DataSet, args: argparse.Namespace) -> Server:
    binary = tool("oxigraph")
    if binary is None:
        raise Skipped("oxigraph not found (pip install '.[bench]')")
    port = free_port()
    log = data.directory / "logs" / "oxigraph-memory.log"
    command = [binary, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph",
               "--timeout-s", str(int(args.timeout))]  # fmt: skip
    server = Server("oxigraph-memory", f"http://127.0.0.1:{port}/query", launch(command, log), log)
    wait_ready(server, 60)
    client = Client(f"http://127.0.0.1:{port}/store", timeout=600)
    started = time.perf_counter()
    answer = client.send(
        "POST", "/store", data.nquads.read_bytes(), {"Content-Type": "application/n-quads"}
    )
    client.close()
    if answer.status not in (200, 201, 204):
        stop(server.process)
        raise Skipped(f"POST /store answered {answer.status}: {answer.body[:200]!r}")
    server.load_s, server.load_what = time.perf_counter() - started, "POST /store"
    return server


def start_rdflib(data: DataSet, args: argparse.Namespace) -> Server:
    try:
        metadata.version("rdflib-endpoint")
    except metadata.PackageNotFoundError as error:
        raise Skipped("rdflib-endpoint not installed (pip install '.[bench]')") from error
    port = free_port()
    facts = data.directory / "rdflib-facts.json"
    facts.unlink(missing_ok=True)
    spec = {"nquads": str(data.nquads), "port": port, "facts": str(facts)}
    log = data.directory / "logs" / "rdflib-endpoint.log"
    command = [sys.executable, __file__, "--child", "rdflib", json.dumps(spec)]
    process = launch(command, log, cwd=ROOT)
    server = Server("rdflib-endpoint", f"http://127.0.0.1:{port}/sparql", process, log)
    wait_ready(server, 900)
    reported = json.loads(facts.read_text())
    server.load_s, server.load_what = reported["load_s"], "Dataset.parse"
    server.graphs = reported["graphs"]
    return server


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
MaxClientConnections = 16
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = ., {data}
; Virtuoso's own sizing for a machine with 2 GB to spare (the 8 KB buffers fill as used)
NumberOfBuffers = 170000
MaxDirtyBuffers = 130000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
MaxQueryMem = 2G
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 16
ServerThreads = 16
MaxKeepAlives = 16
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {timeout}
MaxQueryCostEstimationTime = 400
"""
CRS84 = '"<http://www.opengis.net/def/crs/OGC/1.3/CRS84> '


def start_virtuoso(data: DataSet, args: argparse.Namespace) -> Server:
    server_binary, isql = tool("virtuoso-t"), tool("isql-vt") or tool("isql")
    if server_binary is None or isql is None:
        raise Skipped("virtuoso-t not found (apt-get install virtuoso-opensource)")
    home = data.directory / "virtuoso"
    shutil.rmtree(home, ignore_errors=True)
    folders = {name: home / name for name in ("db", "data", "vsp")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    # Virtuoso 7.2 stores geo:wktLiteral as geometry and rejects a WKT with a CRS IRI in front;
    # CRS84 is GeoSPARQL's default CRS, so dropping that IRI leaves the same point.
    rewritten = 0
    with data.nquads.open("rb") as source, (folders["data"] / "all.nq").open("wb") as copy:
        for line in source:
            if b"wktLiteral" in line and CRS84.encode() in line:
                line = line.replace(CRS84.encode(), b'"')
                rewritten += 1
            copy.write(line)
    http_port, isql_port = free_port(), free_port()
    ini = home / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(
            db=folders["db"], data=folders["data"], vsp=folders["vsp"], isql_port=isql_port,
            http_port=http_port, timeout=int(args.timeout),
        )
    )  # fmt: skip
    log = data.directory / "logs" / "virtuoso.log"
    command = [server_binary, "+foreground", "+configfile", str(ini)]
    process = launch(command, log, cwd=folders["db"])
    server = Server("virtuoso", f"http://127.0.0.1:{http_port}/sparql", process, log)
    wait_ready(server, 180)
    started = time.perf_counter()
    script = (
        f"ld_dir('{folders['data']}', 'all.nq', '{BASE}graph/unnamed'); rdf_loader_run(); "
        "checkpoint; SELECT ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;"
    )
    loaded = subprocess.run(
        [isql, str(isql_port), "dba", "dba", f"exec={script}"], capture_output=True, text=True
    )
    server.load_s, server.load_what = time.perf_counter() - started, "ld_dir + rdf_loader_run"
    if loaded.returncode != 0 or "Error" in loaded.stdout + loaded.stderr:
        stop(process)
        raise Skipped(f"virtuoso load failed: {(loaded.stdout + loaded.stderr)[-300:]}")
    if rewritten:
        server.note = f"{rewritten} WKT literal(s) loaded without their CRS84 IRI"
    return server


STARTERS = {
    OURS: start_ours,
    OURS_MEMORY: lambda data, args: start_ours(data, args, memory=True),
    "oxigraph-disk": start_oxigraph_disk,
    "oxigraph-memory": start_oxigraph_memory,
    "rdflib-endpoint": start_rdflib,
    "virtuoso": start_virtuoso,
}


class PeakMemory:
    """The largest resident set of a server's whole process tree, sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self.peak_mb = self.mode_peak_mb = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now_mb(self) -> float:
        import psutil

        total = 0
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total / 1024 / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.now_mb()
            with self._lock:
                self.peak_mb = max(self.peak_mb, now)
                self.mode_peak_mb = max(self.mode_peak_mb, now)
            self._stop.wait(0.1)

    def mode_done(self) -> float:
        """The peak since the last call (one mode's), and start over for the next mode."""
        now = self.now_mb()
        with self._lock:
            peak, self.mode_peak_mb = max(self.mode_peak_mb, now), 0.0
        return peak

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.now_mb())


# ---- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One (system, query, mode, clients): timed latencies and what else happened."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    answer: str | None = None
    cache_hits: int = 0
    wall_s: float | None = None  # concurrent runs: first request sent to last answer read
    skipped: str | None = None
    requested: int = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def median(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    @property
    def p95(self) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def throughput(self) -> float | None:
        if not self.wall_s or not self.latencies_ms:
            return None
        return len(self.latencies_ms) / self.wall_s

    def figures(self) -> dict[str, Any]:
        return asdict(self) | {"median_ms": self.median, "p95_ms": self.p95, "qps": self.throughput}


def text_for(query_text: str, mode: str, tag: str) -> str:
    """Cold: a unique comment first (no cache can have seen it); repeated: a fixed one."""
    if mode == "cold":
        return f"# bench {tag} {next(_unique)}\n{query_text}"
    return f"# bench repeated\n{query_text}"


def one_client(server: Server, query: Query, text: str, mode: str, args: argparse.Namespace) -> Run:
    """Warm-up requests, then up to `--repeat` timed ones, within `--budget` seconds."""
    run = Run(requested=args.repeat)
    client = Client(server.endpoint, args.timeout)
    started = time.perf_counter()
    warmups = args.warmup if mode == "cold" else 1
    try:
        for number in range(warmups + args.repeat):
            timed = number >= warmups
            elapsed = time.perf_counter() - started
            if timed and run.latencies_ms and elapsed > args.budget:
                break
            if not timed and number and elapsed > args.budget / 2:
                continue  # a slow query: no more warm-up, on to the timed requests
            answer = client.query(text_for(text, mode, server.system), ACCEPT[query.kind])
            if answer.error is not None:
                run.error(answer.error)
                if answer.error == "timeout":
                    recover(server)
                    break
                continue
            if run.answer is None:
                run.answer = signature(query.kind, answer.body)
            if timed:
                run.latencies_ms.append(answer.ms)
                run.cache_hits += answer.cache == "hit"
    finally:
        client.close()
    run.wall_s = sum(run.latencies_ms) / 1000 or None  # one client: requests back to back
    return run


def many_clients(
    server: Server, query: Query, text: str, clients: int, args: argparse.Namespace
) -> Run:
    """`clients` threads, each sending its requests one after another, all starting together."""
    per_client = max(2, args.repeat // 2)
    run = Run(requested=clients * per_client)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    timed_out = threading.Event()
    ends: list[float] = []

    def work() -> None:
        client = Client(server.endpoint, args.timeout)
        client.query("ASK { ?s ?p ?o }", ACCEPT["ask"])  # connect before the clock starts
        barrier.wait()
        start = time.perf_counter()
        try:
            for number in range(per_client):
                if timed_out.is_set() or (number and time.perf_counter() - start > args.budget):
                    break
                answer = client.query(text_for(text, "cold", server.system), ACCEPT[query.kind])
                with lock:
                    if answer.error is not None:
                        run.error(answer.error)
                        if answer.error == "timeout":
                            timed_out.set()
                        continue
                    run.latencies_ms.append(answer.ms)
                    run.cache_hits += answer.cache == "hit"
                    if run.answer is None:
                        run.answer = signature(query.kind, answer.body)
        finally:
            client.close()
            with lock:
                ends.append(time.perf_counter())

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    run.wall_s = max(ends) - started
    if timed_out.is_set():
        recover(server)
    return run


def prime(server: Server, clients: int, args: argparse.Namespace) -> None:
    """Concurrent trivial queries before anything is timed, so that a server starting its
    workers on demand (ours spawns its query processes on first use) has them all running."""

    def work() -> None:
        client = Client(server.endpoint, args.timeout)
        for _ in range(3):
            client.query(text_for("ASK { ?s ?p ?o }", "cold", "prime"), ACCEPT["ask"])
        client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def recover(server: Server) -> None:
    """After a client timeout: wait until the server answers again (rdflib-endpoint keeps
    evaluating a query whose client left, and answers nothing else meanwhile)."""
    with contextlib.suppress(Skipped):
        wait_ready(server, 900)


def named_queries(server: Server, args: argparse.Namespace, repeated: bool) -> dict[str, Run]:
    """Each named query through `/api/queries/{name}` with the issue's example parameters."""
    from endpoint.named_queries import load_queries

    runs: dict[str, Run] = {}
    client = Client(server.base(), args.timeout)
    try:
        for named in load_queries(NAMED):
            missing = [p.name for p in named.parameters if p.name not in NAMED_EXAMPLES]
            if missing:
                runs[named.name] = Run(skipped=f"no example value for {', '.join(missing)}")
                continue
            path = f"/api/queries/{named.name}"
            if named.parameters:
                path += "?" + urlencode({p.name: NAMED_EXAMPLES[p.name] for p in named.parameters})
            run = Run(requested=args.repeat)
            for number in range((1 if repeated else args.warmup) + args.repeat):
                answer = client.get(path, ACCEPT["select"])
                if answer.error is not None:
                    run.error(answer.error)
                    continue
                if run.answer is None:
                    run.answer = signature("select", answer.body)
                if number >= (1 if repeated else args.warmup):
                    run.latencies_ms.append(answer.ms)
                    run.cache_hits += answer.cache == "hit"
            runs[named.name] = run
    finally:
        client.close()
    return runs


# ---- data sets ----------------------------------------------------------------------------------


@dataclass
class DataSet:
    name: str
    directory: Path
    store: Path
    nquads: Path
    facts: dict[str, Any] = field(default_factory=dict)
    ingest_s: float = 0.0
    results: dict[str, Any] = field(default_factory=dict)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ingest(name: str, directory: Path, paths: list[Path], args: argparse.Namespace) -> DataSet:
    """`creative-graph ingest` into a new store; the dump of its snapshot is the peers' data."""
    store = directory / "store"
    shutil.rmtree(store, ignore_errors=True)
    log(f"[{name}] creative-graph ingest of {len(paths)} source(s) ...")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CLI, "ingest", *map(str, paths)],
        env=our_env(store, args.timeout),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ingest of {name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    from creative_graph.dumps import latest
    from creative_graph.store import StoreReader

    written = latest(store, StoreReader(store).latest())
    if written is None:
        raise SystemExit(f"ingest of {name} wrote no dumps")
    nquads = directory / "all.nq"
    with gzip.open(written.folder / "all.nq.gz", "rb") as source, nquads.open("wb") as target:
        shutil.copyfileobj(source, target)
    data = DataSet(name, directory, store, nquads, ingest_s=seconds)
    log(f"[{name}] describing the data and computing reference answers (pyoxigraph) ...")
    described = subprocess.run(
        [sys.executable, __file__, "--child", "describe",
         json.dumps({"nquads": str(nquads), "mix": str(MIX), "named": str(NAMED)})],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if described.returncode != 0:
        raise SystemExit(f"describing {name} failed:\n{described.stderr[-2000:]}")
    data.facts = json.loads(described.stdout.strip().splitlines()[-1])
    return data


def demo_data(workdir: Path, args: argparse.Namespace) -> DataSet:
    sources = sorted(p.parent for p in (ROOT / "data" / "sources").glob("*/source.toml"))
    return ingest("demo", workdir / "demo", sources, args)


def generated_data(workdir: Path, args: argparse.Namespace) -> DataSet:
    import steward_generator

    name = f"generated {args.actors:,}"
    directory = workdir / f"generated-{args.actors}"
    source = directory / "sources" / "bench-steward"
    log(f"[{name}] generating {args.actors:,} actors (seed {args.seed}) ...")
    steward_generator.write_source(source, args.actors, args.seed, "bench-steward")
    demo = sorted(p.parent for p in (ROOT / "data" / "sources").glob("*/source.toml"))
    return ingest(name, directory, [*demo, source], args)


# ---- one data set, every system -----------------------------------------------------------------


def counted_graphs(server: Server, args: argparse.Namespace) -> dict[str, int]:
    """Triples per named graph, as the server itself counts them."""
    if server.graphs is not None:
        return server.graphs
    client = Client(server.endpoint, max(args.timeout, 120))
    answer = client.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", ACCEPT["select"]
    )
    client.close()
    if answer.error is not None:
        return {}
    rows = json.loads(answer.body)["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


def bench_system(system: str, data: DataSet, args: argparse.Namespace) -> dict[str, Any]:
    """Start one system on one data set, check its data, run every mode, stop it."""
    outcome: dict[str, Any] = {"system": system}
    started = time.perf_counter()
    log(f"[{data.name}] {system}: starting and loading ...")
    try:
        server = STARTERS[system](data, args)
    except Skipped as skipped:
        log(f"[{data.name}] {system}: skipped: {skipped}")
        return outcome | {"skipped": str(skipped)}
    try:
        outcome |= {"load_s": server.load_s, "load_what": server.load_what, "note": server.note}
        graphs = counted_graphs(server, args)
        expected = data.facts["graphs"]
        outcome["graphs"] = {g: graphs.get(g) for g in expected}
        outcome["extra_graphs"] = sorted(set(graphs) - set(expected))
        outcome["triples"] = sum(graphs.get(g, 0) for g in expected)
        outcome["counts_agree"] = all(graphs.get(g) == n for g, n in expected.items())
        values = substitutions(data.facts["actor"], data.facts["actors"])
        texts = {q.name: render(q.template, values) for q in args.mix}
        prime(server, max(args.clients), args)
        memory = PeakMemory(server.process.pid)
        outcome["loaded_mb"] = memory.now_mb()
        runs: dict[str, dict[str, Run]] = {}
        peaks: dict[str, float] = {}
        with memory:
            for clients in args.clients:
                key = f"cold-{clients}"
                runs[key] = {}
                log(f"[{data.name}] {system}: cold queries, {clients} client(s) ...")
                for query in args.mix:
                    single = runs.get("cold-1", {}).get(query.name)
                    if clients == 1:
                        run = one_client(server, query, texts[query.name], "cold", args)
                    elif single is not None and single.median is None:
                        run = Run(skipped="failed at 1 client")
                    elif single is not None and single.median > args.slow_ms:
                        run = Run(skipped=f"over {args.slow_ms:g} ms at 1 client")
                    else:
                        run = many_clients(server, query, texts[query.name], clients, args)
                    runs[key][query.name] = run
                peaks[key] = memory.mode_done()
            if not args.no_repeated:
                log(f"[{data.name}] {system}: repeated queries, 1 client ...")
                runs["repeated-1"] = {}
                for query in args.mix:
                    cold = runs.get("cold-1", {}).get(query.name)
                    if cold is not None and cold.median is None:  # timed out: not again
                        runs["repeated-1"][query.name] = Run(skipped="no answer cold")
                        continue
                    run = one_client(server, query, texts[query.name], "repeated", args)
                    runs["repeated-1"][query.name] = run
                peaks["repeated-1"] = memory.mode_done()
            if system == OURS and not args.no_named:
                log(f"[{data.name}] {system}: named queries, repeated (result cache on) ...")
                runs["named-repeated"] = named_queries(server, args, repeated=True)
        outcome["peak_mb"] = memory.peak_mb
        outcome["peak_mb_by_mode"] = peaks
        outcome["runs"] = runs
        outcome["seconds"] = time.perf_counter() - started
    finally:
        stop(server.process)
    if system == OURS and not args.no_named:
        log(f"[{data.name}] {system}: named queries, cold (second instance, cache off) ...")
        try:
            cold = start_ours(data, args, cache_bytes=0)
        except Skipped as skipped:
            outcome["named_cold_skipped"] = str(skipped)
        else:
            try:
                outcome["runs"]["named-cold"] = named_queries(cold, args, repeated=False)
            finally:
                stop(cold.process)
    return outcome


# ---- printing -----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def cell(run: Run | None, with_rate: bool = False) -> str:
    """`median/p95` (ms), `~` when fewer timed requests than asked, `!` when some failed."""
    if run is None:
        return "-"
    if run.skipped:
        return "skipped"
    if run.median is None:
        return ", ".join(run.errors) or "no answer"
    text = f"{ms(run.median)}/{ms(run.p95)}"
    if with_rate and run.throughput is not None:
        text += f" {run.throughput:.0f}/s" if run.throughput >= 10 else f" {run.throughput:.1f}/s"
    if len(run.latencies_ms) < run.requested and not run.errors:
        text += "~"
    if run.errors:
        text += "!"
    return text


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def runs_of(outcome: dict[str, Any], key: str) -> dict[str, Run]:
    return outcome.get("runs", {}).get(key, {})


def print_mode(
    data: DataSet, outcomes: list[dict[str, Any]], key: str, title: str, args: argparse.Namespace
) -> None:
    measured = [o for o in outcomes if "runs" in o and key in o["runs"]]
    if not measured:
        return
    concurrent = not key.endswith("-1")
    width = max(22 if concurrent else 16, 2 + max(len(o["system"]) for o in measured))
    print(f"\n{title}")
    header = f"{'query':<26}" + "".join(f"{o['system']:>{width}}" for o in measured)
    print(header)
    print("-" * len(header))
    for query in args.mix:
        cells = "".join(
            f"{cell(runs_of(o, key).get(query.name), concurrent):>{width}}" for o in measured
        )
        print(f"{query.name:<26}{cells}")
    rates = {o["system"]: mix_rate(runs_of(o, key)) for o in measured}
    row("throughput, all queries", [f"{r:.1f}/s" if r else "-" for r, _ in rates.values()], width)
    if REFERENCE in rates and rates[REFERENCE][0]:
        base = rates[REFERENCE][0]
        row(
            f"throughput vs {REFERENCE}",
            [f"{r / base:.2f}x" if r else "-" for r, _ in rates.values()],
            width,
        )
    row(
        "peak MB (this mode)",
        [f"{o.get('peak_mb_by_mode', {}).get(key, 0):.0f}" for o in measured],
        width,
    )
    medians = {
        o["system"]: {q: r.median for q, r in runs_of(o, key).items() if r.median} for o in measured
    }
    row("geomean of medians, ms", [ms(geomean(list(m.values()))) for m in medians.values()], width)
    reference = medians.get(REFERENCE)
    if reference:
        ratios = []
        for m in medians.values():
            shared = [q for q in m if q in reference]
            ratio = geomean([m[q] / reference[q] for q in shared])
            mark = "" if len(shared) == len(args.mix) else f" ({len(shared)}q)"
            ratios.append(f"{ratio:.2f}x{mark}" if ratio else "-")
        row(f"geomean vs {REFERENCE}", ratios, width)
    skipped = [
        f"{o['system']} {name} ({run.skipped})"
        for o in measured
        for name, run in runs_of(o, key).items()
        if run.skipped
    ]
    if skipped:
        print(f"skipped: {'; '.join(skipped)}; throughput over the queries that ran")


def row(label: str, cells: list[str], width: int) -> None:
    print(f"{label:<26}" + "".join(f"{c:>{width}}" for c in cells))


def mix_rate(runs: dict[str, Run]) -> tuple[float | None, int]:
    """Answers per second over every query that ran (all answers / all wall time), and how
    many queries that is."""
    ran = [r for r in runs.values() if r.wall_s]
    wall = sum(r.wall_s or 0 for r in ran)
    return (sum(len(r.latencies_ms) for r in ran) / wall if wall else None), len(ran)


def print_data_set(data: DataSet, outcomes: list[dict[str, Any]], args: argparse.Namespace) -> None:
    facts = data.facts
    print(
        f"\n=== {data.name}: {facts['quads']:,} triples in {len(facts['graphs'])} named graphs, "
        f"{facts['organisations']:,} organisations (ingested in {data.ingest_s:.1f} s) ==="
    )
    name = max(17, 1 + max(len(o["system"]) for o in outcomes))
    for o in outcomes:
        if "skipped" in o:
            print(f"  {o['system']:<{name}} skipped: {o['skipped']}")
            continue
        load = f"{o['load_what']} {o['load_s']:.1f} s" if o.get("load_s") else o["load_what"]
        agree = (
            f"{o['triples']:,} triples, same per graph as the dump"
            if o["counts_agree"]
            else "TRIPLE COUNTS DIFFER: "
            + ", ".join(
                f"{g.rsplit('/', 1)[-1]} {n} (dump {facts['graphs'][g]})"
                for g, n in o["graphs"].items()
                if n != facts["graphs"][g]
            )
        )
        extra = f"; +{len(o['extra_graphs'])} graph(s) of its own" if o["extra_graphs"] else ""
        note = f"; {o['note']}" if o.get("note") else ""
        print(f"  {o['system']:<{name}} {load:<34} {agree}{extra}")
        print(
            f"  {'':<{name}} memory {o['loaded_mb']:.0f} MB when ready, peak {o['peak_mb']:.0f} MB "
            f"during the queries; all its runs took {o['seconds']:.0f} s{note}"
        )
    repeat = args.repeat
    print(
        f"\ncells: median/p95 in ms over the timed requests ({repeat} at 1 client after "
        f"{args.warmup} warm-up; at N clients {max(2, repeat // 2)} per client, with q/s = "
        f"answers / wall time); ~ fewer within the {args.budget:g} s budget, ! some failed"
    )
    for clients in args.clients:
        print_mode(
            data, outcomes, f"cold-{clients}",
            f"[{data.name}] cold queries (unique text each time), {clients} client(s)", args,
        )  # fmt: skip
    print_mode(
        data, outcomes, "repeated-1",
        f"[{data.name}] repeated queries (same text), 1 client: {OURS} answers from its "
        "result cache (X-Cache: hit)", args,
    )  # fmt: skip
    print_named(data, outcomes)
    print_answer_check(data, outcomes)


def print_named(data: DataSet, outcomes: list[dict[str, Any]]) -> None:
    ours = next((o for o in outcomes if o["system"] == OURS and "runs" in o), None)
    if ours is None or "named-cold" not in ours["runs"]:
        return
    cold, repeated = ours["runs"]["named-cold"], ours["runs"].get("named-repeated", {})
    print(f"\n[{data.name}] named queries (/api/queries/{{name}}), {OURS}, 1 client")
    header = (
        f"{'named query':<26}{'answer':>11}{'cold (cache off)':>20}{'repeated (cache)':>20}"
        f"{'cache hits':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, run in cold.items():
        again = repeated.get(name)
        hits = f"{again.cache_hits}/{len(again.latencies_ms)}" if again else "-"
        print(f"{name:<26}{run.answer or '-':>11}{cell(run):>20}{cell(again):>20}{hits:>12}")


def print_answer_check(data: DataSet, outcomes: list[dict[str, Any]]) -> None:
    expected = data.facts["expected"] | {f"named {k}": v for k, v in data.facts["named"].items()}
    problems = []
    for o in outcomes:
        for key, runs in o.get("runs", {}).items():
            for name, run in runs.items():
                label = f"named {name}" if key.startswith("named") else name
                if run.answer is not None and run.answer != expected.get(label):
                    problems.append(
                        f"  {o['system']} {key} {label}: {run.answer}, "
                        f"expected {expected.get(label)}"
                    )
                if key.startswith("cold") and o["system"] in OURSELVES and run.cache_hits:
                    problems.append(f"  {o['system']} {key} {name}: {run.cache_hits} cache hits")
                if run.errors:
                    problems.append(f"  {o['system']} {key} {name}: failed {run.errors}")
    if problems:
        print(f"\n[{data.name}] WARNING: answers that differ from the reference, or failures:")
        print("\n".join(problems))
    else:
        print(
            f"\n[{data.name}] every answer agrees with the reference (pyoxigraph on the dump: "
            "rows, booleans, distinct triples); no cold request was a cache hit"
        )


def target_check(
    data: DataSet, outcomes: list[dict[str, Any]], args: argparse.Namespace
) -> list[str]:
    """Lines saying how far each target is met on this data set."""
    by_system = {o["system"]: o for o in outcomes if "runs" in o}
    ours, reference = by_system.get(OURS), by_system.get(REFERENCE)
    lines = [f"[{data.name}]"]
    memory = memory_check(by_system, args)
    if ours is None or reference is None:
        return [*lines, f"  (a), (b): not checked: {OURS} or {REFERENCE} not measured", *memory]
    met = True
    for clients in args.clients:
        key = f"cold-{clients}"
        pairs = [
            (runs_of(ours, key).get(q.name), runs_of(reference, key).get(q.name), q.name)
            for q in args.mix
        ]
        ratios = [
            (mine.median / theirs.median if mine and theirs and mine.median and theirs.median
             else math.inf, name)
            for mine, theirs, name in pairs
        ]  # fmt: skip
        over = [f"{name} {ratio:.2f}x" for ratio, name in ratios if ratio > TARGET_COLD]
        worst = max(ratios)
        met = met and not over
        lines.append(
            f"  (a) cold median, {clients} client(s), {OURS}/{REFERENCE}: worst {worst[0]:.2f}x "
            f"({worst[1]}); over {TARGET_COLD}x: {', '.join(over) or 'none'}"
        )
        if clients == 1:
            continue
        rates = [
            (mine.throughput / theirs.throughput if mine and theirs and mine.throughput and
             theirs.throughput else 0.0, name)
            for mine, theirs, name in pairs
        ]  # fmt: skip
        mine_all, theirs_all = mix_rate(runs_of(ours, key))[0], mix_rate(runs_of(reference, key))[0]
        overall = mine_all / theirs_all if mine_all and theirs_all else 0.0
        under = [f"{name} {rate:.2f}x" for rate, name in rates if rate < TARGET_THROUGHPUT]
        lowest = min(rates)
        met = met and not under and overall >= TARGET_THROUGHPUT
        lines.append(
            f"  (a) throughput, {clients} clients, {OURS}/{REFERENCE}: all queries {overall:.2f}x, "
            f"lowest {lowest[0]:.2f}x "
            f"({lowest[1]}); under {TARGET_THROUGHPUT}x: {', '.join(under) or 'none'}"
        )
    lines.append(f"  target (a): {'MET' if met else 'NOT MET'}")
    lines += memory
    if "repeated-1" in ours["runs"]:
        slower = []
        for query in args.mix:
            mine = runs_of(ours, "repeated-1").get(query.name)
            best = min(
                (
                    (run.median, o["system"])
                    for o in by_system.values()
                    if o["system"] not in OURSELVES
                    and (run := runs_of(o, "repeated-1").get(query.name)) is not None
                    and run.median is not None
                ),
                default=None,
            )
            if mine is None or mine.median is None or (best and mine.median >= best[0]):
                peer = f"{best[1]} {ms(best[0])} ms" if best else "no peer"
                slower.append(f"{query.name} ({ms(mine.median if mine else None)} ms vs {peer})")
        hits = sum(r.cache_hits for r in runs_of(ours, "repeated-1").values())
        timed = sum(len(r.latencies_ms) for r in runs_of(ours, "repeated-1").values())
        lines.append(
            f"  target (b): repeated, {OURS} answered {hits} of {timed} from its cache; not "
            f"faster than every peer: {', '.join(slower) or 'none'}: "
            + ("MET" if not slower and hits == timed else "NOT MET")
        )
    if data.name == "demo" and "named-cold" in ours["runs"]:
        named = ours["runs"]["named-cold"]
        over = [
            f"{name} {ms(run.median)} ms"
            for name, run in named.items()
            if run.median is None or run.median >= TARGET_NAMED_MS
        ]
        slowest = max(((run.median or math.inf, name) for name, run in named.items()))
        lines.append(
            f"  target (c): named queries cold (cache off), slowest median {ms(slowest[0])} ms "
            f"({slowest[1]}); at or over {TARGET_NAMED_MS:g} ms: {', '.join(over) or 'none'}: "
            + ("MET" if not over else "NOT MET")
        )
    return lines


def memory_check(by_system: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """Target (a) serving from memory: geometric mean of cold medians against Virtuoso's, at
    each number of clients (met only if met at every one, over every query)."""
    mine, virtuoso = by_system.get(OURS_MEMORY), by_system.get(VIRTUOSO)
    if mine is None or virtuoso is None:
        return [f"  (a) from memory: not checked: {OURS_MEMORY} or {VIRTUOSO} not measured"]
    lines, met = [], True
    for clients in args.clients:
        key = f"cold-{clients}"
        ours_runs, theirs = runs_of(mine, key), runs_of(virtuoso, key)
        shared = [
            q.name
            for q in args.mix
            if (a := ours_runs.get(q.name)) and a.median and (b := theirs.get(q.name)) and b.median
        ]
        ratio = geomean([ours_runs[q].median / theirs[q].median for q in shared])
        met = met and ratio is not None and ratio <= TARGET_MEMORY and len(shared) == len(args.mix)
        lines.append(
            f"  (a) from memory, cold, {clients} client(s): geomean {OURS_MEMORY}/{VIRTUOSO} "
            + (f"{ratio:.2f}x" if ratio else "-")
            + f" over {len(shared)} of {len(args.mix)} queries"
        )
    lines.append(
        f"  target (a), serving from memory (within {TARGET_MEMORY}x of {VIRTUOSO}): "
        + ("MET" if met else "NOT MET")
    )
    return lines


# ---- main ---------------------------------------------------------------------------------------


def versions() -> str:
    found = []
    for package in ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "uvicorn", "fastapi"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{package} {metadata.version(package)}")
    binary = tool("virtuoso-t")
    if binary:
        printed = subprocess.run([binary, "-?"], capture_output=True, text=True)
        version = re.search(r"Version (\S+)", printed.stdout + printed.stderr)
        found.append(f"virtuoso {version.group(1) if version else '?'}")
    return ", ".join(found)


def as_json(value: Any) -> Any:
    if isinstance(value, Run):
        return value.figures()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Time our SPARQL endpoint against oxigraph serve, rdflib-endpoint and "
        "Virtuoso on the same data, with a realistic query mix.",
        epilog=TARGETS,
    )
    parser.add_argument(
        "--actors", type=int, default=10_000,
        help="generated actors added to the demo sources for the second data set (default "
        "10000, about 400k triples; 0: no generated data set)",
    )  # fmt: skip
    parser.add_argument("--skip-demo", action="store_true", help="no demo data set")
    parser.add_argument(
        "--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS), metavar="SYSTEM",
        help=f"which systems run (default all: {' '.join(SYSTEMS)})",
    )  # fmt: skip
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[1, 8],
        help="concurrent clients for the cold queries (default 1 8)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=10,
        help="timed requests per query at 1 client (default 10); at N clients each client "
        "sends max(2, repeat/2)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed requests first, at 1 client (default 2)"
    )
    parser.add_argument(
        "--budget", type=float, default=10.0,
        help="seconds one query may take in one mode before its timed requests stop early "
        "(at least one is timed; default 10)",
    )  # fmt: skip
    parser.add_argument(
        "--slow-ms", type=float, default=1000.0,
        help="a query whose median at 1 client is over this is not run at more clients on "
        "that system (default 1000)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=30.0,
        help="seconds per request; the server's own query time-out where it has one (default 30)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--no-repeated", action="store_true", help="skip the repeated mode")
    parser.add_argument("--no-named", action="store_true", help="skip our named queries")
    parser.add_argument("--workdir", type=Path, help="keep stores, data and server logs here")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        CHILDREN[args.child](json.loads(rest[0]))
        return
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        import psutil  # noqa: F401
    except ImportError:
        raise SystemExit("psutil is missing: pip install -e '.[bench]'") from None
    args.mix = load_mix()
    args.clients = sorted(set(args.clients))
    args.systems = [s for s in SYSTEMS if s in args.systems]  # slowest last
    print(
        f"creative-graph SPARQL endpoint benchmark: {len(args.mix)} queries "
        f"(bench/endpoint_queries), systems: {', '.join(args.systems)}\n"
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {versions()}\n"
        f"{TARGETS}\nload average at the start (1, 5, 15 min): {load_average()}",
        flush=True,
    )
    print(f"code measured: {ROOT} at {revision()}", flush=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="creative-graph-endpoint-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {"revision": revision(), "versions": versions(), "data_sets": []}
    checks: list[str] = []
    try:
        builders = ([] if args.skip_demo else [demo_data]) + (
            [generated_data] if args.actors else []
        )
        for build in builders:
            data = build(workdir, args)
            outcomes = [bench_system(system, data, args) for system in args.systems]
            print_data_set(data, outcomes, args)
            checks += target_check(data, outcomes, args)
            report["data_sets"].append(
                {"name": data.name, "facts": data.facts, "ingest_s": data.ingest_s,
                 "systems": as_json(outcomes)}
            )  # fmt: skip
            sys.stdout.flush()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{TARGETS}")
    print("\n".join(checks))
    print(
        f"\nwhole run {time.perf_counter() - started:.0f} s; load average at the end "
        f"(1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
