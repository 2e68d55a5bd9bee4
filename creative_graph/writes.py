"""Validated writes: a change is tried on a copy of the store, checked by the shapes, and then
published whole or refused whole.

Used by the SPARQL Update and Graph Store endpoints. The same shapes as an ingest judge the
result, on the union of all graphs (what the endpoint serves). A write is refused when the
store after it has a violation the store before it did not have: problems that were already
there (for example between two sources) never block an unrelated write. Each accepted write
adds a PROV-O activity to the runs graph, so every change stays traceable. The change runs on
a `RecordingStore`, which tells the change journal which subjects it touched: the change
stream then describes only the actors those could concern.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, cast

import pyoxigraph as ox

from creative_graph import __version__
from creative_graph.iris import Iris, run_key
from creative_graph.ldes import ChangeLog
from creative_graph.recording import RecordingStore
from creative_graph.store import POINTER, StoreReader, StoreWriter
from creative_graph.validation import StoreValidator, ValidationResult

log = logging.getLogger(__name__)
T = TypeVar("T")
PROV = "http://www.w3.org/ns/prov#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPDX = "http://spdx.org/rdf/terms#"

_Key = tuple[str, str, str, str, str]


def _key(result: ValidationResult) -> _Key:
    return (
        result.focus_node,
        result.path,
        result.value,
        result.message,
        result.source_shape,
    )


class WriteRefused(Exception):
    """The change would add SHACL violations; nothing was written."""

    def __init__(self, violations: tuple[ValidationResult, ...]) -> None:
        super().__init__(f"the change would add {len(violations)} SHACL violation(s)")
        self.violations = violations


@dataclass(frozen=True)
class WriteOutcome:
    snapshot: str  # the published snapshot that holds the change
    activity: str  # the IRI of its PROV-O record
    value: object  # what the change function returned


class Writes:
    """Applies changes one at a time: try on a copy, validate, adopt and publish."""

    def __init__(
        self, store: Path, validator: StoreValidator, iris: Iris, snapshots_kept: int = 3
    ) -> None:
        self.store = Path(store)
        self.validator = validator
        self.iris = iris
        self.snapshots_kept = snapshots_kept
        # one write at a time in this process; the store's flock keeps other processes out
        self._lock = threading.Lock()
        self._known: tuple[str | None, frozenset[_Key]] | None = None

    def apply(self, change: Callable[[ox.Store], T], label: str, body: bytes = b"") -> WriteOutcome:
        """Run `change` on a copy of the store; publish it if it adds no violation.

        `label` says what the write was ("SPARQL Update", "Graph Store PUT <...>"); `body`,
        the request it came from, is recorded by its SHA-256. Raises `WriteRefused` (nothing
        changed), `SyntaxError`/`ValueError` from `change`, and `StoreError` when another
        process is writing the store.
        """
        with self._lock, StoreWriter(self.store, self.snapshots_kept) as writer:
            started = datetime.now(UTC)
            with writer.trial() as copy:
                before = self._violations_before(copy)
                recording = RecordingStore(copy)
                value = change(cast(ox.Store, recording))  # a stand-in with the same methods
                activity = self._record(recording, label, body, started)
                after = self._violations(copy)
                added = tuple(v for v in after if _key(v) not in before)
                if added:
                    raise WriteRefused(added)
                writer.adopt(copy, recording.touched())
            del copy, recording  # the writer holds the adopted store: nothing else may keep it
            snapshot = writer.publish()
            self._known = (snapshot, frozenset(_key(v) for v in after))
            # still the only writer: the change stream follows this snapshot, no later one
            try:
                ChangeLog(self.store).sync_latest(StoreReader(self.store), self.iris.base)
            except (OSError, sqlite3.Error) as error:  # the write stands; the next sync catches up
                log.error("change stream not synced after %s: %s", label, error)
        return WriteOutcome(snapshot, activity, value)

    def _violations_before(self, copy: ox.Store) -> frozenset[_Key]:
        if self._known is not None and self._known[0] == self._published():
            return self._known[1]  # what this process found after its own last write
        return frozenset(_key(v) for v in self._violations(copy))

    def _violations(self, copy: ox.Store) -> tuple[ValidationResult, ...]:
        return self.validator.validate_store(copy, union=True).violations

    def _published(self) -> str | None:
        pointer = self.store / POINTER
        return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None

    def _record(self, copy: RecordingStore, label: str, body: bytes, started: datetime) -> str:
        """Add the write's `prov:Activity` (what, when, by whom, the request's checksum)."""
        key = run_key()
        activity = ox.NamedNode(self.iris.thing("run", key))
        agent = ox.NamedNode(self.iris.thing("agent", "write-api"))
        graph = ox.NamedNode(self.iris.runs_graph)
        ended = datetime.now(UTC)
        digest = hashlib.sha256(body).hexdigest()
        request = ox.NamedNode(self.iris.thing("request", digest))
        checksum = ox.NamedNode(self.iris.thing("checksum", digest))
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        triples = [
            (activity, rdf_type, ox.NamedNode(PROV + "Activity")),
            (activity, ox.NamedNode(RDFS_LABEL), ox.Literal(label, language="en")),
            (activity, ox.NamedNode(PROV + "startedAtTime"), _time(started)),
            (activity, ox.NamedNode(PROV + "endedAtTime"), _time(ended)),
            (activity, ox.NamedNode(PROV + "wasAssociatedWith"), agent),
            (agent, rdf_type, ox.NamedNode(PROV + "Agent")),
            (
                agent,
                ox.NamedNode(RDFS_LABEL),
                ox.Literal(f"holder of the write token (creative-graph {__version__})"),
            ),
            (activity, ox.NamedNode(PROV + "used"), request),
            (request, rdf_type, ox.NamedNode(PROV + "Entity")),
            (request, ox.NamedNode(SPDX + "checksum"), checksum),
            (checksum, rdf_type, ox.NamedNode(SPDX + "Checksum")),
            (
                checksum,
                ox.NamedNode(SPDX + "algorithm"),
                ox.NamedNode(SPDX + "checksumAlgorithm_sha256"),
            ),
            (
                checksum,
                ox.NamedNode(SPDX + "checksumValue"),
                ox.Literal(digest, datatype=ox.NamedNode(XSD + "hexBinary")),
            ),
        ]
        copy.extend(ox.Quad(s, p, o, graph) for s, p, o in triples)
        return activity.value


def _time(moment: datetime) -> ox.Literal:
    return ox.Literal(moment.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
