"""Minting instance IRIs `{BASE_IRI}id/{type}/{key}` and named-graph IRIs.

Keys are opaque and stable: a source record always yields the same key (a hash of the
source name and the record's own identifier), so re-ingesting a source yields the same IRIs.
Run keys are time-ordered (ULID layout) because runs are events, not records.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time

# Crockford's base32 without I, L, O, U: no ambiguous characters in IRIs people copy by hand.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
KEY_LENGTH = 13  # 65 bits: collisions need ~6 billion records before they become likely
# What follows BASE_IRI in a thing's IRI, as sources may also write it by hand (a relative IRI
# `id/ecosystem/brussels-creative`): `/id/{type}/{key}` is the path the server dereferences. A
# type is lower-case words joined by '-'; a key letters, digits, '-', '_' (a dot would read as a
# format suffix on `/doc/`).
THING_PATH = re.compile(r"id/[a-z0-9]+(?:-[a-z0-9]+)*/[A-Za-z0-9_-]+")


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


# RFC 4648 base32 digits -> Crockford's, digit for digit (both are 5 bits, most significant first)
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def record_key(source: str, record_id: str) -> str:
    """Stable opaque key of one record of one source: the first 65 bits of a SHA-256.

    Same value as `_base32(first 65 bits, 13)`, computed by the C base32 encoder because an
    ingest mints a key for every node of every record (about 7 per actor).
    """
    digest = hashlib.sha256(f"{source}\x1f{record_id}".encode()).digest()
    return base64.b32encode(digest[:10]).translate(_FROM_RFC4648)[:KEY_LENGTH].decode("ascii")


def run_key(now_ms: int | None = None) -> str:
    """A ULID-shaped key: 48 bits of milliseconds then 80 random bits, sortable by time."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return _base32((millis << 80) | int.from_bytes(os.urandom(10), "big"), 26)


class Iris:
    """IRI factory for one base IRI (the `BASE_IRI` setting)."""

    def __init__(self, base_iri: str) -> None:
        self.base = base_iri if base_iri.endswith("/") else base_iri + "/"

    def thing(self, kind: str, key: str) -> str:
        """IRI of a real-world thing (actor, site, ...): dereferences with a 303 to its document."""
        return f"{self.base}id/{kind}/{key}"

    def is_thing(self, iri: str) -> bool:
        """True for `{base}id/{type}/{key}` (`THING_PATH`): an IRI this instance has pages for."""
        return iri.startswith(self.base) and bool(THING_PATH.fullmatch(iri[len(self.base) :]))

    def graph(self, name: str) -> str:
        """Named graph of one source, or of the ontology (`ontology`) and ingest runs (`runs`)."""
        return f"{self.base}graph/{name}"

    @property
    def ontology_graph(self) -> str:
        return self.graph("ontology")

    @property
    def runs_graph(self) -> str:
        return self.graph("runs")
