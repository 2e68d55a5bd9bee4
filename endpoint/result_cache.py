"""Query results kept in memory, keyed by the published snapshot they were computed on.

A published snapshot never changes, so a result stored under its name can never be stale: an
ingest publishes a new snapshot, whose name no cached entry carries. Repeated queries (map
pages, harvesters, named queries) are then answered without running them again. The cache
holds at most `max_bytes` of serialised results, least recently used first out. A query whose
answer may differ from one run to the next on the same snapshot (RAND(), NOW(), UUID(),
STRUUID(), BNODE(), a SERVICE call to another server) is never kept.

A lookup is a dictionary access under a lock, cheap enough for the event loop; a miss waits
for a worker (`acompute` on the event loop, `compute` in a thread).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from creative_graph.store import QueryOutput, StoreReader
from endpoint.sparql_text import varies
from endpoint.workers import QueryPool

Key = tuple[str, str]  # the snapshot's name, the request as canonical JSON


class CachedPool:
    """`QueryPool.run` with a result cache in front of it (same contract)."""

    def __init__(self, pool: QueryPool, reader: StoreReader, max_bytes: int) -> None:
        self.pool = pool
        self.reader = reader
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, QueryOutput] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def key(self, request: dict[str, Any]) -> Key | None:
        """Where the request's answer is kept, on the snapshot published now; None when
        nothing is published, the cache is off or the answer may vary."""
        snapshot = self.reader.snapshot.name
        if not snapshot or not self.max_bytes or varies(request["query"]):
            return None
        return snapshot, json.dumps(request, sort_keys=True)

    def lookup(self, key: Key | None) -> QueryOutput | None:
        if key is None:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found

    def compute(self, key: Key | None, request: dict[str, Any]) -> QueryOutput | str:
        """Run the request on a worker and keep its answer under `key` (blocks: a thread)."""
        return self._keep(key, self.pool.run(request))

    async def acompute(self, key: Key | None, request: dict[str, Any]) -> QueryOutput | str:
        """`compute` on the event loop."""
        return self._keep(key, await self.pool.arun(request))

    def _keep(self, key: Key | None, output: QueryOutput | str) -> QueryOutput | str:
        # stored only under the snapshot the worker really read
        if (
            key is not None
            and isinstance(output, QueryOutput)
            and output.snapshot.name == key[0]
            and len(output.body) <= self.max_bytes // 4
        ):
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = replace(output, cached=True)  # as it will be served
                    self._size += len(output.body)
                    while self._size > self.max_bytes:
                        _, evicted = self._entries.popitem(last=False)
                        self._size -= len(evicted.body)
        return output

    def run(self, request: dict[str, Any]) -> QueryOutput | str:
        key = self.key(request)
        found = self.lookup(key)
        return found if found is not None else self.compute(key, request)

    async def arun(self, request: dict[str, Any]) -> QueryOutput | str:
        key = self.key(request)
        found = self.lookup(key)
        return found if found is not None else await self.acompute(key, request)

    def close(self) -> None:
        self.pool.close()
