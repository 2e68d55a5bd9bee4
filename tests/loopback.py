"""A real HTTP listener on a free loopback port, to see whether a server calls a host at all."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

EMPTY_SOLUTION = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'


@dataclass
class Listener:
    """`base` is the listener's URL ending in `/`; `paths` the path of every request it got."""

    base: str
    paths: list[str] = field(default_factory=list)


@contextmanager
def listening() -> Iterator[Listener]:
    """A listener answering every GET or POST with one empty SPARQL solution (what a SPARQL
    endpoint called by SERVICE would send)."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(EMPTY_SOLUTION)))
            self.end_headers()
            self.wfile.write(EMPTY_SOLUTION)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{server.server_address[1]}/", paths)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
