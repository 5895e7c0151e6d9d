"""A scriptable stand-in for the XML gateway: parses our requests, answers real-shaped XML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
import xmltodict
from pydantic import SecretStr

from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials
from bisync.intacct.transport import HttpResponse, Timeouts

LOGIN_URL = "https://api.example.test/ia/xml/xmlgw.phtml"
SESSION_URL = "https://eu.example.test/ia/xml/xmlgw.phtml"
SESSION_ID = "sess-TOPSECRET-1"
SENDER_PW = "sender-PW-secret"
USER_PW = "user-PW-secret"
SESSION_TIMEOUT = "2030-01-01T12:00:00+00:00"


def credentials(entity: str | None = None) -> Credentials:
    return Credentials(
        sender_id="blixo-sender",
        sender_password=SecretStr(SENDER_PW),
        company_id="ACME",
        user_id="sync",
        user_password=SecretStr(USER_PW),
        entity_id=entity,
        endpoint_url=LOGIN_URL,
        # The session endpoint is on another host of the same service (an allow-listed one).
        allowed_hosts=("eu.example.test",),
    )


def error_xml(errorno: str, description: str = "", description2: str = "", correction: str = "") -> str:
    return (
        "<error>"
        f"<errorno>{errorno}</errorno><description>{_esc(description)}</description>"
        f"<description2>{_esc(description2)}</description2><correction>{_esc(correction)}</correction>"
        "</error>"
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def result_xml(
    function: str,
    controlid: str,
    *,
    status: str = "success",
    data: str | None = None,
    key: str | None = None,
    errors: list[str] | None = None,
) -> str:
    parts = [
        f"<result><status>{status}</status><function>{function}</function><controlid>{_esc(controlid)}</controlid>"
    ]
    if key is not None:
        parts.append(f"<key>{key}</key>")
    if data is not None:
        parts.append(data)
    if errors:
        parts.append("<errormessage>" + "".join(errors) + "</errormessage>")
    parts.append("</result>")
    return "".join(parts)


def records_xml(element: str, records: list[dict[str, Any]], **attrs: Any) -> str:
    body = "".join(xmltodict.unparse({element: r}, full_document=False) for r in records)
    attr = " ".join(f'{k}="{v}"' for k, v in {"listtype": element, "count": len(records), **attrs}.items())
    return f"<data {attr}>{body}</data>"


def response_xml(
    results: list[str],
    *,
    auth_status: str = "success",
    auth_errors: list[str] | None = None,
    timeout: str = SESSION_TIMEOUT,
) -> bytes:
    auth = (
        f"<authentication><status>{auth_status}</status><userid>sync</userid><companyid>ACME</companyid>"
        f"<locationid></locationid><sessiontimestamp>2029-12-31T12:00:00+00:00</sessiontimestamp>"
        f"<sessiontimeout>{timeout}</sessiontimeout></authentication>"
    )
    if auth_errors:
        auth += "<errormessage>" + "".join(auth_errors) + "</errormessage>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status>'
        "<senderid>blixo-sender</senderid><controlid>r</controlid><uniqueid>false</uniqueid>"
        f"<dtdversion>3.0</dtdversion></control><operation>{auth}{''.join(results)}</operation></response>"
    ).encode()


def control_failure_xml(errors: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><response><control><status>failure</status>'
        "<senderid>blixo-sender</senderid><controlid>r</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><errormessage>"
        + "".join(errors)
        + "</errormessage></response>"
    ).encode()


@dataclass
class Call:
    """One request the fake received."""

    url: str
    root: ET.Element

    @property
    def functions(self) -> list[tuple[str, str, ET.Element]]:
        out = []
        for f in self.root.iter("function"):
            body = next(iter(f))
            out.append((body.tag, f.get("controlid", ""), body))
        return out

    @property
    def sessionid(self) -> str | None:
        el = self.root.find("operation/authentication/sessionid")
        return el.text if el is not None else None

    @property
    def login(self) -> ET.Element | None:
        return self.root.find("operation/authentication/login")

    def control(self, tag: str) -> str | None:
        el = self.root.find(f"control/{tag}")
        return el.text if el is not None else None

    @property
    def transaction(self) -> str | None:
        op = self.root.find("operation")
        return op.get("transaction") if op is not None else None


# A handler answers one non-session request: return (http status, body) or raise to simulate
# a transport failure.
Handler = Callable[[Call], tuple[int, bytes] | bytes]


@dataclass
class FakeGateway:
    handler: Handler | None = None
    calls: list[Call] = field(default_factory=list)
    logins: int = 0
    session_seq: int = 0

    def __call__(self, url: str, body: bytes, timeouts: Timeouts) -> HttpResponse:
        root = SafeET.fromstring(body)
        call = Call(url, root)
        self.calls.append(call)
        funcs = call.functions
        if funcs and funcs[0][0] == "getAPISession":
            self.logins += 1
            self.session_seq += 1
            sid = SESSION_ID if self.session_seq == 1 else f"{SESSION_ID}-{self.session_seq}"
            data = (
                f"<data><api><sessionid>{sid}</sessionid><endpoint>{SESSION_URL}</endpoint>"
                "<locationid></locationid></api></data>"
            )
            return HttpResponse(200, response_xml([result_xml("getAPISession", funcs[0][1], data=data)]))
        assert self.handler is not None, "no handler for a content request"
        answer = self.handler(call)
        if isinstance(answer, bytes):
            return HttpResponse(200, answer)
        return HttpResponse(answer[0], answer[1])

    @property
    def content_calls(self) -> list[Call]:
        return [c for c in self.calls if not (c.functions and c.functions[0][0] == "getAPISession")]


def make_client(
    gateway: FakeGateway, *, attempts: int = 5, entity: str | None = None, **kw: Any
) -> IntacctClient:
    sleeps: list[float] = []
    client = IntacctClient(
        credentials(entity),
        transport=gateway,
        retry=RetryPolicy(attempts=attempts, sleep=sleeps.append),
        limiter=kw.pop("limiter", CompanyLimiter(2)),
        **kw,
    )
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


def success_for_all(call: Call) -> bytes:
    return response_xml([result_xml(name, cid) for name, cid, _ in call.functions])
