"""SPARQL text read token by token: IRIs, strings and comments are skipped as wholes.

Enough to find what a query or update names at its top level (SERVICE targets, LOAD sources,
USING and WITH clauses) without a full parser, and to add `USING` clauses to an update.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# comments, strings and IRIs, read as wholes. Other tokens hold none of their first characters
# (#, quotes, <) but alone, where no whole matched: a scan for the wholes alone finds the same
_WHOLES = r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\s]*>)
"""
_TOKEN = re.compile(
    _WHOLES
    + r"""
    | (?P<word>[A-Za-z_][\w\-.:]*|[?$]\w+)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)
_WHOLE = re.compile(_WHOLES, re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, word or other
    text: str
    start: int
    depth: int  # how many { } blocks it is inside

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of SPARQL text (comments left out), with their nesting depth."""
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("comment", None):
            continue
        value = match.group()
        if value == "}":
            depth -= 1
        yield Token(kind, value, match.start(), depth)
        if value == "{":
            depth += 1


def targets_of(text: str, keyword: str) -> list[tuple[str, bool]]:
    """What follows each `keyword [SILENT]`: (the IRI without brackets, True) or (token, False)."""
    # A keyword token upper-cased is the keyword, so the text upper-cased (character by
    # character) holds it, outside comments, strings and IRIs: most queries never name it
    # there, and are not tokenised (every query is checked for SERVICE)
    if keyword not in text.upper() or keyword not in _WHOLE.sub(" ", text).upper():
        return []
    found = [
        (match.lastgroup, match.group())
        for match in _TOKEN.finditer(text)
        if match.lastgroup not in ("comment", None)
    ]
    targets = []
    for index, (kind, value) in enumerate(found):
        if kind != "word" or value.upper() != keyword:
            continue
        following = found[index + 1 : index + 3]
        if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
            following = following[1:]
        if not following:
            targets.append(("", False))
        elif following[0][0] == "iri":
            targets.append((following[0][1][1:-1], True))
        else:
            targets.append((following[0][1], False))
    return targets


def has_dataset_clause(update: str) -> bool:
    """Whether an update names its own dataset (`USING`, `USING NAMED` or `WITH`)."""
    return any(t.depth == 0 and t.keyword in ("USING", "WITH") for t in tokens(update))


def with_dataset(update: str, default: Sequence[str], named: Sequence[str]) -> str:
    """`update` with `USING <g>` / `USING NAMED <g>` added to each `... WHERE` operation.

    What the SPARQL 1.1 Protocol's `using-graph-uri` and `using-named-graph-uri` mean. The
    IRIs must have been checked (no `>` or spaces). `DELETE WHERE { }` takes no USING clause
    and is left as written.
    """
    clause = "".join(f"USING <{g}> " for g in default) + "".join(
        f"USING NAMED <{g}> " for g in named
    )
    parts, last, previous = [], 0, ""
    for token in tokens(update):
        if token.depth == 0 and token.keyword == "WHERE" and previous != "DELETE":
            parts += [update[last : token.start], clause]
            last = token.start
        previous = token.keyword
    return "".join(parts) + update[last:]
