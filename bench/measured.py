"""What every benchmark prints about the code it measured and the machine's load."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def revision() -> str:
    """The commit of the measured code, and the tracked files changed since (uncommitted work)."""

    def git(*arguments: str) -> str:
        try:
            return subprocess.run(
                ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.rstrip("\n")
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("log", "-1", "--format=%h %cI %s")[:100].strip() or "unknown commit"
    changed = [
        line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
    ]
    return commit + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: a busy machine makes slower figures."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
