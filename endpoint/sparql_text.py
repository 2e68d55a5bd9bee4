"""SPARQL text read without a parser: the SERVICE calls and LOADs a request could make, an
update's own dataset clauses, and whether a query's answer may be reused.

pyoxigraph (spargebra 0.5) parses with a PEG grammar. Its keywords need no word boundary
(`SERVICE:x {`, `SERVICESILENT<...>{`, `?s ?p trueSERVICE<...>{` are calls), a comment runs to
the next CR or LF, and `<` starts an IRI or is the less-than operator depending on what came
before it. So what the server must refuse is not found by imitating one reading of the text,
but by over-approximating every reading the parser could make:

1. every place where the letters SERVICE (LOAD) occur in any ASCII case, followed by what the
   grammar requires after the keyword (`[SILENT] target {`; `[SILENT] target`), is a candidate;
2. a candidate is dropped only when no reading puts it in code: the text is lexed along all
   its readings at once (both meanings of each `<` that follows an operand inside parentheses),
   and a candidate inside a comment, a string or an IRI in every reading is not a call.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

# comments, strings and IRIs, read as wholes. Other tokens hold none of their first characters
# (#, quotes, <) but alone, where no whole matched: a scan for the wholes alone finds the same
_WHOLES = r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
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

# what the grammar skips between tokens: white space (these four characters only) and comments
_SPACE = re.compile(r"[ \t\r\n]+")
_GAP = re.compile(r"(?:[ \t\r\n]+|\#[^\r\n]*)*")
_LINE_ENDS = re.compile(r"[\r\n]")
# names, keywords, variables, numbers: never a comment, string or IRI, whatever they hold
_RUN = re.compile(r"""(?:\\\S|[^\s#'"<>(){}\[\],;=!&|^*/+\\])+""")
_LEX = re.compile(
    r"""(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                   |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
      | (?P<run>"""
    + _RUN.pattern
    + r""")
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
# a variable, a little wider than the grammar's: no keyword ever starts inside one
_VARIABLE = re.compile(r"[?$][\w\u00B7\u0300-\u036F\u203F\u2040]+")
# a SERVICE or LOAD target other than an IRI: a variable or prefixed name (its escapes too)
_NAME = re.compile(r"(?:\\\S|[^\s#{<\\])+")
_MAX_READINGS = 30_000  # lexer states (each ~10 us); past it every candidate counts


def _letters(word: str) -> str:
    """A pattern for `word` in any ASCII case (the parser's `eq_ignore_ascii_case`)."""
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


_SERVICE = re.compile(_letters("SERVICE"))
_LOAD = re.compile(_letters("LOAD"))
_SILENT = re.compile(_letters("SILENT"))
_SKIP = r"(?:[ \t\r\n]++|\#[^\r\n]*+)*+"
# one regex for short texts, whose searches stay short: no such place, no candidate
_SERVICE_CALL = re.compile(
    f"{_SERVICE.pattern}{_SKIP}(?:{_SILENT.pattern}{_SKIP})?(?:<[^>]*>|{_NAME.pattern}+){_SKIP}\\{{"
)
_SHORT = 1_024  # in longer texts the search could take quadratic time
_VOLATILE_NAME = re.compile("|".join(_letters(w) for w in ("RAND", "NOW", "UUID", "BNODE")))
_VOLATILE_CALL = re.compile(f"(?:{_VOLATILE_NAME.pattern})[ \\t\\r\\n]*\\(")


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


class _Reading:
    """Lookups over one text that candidates would otherwise repeat: each is linear in total."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._gaps: dict[int, int] = {}
        self._closers = [m.start() for m in re.finditer(">", text)]
        self._line_ends = [m.start() for m in _LINE_ENDS.finditer(text)]
        self._name = (0, 0)  # the last name read
        self._variables: tuple[list[int], list[int]] | None = None

    def after_gap(self, at: int) -> int:
        """Where the white space and comments starting at `at` end."""
        text, visited = self.text, []
        while at not in self._gaps:
            visited.append(at)
            if at < len(text) and text[at] == "#":
                ends = self._line_ends
                following = bisect_left(ends, at)
                at = ends[following] if following < len(ends) else len(text)
            elif (space := _SPACE.match(text, at)) is not None:
                at = space.end()
            else:
                self._gaps[at] = at
        end = self._gaps[at]
        for place in visited:
            self._gaps[place] = end
        return end

    def target_end(self, at: int) -> int | None:
        """Where the IRI or other name starting at `at` ends (None: no target there)."""
        if self.text.startswith("<", at):
            following = bisect_left(self._closers, at)
            return self._closers[following] + 1 if following < len(self._closers) else None
        start, end = self._name
        if not start <= at < end:  # a new name, not the rest of the last one: scanned once
            name = _NAME.match(self.text, at)
            if name is None:
                return None
            start, end = self._name = at, name.end()
        return end

    def in_variable(self, at: int) -> bool:
        """Whether `at` is inside a variable's name (past its `?` or `$`)."""
        if self._variables is None:
            found = list(_VARIABLE.finditer(self.text))
            self._variables = [m.start() for m in found], [m.end() for m in found]
        starts, ends = self._variables
        index = bisect_left(starts, at) - 1
        return index >= 0 and ends[index] > at

    def calls(
        self, keyword: re.Pattern[str], size: int, group: bool
    ) -> list[tuple[int, str, bool]]:
        """(place, target, is IRI) of each `keyword [SILENT] target` (then `{` if `group`)."""
        found = []
        for match in keyword.finditer(self.text):  # keywords never overlap themselves
            if self.in_variable(match.start()):  # `?service {`: a variable, whatever follows
                continue
            after = self.after_gap(match.start() + size)
            starts = [after]
            if _SILENT.match(self.text, after):
                starts.insert(0, self.after_gap(after + 6))
            for start in starts:
                end = self.target_end(start)
                if end is not None and (
                    not group or self.text.startswith("{", self.after_gap(end))
                ):
                    is_iri = self.text.startswith("<", start)
                    name = self.text[start + 1 : end - 1] if is_iri else self.text[start:end]
                    found.append((match.start(), name, is_iri))
        return found


def _runs_read(text: str) -> set[tuple[int, int, str | None, bool]] | None:
    """Every run of name characters in any reading of `text`, with the token before it (None,
    ';', 'iri', 'operand' or 'open') and whether it is outside all brackets; None when the
    readings are too many to follow (then anything may be code)."""
    runs: set[tuple[int, int, str | None, bool]] = set()
    seen: set[tuple[int, str, str | None]] = set()
    closers = [m.start() for m in re.finditer(">", text)]
    todo: list[tuple[int, str, str | None]] = [(0, "", None)]
    while todo:
        at, stack, before = todo.pop()
        at = _GAP.match(text, at).end()  # type: ignore[union-attr]
        if at >= len(text) or (at, stack, before) in seen:
            continue
        seen.add((at, stack, before))
        if len(seen) > _MAX_READINGS:
            return None
        if text[at] == "<":
            following = bisect_left(closers, at)
            iri_end = closers[following] + 1 if following < len(closers) else None
            if stack.endswith("(") and before in ("operand", "iri"):
                # after an operand inside parentheses: less-than, or an IRI (a list, VALUES)
                todo.append((at + 1, stack, "open"))
                if iri_end is not None:
                    todo.append((iri_end, stack, "iri"))
            elif text.startswith("<<", at):
                todo.append((at + 2, stack, "open"))
            else:
                todo.append((iri_end, stack, "iri") if iri_end else (at + 1, stack, "open"))
            continue
        match = _LEX.match(text, at)
        assert match is not None
        kind, end, char = match.lastgroup, match.end(), match.group()
        if kind == "run":
            runs.add((at, end, before, not stack))
            todo.append((end, stack, "operand"))
        elif kind == "string" or char in ")]}>":
            todo.append((end, stack[:-1] if char in ")]}" else stack, "operand"))
        else:
            opened = stack + char if char in "([{" else stack
            todo.append((end, opened, ";" if char == ";" else "open"))
    return runs


def _in_code(text: str, calls: list[tuple[int, str, bool]], statement: bool) -> list[int]:
    """The places of `calls` that some reading puts in code (`statement`: at the start of an
    operation, as LOAD must be: first, after `;` or after the prologue's IRIs)."""
    runs = _runs_read(text)
    if runs is None:
        return [place for place, _, _ in calls]
    if statement:
        starts = {start for start, _, before, top in runs if top and before in (None, ";", "iri")}
        return [place for place, _, _ in calls if place in starts]
    merged: list[list[int]] = []  # the runs of all readings, overlapping ones joined
    for start, end in sorted((start, end) for start, end, _, _ in runs):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    starts = [start for start, _ in merged]
    code = []
    for place, _, _ in calls:
        index = bisect_right(starts, place) - 1
        if index >= 0 and merged[index][1] > place:
            code.append(place)
    return code


def service_targets(text: str) -> list[tuple[str, bool]]:
    """Each `SERVICE [SILENT] target {` pyoxigraph could read in `text`, in order: (the IRI
    without brackets, True) or (the variable or prefixed name written, False)."""
    if _SERVICE.search(text) is None:  # most queries
        return []
    if len(text) <= _SHORT and _SERVICE_CALL.search(text) is None:
        return []
    calls = _Reading(text).calls(_SERVICE, 7, group=True)
    if not calls:
        return []
    code = set(_in_code(text, calls, statement=False))
    return [(target, is_iri) for place, target, is_iri in calls if place in code]


def load_targets(text: str) -> list[tuple[str, bool]]:
    """Each `LOAD [SILENT] iri` pyoxigraph could read in the update `text`, in order."""
    if _LOAD.search(text) is None:
        return []
    calls = _Reading(text).calls(_LOAD, 4, group=False)
    if not calls:
        return []
    code = set(_in_code(text, calls, statement=True))
    return [(target, is_iri) for place, target, is_iri in calls if place in code]


def targets_of(text: str, keyword: str) -> list[tuple[str, bool]]:
    """What follows each `SERVICE` or `LOAD` the parser could read: `service_targets`,
    `load_targets`."""
    if keyword == "SERVICE":
        return service_targets(text)
    if keyword == "LOAD":
        return load_targets(text)
    raise ValueError(f"no reading of {keyword!r}: only SERVICE and LOAD")


@lru_cache(maxsize=256)  # asked for every request, with the same few texts
def varies(text: str) -> bool:
    """Whether two runs of the query on the same data may answer differently: it calls RAND,
    NOW, UUID, STRUUID or BNODE, or another server (SERVICE)."""
    if _VOLATILE_NAME.search(text) and _VOLATILE_CALL.search(_WHOLE.sub(" ", text)):
        return True
    return bool(service_targets(text))


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
