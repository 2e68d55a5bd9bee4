"""A Mermaid class diagram of the model, generated from the SHACL shapes (docs/MODEL.md embeds it).

Run `python -m creative_graph.model_diagram` to print it; `make docs` rewrites docs/MODEL.md.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS, SH

import ontology
import shapes

BEGIN, END = "<!-- model-diagram:begin -->", "<!-- model-diagram:end -->"
ACTOR = URIRef("https://w3id.org/creative-graph/shapes#IsActor")


def _name(graph: Graph, term: URIRef) -> str:
    return graph.namespace_manager.normalizeUri(term).replace(":", "_")


def _path(graph: Graph, node: object) -> str | None:
    if isinstance(node, URIRef):
        return graph.namespace_manager.normalizeUri(node)
    alternatives = graph.value(node, SH.alternativePath) if node is not None else None
    if alternatives is not None:
        return " or ".join(
            graph.namespace_manager.normalizeUri(p) for p in Collection(graph, alternatives)
        )
    return None


def mermaid(graph: Graph | None = None, model: Graph | None = None) -> str:
    """Classes are the shapes' target classes; arrows are properties whose values have a class."""
    graph = graph or shapes.graph()
    model = model or Graph().parse(ontology.ONTOLOGY_FILE)
    lines = ["classDiagram"]
    edges: set[str] = set()
    classes = sorted({_name(graph, t) for t in graph.objects(None, SH.targetClass)})
    for node_shape in sorted(graph.subjects(SH.targetClass, None)):
        target = graph.value(node_shape, SH.targetClass)
        source = _name(graph, target)
        attributes: set[str] = set()
        related: set[str] = set()
        for prop in graph.objects(node_shape, SH.property):
            path = _path(graph, graph.value(prop, SH.path))
            if path is None:
                continue
            range_class = graph.value(prop, SH["class"])
            node = graph.value(prop, SH.node)
            if range_class is not None:
                edges.add(f"    {source} --> {_name(graph, range_class)} : {path}")
            elif node == ACTOR:
                edges.add(f"    {source} --> Actor : {path}")
            elif node is not None and str(node).endswith("Scheme"):
                edges.add(f"    {source} --> skos_Concept : {path}")
            elif node is not None:
                edges.add(f"    {source} --> {str(node).rsplit('#', 1)[-1]} : {path}")
            else:
                attributes.add(path)
                continue
            related.add(path)
        lines.append(f"    class {source}")
        lines.extend(f"    {source} : {attribute}" for attribute in sorted(attributes - related))
    for subclass, superclass in model.subject_objects(RDFS.subClassOf):
        if _name(model, subclass) in classes:
            edges.add(f"    {_name(model, superclass)} <|-- {_name(model, subclass)}")
    edges.add("    org_Organization <|-- org_OrganizationalCollaboration")
    lines.append("    class Actor")
    lines.append('    note for Actor "org:Organization or foaf:Person"')
    lines.extend(sorted(edges))
    return "\n".join(lines)


def embed(document: str, diagram: str) -> str:
    """`document` with the text between the diagram markers replaced by `diagram`."""
    block = f"{BEGIN}\n```mermaid\n{diagram}\n```\n{END}"
    return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, document, flags=re.S)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--write":
        target = Path(argv[1])
        target.write_text(embed(target.read_text(encoding="utf-8"), mermaid()), encoding="utf-8")
    else:
        print(mermaid())


if __name__ == "__main__":
    main(sys.argv[1:])
