"""The hot path: SPARQL query requests to /sparql answered before the framework's routing.

FastAPI's middleware, routing, dependency solving and request objects cost more than a
cached answer itself (`bench/README.md` has the profile). This ASGI layer, in front of the
whole application, reads a request to /sparql, and when it is a query it answers with
`QueryAnswers`, the same code the route runs. Anything else goes on to the application: an
update, the query page, the service description, another path or method, and every request
from a web page (with `Origin`), so CORS stays the middleware's; a body already read is handed
on as it came. What the CORS middleware adds to a response without `Origin` (`Vary: Origin`)
is added here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from endpoint.sparql import (
    ProtocolError,
    QueryAnswers,
    Reply,
    check_charset,
    parameters,
    single_parameter,
    text_reply,
)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = frozenset(("GET", "HEAD", "POST"))


class Disconnected(Exception):
    """The client went away before its request body was read."""


class SparqlFastPath:
    """ASGI layer answering query requests to `path` (GET, HEAD, POST) itself.

    `vary_origin`: the application's CORS middleware is on, and says `Vary: Origin`.
    """

    def __init__(
        self,
        app: ASGIApp,
        answers: QueryAnswers,
        max_body_bytes: int,
        vary_origin: bool,
        path: str = "/sparql",
    ) -> None:
        self.app = app
        self.answers = answers
        self.max_body_bytes = max_body_bytes
        self.vary_origin = vary_origin
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:  # the first of repeated headers, as Starlette
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        if "origin" in headers:
            await self.app(scope, receive, send)
            return
        content_type = headers.get("content-type", "")
        body = b""
        try:
            if method == "POST":
                check_charset(content_type)
                body = await self._body(receive, headers)
            params = parameters(method, scope["query_string"].decode("latin-1"), content_type, body)
            query = single_parameter(params, "query")
            update = single_parameter(params, "update")
        except ProtocolError as error:
            await self._send(send, text_reply(error.status, error.message + "\n"))
            return
        except Disconnected:
            return
        if query is None or update is not None:
            await self.app(scope, _replay(body, receive) if method == "POST" else receive, send)
            return
        await self._send(send, await self.answers.answer(method, query, params, headers))

    async def _send(self, send: Send, reply: Reply) -> None:
        """Send `reply` as Starlette's Response, then the CORS middleware, would."""
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1"))
               for name, value in reply.headers.items() if name.lower() != "vary"]  # fmt: skip
        vary = [value for name, value in reply.headers.items() if name.lower() == "vary"]
        if self.vary_origin:
            vary.append("Origin")
        if vary:
            raw.append((b"vary", ", ".join(vary).encode("latin-1")))
        if reply.status != 304:
            raw.append((b"content-length", str(len(reply.body)).encode("latin-1")))
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        await send({"type": "http.response.body", "body": reply.body})

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        """The request body, refused with 413 past the limit (before reading it when declared),
        like `endpoint.sparql.read_body`."""
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ProtocolError(413, f"request body over the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ProtocolError(413, f"request body over the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the application: the body already read, then whatever comes next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
