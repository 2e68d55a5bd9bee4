"""The change stream of actors (LDES 1.0 on TREE): immutable versions appended after each publish.

The log lives beside the store, in `{STORE}/ldes.sqlite3`: the members in the order they were
appended, and the digest of each live actor's latest version. `ChangeLog.sync` compares every
actor of the published snapshot with its latest version and appends one member per actor
created, changed or gone. It records the snapshot it followed: a second sync of the same
snapshot appends nothing, and a sync missed (a crash after publishing) is made up by the next.
Members are never changed or removed, so a page that is full is immutable.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from creative_graph.descriptions import actors_query, describe_many
from creative_graph.store import StoreReader

Kind = Literal["Create", "Update", "Delete"]
PAGE_SIZE = 250  # members per page; fixed, since full pages are promised never to change
BATCH = 1000  # actors described per query: bounded memory whatever the graph's size

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    seq INTEGER PRIMARY KEY,  -- the order of the stream, from 1
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('Create', 'Update', 'Delete')),
    time TEXT NOT NULL,       -- xsd:dateTime in UTC, never earlier than the member before
    payload BLOB NOT NULL     -- the actor's description: sorted N-Triples lines, zlib
);
CREATE TABLE IF NOT EXISTS latest (actor TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Member:
    seq: int
    actor: str
    kind: Kind
    time: str
    lines: tuple[str, ...]  # the actor's description as N-Triples lines (none for a Delete)


@dataclass(frozen=True)
class SyncResult:
    snapshot: str | None
    created: int
    updated: int
    deleted: int

    @property
    def appended(self) -> int:
        return self.created + self.updated + self.deleted


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _descriptions(reader: StoreReader, base: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every actor of the published snapshot with its description, sorted N-Triples lines."""
    snapshot = reader.snapshot.name
    actors = sorted(row["actor"] for row in reader.select(actors_query()))
    for start in range(0, len(actors), BATCH):
        described, read = describe_many(reader, actors[start : start + BATCH], base)
        if read.name != snapshot:  # published meanwhile: the actors come from two states
            raise _Moved
        yield from described.items()


def _lines(payload: bytes) -> tuple[str, ...]:
    return tuple(line for line in zlib.decompress(payload).decode("utf-8").split("\n") if line)


def _digest(lines: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class ChangeLog:
    """The append-only log of actor versions, and the pages it is served in."""

    def __init__(self, store_dir: Path) -> None:
        self.path = store_dir / "ldes.sqlite3"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the appender
        connection.executescript(_SCHEMA)
        return connection

    def sync(self, reader: StoreReader, base: str) -> SyncResult:
        """Append a version of every actor the published snapshot changed since the last sync.

        One appender at a time (SQLite's write lock); what it appends and the snapshot it
        followed are committed together, so a killed sync leaves the log as it was.
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = self._sync(db, reader, base)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    def _sync(self, db: sqlite3.Connection, reader: StoreReader, base: str) -> SyncResult:
        snapshot = reader.snapshot.name
        followed = db.execute("SELECT value FROM state WHERE key = 'snapshot'").fetchone()
        if snapshot is None or (followed and followed[0] == snapshot):
            return SyncResult(snapshot, 0, 0, 0)
        latest = dict(db.execute("SELECT actor, digest FROM latest"))
        last = db.execute("SELECT MAX(time) FROM members").fetchone()[0]
        time = max(_now(), last or "")  # the stream's timestamps never go back
        counts = {"Create": 0, "Update": 0, "Delete": 0}

        def append(actor: str, kind: Kind, lines: tuple[str, ...]) -> None:
            payload = zlib.compress("\n".join(lines).encode("utf-8"))
            db.execute(
                "INSERT INTO members (actor, kind, time, payload) VALUES (?, ?, ?, ?)",
                (actor, kind, time, payload),
            )
            counts[kind] += 1

        for actor, lines in _descriptions(reader, base):
            digest = _digest(lines)
            before = latest.pop(actor, None)
            if before == digest:
                continue
            append(actor, "Create" if before is None else "Update", lines)
            db.execute("INSERT OR REPLACE INTO latest VALUES (?, ?)", (actor, digest))
        for actor in sorted(latest):  # actors no longer in the graph (removed or merged)
            append(actor, "Delete", ())
            db.execute("DELETE FROM latest WHERE actor = ?", (actor,))
        if reader.snapshot.name != snapshot:  # published meanwhile: described from two states
            raise _Moved
        db.execute("INSERT OR REPLACE INTO state VALUES ('snapshot', ?)", (snapshot,))
        return SyncResult(snapshot, counts["Create"], counts["Update"], counts["Delete"])

    def sync_latest(self, reader: StoreReader, base: str, attempts: int = 5) -> SyncResult:
        """`sync`, again if a snapshot was published while it read (it then starts over)."""
        for _ in range(attempts - 1):
            try:
                return self.sync(reader, base)
            except _Moved:
                continue
        return self.sync(reader, base)

    # ---- reading -----------------------------------------------------------------------

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM members").fetchone()[0])

    def members(self, first: int, last: int) -> list[Member]:
        """Members `first` to `last` (sequence numbers, inclusive), in order."""
        return self.page(first, last)[0]

    def page(self, first: int, last: int) -> tuple[list[Member], str | None]:
        """Members `first` to `last`, and the time of the member after them (None: none yet).

        Read in one transaction, so that a page is never said to be followed by another
        while it misses members appended at the same moment.
        """
        if not self.path.exists():
            return [], None
        with closing(self._connect()) as db:
            db.execute("BEGIN")
            rows = db.execute(
                "SELECT seq, actor, kind, time, payload FROM members "
                "WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (first, last),
            ).fetchall()
            after = db.execute("SELECT time FROM members WHERE seq = ?", (last + 1,)).fetchone()
            db.execute("COMMIT")
        members = [
            Member(seq, actor, kind, time, _lines(payload))
            for seq, actor, kind, time, payload in rows
        ]
        return members, after[0] if after else None


class _Moved(Exception):
    """A snapshot was published while the log was being synced."""
