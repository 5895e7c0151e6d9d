"""HTTP transport: a pooled requests.Session by default, any callable in tests.

A transport takes (url, body, timeout) and returns an HttpResponse. It signals failures by
raising requests exceptions (or TimeoutError / ConnectionError): the client decides from
their type whether the request can have reached Intacct.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    # The gateway allows 15 minutes for a synchronous request; give up a bit later.
    read: float = 960.0


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


Transport = Callable[[str, bytes, Timeouts], HttpResponse]


def pooled_session(pool_size: int = 10) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RequestsTransport:
    """POST the XML with a (pooled) requests.Session; retries are the client's job."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or pooled_session()

    def __call__(self, url: str, body: bytes, timeouts: Timeouts) -> HttpResponse:
        resp = self.session.post(
            url,
            data=body,
            headers={"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"},
            timeout=(timeouts.connect, timeouts.read),
        )
        return HttpResponse(resp.status_code, resp.content, dict(resp.headers))

    def __repr__(self) -> str:
        return "RequestsTransport()"


def as_transport(value: Transport | requests.Session | None) -> Transport:
    if value is None:
        return RequestsTransport()
    if isinstance(value, requests.Session):
        return RequestsTransport(value)
    return value
