"""The key registry: which canonical actor key each source record became, kept beside the store.

An actor keeps its key forever. A source record is mapped to a key once and keeps it on every
re-ingest; when two keys turn out to be the same actor, the younger one is replaced by the older
one (never deleted, never reused), so its IRI still resolves to the survivor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS actors (key TEXT PRIMARY KEY, created TEXT NOT NULL, replaced_by TEXT);
CREATE TABLE IF NOT EXISTS records (source TEXT NOT NULL, local TEXT NOT NULL, key TEXT NOT NULL,
    PRIMARY KEY (source, local));
CREATE TABLE IF NOT EXISTS claims (source TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    key TEXT NOT NULL, PRIMARY KEY (source, kind, value));
CREATE INDEX IF NOT EXISTS claims_by_value ON claims (kind, value);
"""


class Registry:
    """SQLite file `{STORE}/registry.sqlite3`; changes stay in one transaction until `commit()`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level="DEFERRED")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    def rollback(self) -> None:
        self._db.rollback()

    def survivor(self, key: str) -> str:
        """Follow replacements to the key that stands for the actor now."""
        seen = {key}
        while True:
            row = self._db.execute(
                "SELECT replaced_by FROM actors WHERE key = ?", (key,)
            ).fetchone()
            if row is None or row[0] is None or row[0] in seen:
                return key
            key = row[0]
            seen.add(key)

    def created(self, key: str) -> str:
        row = self._db.execute("SELECT created FROM actors WHERE key = ?", (key,)).fetchone()
        return row[0] if row else "9999"

    def record_key(self, source: str, local: str) -> str | None:
        row = self._db.execute(
            "SELECT key FROM records WHERE source = ? AND local = ?", (source, local)
        ).fetchone()
        return self.survivor(row[0]) if row else None

    def claimed_by_others(self, source: str, kind: str, value: str) -> set[str]:
        """Keys that other sources' actors hold for this match key (e.g. an enterprise number)."""
        rows = self._db.execute(
            "SELECT key FROM claims WHERE kind = ? AND value = ? AND source != ?",
            (kind, value, source),
        )
        return {self.survivor(key) for (key,) in rows}

    def ensure_actor(self, key: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO actors (key, created) VALUES (?, ?)",
            (key, datetime.now(UTC).isoformat()),
        )

    def replace(self, key: str, survivor: str) -> None:
        self._db.execute("UPDATE actors SET replaced_by = ? WHERE key = ?", (survivor, key))

    def set_records(self, source: str, records: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO records (source, local, key) VALUES (?, ?, ?)",
            [(source, local, key) for local, key in records.items()],
        )

    def set_claims(self, source: str, claims: Iterable[tuple[str, str, str]]) -> None:
        """Replace this source's claims by `(kind, value, key)` triples."""
        self._db.execute("DELETE FROM claims WHERE source = ?", (source,))
        self._db.executemany(
            "INSERT OR REPLACE INTO claims (source, kind, value, key) VALUES (?, ?, ?, ?)",
            [(source, kind, value, key) for kind, value, key in claims],
        )

    def replacements(self) -> list[tuple[str, str]]:
        """Every (replaced key, survivor key) pair, for the identity graph."""
        rows = self._db.execute("SELECT key FROM actors WHERE replaced_by IS NOT NULL ORDER BY key")
        return [(key, self.survivor(key)) for (key,) in rows]
