"""The change stream of actors (LDES 1.0 on TREE): immutable versions appended after each publish.

The log lives beside the store, in `{STORE}/ldes.sqlite3`: the members in the order they were
appended, and the digest of each live actor's latest version. `ChangeLog.sync` compares actors
of the published snapshot with their latest versions and appends one member per actor created,
changed or gone. Only the actors the publishes since the last sync could have changed are
compared: the subjects the writer noted in the journal (`creative_graph.journal`) and the
actors owning them. When that is unknown (no journal, a change that could not say what it
touched) or larger than the log, every actor is compared, reading the snapshot once; both ways
append the same members. The log records the snapshot it followed: a second sync of the same
snapshot appends nothing, and a sync missed (a crash after publishing) is made up by the next.
Members are never changed or removed, so a page that is full is immutable.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pyoxigraph as ox

from creative_graph.descriptions import actors_query, affected, describe_all, describe_many
from creative_graph.journal import Journal
from creative_graph.store import StoreReader

log = logging.getLogger(__name__)

Kind = Literal["Create", "Update", "Delete"]
PAGE_SIZE = 250  # members per page; fixed, since full pages are promised never to change
BATCH = 1000  # actors described per query: bounded memory whatever the graph's size
LEAST = 1000  # subjects a sync may follow one by one however few actors the log holds
SCRATCH = "ldes-scratch-"  # folders of a full comparison in progress, in the store's folder

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
    compared: int = 0  # actors described
    full: bool = False  # every actor compared (no journal to follow, or too much changed)

    @property
    def appended(self) -> int:
        return self.created + self.updated + self.deleted


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _everything(
    reader: StoreReader, base: str, folder: Path
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every actor of the published snapshot with its description, sorted N-Triples lines."""
    snapshot = reader.snapshot.name
    read, described = describe_all(reader, base, folder)
    if read.name != snapshot:  # published meanwhile
        raise _Moved
    yield from described


def _some(
    reader: StoreReader, actors: Sequence[str], base: str
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """These actors of the published snapshot with their descriptions, in batches."""
    snapshot = reader.snapshot.name
    for start in range(0, len(actors), BATCH):
        described, read = describe_many(reader, actors[start : start + BATCH], base)
        if read.name != snapshot:  # published meanwhile: the actors come from two states
            raise _Moved
        yield from described.items()


def _is_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def _batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _lines(payload: bytes) -> tuple[str, ...]:
    return tuple(line for line in zlib.decompress(payload).decode("utf-8").split("\n") if line)


def _digest(lines: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class ChangeLog:
    """The append-only log of actor versions, and the pages it is served in."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self.path = self.store_dir / "ldes.sqlite3"
        self.journal = Journal(self.store_dir)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for the appender
        connection.executescript(_SCHEMA)
        return connection

    def sync(self, reader: StoreReader, base: str, full: bool = False) -> SyncResult:
        """Append a version of every actor the published snapshot changed since the last sync.

        One appender at a time (SQLite's write lock); what it appends and the snapshot it
        followed are committed together, so a killed sync leaves the log as it was. `full`
        compares every actor even when the journal says what changed.
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = self._sync(db, reader, base, full)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if result.snapshot is not None:
            try:  # the notes up to the snapshot followed are no longer needed
                self.journal.forget(result.snapshot)
            except (OSError, sqlite3.Error) as error:  # kept: harmless, forgotten next time
                log.warning("change journal not trimmed: %s", error)
        return result

    def _sync(
        self, db: sqlite3.Connection, reader: StoreReader, base: str, full: bool
    ) -> SyncResult:
        snapshot = reader.snapshot.name
        row = db.execute("SELECT value FROM state WHERE key = 'snapshot'").fetchone()
        followed = row[0] if row else None
        if snapshot is None or followed == snapshot:
            return SyncResult(snapshot, 0, 0, 0)
        last = db.execute("SELECT MAX(time) FROM members").fetchone()[0]
        time = max(_now(), last or "")  # the stream's timestamps never go back
        counts = {"Create": 0, "Update": 0, "Delete": 0, "compared": 0}

        def append(actor: str, kind: Kind, lines: tuple[str, ...]) -> None:
            payload = zlib.compress("\n".join(lines).encode("utf-8"))
            db.execute(
                "INSERT INTO members (actor, kind, time, payload) VALUES (?, ?, ?, ?)",
                (actor, kind, time, payload),
            )
            counts[kind] += 1

        def compare(
            described: Iterable[tuple[str, tuple[str, ...]]], latest: dict[str, str]
        ) -> None:
            """Append what differs from `latest` (popped as seen; those left are gone)."""
            for actor, lines in described:
                counts["compared"] += 1
                digest = _digest(lines)
                before = latest.pop(actor, None)
                if before == digest:
                    continue
                append(actor, "Create" if before is None else "Update", lines)
                db.execute("INSERT OR REPLACE INTO latest VALUES (?, ?)", (actor, digest))
            for actor in sorted(latest):  # actors no longer in the graph (removed or merged)
                append(actor, "Delete", ())
                db.execute("DELETE FROM latest WHERE actor = ?", (actor,))

        candidates = None if full else self._candidates(db, reader, base, followed, snapshot)
        if candidates is None:
            self._remove_scratch()
            with tempfile.TemporaryDirectory(prefix=SCRATCH, dir=self.store_dir) as folder:
                compare(
                    _everything(reader, base, Path(folder)),
                    dict(db.execute("SELECT actor, digest FROM latest")),
                )
        else:
            actors = set()
            for batch in _batches(candidates):
                actors.update(row["actor"] for row in reader.select(actors_query(batch)))
            latest = {}  # of the candidates only: the others are left as they are
            for batch in _batches(candidates):
                marks = ", ".join("?" * len(batch))
                latest.update(
                    db.execute(f"SELECT actor, digest FROM latest WHERE actor IN ({marks})", batch)
                )
            compare(_some(reader, sorted(actors), base), latest)
        if reader.snapshot.name != snapshot:  # published meanwhile: described from two states
            raise _Moved
        db.execute("INSERT OR REPLACE INTO state VALUES ('snapshot', ?)", (snapshot,))
        return SyncResult(
            snapshot, counts["Create"], counts["Update"], counts["Delete"], counts["compared"],
            candidates is None,
        )  # fmt: skip

    def _candidates(
        self,
        db: sqlite3.Connection,
        reader: StoreReader,
        base: str,
        followed: str | None,
        snapshot: str,
    ) -> list[str] | None:
        """The things whose descriptions the publishes since `followed` could have changed,
        in IRI order; None when every actor must be compared (unknown, or too many)."""
        if followed is None:
            return None
        known = db.execute("SELECT COUNT(*) FROM latest").fetchone()[0]
        limit = max(known, LEAST)  # past it, reading the whole snapshot once is cheaper
        touched = self.journal.since(followed, snapshot, limit)
        if touched is None:
            return None
        subjects = {s for s in touched.subjects if _is_iri(s)}  # no other can be in the store
        for graph in sorted(touched.graphs):  # graphs loaded whole: each of their subjects
            inside = f"WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER isIRI(?s) }}"
            count = reader.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) {inside}")[0]["n"]
            if len(subjects) + int(count) > limit:
                return None
            subjects.update(row["s"] for row in reader.select(f"SELECT DISTINCT ?s {inside}"))
        found, _ = affected(reader, subjects, base)
        return sorted(found)

    def _remove_scratch(self) -> None:
        """Scratch folders left by a killed sync (only one sync runs at a time: the lock)."""
        for folder in self.store_dir.glob(f"{SCRATCH}*"):
            shutil.rmtree(folder, ignore_errors=True)

    def sync_latest(
        self, reader: StoreReader, base: str, attempts: int = 5, full: bool = False
    ) -> SyncResult:
        """`sync`, again if a snapshot was published while it read (it then starts over)."""
        for _ in range(attempts - 1):
            try:
                return self.sync(reader, base, full)
            except _Moved:
                continue
        return self.sync(reader, base, full)

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
