"""OAI-PMH 2.0 at `/oai`: the catalogue's datasets as records, the interface data.europa.eu prefers.

Verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord, by GET
or POST (form). Formats: `dcat_ap` (the dataset and everything reachable from it, as RDF/XML,
what piveau's OAI-PMH importer parses) and `oai_dc` (Dublin Core, which the protocol requires
of every repository). No sets. A record's datestamp is the latest `dct:modified` in it (the
dataset's, when its data last changed, or one of its distributions'), to the second. Lists are
cut into pages of `CATALOG_PAGE_SIZE` records with resumption tokens, each bound to the published
snapshot its list was made from: a harvest goes on from that snapshot while the store keeps it.
Protocol errors are answered as the specification says: HTTP 200 with an `<error code="...">`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import re
from dataclasses import asdict, dataclass
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

log = logging.getLogger(__name__)
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
_EMAIL = re.compile(r"^\S+@(\S+\.)+\S+$")  # emailType of the OAI-PMH schema


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
        _check_date(value[:10], name)
        return value
    if _DAY.match(value):
        _check_date(value, name)
        return value + ("T23:59:59Z" if end else "T00:00:00Z")
    raise OaiError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def _check_date(day: str, name: str) -> None:
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError as error:
        raise OaiError("badArgument", f"{name} is not a date of the calendar") from error


def _interval(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """`from` and `until` as bounds to compare datestamps with; badArgument if they are not
    dates, differ in granularity or are the wrong way round (OAI-PMH 2.0 §3.3.1)."""
    low, high = _bound(start, "from", end=False), _bound(end, "until", end=True)
    if start and end and len(start) != len(end):
        raise OaiError("badArgument", "from and until must have the same granularity")
    if low and high and low > high:
        raise OaiError("badArgument", "from is later than until")
    return low, high


def admin_email(settings: Settings) -> str:
    """Identify's `adminEmail`, which the OAI-PMH schema requires: the `CATALOG_CONTACT` address
    when it is a `mailto:`; else `webmaster@` the host of BASE_IRI (RFC 2142's mailbox for a web
    service) when that is a domain name, and `webmaster@localhost.invalid` otherwise (a local or
    numeric host: a reserved name, RFC 2606, that says no address was configured)."""
    contact = settings.catalog_contact
    if contact.startswith("mailto:"):
        address = contact.removeprefix("mailto:").split("?", 1)[0]
        if _EMAIL.match(address):
            return address
    host = urlsplit(settings.base_iri).hostname or ""
    try:
        ipaddress.ip_address(host)
        numeric = True
    except ValueError:
        numeric = False
    if "." in host and not numeric and not host.endswith(".localhost"):
        return f"webmaster@{host}"
    return "webmaster@localhost.invalid"


@dataclass(frozen=True)
class ListState:
    """Where a list request is: what it asked for, how far it got, the snapshot it reads.

    Its resumption token is the state as canonical JSON in URL-safe base64. Nothing in it is
    secret (a harvester may read it); every field is checked when it comes back and a token that
    is not exactly one this repository would issue is a `badResumptionToken`, so an edited one
    can only ask for what a request with arguments could.
    """

    prefix: str
    start: str | None  # the `from` argument as given
    end: str | None  # the `until` argument as given
    offset: int
    snapshot: str

    def token(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> ListState:
        bad = OaiError("badResumptionToken", "not a resumption token of this repository")
        try:
            padded = token + "=" * (-len(token) % 4)
            fields = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            state = cls(**fields)
        except (ValueError, TypeError, UnicodeError) as error:
            raise bad from error
        valid = (
            state.token() == token
            and all(isinstance(v, str) for v in (state.prefix, state.snapshot))
            and all(v is None or isinstance(v, str) for v in (state.start, state.end))
            and type(state.offset) is int
            and state.offset > 0
            and state.prefix in FORMATS
        )
        if not valid:
            raise bad
        try:
            _interval(state.start, state.end)
        except OaiError as error:
            raise bad from error
        return state


class Repository:
    def __init__(self, reader: StoreReader, catalog: Catalog, settings: Settings) -> None:
        self.reader, self.catalog, self.settings = reader, catalog, settings
        self.host = urlsplit(settings.base_iri).hostname or "localhost"

    def items(self, full: Graph) -> list[Item]:
        found = []
        for dataset in full.subjects(RDF.type, DCAT.Dataset):
            name = full.value(dataset, DCTERMS.identifier)
            if name is None:
                continue
            # the record changes when any date in it does: the dataset's data, or a file of a
            # distribution (the whole graph's hold every run's record)
            dates = [*full.objects(dataset, DCTERMS.modified)] + [
                modified
                for distribution in full.objects(dataset, DCAT.distribution)
                for modified in full.objects(distribution, DCTERMS.modified)
            ]
            if not dates:
                continue
            stamp = max(_stamp(value) for value in dates)
            found.append(Item(f"oai:{self.host}:{name}", dataset, stamp))  # type: ignore[arg-type]
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
    """The verb and its arguments, checked as OAI-PMH 2.0 §3.6 says: a missing, unknown or
    repeated verb is `badVerb`; any other repeated, missing or illegal argument `badArgument`."""
    verbs = [value for key, value in pairs if key == "verb"]
    if len(verbs) > 1:
        raise OaiError("badVerb", "the verb argument is repeated")
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


def router(reader: StoreReader, catalog: Catalog, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["OAI-PMH"])
    repository = Repository(reader, catalog, settings)
    base_url = settings.base_iri + "oai"
    email = admin_email(settings)
    if not settings.catalog_contact.startswith("mailto:"):
        log.warning(
            "OAI-PMH Identify names %s: set CREATIVE_GRAPH_CATALOG_CONTACT=mailto:... to the "
            "address a portal should write to",
            email,
        )

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
        if verb in ("ListIdentifiers", "ListRecords"):
            return _list(verb, args)
        full = catalog.graph(reader.snapshot)
        items = repository.items(full)
        if verb == "Identify":
            earliest = min((i.datestamp for i in items), default="1970-01-01T00:00:00Z")
            return (
                f"<Identify><repositoryName>{escape(settings.catalog_publisher)} "
                f"(creative-graph)</repositoryName><baseURL>{escape(base_url)}</baseURL>"
                f"<protocolVersion>2.0</protocolVersion><adminEmail>{escape(email)}</adminEmail>"
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
        prefix = args["metadataPrefix"]  # GetRecord
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"no format {prefix}")
        item = next((i for i in items if i.identifier == args["identifier"]), None)
        if item is None:
            raise OaiError("idDoesNotExist", f"no record {args['identifier']}")
        return f"<GetRecord>{_record(full, item, prefix)}</GetRecord>"

    def _header(item: Item) -> str:
        return (
            f"<header><identifier>{escape(item.identifier)}</identifier>"
            f"<datestamp>{item.datestamp}</datestamp></header>"
        )

    def _record(full: Graph, item: Item, prefix: str) -> str:
        metadata = repository.metadata(full, item, prefix)
        return f"<record>{_header(item)}<metadata>{metadata}</metadata></record>"

    def _resumed(token: str) -> tuple[ListState, Graph]:
        """A token's state and the catalogue of its snapshot, if the store still keeps it."""
        state = ListState.parse(token)
        try:
            full = catalog.kept(state.snapshot)
        except OSError:  # removed by a publish while it was read
            full = None
        if full is None:
            raise OaiError(
                "badResumptionToken",
                "the snapshot this list was made from is no longer kept: start the list again",
            )
        return state, full

    def _list(verb: str, args: dict[str, str]) -> str:
        if "resumptionToken" in args:
            state, full = _resumed(args["resumptionToken"])
        else:
            snapshot = reader.snapshot
            full = catalog.graph(snapshot)
            state = ListState(args["metadataPrefix"], args.get("from"), args.get("until"), 0,
                              snapshot.name or "")  # fmt: skip
            if "set" in args:
                raise OaiError("noSetHierarchy", "this repository does not support sets")
            if state.prefix not in FORMATS:
                raise OaiError("cannotDisseminateFormat", f"no format {state.prefix}")
        start, end = _interval(state.start, state.end)
        chosen = [
            i
            for i in repository.items(full)
            if (not start or i.datestamp >= start) and (not end or i.datestamp <= end)
        ]
        if not chosen:
            raise OaiError("noRecordsMatch", "no record matches these arguments")
        offset, size = state.offset, settings.catalog_page_size
        if offset >= len(chosen):
            raise OaiError("badResumptionToken", "this list has no records that far")
        page = chosen[offset : offset + size]
        if verb == "ListIdentifiers":
            body = "".join(_header(i) for i in page)
        else:
            body = "".join(_record(full, i, state.prefix) for i in page)
        if offset + size < len(chosen):
            token = ListState(state.prefix, state.start, state.end, offset + size, state.snapshot)
            body += (
                f'<resumptionToken completeListSize="{len(chosen)}" cursor="{offset}">'
                f"{token.token()}</resumptionToken>"
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
