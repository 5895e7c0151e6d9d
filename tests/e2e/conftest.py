"""The deployed local stack (`make up`): its addresses come from .local/stack.json."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import pytest
import requests

from bisync.intacct import CompanyLimiter, IntacctClient, RetryPolicy
from bisync.settings import Flows, TenantSettings
from bisync.store import SyncStore
from ops.demo_tenant import sandbox_secrets
from ops.local import sandbox_intacct_client
from ops.onboarding import onboard_tenant
from tests.conftest import ROOT

STACK_JSON = ROOT / ".local" / "stack.json"
T = TypeVar("T")


@dataclass(frozen=True)
class Stack:
    doc: dict[str, Any]

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.doc["aws_endpoint"],
            region_name=self.doc["region"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def store(self) -> SyncStore:
        resource = boto3.resource(
            "dynamodb",
            endpoint_url=self.doc["aws_endpoint"],
            region_name=self.doc["region"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        return SyncStore(resource.Table(self.doc["sync_table"]))

    def intacct_client(self, entity: str | None = None) -> IntacctClient:
        """A session on the Intacct sandbox: top level (reads every entity with showprivate), or
        in an entity (writes belong to it, as the demo tenant's do)."""
        return sandbox_intacct_client(
            self.doc,
            entity=entity,
            retry=RetryPolicy(attempts=3, sleep=lambda _s: None),
            limiter=CompanyLimiter(1),
        )

    def webhook_url(self, tenant_id: str) -> str:
        return str(self.doc["webhook_url"]).replace("{tenantId}", tenant_id)


@pytest.fixture(scope="session")
def stack() -> Stack:
    if not STACK_JSON.exists():
        pytest.fail("the local stack is not up: run `make up` (or `make e2e`) first")
    return Stack(json.loads(STACK_JSON.read_text()))


@dataclass(frozen=True)
class OnboardedTenant:
    tenant_id: str
    webhook_secret: str
    blixo_api_key: str


def entity_for_tests(stack: Stack) -> str | None:
    """The entity test tenants live in: not the demo tenant's, so what tests push never shows in
    the demo tenant's reconciliation (tenants share the sandbox company; real ones never do)."""
    entities = stack.doc["intacct"].get("entities") or [None]
    return str(entities[-1]) if entities[-1] else None


def _secrets(stack: Stack, webhook_secret: str, api_key: str) -> Any:
    secrets = sandbox_secrets(stack.doc, webhook_secret, api_key)
    return secrets.model_copy(
        update={"intacct": secrets.intacct.model_copy(update={"entity_id": entity_for_tests(stack)})}
    )


@pytest.fixture
def onboard(stack: Stack) -> Iterator[Callable[..., OnboardedTenant]]:
    """Create tenants (settings + secret) with unique ids; their secrets are removed afterwards.

    Each tenant gets an account of its own in the Blixo sandbox: tenants share the Intacct
    sandbox company, and two tenants pulling one company into one Blixo account would each
    write every record there (a real deployment has one tenant per Blixo account)."""
    secrets = stack.client("secretsmanager")
    admin = str(stack.doc["blixo"]["url"]).removesuffix("/v1") + "/_sandbox/accounts"
    created: list[tuple[str, str]] = []

    def _onboard(flows: Flows | None = None) -> OnboardedTenant:
        tenant_id = f"e2e-{uuid.uuid4().hex[:12]}"
        webhook_secret = f"whsec_{uuid.uuid4().hex}"
        api_key = f"e2e-key-{uuid.uuid4().hex}"
        requests.post(admin, json={"apiKey": api_key}, timeout=10).raise_for_status()
        stored = onboard_tenant(
            stack.store(),
            secrets,
            stack.doc["tenant_secret_prefix"],
            TenantSettings(
                tenant_id=tenant_id,
                name="E2E",
                flows=flows or Flows(),
                entity_id=entity_for_tests(stack),
            ),
            _secrets(stack, webhook_secret, api_key),
        )
        created.append((tenant_id, stored.secret_name))
        return OnboardedTenant(tenant_id, webhook_secret, api_key)

    yield _onboard
    for tenant_id, name in created:
        # The settings go too: a tenant without its secret would be pulled, and fail, every hour.
        stack.store().delete_tenant(tenant_id)
        secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def eventually(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.5, what: str) -> T:
    """Poll until `probe` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
