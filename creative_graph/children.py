"""Child processes that end with the process that started them.

A child blocked on a pipe never learns that its parent was killed when another process (a
sibling in a `ProcessPoolExecutor`) holds the pipe's other end too: it would wait forever.
Each child watches its parent instead.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """End this process once `parent` is no longer its parent (it died; the child was
    re-parented). A daemon thread checks every `every` seconds; pyoxigraph lets go of the GIL
    while it works, so the check runs even in the middle of a long load or query.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
