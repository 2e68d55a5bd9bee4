"""Shared fixtures: temporary stores, the bundled demo source, a real uvicorn server."""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from creative_graph.settings import Settings
from endpoint.app import create_app
from ingest.manifest import load_manifest
from ingest.pipeline import default_validator, ingest_source

ROOT = Path(__file__).resolve().parents[1]
DEMO_SOURCE = ROOT / "data" / "sources" / "brussels-culture-poi"
BASE_IRI = "http://test.example/"


def demo_features() -> list[dict]:
    """The demo GeoJSON's features, read independently of the mapper."""
    (path,) = DEMO_SOURCE.glob("*.geojson")
    return json.loads(path.read_text(encoding="utf-8"))["features"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store", base_iri=BASE_IRI, sources=tmp_path / "sources")


def copy_source(source: Path, target: Path) -> Path:
    """A writable copy of a source folder at `target`, for tests that change or break it."""
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo source, for tests that break or change it."""
    return copy_source(DEMO_SOURCE, tmp_path / "sources" / "brussels-culture-poi")


@pytest.fixture(scope="session")
def validator():
    return default_validator()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    """A store with the demo source ingested once, shared by read-only tests."""
    base = tmp_path_factory.mktemp("demo")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    outcome = ingest_source(load_manifest(DEMO_SOURCE), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    return settings


@pytest.fixture(scope="session")
def every_source_store(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    """A store with what `make demo` loads, every bundled source, shared by read-only tests."""
    base = tmp_path_factory.mktemp("every-source")
    sources = ROOT / "data" / "sources"
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=sources)
    for source in sorted(p.parent for p in sources.glob("*/source.toml")):
        outcome = ingest_source(load_manifest(source), settings, validator)
        assert outcome.status == "loaded", (source.name, outcome.violations[:3])
    return settings


@dataclass
class LiveServer:
    url: str
    settings: Settings
    thread: threading.Thread


def wait_until_served(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Wait until the `creative-graph serve` process answers `/healthz`; raise if it died or
    did not answer in time."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.1)


def free_socket() -> socket.socket:
    """A loopback socket on a free port: bind it before the settings need the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def run_server(settings: Settings, sock: socket.socket | None = None) -> Iterator[LiveServer]:
    """Start the real app under uvicorn on a free loopback port (or `sock`); stop it afterwards."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def live_server(demo_store: Settings) -> Iterator[LiveServer]:
    yield from run_server(demo_store)


def load_bench(name: str) -> ModuleType:
    """bench/ is not a package: load bench/{name}.py by path (its siblings importable, as when
    it runs as a script)."""
    if name not in sys.modules:
        folder = Path(__file__).resolve().parents[1] / "bench"
        if str(folder) not in sys.path:
            sys.path.append(str(folder))
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
