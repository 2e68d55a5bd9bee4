"""What each published snapshot changed: the subjects a writer touched, noted before it touched
them.

The change stream (`creative_graph.ldes`) describes only the actors a publish could have
changed. `StoreWriter` notes here the IRIs whose triples a change adds or removes *before* it
makes the change (write-ahead), and seals the notes with the name of each snapshot it
publishes, before readers are pointed at it. A crash between a change and its publish leaves
notes that the next publish seals; a note for a change that never happened costs one
comparison. A change that cannot say what it touched is noted as unknown, and the stream then
compares every actor. The notes live in `{STORE}/journal.sqlite3` until the stream has
followed the snapshot that sealed them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: seals are compared with it
    subject TEXT,  -- an IRI whose triples changed
    graph TEXT     -- or: every subject of this graph as published; both NULL: unknown
);
CREATE TABLE IF NOT EXISTS sealed (snapshot TEXT PRIMARY KEY, upto INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Touched:
    """What changed between two published snapshots."""

    subjects: frozenset[str]  # IRIs whose triples were added or removed
    graphs: frozenset[str]  # graphs loaded whole: each of their subjects changed


def subjects_of(lines: Iterable[str]) -> set[str]:
    """The IRIs that canonical N-Triples lines (`<s> <p> <o>`) are about; blank nodes left out."""
    found = set()
    for line in lines:
        if line.startswith("<"):
            found.add(line[1 : line.index(">")])
    return found


class Journal:
    """The notes of what changed, sealed per published snapshot."""

    def __init__(self, store_dir: Path) -> None:
        self.path = Path(store_dir) / "journal.sqlite3"

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)
        return connection

    def note(self, subjects: Iterable[str] = (), graphs: Iterable[str] = ()) -> None:
        """Note, durably, that these subjects (and every subject of these graphs) change."""
        rows = [(s, None) for s in set(subjects)] + [(None, g) for g in set(graphs)]
        if not rows:
            return
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO notes (subject, graph) VALUES (?, ?)", rows)
            db.execute("COMMIT")

    def note_unknown(self) -> None:
        """Note a change that cannot say what it touches: the next sync compares everything."""
        with closing(self._connect()) as db:
            db.execute("INSERT INTO notes (subject, graph) VALUES (NULL, NULL)")

    def seal(self, snapshot: str) -> None:
        """Say that `snapshot` holds every change noted so far."""
        with closing(self._connect()) as db:
            db.execute(
                "INSERT OR REPLACE INTO sealed VALUES (?, COALESCE("
                "(SELECT seq FROM sqlite_sequence WHERE name = 'notes'), 0))",
                (snapshot,),
            )

    def since(self, followed: str, current: str, limit: int) -> Touched | None:
        """What changed after `followed` up to `current`, or None: unknown (a snapshot without
        a seal, notes already forgotten, a change noted as unknown) or more than `limit`
        subjects, when comparing everything is cheaper."""
        if not self.path.exists():
            return None
        with closing(self._connect()) as db:
            db.execute("BEGIN")  # one consistent reading
            try:
                span = self._span(db, followed, current)
                if span is None:
                    return None
                rows = "FROM notes WHERE seq > ? AND seq <= ?"
                if db.execute(
                    f"SELECT 1 {rows} AND subject IS NULL AND graph IS NULL LIMIT 1", span
                ).fetchone():
                    return None
                count = db.execute(f"SELECT COUNT(DISTINCT subject) {rows}", span).fetchone()[0]
                if count > limit:
                    return None
                subjects = db.execute(f"SELECT DISTINCT subject {rows} AND subject NOT NULL", span)
                graphs = db.execute(f"SELECT DISTINCT graph {rows} AND graph NOT NULL", span)
                return Touched(
                    frozenset(s for (s,) in subjects.fetchall()),
                    frozenset(g for (g,) in graphs.fetchall()),
                )
            finally:
                db.execute("COMMIT")

    @staticmethod
    def _span(db: sqlite3.Connection, followed: str, current: str) -> tuple[int, int] | None:
        seals = dict(
            db.execute(
                "SELECT snapshot, upto FROM sealed WHERE snapshot IN (?, ?)", (followed, current)
            )
        )
        forgotten = db.execute("SELECT value FROM state WHERE key = 'forgotten'").fetchone()
        if followed not in seals or current not in seals:
            return None
        if seals[followed] < (forgotten[0] if forgotten else 0) or seals[current] < seals[followed]:
            return None
        return seals[followed], seals[current]

    def forget(self, snapshot: str) -> None:
        """Drop the notes `snapshot` holds: the change stream has followed it."""
        if not self.path.exists():
            return
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            upto = db.execute("SELECT upto FROM sealed WHERE snapshot = ?", (snapshot,)).fetchone()
            if upto is not None:
                db.execute("DELETE FROM notes WHERE seq <= ?", upto)
                db.execute("DELETE FROM sealed WHERE upto < ?", upto)
                db.execute(
                    "INSERT INTO state VALUES ('forgotten', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = MAX(value, excluded.value)",
                    upto,
                )
            db.execute("COMMIT")
