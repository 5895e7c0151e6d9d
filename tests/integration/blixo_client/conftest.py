"""The Blixo sandbox in-process, over real HTTP, for the client's integration tests."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bisync.blixo.client import Backoff, BlixoClient

SANDBOX_KEY = "blixo-sandbox-key"


class Sleeps(list[float]):
    """Records the client's backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Sandbox:
    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.api_url: str = handle.url  # the API base, ".../v1"
        self.url: str = handle.root_url
        self._admin = requests.Session()
        self._admin.auth = (SANDBOX_KEY, "")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._admin.request(method, self.url + path, json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, **config: Any) -> Any:
        return self.admin("POST", "/_sandbox/faults", config)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # The sandbox is built in parallel: until it exposes start_server, skip with a reason
    # rather than pass silently.
    start_server = getattr(importlib.import_module("sandbox.blixo"), "start_server", None)
    if start_server is None:
        pytest.skip("sandbox.blixo.start_server is not available yet")
    handle = start_server("127.0.0.1", port=0)
    try:
        yield Sandbox(handle)
    finally:
        handle.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def requests_seen() -> list[requests.PreparedRequest]:
    return []


@pytest.fixture
def client(
    sandbox: Sandbox, sleeps: Sleeps, requests_seen: list[requests.PreparedRequest]
) -> Iterator[BlixoClient]:
    session = requests.Session()

    def record(response: requests.Response, *args: object, **kwargs: object) -> None:
        requests_seen.append(response.request)

    session.hooks["response"].append(record)
    with BlixoClient(
        SANDBOX_KEY,
        sandbox.api_url,
        timeout=(2.0, 10.0),
        max_retries=3,
        backoff=Backoff.none(),
        sleep=sleeps,
        session=session,
    ) as c:
        yield c
