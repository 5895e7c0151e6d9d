"""Building requests and parsing responses of the XML gateway.

Requests are built with xmltodict.unparse from ordered dicts (every value escaped by the
library, never concatenated). Responses are parsed with defusedxml (no DTDs, no entity
expansion) into plain dicts/lists; repeated elements become lists, empty ones "".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

import defusedxml.ElementTree as SafeET
import xmltodict
from defusedxml import DefusedXmlException
from pydantic import SecretStr

from bisync.intacct.errors import ErrorDetail, strip_support_id

Payload = dict[str, Any]
Record = dict[str, Any]

# Everything outside XML 1.0's Char production (lone surrogates included): such a value
# cannot be sent at all, and stripping it would silently turn "DUP\x00" into "DUP".
_INVALID_XML_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Real responses are about ten levels deep; anything far deeper is not a gateway answer.
MAX_RESPONSE_DEPTH = 64
# The largest real page (2000 rows of 60 fields) is about 122,000 elements and parses in about
# 20 MB; a body of tiny elements under the byte cap could need gigabytes. Counted while parsing.
MAX_RESPONSE_ELEMENTS = 500_000


class ResponseFormatError(ValueError):
    """The body is not a gateway XML response (HTML page, truncated body, DTD, too deep...)."""


class XmlValueError(ValueError):
    """A value XML 1.0 cannot carry. Names the field and the character, never the value."""

    def __init__(self, field: str, char: str, position: int) -> None:
        super().__init__(
            f"{field or 'value'} contains U+{ord(char):04X} at position {position}, "
            "a character XML 1.0 cannot carry; it is refused, not altered"
        )
        self.field = field


def check_text(value: str, field: str = "") -> str:
    bad = _INVALID_XML_CHARS.search(value)
    if bad is not None:
        raise XmlValueError(field, bad.group(), bad.start())
    return value


# ---------------------------------------------------------------- values -> text


def format_date(value: date) -> str:
    """Generic functions and filters take mm/dd/yyyy (ISO dates are refused)."""
    return value.strftime("%m/%d/%Y")


def format_datetime(value: datetime) -> str:
    return value.strftime("%m/%d/%Y %H:%M:%S")


def split_date(value: date) -> Payload:
    """Legacy functions take dates as <year/><month/><day/>."""
    return {"year": f"{value.year:04d}", "month": f"{value.month:02d}", "day": f"{value.day:02d}"}


def to_text(value: Any, field: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, SecretStr):
        return check_text(value.get_secret_value(), field)
    if isinstance(value, int | float | str):
        return check_text(str(value), field)
    raise TypeError(f"cannot send a {type(value).__name__} to Intacct ({field or 'value'})")


def normalise(value: Any, path: str = "") -> Any:
    """Make a payload xmltodict-ready: every leaf becomes text, None entries are dropped
    ({} stays, it writes an empty element such as <getAPISession/> or <ascending/>).
    Raises XmlValueError naming the dotted path of a value XML cannot carry."""
    if isinstance(value, Mapping):
        return {
            k: normalise(v, f"{path}.{k}".lstrip(".").replace(".@", "@"))
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list | tuple):
        return [normalise(v, path) for v in value if v is not None]
    return to_text(value, path)


# ---------------------------------------------------------------- request


@dataclass(frozen=True)
class ControlBlock:
    senderid: str
    password: SecretStr
    controlid: str
    uniqueid: bool = False
    dtdversion: str = "3.0"
    policyid: str | None = None
    debug: bool | None = None
    includewhitespace: bool = False

    def to_payload(self) -> Payload:
        # Schema order: senderid, password, controlid, uniqueid, dtdversion, policyid, debug,
        # includewhitespace.
        return {
            "senderid": self.senderid,
            "password": self.password,
            "controlid": self.controlid,
            "uniqueid": self.uniqueid,
            "dtdversion": self.dtdversion,
            "policyid": self.policyid,
            "debug": self.debug,
            "includewhitespace": self.includewhitespace,
        }


@dataclass(frozen=True)
class LoginAuth:
    userid: str
    companyid: str
    password: SecretStr
    locationid: str | None = None

    def to_payload(self) -> Payload:
        return {
            "login": {
                "userid": self.userid,
                "companyid": self.companyid,
                "password": self.password,
                "locationid": self.locationid,
            }
        }


@dataclass(frozen=True)
class SessionAuth:
    sessionid: SecretStr

    def to_payload(self) -> Payload:
        return {"sessionid": self.sessionid}


@dataclass(frozen=True)
class FunctionCall:
    """What the request builder needs of a function: <function controlid><name>payload</name>."""

    name: str
    controlid: str
    payload: Payload = field(default_factory=dict)


def build_request(
    control: ControlBlock,
    auth: LoginAuth | SessionAuth,
    functions: Sequence[FunctionCall],
    *,
    transaction: bool = False,
) -> bytes:
    if not functions:
        raise ValueError("a request needs at least one function")
    content = [{"@controlid": f.controlid, f.name: f.payload} for f in functions]
    doc = {
        "request": {
            "control": control.to_payload(),
            "operation": {
                "@transaction": transaction,
                "authentication": auth.to_payload(),
                "content": {"function": content},
            },
        }
    }
    body: str = xmltodict.unparse(normalise(doc), encoding="utf-8", full_document=True)
    # A literal CR in text is read back as LF by every XML parser (end-of-line handling);
    # as a character reference it survives. Unpretty output has no CR of its own.
    return body.replace("\r", "&#13;").encode("utf-8")


def check_payload(call: FunctionCall) -> None:
    """Raise XmlValueError if the function's payload holds a value XML cannot carry."""
    normalise(call.payload, "")


# ---------------------------------------------------------------- response


def element_to_value(el: Element, depth: int = 0) -> Any:
    """Element -> "" / text / dict (repeated child tags become lists, attributes under "@")."""
    if depth > MAX_RESPONSE_DEPTH:
        raise ResponseFormatError(f"response nested deeper than {MAX_RESPONSE_DEPTH} levels")
    children = list(el)
    if not children:
        text = el.text or ""
        # A pretty-printed empty element (<CREDITS>\n  </CREDITS>) is empty, not a value;
        # real values keep their spaces ("Line 2: ").
        return "" if "\n" in text and not text.strip() else text
    out: dict[str, Any] = {}
    for child in children:
        value = element_to_value(child, depth + 1)
        if child.tag in out:
            existing = out[child.tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[child.tag] = [existing, value]
        else:
            out[child.tag] = value
    return out


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


@dataclass(frozen=True)
class ResultData:
    listtype: str | None
    count: int | None
    totalcount: int | None
    numremaining: int | None
    offset: int | None
    result_id: str | None
    element_names: tuple[str, ...]
    records: tuple[Record, ...]


@dataclass(frozen=True)
class ParsedResult:
    status: str
    function: str
    controlid: str
    errors: tuple[ErrorDetail, ...] = ()
    key: str | None = None
    data: ResultData | None = None
    raw: Record = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedResponse:
    control_status: str
    control_errors: tuple[ErrorDetail, ...] = ()
    auth_status: str | None = None
    auth_errors: tuple[ErrorDetail, ...] = ()
    session_timeout: datetime | None = None
    auth_locationid: str | None = None
    results: tuple[ParsedResult, ...] = ()


def _text(el: Element | None, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(tag)
    if child is None:
        return None
    return (child.text or "").strip()


def _errors(errormessage: Element | None) -> tuple[ErrorDetail, ...]:
    if errormessage is None:
        return ()
    out = []
    for err in errormessage.findall("error"):
        out.append(
            ErrorDetail(
                errorno=_text(err, "errorno") or None,
                description=_text(err, "description") or None,
                description2=strip_support_id(_text(err, "description2")),
                correction=_text(err, "correction") or None,
            )
        )
    return tuple(out)


def _int(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _data(el: Element) -> ResultData:
    records: list[Record] = []
    names: list[str] = []
    for child in el:
        value = element_to_value(child)
        names.append(child.tag)
        records.append(value if isinstance(value, dict) else {"#text": value})
    return ResultData(
        listtype=el.get("listtype"),
        count=_int(el.get("count")),
        totalcount=_int(el.get("totalcount")),
        numremaining=_int(el.get("numremaining")),
        offset=_int(el.get("offset")),
        result_id=el.get("resultId") or el.get("resultid") or None,
        element_names=tuple(names),
        records=tuple(records),
    )


class _BoundedTreeBuilder(TreeBuilder):
    """A tree that refuses, while it is parsed, to grow deeper or larger than a gateway answer."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._count = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > MAX_RESPONSE_DEPTH:
            raise ResponseFormatError(f"response nested deeper than {MAX_RESPONSE_DEPTH} levels")
        if self._count > MAX_RESPONSE_ELEMENTS:
            raise ResponseFormatError(f"response has more than {MAX_RESPONSE_ELEMENTS} elements")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def parse_response(body: bytes | str) -> ParsedResponse:
    """Parse a gateway response safely; raise ResponseFormatError if it is not one."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise ResponseFormatError("empty body")
    builder = _BoundedTreeBuilder()
    try:
        parser = SafeET.DefusedXMLParser(
            target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        parser.feed(raw)
        root = parser.close()
    except ResponseFormatError:
        raise
    except (ParseError, DefusedXmlException, ValueError, RecursionError, LookupError) as exc:
        # LookupError: an encoding the declaration names that Python does not know.
        raise ResponseFormatError(f"body is not XML ({type(exc).__name__})") from None
    if root.tag != "response":
        raise ResponseFormatError(f"unexpected root element <{root.tag}>")
    control = root.find("control")
    control_status = (_text(control, "status") or "").lower()
    control_errors = _errors(root.find("errormessage"))
    operation = root.find("operation")
    if control is None:
        raise ResponseFormatError("response without <control>")
    if operation is None:
        return ParsedResponse(control_status=control_status or "failure", control_errors=control_errors)
    auth = operation.find("authentication")
    results = []
    for res in operation.findall("result"):
        data_el = res.find("data")
        key = _text(res, "key")
        results.append(
            ParsedResult(
                status=(_text(res, "status") or "").lower(),
                function=_text(res, "function") or "",
                controlid=_text(res, "controlid") or "",
                errors=_errors(res.find("errormessage")),
                key=key or None,
                data=_data(data_el) if data_el is not None else None,
            )
        )
    return ParsedResponse(
        control_status=control_status,
        control_errors=control_errors,
        auth_status=(_text(auth, "status") or "").lower() if auth is not None else None,
        auth_errors=_errors(operation.find("errormessage")),
        session_timeout=_parse_iso(_text(auth, "sessiontimeout")),
        auth_locationid=_text(auth, "locationid") or None,
        results=tuple(results),
    )


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head
