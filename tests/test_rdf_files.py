"""Reading RDF files of any format, with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from creative_graph.rdf_files import RdfFileError, read_rdf

EX = "http://example.org/"

TURTLE = """\
@prefix ex: <http://example.org/> .
ex:a ex:name "A" ;
    ex:knows ex:b .
"""
NTRIPLES = """\
<http://example.org/a> <http://example.org/name> "A" .
<http://example.org/a> <http://example.org/knows> <http://example.org/b> .
"""
RDFXML = """\
<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a">
    <ex:name>A</ex:name>
    <ex:knows rdf:resource="http://example.org/b"/>
  </rdf:Description>
</rdf:RDF>
"""
JSONLD = """\
{
  "@context": {"ex": "http://example.org/"},
  "@id": "ex:a",
  "ex:name": "A",
  "ex:knows": {"@id": "ex:b"}
}
"""
TRIG = """\
@prefix ex: <http://example.org/> .
ex:a ex:name "A" .
ex:g1 { ex:a ex:knows ex:b . }
ex:g2 { ex:a ex:knows ex:b . ex:b ex:name "B" . }
"""
NQUADS = """\
<http://example.org/a> <http://example.org/name> "A" .
<http://example.org/a> <http://example.org/knows> <http://example.org/b> <http://example.org/g1> .
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("data.ttl", TURTLE),
        ("data.nt", NTRIPLES),
        ("data.rdf", RDFXML),
        ("data.jsonld", JSONLD),
        ("data.json", JSONLD),
        ("data.nq", NQUADS),
    ],
)
def test_valid_file_is_read_with_all_its_triples(tmp_path, name, text):
    graph = read_rdf(write(tmp_path, name, text))
    assert set(graph) == {
        (URIRef(EX + "a"), URIRef(EX + "name"), Literal("A")),
        (URIRef(EX + "a"), URIRef(EX + "knows"), URIRef(EX + "b")),
    }


def test_trig_graphs_are_merged_into_one_graph(tmp_path):
    graph = read_rdf(write(tmp_path, "data.trig", TRIG))
    # 4 statements, one of them in two graphs: merging keeps it once.
    assert len(graph) == 3
    assert (URIRef(EX + "b"), URIRef(EX + "name"), Literal("B")) in graph


def test_trig_prefixes_are_kept_on_the_merged_graph(tmp_path):
    graph = read_rdf(write(tmp_path, "data.trig", TRIG))
    assert dict(graph.namespaces())["ex"] == URIRef(EX)


def test_explicit_format_overrides_the_extension(tmp_path):
    graph = read_rdf(write(tmp_path, "data.txt", TURTLE), format="turtle")
    assert len(graph) == 2


def test_relative_iris_resolve_against_the_file(tmp_path):
    path = write(tmp_path, "doc.ttl", '<#it> <#name> "It" .\n')
    (subject,) = read_rdf(path).subjects()
    assert subject == URIRef(path.resolve().as_uri() + "#it")


def test_empty_turtle_file_is_an_empty_graph(tmp_path):
    assert len(read_rdf(write(tmp_path, "empty.ttl", ""))) == 0


def test_turtle_error_names_the_file_and_line(tmp_path):
    path = write(
        tmp_path,
        "bad.ttl",
        '@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "unterminated .\n'
        "ex:d ex:e ex:f .\n",
    )
    with pytest.raises(RdfFileError) as caught:
        read_rdf(path)
    assert caught.value.line == 3
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert str(caught.value).startswith(f"{path}:3: ")


def test_turtle_error_after_a_multi_line_literal_counts_its_lines(tmp_path):
    text = (
        '@prefix ex: <http://example.org/> .\nex:a ex:b """one\ntwo\nthree""" ;\n  ex:c nope:d .\n'
    )
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.ttl", text))
    assert caught.value.line == 5


def test_undeclared_prefix_on_the_first_line(tmp_path):
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.ttl", "ex:a ex:b ex:c .\n"))
    assert caught.value.line == 1


def test_ntriples_error_on_the_second_line(tmp_path):
    lines = NTRIPLES.splitlines()
    text = f'{lines[0]}\n<http://example.org/a> <http://example.org/b> "broken\n{lines[1]}\n'
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.nt", text))
    assert caught.value.line == 2


def test_ntriples_error_line_counts_blank_and_comment_lines(tmp_path):
    lines = NTRIPLES.splitlines()
    text = f"{lines[0]}\n\n# a comment\n<http://example.org/a> <http://example.org/b> .\n"
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.nt", text))
    assert caught.value.line == 4


def test_nquads_error_line(tmp_path):
    text = (
        NQUADS + "<http://example.org/a> <http://example.org/b> <http://example.org/c> <g> <x> .\n"
    )
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.nq", text))
    assert caught.value.line == 3


def test_rdfxml_mismatched_tag_gives_its_line(tmp_path):
    text = RDFXML.replace("<ex:name>A</ex:name>", "<ex:name>A</ex:nom>")
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.rdf", text))
    assert caught.value.line == 5


def test_jsonld_syntax_error_names_the_file(tmp_path):
    path = write(tmp_path, "bad.jsonld", JSONLD.replace('"ex:name": "A",', '"ex:name": "A"'))
    with pytest.raises(RdfFileError) as caught:
        read_rdf(path)
    assert str(path) in str(caught.value)
    assert caught.value.line == 5


def test_unknown_extension_is_an_rdf_file_error(tmp_path):
    path = write(tmp_path, "data.xyz", TURTLE)
    with pytest.raises(RdfFileError) as caught:
        read_rdf(path)
    assert ".xyz" in str(caught.value)
    assert caught.value.line is None


def test_missing_file_is_an_rdf_file_error_not_an_os_error(tmp_path):
    path = tmp_path / "missing.ttl"
    with pytest.raises(RdfFileError) as caught:
        read_rdf(path)
    assert not isinstance(caught.value, OSError)
    assert str(path) in str(caught.value)


def test_directory_is_an_rdf_file_error(tmp_path):
    directory = tmp_path / "folder.ttl"
    directory.mkdir()
    with pytest.raises(RdfFileError):
        read_rdf(directory)


def test_file_that_is_not_utf8_is_an_rdf_file_error(tmp_path):
    path = tmp_path / "latin1.ttl"
    path.write_bytes(
        '<http://example.org/a> <http://example.org/b> "Théâtre" .\n'.encode("latin-1")
    )
    with pytest.raises(RdfFileError) as caught:
        read_rdf(path)
    assert str(path) in str(caught.value)


def test_turtle_error_line_is_within_the_file(tmp_path):
    text = "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b \n.\n"
    with pytest.raises(RdfFileError) as caught:
        read_rdf(write(tmp_path, "bad.ttl", text))
    assert caught.value.line in (3, 4)


def test_truncated_turtle_file_is_an_rdf_file_error(tmp_path):
    text = '@prefix ex: <http://example.org/> .\nex:a ex:name "A"'
    with pytest.raises(RdfFileError):
        read_rdf(write(tmp_path, "cut.ttl", text))


@pytest.mark.parametrize(
    "text",
    [
        '{"@context": 5, "@id": "http://example.org/a"}',
        '{"@context": {"n": "http://example.org/n"}, "@id": "http://example.org/a",'
        ' "n": {"@value": "A", "@language": 5}}',
        '"just a string"',
    ],
    ids=["context-number", "language-number", "top-level-string"],
)
def test_json_that_is_not_jsonld_is_an_rdf_file_error(tmp_path, text):
    with pytest.raises(RdfFileError):
        read_rdf(write(tmp_path, "odd.jsonld", text))
