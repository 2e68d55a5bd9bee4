"""Who may write: the holder of the operator's bearer token (RFC 6750), and nobody when unset.

Reads never need it. The token is compared in constant time; a missing or wrong token gets
401 with a `WWW-Authenticate` challenge, a server without a token answers every write 403.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from creative_graph.settings import Settings

REALM = 'Bearer realm="creative-graph writes"'


def refusal(request: Request, settings: Settings) -> Response | None:
    """None when the request may write; otherwise the response that refuses it."""
    token = settings.write_token.get_secret_value()
    if not token:
        return PlainTextResponse(
            "Writes are off on this server: the operator has not set "
            "CREATIVE_GRAPH_WRITE_TOKEN. Reads (queries, GET) are open to all.\n",
            status_code=403,
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return PlainTextResponse(
            "Writes need the operator's token: send 'Authorization: Bearer <token>'.\n",
            status_code=401,
            headers={"WWW-Authenticate": REALM},
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return PlainTextResponse(
            "The bearer token is not the one that allows writes here.\n",
            status_code=401,
            headers={"WWW-Authenticate": REALM + ', error="invalid_token"'},
        )
    return None
