"""Validated writes: a change is tried on a copy of the store, checked by the shapes, and then
published whole or refused whole.

Used by the SPARQL Update and Graph Store endpoints. The same shapes as an ingest judge the
result, on the union of all graphs (what the endpoint serves). A write is refused when the
store after it has a violation the store before it did not have: problems that were already
there (for example between two sources) never block an unrelated write. Each accepted write
adds a PROV-O activity to the runs graph, so every change stays traceable. The change runs on
a `RecordingStore`, which tells the change journal which subjects it touched: the change
stream then describes only the actors those could concern.

The shapes judge only what a change can affect: the nodes it touched and those whose checks
read them (`SparqlValidator.affected`), validated after the change on the copy and before it on
a checkpoint taken just before; the results about every other node are the same before and
after, so the verdict is the whole validation's. A change that cannot say what it touched (or
touched a blank node, which no query can name) is judged on the whole store.

An accepted write also asks for the dumps of the new snapshot (`dumps.Refresher`: in a child
process, in the background, one run at a time); until they are written, the previous ones are
served.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, cast

import pyoxigraph as ox

from creative_graph import __version__
from creative_graph.dumps import Refresher
from creative_graph.iris import Iris, run_key
from creative_graph.ldes import ChangeLog
from creative_graph.recording import RecordingStore
from creative_graph.store import POINTER, StoreReader, StoreWriter
from creative_graph.validation import FocusValidator, StoreValidator, ValidationResult

log = logging.getLogger(__name__)
T = TypeVar("T")
PROV = "http://www.w3.org/ns/prov#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPDX = "http://spdx.org/rdf/terms#"
DCT_MODIFIED = "http://purl.org/dc/terms/modified"

_Key = tuple[str, str, str, str, str]


def _changed_graphs(base: Path, copy: ox.Store, recording: RecordingStore) -> list[str]:
    """The named graphs a change may have changed: those holding a touched subject before
    (`base`, the checkpoint taken before it) or after it; every graph when it cannot say."""
    touched = recording.touched()
    before = ox.Store.read_only(str(base))
    try:
        if touched is None or recording.touched_blank_node():
            return sorted(
                {
                    graph.value
                    for store in (before, copy)
                    for graph in store.named_graphs()
                    if isinstance(graph, ox.NamedNode)
                }
            )
        found: set[str] = set()
        subjects = sorted(touched)
        for start in range(0, len(subjects), 500):
            values = " ".join(f"<{s}>" for s in subjects[start : start + 500])
            pattern = "GRAPH ?g { ?s ?p ?o }"
            query = f"SELECT DISTINCT ?g WHERE {{ VALUES ?s {{ {values} }} {pattern} }}"
            found |= {row["g"].value for row in _solutions(before, query)}
            found |= {row["g"].value for row in _solutions(copy, query)}
        return sorted(found)
    finally:
        del before  # closed before the checkpoint's folder is removed


def _solutions(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    results = store.query(query)
    assert isinstance(results, ox.QuerySolutions)
    return list(results)


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
        self,
        store: Path,
        validator: StoreValidator,
        iris: Iris,
        snapshots_kept: int = 3,
        refresh_dumps: bool = True,
    ) -> None:
        self.store = Path(store)
        self.validator = validator
        self.iris = iris
        self.snapshots_kept = snapshots_kept
        # the dumps follow each accepted write, in the background
        self.dumps = Refresher(self.store, snapshots_kept) if refresh_dumps else None
        # one write at a time in this process; the store's flock keeps other processes out
        self._lock = threading.Lock()
        self._known: tuple[str | None, frozenset[_Key]] | None = None

    def apply(
        self,
        change: Callable[[ox.Store], T],
        label: str,
        body: bytes = b"",
        commit: Callable[[], None] | None = None,
    ) -> WriteOutcome:
        """Run `change` on a copy of the store; publish it if it adds no violation.

        `label` says what the write was ("SPARQL Update", "Graph Store PUT <...>"); `body`,
        the request it came from, is recorded by its SHA-256. `commit`, if given, is called
        once the change has passed the shapes, just before it is adopted: up to there the
        write can be abandoned (or its process killed) and nothing has changed; from its
        return on, the write stands. Raises `WriteRefused` (nothing changed), `SyntaxError`/
        `ValueError` from `change`, and `StoreError` when another process is writing the store.
        """
        with self._lock, StoreWriter(self.store, self.snapshots_kept) as writer:
            started = datetime.now(UTC)
            # every violation of the store before the change, if this process knows them
            known = self._known[1] if self._known and self._known[0] == self._published() else None
            with writer.trial() as copy:
                # the store before the change (hard links; a "primary*" folder, so one left by
                # a killed write is removed by the next writer)
                base = self.store / f"primary-before-{started:%Y%m%dT%H%M%S%fZ}"
                copy.flush()
                copy.backup(str(base))
                try:
                    recording = RecordingStore(copy)
                    value = change(cast(ox.Store, recording))  # a stand-in with the same methods
                    changed = _changed_graphs(base, copy, recording)
                    activity = self._record(recording, label, body, started, changed)
                    focus = self._focus(copy, recording)
                    after = self._violations(copy, focus)
                    before = self._violations_before(base, focus, known)
                finally:
                    shutil.rmtree(base, ignore_errors=True)
                added = tuple(v for v in after if _key(v) not in before)
                if added:
                    raise WriteRefused(added)
                if commit is not None:
                    commit()  # may raise: the copy is dropped, nothing changed
                writer.adopt(copy, recording.touched())
            del copy, recording  # the writer holds the adopted store: nothing else may keep it
            snapshot = writer.publish()
            self._known = _known_after(snapshot, focus, after, known)
            # still the only writer: the change stream follows this snapshot, no later one
            try:
                ChangeLog(self.store).sync_latest(StoreReader(self.store), self.iris.base)
            except (OSError, sqlite3.Error) as error:  # the write stands; the next sync catches up
                log.error("change stream not synced after %s: %s", label, error)
        if self.dumps is not None:
            self.dumps.request()  # returns at once
        return WriteOutcome(snapshot, activity, value)

    def _focus(self, copy: ox.Store, recording: RecordingStore) -> set[str] | None:
        """The nodes whose violations the change may have changed; None: every node."""
        touched = recording.touched()
        if touched is None or recording.touched_blank_node():
            return None
        if not isinstance(self.validator, FocusValidator):
            return None
        return self.validator.affected(copy, touched, union=True, severities=("Violation",))

    def _violations(self, store: ox.Store, focus: set[str] | None) -> tuple[ValidationResult, ...]:
        if focus is None:
            return self.validator.validate_store(store, union=True).violations
        assert isinstance(self.validator, FocusValidator)
        return self.validator.validate_store(store, union=True, focus=focus).violations

    def _violations_before(
        self, base: Path, focus: set[str] | None, known: frozenset[_Key] | None
    ) -> frozenset[_Key]:
        """The violations about `focus` (None: all) in the store before the change: from
        `known`, else validated on `base`, the checkpoint taken before it."""
        if known is not None:
            return known if focus is None else frozenset(k for k in known if k[0] in focus)
        store = ox.Store(str(base))
        try:
            return frozenset(_key(v) for v in self._violations(store, focus))
        finally:
            del store  # closed before its folder is removed

    def _published(self) -> str | None:
        pointer = self.store / POINTER
        return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None

    def _record(
        self,
        copy: RecordingStore,
        label: str,
        body: bytes,
        started: datetime,
        changed: Sequence[str] = (),
    ) -> str:
        """Add the write's `prov:Activity` (what, when, by whom, the request's checksum) and the
        version of each graph it `changed`, whose `dct:modified` says when the graph's data
        last changed (as an ingest run's does: `ingest.provenance`), for the catalogue."""
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
        for number, changed_graph in enumerate(changed, 1):
            version = ox.NamedNode(self.iris.thing("graph-version", f"{key}-{number}"))
            triples += [
                (activity, ox.NamedNode(PROV + "generated"), version),
                (version, rdf_type, ox.NamedNode(PROV + "Entity")),
                (version, ox.NamedNode(PROV + "specializationOf"), ox.NamedNode(changed_graph)),
                (version, ox.NamedNode(PROV + "wasGeneratedBy"), activity),
                (version, ox.NamedNode(PROV + "generatedAtTime"), _time(ended)),
                (version, ox.NamedNode(DCT_MODIFIED), _time(ended)),
            ]
        copy.extend(ox.Quad(s, p, o, graph) for s, p, o in triples)
        return activity.value


def _known_after(
    snapshot: str,
    focus: set[str] | None,
    after: tuple[ValidationResult, ...],
    known: frozenset[_Key] | None,
) -> tuple[str | None, frozenset[_Key]] | None:
    """Every violation of the new snapshot, if this process can tell without validating again:
    all were just found, or those before were known and only the ones about `focus` changed."""
    found = frozenset(_key(v) for v in after)
    if focus is None:
        return snapshot, found
    if known is None:
        return None
    return snapshot, found | {k for k in known if k[0] not in focus}


def _time(moment: datetime) -> ox.Literal:
    return ox.Literal(moment.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
