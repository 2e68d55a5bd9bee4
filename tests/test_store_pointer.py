"""The reader notices every publish through the kept-open `PUBLISHED` file, whatever its time."""

from __future__ import annotations

import os
from pathlib import Path

from creative_graph.store import POINTER, StoreReader, StoreWriter


def _publish_two(directory: Path) -> tuple[str, str]:
    with StoreWriter(directory) as writer:
        writer.replace_graph(
            "http://x.example/g", {'<http://x.example/s> <http://x.example/p> "1"'}
        )
        first = writer.publish()
        writer.replace_graph(
            "http://x.example/g", {'<http://x.example/s> <http://x.example/p> "2"'}
        )
        second = writer.publish()
    return first, second


def test_a_renamed_pointer_is_seen_even_with_the_same_time_and_size(tmp_path) -> None:
    """A new file renamed over the pointer, with the old one's time and length: the open one
    has no link left, which is what the reader checks."""
    store = tmp_path / "store"
    first, second = _publish_two(store)
    reader = StoreReader(store)
    assert reader.snapshot.name == second and reader.is_current()
    pointer = store / POINTER
    before = pointer.stat()
    replacement = store / "PUBLISHED.new"
    replacement.write_text(first + "\n", encoding="utf-8")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert replacement.stat().st_size == before.st_size
    os.replace(replacement, pointer)
    assert not reader.is_current()
    assert reader.snapshot.name == first
    assert reader.is_current()


def test_a_pointer_written_in_place_is_seen(tmp_path) -> None:
    store = tmp_path / "store"
    first, second = _publish_two(store)
    reader = StoreReader(store)
    assert reader.snapshot.name == second
    with open(store / POINTER, "r+", encoding="utf-8") as pointer:  # same inode, new content
        pointer.write(first + "\n")
    os.utime(store / POINTER, ns=(0, 1))  # another time than the reader saw
    assert reader.snapshot.name == first


def test_the_reader_serves_nothing_until_a_first_publish(tmp_path) -> None:
    reader = StoreReader(tmp_path / "store")
    assert reader.snapshot.name is None and reader.is_current()
    _, second = _publish_two(tmp_path / "store")
    assert not reader.is_current()
    assert reader.snapshot.name == second
