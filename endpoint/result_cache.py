"""Query results kept in memory, keyed by the published snapshot they were computed on.

A published snapshot never changes, so a result stored under its name can never be stale: an
ingest publishes a new snapshot, whose name no cached entry carries. Repeated queries (map
pages, harvesters, named queries) are then answered without running them again. The cache
holds at most `max_bytes` of serialised results, least recently used first out.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from creative_graph.store import QueryOutput, StoreReader
from endpoint.workers import QueryPool


class CachedPool:
    """`QueryPool.run` with a result cache in front of it (same contract)."""

    def __init__(self, pool: QueryPool, reader: StoreReader, max_bytes: int) -> None:
        self.pool = pool
        self.reader = reader
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], QueryOutput] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def run(self, request: dict[str, Any]) -> QueryOutput | str:
        snapshot = self.reader.snapshot.name
        key = (snapshot or "", json.dumps(request, sort_keys=True))
        if snapshot and self.max_bytes:
            with self._lock:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    return replace(found, cached=True)
        output = self.pool.run(request)
        # stored only under the snapshot the worker really read
        if (
            isinstance(output, QueryOutput)
            and snapshot
            and output.snapshot.name == snapshot
            and len(output.body) <= self.max_bytes // 4
        ):
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = output
                    self._size += len(output.body)
                    while self._size > self.max_bytes:
                        _, evicted = self._entries.popitem(last=False)
                        self._size -= len(evicted.body)
        return output

    def close(self) -> None:
        self.pool.close()
