"""The Intacct sandbox in-process on an ephemeral port, driven with raw XML over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import pytest
import requests
from defusedxml.ElementTree import fromstring

from sandbox.intacct import (
    COMPANY_ID,
    SENDER_ID,
    SENDER_PASSWORD,
    USER_ID,
    USER_PASSWORD,
    SandboxHandle,
    start_server,
)

_ids = itertools.count(1)


def esc(value: object) -> str:
    return escape(str(value))


def legacy_date(iso: str, tag: str) -> str:
    y, m, d = iso.split("-")
    return f"<{tag}><year>{y}</year><month>{m}</month><day>{d}</day></{tag}>"


class Response:
    """A parsed gateway answer with helpers for the three status levels."""

    def __init__(self, http: requests.Response) -> None:
        self.http = http
        self.status_code = http.status_code
        self.root: Element = fromstring(http.content)

    @property
    def control_status(self) -> str:
        return self.root.findtext("control/status", "")

    @property
    def auth_status(self) -> str:
        return self.root.findtext("operation/authentication/status", "")

    @property
    def results(self) -> list[Element]:
        return self.root.findall("operation/result")

    def result(self, n: int = 0) -> Element:
        return self.results[n]

    def ok(self, n: int = 0) -> Element:
        res = self.result(n)
        assert res.findtext("status") == "success", self.http.text
        return res

    def data(self, n: int = 0) -> Element:
        data = self.ok(n).find("data")
        assert data is not None
        return data

    def key(self, n: int = 0) -> str:
        return self.ok(n).findtext("key", "")

    def errors(self, n: int = 0) -> list[dict[str, str]]:
        return errors_of(self.result(n))


def errors_of(el: Element) -> list[dict[str, str]]:
    return [{child.tag: child.text or "" for child in err} for err in el.findall("errormessage/error")]


class Gateway:
    """Builds requests the way a careful client does: control block in schema order."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.handle = handle
        self.http = requests.Session()
        self._session: str | None = None

    def login_xml(
        self, company: str = COMPANY_ID, user: str = USER_ID, password: str = USER_PASSWORD, entity: str = ""
    ) -> str:
        loc = f"<locationid>{esc(entity)}</locationid>" if entity else ""
        return (
            f"<login><userid>{esc(user)}</userid><companyid>{esc(company)}</companyid>"
            f"<password>{esc(password)}</password>{loc}</login>"
        )

    def session_id(self, entity: str = "") -> str:
        if self._session is None or entity:
            resp = self.post(["<getAPISession/>"], auth=self.login_xml(entity=entity))
            sid = resp.data().findtext("api/sessionid", "")
            if entity:
                return sid
            self._session = sid
        return self._session

    def body(
        self,
        functions: list[str],
        *,
        auth: str,
        sender: str = SENDER_ID,
        sender_password: str = SENDER_PASSWORD,
        uniqueid: bool = False,
        transaction: bool = False,
        controlids: list[str] | None = None,
    ) -> str:
        fns = "".join(
            f'<function controlid="{esc(controlids[i] if controlids else f"f-{next(_ids)}")}">{fn}</function>'
            for i, fn in enumerate(functions)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><request><control>'
            f"<senderid>{esc(sender)}</senderid><password>{esc(sender_password)}</password>"
            f"<controlid>req-{next(_ids)}</controlid><uniqueid>{str(uniqueid).lower()}</uniqueid>"
            "<dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control>"
            f'<operation transaction="{str(transaction).lower()}"><authentication>{auth}</authentication>'
            f"<content>{fns}</content></operation></request>"
        )

    def raw(self, body: str | bytes, **kwargs: Any) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        return self.http.post(
            self.handle.gateway_url,
            data=data,
            headers={"Content-Type": "application/xml"},
            timeout=10,
            **kwargs,
        )

    def post(self, functions: list[str], *, auth: str | None = None, **kwargs: Any) -> Response:
        if auth is None:
            auth = f"<sessionid>{self.session_id()}</sessionid>"
        return Response(self.raw(self.body(functions, auth=auth, **kwargs)))

    def call(self, function: str, **kwargs: Any) -> Response:
        return self.post([function], **kwargs)

    # -- admin --------------------------------------------------------------------------------------
    def admin(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        url = f"{self.handle.url}/_sandbox/{path}"
        resp = (
            requests.post(url, json=payload or {}, timeout=10)
            if payload is not None
            else requests.get(url, timeout=10)
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    # -- builders ---------------------------------------------------------------------------------------
    def customer(self, cid: str, name: str = "Acme Corp", **extra: str) -> str:
        fields = "".join(f"<{k}>{esc(v)}</{k}>" for k, v in extra.items())
        resp = self.call(
            f"<create><CUSTOMER><CUSTOMERID>{esc(cid)}</CUSTOMERID><NAME>{esc(name)}</NAME>"
            f"{fields}</CUSTOMER></create>"
        )
        return resp.data().findtext("customer/RECORDNO", "")

    def invoice_xml(
        self,
        cid: str,
        amount: str = "100.00",
        *,
        date: str = "2024-07-01",
        invoiceno: str = "INV-1",
        gl: str = "4000",
        location: str = "E100",
        extra: str = "",
    ) -> str:
        return (
            f"<create_invoice><customerid>{esc(cid)}</customerid>{legacy_date(date, 'datecreated')}"
            f"<termname>N30</termname><invoiceno>{esc(invoiceno)}</invoiceno>{extra}<invoiceitems><lineitem>"
            f"<glaccountno>{gl}</glaccountno><amount>{amount}</amount><memo>Services</memo>"
            f"<locationid>{location}</locationid></lineitem></invoiceitems></create_invoice>"
        )

    def invoice(self, cid: str, amount: str = "100.00", **kwargs: Any) -> str:
        return self.call(self.invoice_xml(cid, amount, **kwargs)).key()

    def read(self, obj: str, key: str, fields: str = "*", **kwargs: Any) -> Element:
        data = self.call(
            f"<read><object>{obj}</object><keys>{key}</keys><fields>{fields}</fields></read>", **kwargs
        ).data()
        rec = data.find(obj)
        assert rec is not None, f"{obj} {key} not found"
        return rec


@pytest.fixture(scope="session")
def server() -> Iterator[SandboxHandle]:
    handle = start_server(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def gw(server: SandboxHandle) -> Gateway:
    server.sandbox.reset()
    return Gateway(server)
