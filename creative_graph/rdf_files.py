"""Reading RDF files of any format rdflib knows, with errors that name the file and line."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax import SAXException

from rdflib import Dataset, Graph
from rdflib.exceptions import Error as RdflibError
from rdflib.util import guess_format

_LINE_IN_MESSAGE = re.compile(r"line[ :]+(\d+)", re.IGNORECASE)
# What rdflib's parsers raise for bad input: BadSyntax (Turtle, TriG, N3) is a SyntaxError,
# N-Triples/N-Quads raise rdflib errors, RDF/XML SAX errors, JSON-LD ValueError (JSONDecodeError).
# Some inputs also trip rdflib's parsers into IndexError (Turtle cut mid-statement) or
# AttributeError/TypeError/NameError (JSON that is not JSON-LD): bad input all the same.
PARSE_ERRORS = (
    SyntaxError, RdflibError, SAXException, ValueError,
    IndexError, KeyError, AttributeError, TypeError, NameError,
)  # fmt: skip


class RdfFileError(Exception):
    """An RDF file cannot be read or parsed."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def _line_of(error: Exception, data: bytes, rdf_format: str) -> int | None:
    text, offset = getattr(error, "_str", None), getattr(error, "_i", None)
    if isinstance(text, bytes) and isinstance(offset, int):
        # BadSyntax's own line counter can run past the end of the file; its offset cannot.
        return text[:offset].count(b"\n") + 1
    get_line = getattr(error, "getLineNumber", None)  # xml.sax.SAXParseException (RDF/XML)
    if callable(get_line):
        return int(get_line())
    found = _LINE_IN_MESSAGE.search(str(error))
    if found:
        return int(found.group(1))
    if rdf_format in ("nt", "nquads"):  # line-based formats: find the first line that fails alone
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            try:
                (Graph() if rdf_format == "nt" else Dataset()).parse(data=line, format=rdf_format)
            except PARSE_ERRORS:
                return number
    return None


def read_rdf(path: Path, format: str | None = None, base: str | None = None) -> Graph:
    """Parse `path` (format guessed from its extension unless given) into a new graph.

    Relative IRIs resolve against `base` when given, else against the file's own `file:` URI;
    a base the file declares itself (`@base`, `xml:base`, JSON-LD `@base`) wins over either.
    Quads formats (TriG, N-Quads) are read as datasets and merged into one graph.
    """
    rdf_format = (
        format or guess_format(str(path)) or ("json-ld" if path.suffix == ".json" else None)
    )
    if rdf_format is None:
        raise RdfFileError(path, f"unknown RDF format for extension {path.suffix!r}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RdfFileError(path, f"cannot read: {error.strerror or error}") from error
    quads = rdf_format in ("trig", "nquads")
    target = Dataset() if quads else Graph()
    try:
        target.parse(data=data, format=rdf_format, publicID=base or path.resolve().as_uri())
    except PARSE_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        line = _line_of(error, data, rdf_format)
        raise RdfFileError(path, f"not valid {rdf_format}: {message}", line) from error
    if not quads:
        return target
    graph = Graph()
    for prefix, namespace in target.namespaces():
        graph.bind(prefix, namespace)
    for subject, predicate, obj, _ in target.quads():
        graph.add((subject, predicate, obj))
    return graph
