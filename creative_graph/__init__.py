"""creative-graph: the shared kernel (settings, namespaces, IRIs, store access, validation).

Both `ingest` and `endpoint` import from here; this package imports neither of them
(only `creative_graph.cli`, the composition root, does).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("creative-graph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
