"""OAI-PMH 2.0 at `/oai`: the catalogue's datasets as records, the interface data.europa.eu prefers.

Verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord, by GET
or POST (form). Formats: `dcat_ap` (the dataset and everything reachable from it, as RDF/XML,
what piveau's OAI-PMH importer parses) and `oai_dc` (Dublin Core, which the protocol requires
of every repository). No sets. Datestamps are the datasets' `dct:modified`, to the second.
Lists are cut into pages of `CATALOG_PAGE_SIZE` records with resumption tokens. Protocol
errors are answered as the specification says: HTTP 200 with an `<error code="...">`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Request
from fastapi.responses import Response
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from endpoint.catalog import Catalog, reachable

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FORMATS = {
    "dcat_ap": ("https://semiceu.github.io/DCAT-AP/releases/2.1.1/", "http://www.w3.org/ns/dcat#"),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
}  # fmt: skip
ARGUMENTS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Item:
    identifier: str
    dataset: URIRef
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ


def _stamp(value: object) -> str:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bound(value: str | None, name: str, end: bool) -> str | None:
    if value is None:
        return None
    if _SECOND.match(value):
        return value
    if _DAY.match(value):
        return value + ("T23:59:59Z" if end else "T00:00:00Z")
    raise OaiError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


class Repository:
    def __init__(self, reader: StoreReader, catalog: Catalog, settings: Settings) -> None:
        self.reader, self.catalog, self.settings = reader, catalog, settings
        self.host = urlsplit(settings.base_iri).hostname or "localhost"

    def graph(self) -> Graph:
        return self.catalog.graph(self.reader.snapshot)

    def items(self, full: Graph) -> list[Item]:
        found = []
        for dataset in full.subjects(RDF.type, DCAT.Dataset):
            name = full.value(dataset, DCTERMS.identifier)
            modified = full.value(dataset, DCTERMS.modified)
            if name is None or modified is None:
                continue
            found.append(Item(f"oai:{self.host}:{name}", dataset, _stamp(modified)))  # type: ignore[arg-type]
        return sorted(found, key=lambda i: (i.datestamp, i.identifier))

    def metadata(self, full: Graph, item: Item, prefix: str) -> str:
        if prefix == "dcat_ap":
            catalog = URIRef(self.settings.base_iri + "catalog")
            others = set(full.subjects(RDF.type, DCAT.Dataset)) - {item.dataset}
            record = reachable(full, [item.dataset], {catalog, *others}, Graph())
            record.namespace_manager = full.namespace_manager
            xml = record.serialize(format="xml")
            return xml.split("?>", 1)[1].strip() if xml.startswith("<?xml") else xml
        fields = [
            ("title", DCTERMS.title), ("description", DCTERMS.description),
            ("subject", DCAT.keyword), ("date", DCTERMS.modified),
        ]  # fmt: skip
        parts = [f"<dc:identifier>{escape(str(item.dataset))}</dc:identifier>"]
        parts.append("<dc:type>Dataset</dc:type>")
        for name, predicate in fields:
            for value in sorted(str(v) for v in full.objects(item.dataset, predicate)):
                parts.append(f"<dc:{name}>{escape(value)}</dc:{name}>")
        for publisher in full.objects(item.dataset, DCTERMS.publisher):
            for name in full.objects(publisher, FOAF.name):
                parts.append(f"<dc:publisher>{escape(str(name))}</dc:publisher>")
        for licence in full.objects(item.dataset, DCTERMS.license):
            parts.append(f"<dc:rights>{escape(str(licence))}</dc:rights>")
        return (
            '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'xsi:schemaLocation="{FORMATS["oai_dc"][1]} {FORMATS["oai_dc"][0]}">'
            + "".join(parts)
            + "</oai_dc:dc>"
        )


def _arguments(pairs: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            raise OaiError("badArgument", f"the argument {key} appears more than once")
        seen[key] = value
    verb = seen.pop("verb", None)
    if verb not in ARGUMENTS:
        raise OaiError(
            "badVerb", "missing or unknown verb" if verb is None else f"unknown verb {verb}"
        )
    required, optional = ARGUMENTS[verb]
    if "resumptionToken" in seen:
        extra = set(seen) - {"resumptionToken"}
        if extra:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
    else:
        missing = required - set(seen)
        if missing:
            raise OaiError("badArgument", f"missing argument(s): {', '.join(sorted(missing))}")
    illegal = set(seen) - required - optional
    if illegal:
        raise OaiError(
            "badArgument", f"illegal argument(s) for {verb}: {', '.join(sorted(illegal))}"
        )
    return verb, seen


def _token(state: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode()


def _untoken(token: str, snapshot: str | None) -> dict[str, object]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
        assert isinstance(state, dict) and isinstance(state["offset"], int)
    except (ValueError, KeyError, AssertionError) as error:
        raise OaiError("badResumptionToken", "not a resumption token of this repository") from error
    if state.get("snapshot") != snapshot:
        raise OaiError("badResumptionToken", "the repository changed since this token was issued")
    return state


def router(reader: StoreReader, catalog: Catalog, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["OAI-PMH"])
    repository = Repository(reader, catalog, settings)
    base_url = settings.base_iri + "oai"

    def answer(pairs: list[tuple[str, str]]) -> Response:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            verb, args = _arguments(pairs)
            request_line = (
                "<request"
                + "".join(f" {k}={quoteattr(v)}" for k, v in sorted({"verb": verb, **args}.items()))
                + f">{escape(base_url)}</request>"
            )
            body = _verb(verb, args)
        except OaiError as error:
            # the request element echoes the arguments, except when they were the problem
            echoed = [] if error.code in ("badVerb", "badArgument") else sorted(dict(pairs).items())
            attributes = "".join(f" {k}={quoteattr(v)}" for k, v in echoed)
            request_line = f"<request{attributes}>{escape(base_url)}</request>"
            body = f'<error code="{error.code}">{escape(error.message)}</error>'
        document = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
            f"<responseDate>{now}</responseDate>{request_line}{body}</OAI-PMH>"
        )
        return Response(document.encode(), media_type="text/xml; charset=utf-8")

    def _verb(verb: str, args: dict[str, str]) -> str:
        full = repository.graph()
        items = repository.items(full)
        if verb == "Identify":
            earliest = min((i.datestamp for i in items), default="1970-01-01T00:00:00Z")
            contact = settings.catalog_contact
            email = (
                f"<adminEmail>{escape(contact.removeprefix('mailto:'))}</adminEmail>"
                if contact.startswith("mailto:")
                else ""
            )
            return (
                f"<Identify><repositoryName>{escape(settings.catalog_publisher)} "
                f"(creative-graph)</repositoryName><baseURL>{escape(base_url)}</baseURL>"
                f"<protocolVersion>2.0</protocolVersion>{email}"
                f"<earliestDatestamp>{earliest}</earliestDatestamp>"
                "<deletedRecord>no</deletedRecord>"
                "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
            )
        if verb == "ListMetadataFormats":
            if "identifier" in args and args["identifier"] not in {i.identifier for i in items}:
                raise OaiError("idDoesNotExist", f"no record {args['identifier']}")
            return (
                "<ListMetadataFormats>"
                + "".join(
                    f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix><schema>{schema}"
                    f"</schema><metadataNamespace>{namespace}</metadataNamespace></metadataFormat>"
                    for prefix, (schema, namespace) in FORMATS.items()
                )
                + "</ListMetadataFormats>"
            )
        if verb == "ListSets":
            if "resumptionToken" in args:
                raise OaiError("badResumptionToken", "ListSets has no resumption tokens here")
            raise OaiError("noSetHierarchy", "this repository does not support sets")
        if verb == "GetRecord":
            prefix = args["metadataPrefix"]
            if prefix not in FORMATS:
                raise OaiError("cannotDisseminateFormat", f"no format {prefix}")
            item = next((i for i in items if i.identifier == args["identifier"]), None)
            if item is None:
                raise OaiError("idDoesNotExist", f"no record {args['identifier']}")
            return f"<GetRecord>{_record(full, item, prefix)}</GetRecord>"
        return _list(verb, args, full, items)

    def _header(item: Item) -> str:
        return (
            f"<header><identifier>{escape(item.identifier)}</identifier>"
            f"<datestamp>{item.datestamp}</datestamp></header>"
        )

    def _record(full: Graph, item: Item, prefix: str) -> str:
        metadata = repository.metadata(full, item, prefix)
        return f"<record>{_header(item)}<metadata>{metadata}</metadata></record>"

    def _list(verb: str, args: dict[str, str], full: Graph, items: list[Item]) -> str:
        snapshot = reader.snapshot.name
        if "resumptionToken" in args:
            state = _untoken(args["resumptionToken"], snapshot)
        else:
            state = {"prefix": args["metadataPrefix"], "from": args.get("from"),
                     "until": args.get("until"), "offset": 0, "snapshot": snapshot}  # fmt: skip
            if "set" in args:
                raise OaiError("noSetHierarchy", "this repository does not support sets")
            if state["prefix"] not in FORMATS:
                raise OaiError("cannotDisseminateFormat", f"no format {state['prefix']}")
            start = _bound(args.get("from"), "from", end=False)
            end = _bound(args.get("until"), "until", end=True)
            if args.get("from") and args.get("until") and len(args["from"]) != len(args["until"]):
                raise OaiError("badArgument", "from and until must have the same granularity")
            if start and end and start > end:
                raise OaiError("badArgument", "from is later than until")
        start = _bound(state.get("from"), "from", end=False)  # type: ignore[arg-type]
        end = _bound(state.get("until"), "until", end=True)  # type: ignore[arg-type]
        chosen = [
            i
            for i in items
            if (not start or i.datestamp >= start) and (not end or i.datestamp <= end)
        ]
        if not chosen:
            raise OaiError("noRecordsMatch", "no record matches these arguments")
        offset, size = int(state["offset"]), settings.catalog_page_size  # type: ignore[call-overload]
        page = chosen[offset : offset + size]
        prefix = str(state["prefix"])
        if verb == "ListIdentifiers":
            body = "".join(_header(i) for i in page)
        else:
            body = "".join(_record(full, i, prefix) for i in page)
        if offset + size < len(chosen):
            token = _token({**state, "offset": offset + size})
            body += (
                f'<resumptionToken completeListSize="{len(chosen)}" cursor="{offset}">'
                f"{token}</resumptionToken>"
            )
        elif offset:
            body += f'<resumptionToken completeListSize="{len(chosen)}" cursor="{offset}"/>'
        return f"<{verb}>{body}</{verb}>"

    @api.get("/oai", summary="OAI-PMH 2.0 (verb=Identify, ListRecords, ...)")
    def get(request: Request) -> Response:
        return answer(list(request.query_params.multi_items()))

    @api.post("/oai", include_in_schema=False)
    async def post(request: Request) -> Response:
        form = await request.form()
        return answer([(k, str(v)) for k, v in form.multi_items()])

    return api
