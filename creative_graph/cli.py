"""The `creative-graph` command line: the composition root that wires ingest and endpoint together.

Exit codes (stable, for scripts):
  0  success (for `validate`: the data conforms; warnings do not count; for `mqa`: Excellent)
  1  the data is invalid (SHACL violations or records that cannot be mapped); nothing was loaded
     (for `mqa`: the catalogue scores less than Excellent)
  2  an input cannot be read or parsed, or the command line is wrong
  3  the store cannot be opened or written
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from creative_graph.settings import Settings

if TYPE_CHECKING:
    from creative_graph.dumps import DumpFile
    from creative_graph.ldes import SyncResult
    from ingest.pipeline import IngestOutcome

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_STORE = 0, 1, 2, 3

app = typer.Typer(
    name="creative-graph",
    help=(
        "Map a creative ecosystem as linked data.\n\n"
        "Typical session: [bold]creative-graph ingest[/bold] loads every declared source under "
        "data/sources into the store, then [bold]creative-graph serve[/bold] publishes it on "
        "http://127.0.0.1:8000 with a SPARQL endpoint at /sparql.\n\n"
        "Settings come from CREATIVE_GRAPH_* environment variables (see the README). "
        "Exit codes: 0 ok, 1 invalid data (nothing loaded), 2 unreadable input, 3 store error."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
# soft_wrap: one record per line, whatever the terminal width, so reports stay greppable.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _print_json(document: object) -> None:
    """Machine output: one JSON document per line on stdout (rich would re-highlight it)."""
    import json
    import sys

    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _declared_sources(settings: Settings) -> list[Path]:
    return sorted(p.parent for p in settings.sources.glob("*/source.toml"))


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Source folders (each with a source.toml) or manifest files. "
            "Default: every source declared under the SOURCES directory (data/sources).",
            show_default=False,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Load the valid records and write the rejected ones, with their reasons, to "
            "var/reports/{source}-rejected.csv. Default: a source with any violation loads "
            "nothing.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per source instead of text.")
    ] = False,
    show: Annotated[
        int, typer.Option(help="Print at most this many problems per source (all are counted).")
    ] = 50,
) -> None:
    """Map, validate and load sources into the store, one named graph per source.

    Each source is mapped, its actors are matched with those of other sources (enterprise
    number, website, name in the same municipality), and everything is validated with the
    project's SHACL shapes before the store changes. A source with any violation loads
    nothing and its records are reported (file, record, field, value, message). A valid source
    replaces its graph in one transaction, with a PROV-O record of the run (checksums, times,
    counts), and the result is published to the server. Link coverage is reported per source.

    Example: creative-graph ingest data/sources/brussels-culture-poi
    """

    from creative_graph.store import StoreError
    from ingest.errors import SourceError
    from ingest.manifest import load_manifest
    from ingest.pipeline import default_validator, ingest_source

    settings = Settings()
    _configure_logging(settings)
    targets = paths or _declared_sources(settings)
    if not targets:
        err.print(f"[red]No sources to ingest:[/red] no */source.toml under {settings.sources}")
        raise typer.Exit(EXIT_UNREADABLE)
    validator = default_validator()
    worst = EXIT_OK
    published = False
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, disable=as_json, transient=True,
    )  # fmt: skip
    with progress:
        overall = progress.add_task("sources", total=len(targets))
        for target in targets:
            try:
                manifest = load_manifest(target)
                outcome = ingest_source(
                    manifest, settings, validator,
                    on_stage=lambda stage, name=manifest.name: progress.update(
                        overall, description=f"{name}: {stage}"
                    ),
                    skip_invalid=skip_invalid,
                )  # fmt: skip
            except SourceError as error:
                if as_json:
                    failure = {"source": str(target), "status": "unreadable", "error": str(error)}
                    _print_json(failure)
                err.print(f"[red]Cannot read[/red] {error}", highlight=False)
                worst = max(worst, EXIT_UNREADABLE)
                progress.advance(overall)
                continue
            except StoreError as error:
                err.print(f"[red]Store error:[/red] {error}")
                raise typer.Exit(EXIT_STORE) from error
            progress.advance(overall)
            worst = max(worst, _report(outcome, as_json, show))
            published = published or outcome.snapshot is not None
        if published:
            progress.update(overall, description="compacting the store")
            _compact(settings)
            progress.update(overall, description="writing the dumps and the change stream")
            _dumps_and_change_stream(settings, quiet=as_json)
    raise typer.Exit(worst)


def _sync(store: Path, base_iri: str) -> SyncResult:
    from creative_graph.ldes import ChangeLog
    from creative_graph.store import StoreReader

    return ChangeLog(store).sync_latest(StoreReader(store), base_iri)


def _print_sync(result: SyncResult, quiet: bool) -> None:
    if not quiet:
        way = "every actor compared" if result.full else f"{result.compared:,} actors compared"
        err.print(
            f"change stream: {result.appended:,} versions appended ({result.created:,} created, "
            f"{result.updated:,} updated, {result.deleted:,} deleted; {way}), "
            "served at /ldes/actors",
            highlight=False,
        )


def _compact(settings: Settings) -> None:
    """Compact what the ingest loaded and publish it (`StoreWriter.compact`), once for all the
    sources of the run: queries, the dumps and the change stream then read sorted files.

    The data is published already: a store that cannot be compacted now (another process
    writing it) is only slower to read, so this warns and goes on.
    """
    from creative_graph.store import StoreError, StoreWriter

    try:
        with StoreWriter(settings.store, settings.snapshots_kept) as writer:
            writer.compact()
    except StoreError as error:
        err.print(f"[yellow]Not compacted:[/yellow] {error}", highlight=False)


def _dumps_and_change_stream(settings: Settings, quiet: bool = False) -> None:
    """Write the dumps and append to the change stream, side by side in two child processes.

    Both read the whole published snapshot, which at millions of triples is mostly pyoxigraph
    decoding terms on one core: side by side they take the time of the longer one. In child
    processes, neither adds to the memory this process kept from the ingest.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from creative_graph import dumps

    spawn = multiprocessing.get_context("spawn")  # no copy of this process's memory
    from creative_graph.children import exit_with_parent

    # the pool's workers would otherwise wait forever for work if this process were killed
    with ProcessPoolExecutor(
        max_workers=2, mp_context=spawn, initializer=exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        writing = pool.submit(dumps.write, settings.store, settings.snapshots_kept)
        syncing = pool.submit(_sync, settings.store, settings.base_iri)
        _print_sync(syncing.result(), quiet)
        _print_dumps(writing.result(), quiet)


def _write_dumps(settings: Settings, quiet: bool = False) -> None:
    from creative_graph import dumps

    _print_dumps(dumps.write(settings.store, settings.snapshots_kept), quiet)


def _print_dumps(files: list[DumpFile], quiet: bool) -> None:
    if files and not quiet:
        total = sum(f.bytes for f in files)
        err.print(f"dumps: {len(files)} files, {total:,} bytes, served at /dumps", highlight=False)


@app.command("dumps")
def write_dumps() -> None:
    """Write the downloadable dumps of the published graph (ingest does it after loading).

    For each named graph and for the whole graph: N-Quads and Turtle (gzip), plus a CSV of
    actors, in {STORE}/dumps/{snapshot}/ with their sizes and checksums; the server lists them
    at /dumps. Nothing is rewritten when the published snapshot already has its dumps.

    Example: creative-graph dumps
    """
    settings = Settings()
    _configure_logging(settings)
    _write_dumps(settings)


def _report(outcome: IngestOutcome, as_json: bool, show: int) -> int:
    """Print what happened to one source; return the exit code it deserves."""

    from ingest.report import as_json as outcome_json
    from ingest.report import summary

    if as_json:
        _print_json(outcome_json(outcome))
    else:
        for problem in outcome.violations[:show]:
            out.print(str(problem), markup=False, highlight=False)
        if len(outcome.violations) > show:
            out.print(f"... and {len(outcome.violations) - show} more (use --show to see them)")
    if outcome.status == "invalid":
        err.print(
            f"[red]{outcome.source}: invalid, nothing loaded[/red] — "
            f"{len(outcome.violations)} violation(s) in {outcome.records_read} records",
            highlight=False,
        )
        return EXIT_INVALID
    if not as_json:
        out.print(summary(outcome), markup=False, highlight=False)
    return EXIT_OK


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the declared sources with their last run, counts and status.

    Status: "up to date" when the files match the checksums of the last run, "changed" when
    they differ (run creative-graph ingest), "never ingested" otherwise.
    """

    from ingest.status import source_statuses

    settings = Settings()
    rows = source_statuses(settings, _declared_sources(settings))
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Sources declared under {settings.sources}")
    for column in ("source", "status", "last run", "actors", "triples", "title"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["source"], row["status"], row["last_run"] or "-", str(row["actors"]),
            str(row["triples"]), row["title"],
        )  # fmt: skip
    out.print(table)


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="RDF files in any format rdflib reads (.ttl, .nt, .jsonld, .rdf ...)."),
    ],
) -> None:
    """Validate RDF files against the project's SHACL shapes and print a readable report.

    Each file is validated on its own, together with the ontology and concept schemes (so
    types and concepts resolve). Exits 0 when every file conforms (warnings are reported but
    do not fail), 1 when any has a violation, 2 when a file cannot be read or parsed.

    Example: creative-graph validate ontology/examples/*.ttl
    """
    from creative_graph.iris import Iris
    from creative_graph.rdf_files import RdfFileError, read_rdf
    from creative_graph.validation import Validator

    validator = Validator.default()  # pySHACL, the reference implementation
    base = Iris(Settings().base_iri).base  # relative IRIs as an ingest resolves them
    worst = EXIT_OK
    for path in files:
        try:
            graph = read_rdf(path, base=base)
        except RdfFileError as error:
            err.print(f"[red]Cannot read[/red] {error}", highlight=False)
            worst = max(worst, EXIT_UNREADABLE)
            continue
        report = validator.validate(graph)
        if report.results:
            table = Table(title=str(path), show_lines=False)
            for column in ("severity", "focus node", "path", "value", "message"):
                table.add_column(column, overflow="fold")
            for result in report.results:
                table.add_row(
                    result.severity, result.focus_node, result.path, result.value, result.message
                )
            out.print(table)
        verdict = "conforms" if report.conforms else "does not conform"
        out.print(
            f"{path}: {verdict} ({len(report.violations)} violation(s), "
            f"{len(report.warnings)} warning(s)/info(s))",
            markup=False,
            highlight=False,
        )
        if not report.conforms:
            worst = max(worst, EXIT_INVALID)
    raise typer.Exit(worst)


@app.command()
def mqa(
    url: Annotated[
        str,
        typer.Argument(help="The catalogue's first page, as a portal would harvest it."),
    ] = "http://127.0.0.1:8000/catalog",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of text.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each page and each URL.")
    ] = 10.0,
) -> None:
    """Score a DCAT-AP catalogue as data.europa.eu's Metadata Quality Assessment would.

    Run it before asking a portal to harvest. It fetches every page (Hydra hydra:next) like
    a harvester, sends one HEAD request per access and download URL like the portal's URL
    checker (only 2xx counts, redirects are not followed), validates with the DCAT-AP 2.1.1
    shapes, and scores the 23 indicators of the five dimensions (Findability 100,
    Accessibility 100, Interoperability 110, Reusability 75, Contextuality 20 = 405). A
    dataset gets its own points plus those of its best distribution; the catalogue gets the
    rounded mean of its datasets. Excellent is 351-405, Good 221-350, Sufficient 121-220,
    Bad 0-120.

    For each dataset it prints the points per dimension, the best distribution, and each
    missing point with its reason (what was found, which URL answered what). Where the
    methodology is not public in full, the check is the stricter reading: docs/CATALOG.md.

    Exits 0 when the catalogue is Excellent, 1 when it scores less (or has no dataset), 2 when
    a page cannot be fetched or parsed.

    Example: creative-graph mqa http://127.0.0.1:8000/catalog --json
    """
    from creative_graph import harvest, mqa_report
    from creative_graph import mqa as methodology

    with harvest.client(timeout) as http:
        try:
            harvested = harvest.fetch(url, http)
        except harvest.HarvestError as error:
            err.print(f"[red]Cannot harvest[/red] {error}", highlight=False)
            raise typer.Exit(EXIT_UNREADABLE) from error
        statuses = harvest.check(methodology.urls(harvested.graph), http)
    result = methodology.score(harvested.graph, statuses)
    if as_json:
        _print_json(mqa_report.as_json(url, harvested, result))
    else:
        for line in mqa_report.lines(url, harvested, result):
            out.print(line, markup=False, highlight=False)
    excellent = result.datasets and result.band == "Excellent"
    raise typer.Exit(EXIT_OK if excellent else EXIT_INVALID)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: HOST setting, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind (default: PORT setting, 8000).")
    ] = None,
) -> None:
    """Serve the home page, the SPARQL endpoint (/sparql) and /healthz with uvicorn.

    The server reads the latest published snapshot of the store and picks up new ingests
    without a restart.

    Example: creative-graph serve --port 8765
    """
    import uvicorn

    from endpoint.app import create_app

    settings = Settings()
    _configure_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        # uvicorn formats each access line before its logger drops it: only when it is shown
        access_log=settings.log_level.lower() in ("trace", "debug", "info"),
    )


def main() -> None:
    app()
