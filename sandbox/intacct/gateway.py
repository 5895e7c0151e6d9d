"""The XML gateway: control block, authentication, functions, transactions, response shapes."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from sandbox.intacct import (
    ardocs,
    ledger,
    orderentry,
    payment_changes,
    payments,
    permissions,
    reads,
    updates,
    writes,
)
from sandbox.intacct.records import Ctx
from sandbox.intacct.seed import SENDERS
from sandbox.intacct.store import Store
from sandbox.intacct.values import ErrorDetail, IntacctError, support_id

Function = Callable[[Ctx, Element], list[Element]]

FUNCTIONS: dict[str, Function] = {
    "query": reads.fn_query,
    "readByQuery": reads.fn_read_by_query,
    "readMore": reads.fn_read_more,
    "read": reads.fn_read,
    "readByName": reads.fn_read_by_name,
    "create": writes.fn_create,
    "update": writes.fn_update,
    "delete": writes.fn_delete,
    "create_invoice": ardocs.fn_create_invoice,
    "reverse_invoice": ardocs.fn_reverse_invoice,
    "update_invoice": updates.fn_update_invoice,
    "create_aradjustment": ardocs.fn_create_aradjustment,
    "delete_aradjustment": ardocs.fn_delete_aradjustment,
    "update_aradjustment": updates.fn_update_aradjustment,
    "create_arpayment": payments.fn_create_arpayment,
    "apply_arpayment": payment_changes.fn_apply_arpayment,
    "reverse_arpayment": payment_changes.fn_reverse_arpayment,
    "create_sotransaction": orderentry.fn_create_sotransaction,
    "update_sotransaction": orderentry.fn_update_sotransaction,
}
READS = {"query", "readByQuery", "readMore", "read", "readByName", "getAPISession"}

ROLLBACK_TEXT = "The entire transaction in this operation has been rolled back due to an error."

# libxml2's default element depth limit (xmlParserMaxDepth), which real Intacct's parser keeps;
# deeper documents are refused while parsing, before anything recursive walks the tree.
MAX_XML_DEPTH = 256


class _DepthLimitedBuilder(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > MAX_XML_DEPTH:
            # libxml2's own wording for this error
            raise ParseError(f"Excessive depth in document: {MAX_XML_DEPTH} use XML_PARSE_HUGE option")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def parse_xml(body: bytes) -> Element:
    """defusedxml's fromstring (no DTD, no entities) with the depth limit."""
    parser = DefusedXMLParser(target=_DepthLimitedBuilder(), forbid_dtd=True)
    parser.feed(body)
    root: Element = parser.close()
    return root


@dataclass
class Parsed:
    """A request read far enough to know whose it is (for limits and faults)."""

    root: Element
    company: str | None
    writes: bool
    # The company of a session that has expired (the request itself belongs to no company).
    stale_session_of: str | None = None


@dataclass
class Outcome:
    status: int
    body: bytes
    company: str | None = None
    transactions: int = 0
    wrote: bool = False
    login: bool = False  # authenticated by a login (a new session), not by a session id
    extras: dict[str, Any] = field(default_factory=dict)


def xml_bytes(root: Element) -> bytes:
    # Real Intacct writes empty fields as <X></X> and a double-quoted UTF-8 declaration.
    body = tostring(root, encoding="unicode", short_empty_elements=False)
    # A stored carriage return goes out as a character reference: a literal one would be
    # read back as a line feed by any XML parser.
    body = body.replace("\r", "&#13;")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")


def errormessage(errors: list[ErrorDetail]) -> Element:
    box = Element("errormessage")
    for n, e in enumerate(errors):
        err = SubElement(box, "error")
        SubElement(err, "errorno").text = e.errorno
        SubElement(err, "description").text = e.description
        # Real Intacct tags the first error with a support id the client should strip.
        SubElement(err, "description2").text = (
            f"{e.description2} [Support ID: {support_id()}]" if n == 0 else (e.description2)
        )
        SubElement(err, "correction").text = e.correction
    return box


def http_error(status: int, errorno: str, text: str, description: str = "") -> Outcome:
    root = Element("response")
    ctl = SubElement(root, "control")
    SubElement(ctl, "status").text = "failure"
    root.append(errormessage([ErrorDetail(errorno, text, description)]))
    return Outcome(status, xml_bytes(root))


def sign_in_incorrect() -> Outcome:
    """A known sender id with the wrong sender password: the gateway itself refuses it with
    HTTP 401 and a bare errormessage (no description2, correction or Support ID), the response
    the official SDKs' tests mock for "sign-in incorrect"."""
    root = Element("response")
    SubElement(SubElement(root, "control"), "status").text = "failure"
    err = SubElement(SubElement(root, "errormessage"), "error")
    SubElement(err, "errorno").text = "XMLGW_JPP0002"
    SubElement(err, "description").text = "Sign-in information is incorrect. Please check your request."
    return Outcome(401, xml_bytes(root))


def not_authorized(sender: str, company: str) -> ErrorDetail:
    # Authentication level, as in Intacct's developer FAQ ("Invalid Web Services Authorization").
    return ErrorDetail(
        "XL03000006",
        description="Invalid Web Services Authorization",
        description2=f"The sender ID '{sender}' is not authorized to make Web Services requests to "
        f"company ID '{company}'.",
        correction="Contact the company administrator to grant Web Services authorization to this sender ID.",
    )


# The control block's schema: this sequence, the first five required (3.0 api.xsd / DTD).
CONTROL_ORDER = (
    "senderid",
    "password",
    "controlid",
    "uniqueid",
    "dtdversion",
    "policyid",
    "debug",
    "includewhitespace",
)
_CONTROL_REQUIRED = 5
_REQUIRED = set(CONTROL_ORDER[:_CONTROL_REQUIRED])


def control_schema_error(control: Element) -> str | None:
    """The libxml-style message for a control block that breaks the schema, or None."""
    position = 0  # index in CONTROL_ORDER of the next element allowed
    for child in control:
        tag = child.tag
        if tag in CONTROL_ORDER and CONTROL_ORDER.index(tag) >= position:
            missing = [t for t in CONTROL_ORDER[position : CONTROL_ORDER.index(tag)] if t in _REQUIRED]
            if missing:
                return f"Error 1871: Element '{tag}': This element is not expected. Expected is ( {missing[0]} )."
            position = CONTROL_ORDER.index(tag) + 1
            continue
        expected = CONTROL_ORDER[position] if position < len(CONTROL_ORDER) else ""
        hint = f" Expected is ( {expected} )." if position < _CONTROL_REQUIRED else ""
        return f"Error 1871: Element '{tag}': This element is not expected.{hint}"
    if position < _CONTROL_REQUIRED:
        return (
            "Error 1871: Element 'control': Missing child element(s). "
            f"Expected is ( {CONTROL_ORDER[position]} )."
        )
    return None


def _text(el: Element | None, tag: str) -> str:
    if el is None:
        return ""
    child = el.find(tag)
    return "" if child is None or child.text is None else child.text.strip()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Gateway:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- phase 1: parse, find the company (no state changes) --------------------------------------
    def parse(self, body: bytes) -> Parsed | Outcome:
        if not body.strip():
            return http_error(400, "GW-0011", "Invalid request: the request body is empty.", "Bad request")
        try:
            root = parse_xml(body)
        except (ParseError, DefusedXmlException, ValueError, RecursionError, LookupError) as exc:
            # LookupError: the declaration names an encoding there is no codec for.
            root_el = Element("response")
            ctl = SubElement(root_el, "control")
            SubElement(ctl, "status").text = "failure"
            root_el.append(
                errormessage([ErrorDetail("XL03000003", f"XML parse error: {exc}", "XML Parse error")])
            )
            return Outcome(200, xml_bytes(root_el))
        if root.tag != "request" or root.find("control") is None:
            return http_error(
                400, "GW-0011", "Invalid request: the root element must be <request>.", "Bad request"
            )
        auth = root.find("operation/authentication")
        company: str | None = None
        stale: str | None = None
        if auth is not None:
            login = auth.find("login")
            if login is not None:
                company = _text(login, "companyid").split("|", 1)[0] or None
            else:
                with self.store.lock:
                    sess = self.store.session(_text(auth, "sessionid"))
                live = sess is not None and sess[3] >= time.time()
                company = sess[0] if sess and live else None
                stale = sess[0] if sess and not live else None
        if company is not None:
            with self.store.lock:
                if self.store.settings(company) is None:
                    company = None  # not a company of this sandbox: no counters, limits or faults
        fns = root.findall("operation/content/function")
        wrote = any(len(f) and f[0].tag not in READS for f in fns)
        return Parsed(root, company, wrote, stale)

    # -- phase 2: execute --------------------------------------------------------------------
    def execute(self, parsed: Parsed, endpoint: str) -> Outcome:
        with self.store.lock:
            return self._execute(parsed, endpoint)

    def _control(self, root: Element, status: str) -> tuple[Element, Element]:
        control = root.find("control")
        resp = Element("response")
        ctl = SubElement(resp, "control")
        SubElement(ctl, "status").text = status
        SubElement(ctl, "senderid").text = _text(control, "senderid")
        SubElement(ctl, "controlid").text = _text(control, "controlid")
        SubElement(ctl, "uniqueid").text = _text(control, "uniqueid") or "false"
        SubElement(ctl, "dtdversion").text = _text(control, "dtdversion") or "3.0"
        return resp, ctl

    def _execute(self, parsed: Parsed, endpoint: str) -> Outcome:
        root = parsed.root
        control = root.find("control")
        problem = None if control is None else control_schema_error(control)
        if problem is not None:
            # Schema validation comes first: nothing, not even the sender, is looked at.
            resp, _ = self._control(root, "failure")
            resp.append(errormessage([ErrorDetail("XL03000003", problem, "XML Parse schema error")]))
            return Outcome(200, xml_bytes(resp))
        sender, sender_pw = _text(control, "senderid"), _text(control, "password")
        known_pw = SENDERS.get(sender)
        if known_pw is not None and known_pw != sender_pw:
            # Checked before the XML gateway proper: an HTTP 401, not an XML-level failure.
            return sign_in_incorrect()
        if known_pw is None:
            resp, _ = self._control(root, "failure")
            resp.append(
                errormessage(
                    [
                        ErrorDetail(
                            "XL03000006",
                            "Incorrect Intacct XML Partner ID or password.",
                            "",
                            "Check the sender ID and sender password",
                        )
                    ]
                )
            )
            return Outcome(200, xml_bytes(resp))
        if _text(control, "dtdversion") not in ("3.0", ""):
            resp, _ = self._control(root, "failure")
            resp.append(errormessage([ErrorDetail("XL03000003", "Only dtdversion 3.0 is supported.", "")]))
            return Outcome(200, xml_bytes(resp))
        operation = root.find("operation")
        resp, _ = self._control(root, "success")
        if operation is None:
            resp.find("control/status").text = "failure"  # type: ignore[union-attr]
            resp.append(errormessage([ErrorDetail("XL03000003", "Missing operation element.", "")]))
            return Outcome(200, xml_bytes(resp))
        op_out = SubElement(resp, "operation")
        ctx_or_err = self._authenticate(operation.find("authentication"), sender, endpoint)
        if isinstance(ctx_or_err, ErrorDetail):
            auth_el = SubElement(op_out, "authentication")
            SubElement(auth_el, "status").text = "failure"
            login = operation.find("authentication/login")
            SubElement(auth_el, "userid").text = _text(login, "userid")
            SubElement(auth_el, "companyid").text = _text(login, "companyid")
            op_out.append(errormessage([ctx_or_err]))
            return Outcome(200, xml_bytes(resp), company=parsed.company)
        ctx = ctx_or_err
        auth_el = SubElement(op_out, "authentication")
        SubElement(auth_el, "status").text = "success"
        SubElement(auth_el, "userid").text = ctx.userid
        SubElement(auth_el, "companyid").text = ctx.company
        SubElement(auth_el, "locationid").text = ctx.entity
        sess = self.store.session(ctx.sessionid)
        now = time.time()
        SubElement(auth_el, "sessiontimestamp").text = _iso(now)
        SubElement(auth_el, "sessiontimeout").text = _iso(sess[3] if sess else now)
        transaction = (operation.get("transaction") or "").lower() == "true"
        uniqueid = _text(control, "uniqueid").lower() == "true"
        results, tx_count, wrote = self._run_functions(ctx, operation, transaction, uniqueid)
        op_out.extend(results)
        return Outcome(
            200,
            xml_bytes(resp),
            company=ctx.company,
            transactions=tx_count,
            wrote=wrote,
            login=operation.find("authentication/login") is not None,
        )

    def _authenticate(self, auth: Element | None, sender: str, endpoint: str) -> Ctx | ErrorDetail:
        bad_login = ErrorDetail(
            "XL03000006", "Sign-in information is incorrect", "", "Check the user ID, company ID and password"
        )
        if auth is None:
            return ErrorDetail("XL03000003", "Missing authentication element.", "")
        now = time.time()
        login = auth.find("login")
        if login is not None:
            company_raw = _text(login, "companyid")
            company, _, entity = company_raw.partition("|")
            entity = entity or _text(login, "locationid")
            settings = self.store.settings(company)
            if settings is None:
                return bad_login
            if settings.get("users", {}).get(_text(login, "userid")) != _text(login, "password"):
                return bad_login
            if sender not in settings.get("senders", []):
                return not_authorized(sender, company)
            if entity and not self.store.find(company, "LOCATIONENTITY", "LOCATIONID", entity):
                return ErrorDetail(
                    "XL03000006",
                    f"Invalid entity/location ID {entity} in the login.",
                    "",
                    "Use a valid entity ID",
                )
            sid = f"{secrets.token_urlsafe(24)}.."
            # A login request gets a session of its own (what getAPISession returns).
            self.store.add_session(
                sid, company, _text(login, "userid"), entity, now, float(settings["session_timeout_s"])
            )
            return Ctx(self.store, company, _text(login, "userid"), entity, sender, endpoint, sid, settings)
        sid = _text(auth, "sessionid")
        sess = self.store.session(sid) if sid else None
        if sess is None or sess[3] < now:
            return ErrorDetail(
                "XL03000006",
                "Invalid session",
                "Authentication failed",
                "Get a new session with getAPISession",
            )
        company, userid, entity, _ = sess
        settings = self.store.settings(company)
        if settings is None:
            return bad_login
        if sender not in settings.get("senders", []):
            return not_authorized(sender, company)
        # Sliding expiry: each call extends the session.
        self.store.touch_session(sid, now + float(settings["session_timeout_s"]))
        return Ctx(self.store, company, userid, entity, sender, endpoint, sid, settings)

    def _run_functions(
        self, ctx: Ctx, operation: Element, transaction: bool, uniqueid: bool
    ) -> tuple[list[Element], int, bool]:
        fns = operation.findall("content/function")
        results: list[Element] = []
        failed_at: int | None = None
        tx_total = 0
        wrote = False
        self.store.begin()
        try:
            for n, fn in enumerate(fns):
                name = fn[0].tag if len(fn) else ""
                controlid = fn.get("controlid", "")
                result = Element("result")
                SubElement(result, "status")
                SubElement(result, "function").text = name
                SubElement(result, "controlid").text = controlid
                results.append(result)
                if transaction and failed_at is not None:
                    continue
                before = ctx.transactions
                try:
                    with self.store.savepoint(f"f{n}"):
                        payload = self._call(ctx, fn, name, controlid, uniqueid)
                except IntacctError as err:
                    ctx.transactions = before
                    result[0].text = "failure"
                    errors = list(err.errors)
                    if transaction:
                        errors.append(ErrorDetail("XL03000009", ROLLBACK_TEXT))
                        failed_at = n
                    result.append(errormessage(errors))
                    continue
                result[0].text = "success"
                result.extend(payload)
                if name not in READS:
                    wrote = True
            if failed_at is not None:
                self.store.rollback()
                for n, result in enumerate(results):
                    if n != failed_at:
                        for old in list(result)[3:]:
                            result.remove(old)
                        result[0].text = "aborted"
                        result.append(errormessage([ErrorDetail("XL03000009", ROLLBACK_TEXT)]))
                return results, 0, False
            self.store.commit()
            tx_total = ctx.transactions
        except BaseException:
            self.store.rollback()
            raise
        return results, tx_total, wrote

    def _call(self, ctx: Ctx, fn: Element, name: str, controlid: str, uniqueid: bool) -> list[Element]:
        if len(fn) != 1 or not controlid:
            raise IntacctError(
                [
                    ErrorDetail(
                        "XL03000003",
                        "Error 1871: Element 'function': each function needs a "
                        "controlid attribute and exactly one child element.",
                        "XML Parse schema error",
                    )
                ]
            )
        if uniqueid and self.store.controlid_seen(ctx.company, ctx.sender, controlid):
            raise IntacctError(
                [
                    ErrorDetail(
                        "BL01001973",
                        f"A successful transaction has already been recorded with the control id {controlid}",
                        "Duplicate control id",
                        "Use a new control id for a new transaction",
                    )
                ]
            )
        if name == "getAPISession":
            out = self._get_api_session(ctx, fn[0])
        else:
            handler = FUNCTIONS.get(name)
            if handler is None:
                raise ledger.raise_unsupported(name)
            # Before the function looks at anything: a refused object is never read or written.
            permissions.check(ctx, name, fn[0])
            out = handler(ctx, fn[0])
        if uniqueid:
            self.store.remember_controlid(ctx.company, ctx.sender, controlid, name)
        return out

    def _get_api_session(self, ctx: Ctx, el: Element) -> list[Element]:
        entity = _text(el, "locationid")
        sid = ctx.sessionid
        if entity and entity != ctx.entity:
            if not self.store.find(ctx.company, "LOCATIONENTITY", "LOCATIONID", entity):
                raise IntacctError([ErrorDetail("XL03000006", f"Invalid entity/location ID {entity}.", "")])
            sid = f"{secrets.token_urlsafe(24)}.."
            self.store.add_session(
                sid, ctx.company, ctx.userid, entity, time.time(), float(ctx.settings["session_timeout_s"])
            )
            ctx.entity = entity
        data = Element("data")
        api = SubElement(data, "api")
        SubElement(api, "sessionid").text = sid
        SubElement(api, "endpoint").text = ctx.endpoint
        SubElement(api, "locationid").text = ctx.entity
        return [data]
