"""The structure the OAI-PMH 2.0 XML schema (OAI-PMH.xsd) gives a response, checked by hand.

No schema library is installed and nothing is fetched, so the rules that apply to this
repository's responses are written out here: the order and number of every element of the
envelope and of each verb's answer, the enumerations (verbs, error codes, deletedRecord,
granularity), the patterns (emailType, metadataPrefixType, UTC datestamps) and the attributes
each element may carry. `problems(root)` lists every departure; a valid response gives [].
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

OAI = "{http://www.openarchives.org/OAI/2.0/}"
VERBS = {"Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers",
         "ListRecords"}  # fmt: skip
ERROR_CODES = {"cannotDisseminateFormat", "idDoesNotExist", "badArgument", "badVerb",
               "noMetadataFormats", "noRecordsMatch", "badResumptionToken", "noSetHierarchy"}  # fmt: skip
REQUEST_ATTRIBUTES = {"verb", "identifier", "metadataPrefix", "from", "until", "set",
                      "resumptionToken"}  # fmt: skip
EMAIL = re.compile(r"\S+@(\S+\.)+\S+")
PREFIX = re.compile(r"[A-Za-z0-9\-_\.!~\*'\(\)]+")
SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
UTC_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?")


def _local(element: Element) -> str:
    return element.tag.removeprefix(OAI) if element.tag.startswith(OAI) else element.tag


def _is_uri(text: str | None) -> bool:
    return bool(text) and " " not in text and bool(urlsplit(text).scheme)  # type: ignore[arg-type]


def _sequence(
    parent: Element, expected: list[tuple[str, int, int | None]], where: str
) -> list[str]:
    """Children of `parent` in the order and number `expected` gives (name, min, max)."""
    found = []
    children = list(parent)
    for child in children:
        if not child.tag.startswith(OAI):
            found.append(f"{where}: <{child.tag}> is not in the OAI-PMH namespace")
    names = [_local(c) for c in children]
    index = 0
    for name, low, high in expected:
        count = 0
        while index < len(names) and names[index] == name:
            index, count = index + 1, count + 1
        if count < low or (high is not None and count > high):
            found.append(f"{where}: {count} <{name}>, the schema wants {low}..{high or 'n'}")
    if index < len(names):
        found.append(f"{where}: <{names[index]}> is not allowed there")
    return found


def _attributes(element: Element, allowed: set[str], where: str) -> list[str]:
    extra = (
        set(element.attrib)
        - allowed
        - {"{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"}
    )
    return [f"{where}: attribute {name} is not allowed" for name in sorted(extra)]


def _text(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def _header(header: Element, where: str) -> list[str]:
    found = _sequence(header, [("identifier", 1, 1), ("datestamp", 1, 1), ("setSpec", 0, None)],
                      where)  # fmt: skip
    found += _attributes(header, {"status"}, where)
    if header.get("status") not in (None, "deleted"):
        found.append(f"{where}: status must be 'deleted'")
    identifier = header.find(f"{OAI}identifier")
    if identifier is not None and not _is_uri(identifier.text):
        found.append(f"{where}: identifier {identifier.text!r} is not a URI")
    datestamp = _text(header.find(f"{OAI}datestamp"))
    if not SECONDS.fullmatch(datestamp):  # the granularity Identify declares
        found.append(f"{where}: datestamp {datestamp!r} is not YYYY-MM-DDThh:mm:ssZ")
    return found


def _record(record: Element, where: str) -> list[str]:
    found = _sequence(record, [("header", 1, 1), ("metadata", 0, 1), ("about", 0, None)], where)
    header = record.find(f"{OAI}header")
    if header is not None:
        found += _header(header, where + "/header")
    metadata = record.find(f"{OAI}metadata")
    if metadata is not None:
        payload = list(metadata)
        if len(payload) != 1 or payload[0].tag.startswith(OAI) or "}" not in payload[0].tag:
            found.append(f"{where}/metadata: one element of another namespace, the schema says")
        if (metadata.text or "").strip():
            found.append(f"{where}/metadata: text outside the metadata element")
    return found


def _resumption(parent: Element, where: str) -> list[str]:
    token = parent.find(f"{OAI}resumptionToken")
    if token is None:
        return []
    found = _attributes(token, {"expirationDate", "completeListSize", "cursor"}, where)
    size, cursor = token.get("completeListSize"), token.get("cursor")
    if size is not None and not (size.isdigit() and int(size) > 0):
        found.append(f"{where}: completeListSize {size!r} is not a positive integer")
    if cursor is not None and not cursor.isdigit():
        found.append(f"{where}: cursor {cursor!r} is not a non-negative integer")
    return found


def _identify(identify: Element) -> list[str]:
    where = "Identify"
    found = _sequence(identify, [
        ("repositoryName", 1, 1), ("baseURL", 1, 1), ("protocolVersion", 1, 1),
        ("adminEmail", 1, None), ("earliestDatestamp", 1, 1), ("deletedRecord", 1, 1),
        ("granularity", 1, 1), ("compression", 0, None), ("description", 0, None),
    ], where)  # fmt: skip
    if not _is_uri(_text(identify.find(f"{OAI}baseURL"))):
        found.append(f"{where}: baseURL is not a URI")
    if _text(identify.find(f"{OAI}protocolVersion")) != "2.0":
        found.append(f"{where}: protocolVersion must be 2.0")
    for email in identify.findall(f"{OAI}adminEmail"):
        if not EMAIL.fullmatch(_text(email)):
            found.append(f"{where}: adminEmail {email.text!r} does not match emailType")
    if not UTC_DATETIME.fullmatch(_text(identify.find(f"{OAI}earliestDatestamp"))):
        found.append(f"{where}: earliestDatestamp is not a UTC date or datetime")
    if _text(identify.find(f"{OAI}deletedRecord")) not in ("no", "persistent", "transient"):
        found.append(f"{where}: deletedRecord is not no, persistent or transient")
    if _text(identify.find(f"{OAI}granularity")) not in ("YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ"):
        found.append(f"{where}: granularity is not one of the two the schema allows")
    return found


def _verb(element: Element) -> list[str]:
    verb = _local(element)
    if verb == "Identify":
        return _identify(element)
    if verb == "ListMetadataFormats":
        found = _sequence(element, [("metadataFormat", 1, None)], verb)
        for number, fmt in enumerate(element.findall(f"{OAI}metadataFormat")):
            where = f"{verb}/metadataFormat[{number}]"
            found += _sequence(fmt, [("metadataPrefix", 1, 1), ("schema", 1, 1),
                                     ("metadataNamespace", 1, 1)], where)  # fmt: skip
            if not PREFIX.fullmatch(_text(fmt.find(f"{OAI}metadataPrefix"))):
                found.append(f"{where}: metadataPrefix does not match metadataPrefixType")
            for name in ("schema", "metadataNamespace"):
                if not _is_uri(_text(fmt.find(f"{OAI}{name}"))):
                    found.append(f"{where}: {name} is not a URI")
        return found
    if verb == "GetRecord":
        found = _sequence(element, [("record", 1, 1)], verb)
        return found + [p for r in element.findall(f"{OAI}record") for p in _record(r, verb)]
    if verb in ("ListRecords", "ListIdentifiers"):
        item = "record" if verb == "ListRecords" else "header"
        found = _sequence(element, [(item, 1, None), ("resumptionToken", 0, 1)], verb)
        for number, child in enumerate(element.findall(f"{OAI}{item}")):
            check = _record if item == "record" else _header
            found += check(child, f"{verb}/{item}[{number}]")
        return found + _resumption(element, verb)
    return [f"<{verb}> is not a verb's answer"]


def problems(root: Element) -> list[str]:
    """Every way the response `root` departs from the OAI-PMH 2.0 schema's rules."""
    if root.tag != f"{OAI}OAI-PMH":
        return [f"the root is <{root.tag}>, not <OAI-PMH>"]
    children = list(root)
    names = [_local(c) for c in children]
    found = []
    if names[:2] != ["responseDate", "request"]:
        return [f"the envelope starts with {names[:2]}, not responseDate, request"]
    if not SECONDS.fullmatch(_text(children[0])):
        found.append(f"responseDate {children[0].text!r} is not YYYY-MM-DDThh:mm:ssZ")
    request = children[1]
    found += _attributes(request, REQUEST_ATTRIBUTES, "request")
    if request.get("verb") not in (None, *VERBS):
        found.append(f"request: verb {request.get('verb')!r} is not a verb")
    if not _is_uri(request.text):
        found.append("request: its content is not the base URL")
    rest = children[2:]
    if rest and all(_local(c) == "error" for c in rest):
        for error in rest:
            found += _attributes(error, {"code"}, "error")
            if error.get("code") not in ERROR_CODES:
                found.append(f"error: code {error.get('code')!r} is not an OAI-PMH error code")
        return found
    if len(rest) != 1 or _local(rest[0]) not in VERBS:
        return [*found, f"after request: {[_local(c) for c in rest]}, not errors or one verb"]
    return found + _verb(rest[0])
