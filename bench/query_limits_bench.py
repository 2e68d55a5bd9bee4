"""Heavy queries beside light ones, on a real server (issue 5, item 5): the audit's scenarios.

    .venv/bin/python bench/query_limits_bench.py --store var/store

Starts the application under uvicorn on a free loopback port, on a published store (the demo's,
from `make demo`, is what the figures in README.md were measured on), with `--workers` query
workers and a time limit of `--timeout` seconds, then:

1. sends 2, then 6, heavy queries at once and an `ASK {}` 0.3 s later: how long it waits;
2. has 4 clients repeat a heavy query for `--seconds` (pausing 1 s after a 503) while another
   sends a light query every 0.25 s: how many are answered, median and slowest;
3. sends the audit's memory-hungry query: its status, time and the workers' peak memory.

Figures, not tests: the guarantees are tested in tests/test_query_limits_e2e.py.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from creative_graph.settings import Settings
from endpoint.app import create_app
from endpoint.workers import resident_bytes

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HUNGRY = "SELECT ?a ?d WHERE {?a ?b ?c . ?d ?e ?f} ORDER BY ?a ?d LIMIT 1"
JSON = {"Accept": "application/sparql-results+json"}


def serve(settings: Settings) -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def query(url: str, text: str) -> tuple[int, float, str]:
    started = time.monotonic()
    response = httpx.post(url + "/sparql", data={"query": text}, headers=JSON, timeout=120)
    return response.status_code, time.monotonic() - started, response.text[:80].strip()


def burst(url: str, heavy: int) -> None:
    with ThreadPoolExecutor(heavy) as clients:
        sent = [clients.submit(query, url, f"{HEAVY} # burst of {heavy}") for _ in range(heavy)]
        time.sleep(0.3)
        status, took, _ = query(url, f"ASK {{}} # after {heavy}")
        outcomes = sorted((s, round(t, 1)) for s, t, _ in (f.result() for f in sent))
    print(f"{heavy} heavy queries, ASK {{}} 0.3 s later: {status} in {took:.2f} s")
    print(f"  the heavy ones (status, seconds): {outcomes}")


def hammer(url: str, seconds: float) -> None:
    stop = time.monotonic() + seconds

    def repeat(client: int) -> int:
        sent = 0
        while time.monotonic() < stop:
            status, _, _ = query(url, f"{HEAVY} # client {client % 2}")
            sent += 1
            if status == 503:
                time.sleep(1.0)
        return sent

    light: list[tuple[int, float, str]] = []
    with ThreadPoolExecutor(4) as clients:
        heavy = [clients.submit(repeat, client) for client in range(4)]
        time.sleep(0.2)
        while time.monotonic() < stop:
            light.append(query(url, f"ASK {{ ?s ?p ?o }} # light {len(light)}"))
            time.sleep(0.25)
        sent = [future.result() for future in heavy]
    times = sorted(t for _, t, _ in light)
    answered = sum(status == 200 for status, _, _ in light)
    print(f"4 clients repeating heavy queries for {seconds:g} s (sent {sum(sent)}):")
    print(
        f"  light queries answered {answered} of {len(light)}; median "
        f"{statistics.median(times) * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms"
    )


def hungry(url: str) -> None:
    pids = [w["pid"] for w in httpx.get(url + "/healthz").json()["query_workers"]["workers"]]
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max([peak[0], *(resident_bytes(pid) or 0 for pid in pids)])
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    status, took, text = query(url, HUNGRY)
    done.set()
    print(
        f"memory-hungry query: {status} in {took:.2f} s ({text}); worker peak {peak[0] >> 20} MiB"
    )
    status, took, _ = query(url, "ASK {} # after the hungry one")
    print(f"  the next query: {status} in {took * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("var/store"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    settings = Settings(store=args.store, query_workers=args.workers, query_timeout=args.timeout)
    url, server = serve(settings)
    with ThreadPoolExecutor(args.workers) as clients:  # every worker started
        list(clients.map(lambda i: query(url, f"ASK {{}} # start {i}"), range(args.workers)))
    for heavy in (2, 6):
        burst(url, heavy)
        time.sleep(0.5)
    hammer(url, args.seconds)
    time.sleep(args.timeout + 0.5)  # the long-running ones stopped
    hungry(url)
    server.should_exit = True


if __name__ == "__main__":
    main()
