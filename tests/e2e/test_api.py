"""The Accounting Sync API on the deployed local stack: API Gateway with the usage plan's key, the
API Lambda, and the queues and functions behind it; then the committed OpenAPI document
(docs/openapi.json) against the deployed API with schemathesis."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings

from bisync.intacct import functions as fn
from bisync.settings import Flows, TenantSettings
from bisync.store import RunOutcome
from ops.demo_tenant import sandbox_secrets
from ops.onboarding import onboard_tenant
from tests.conftest import ROOT
from tests.e2e.conftest import OnboardedTenant, Stack, eventually
from tests.e2e.conftest import entity_for_tests as e2e_entity

pytestmark = pytest.mark.e2e

OPENAPI = ROOT / "docs" / "openapi.json"
FINISHED = {
    o.value for o in (RunOutcome.SUCCEEDED, RunOutcome.PARTIAL, RunOutcome.FAILED, RunOutcome.SKIPPED)
}
# Only the customers flow is pulled: the sync-now test waits for one quick run.
ONLY_CUSTOMERS = Flows(pull_invoices=False, pull_credit_notes=False, pull_payments=False)
PULLS_OFF = Flows(pull_customers=False, pull_invoices=False, pull_credit_notes=False, pull_payments=False)


class Api:
    """A client of the deployed API, as Blixo's web app is one: the key in x-api-key."""

    def __init__(self, stack: Stack) -> None:
        self.url = str(stack.doc["api_url"]).rstrip("/")
        self.key = str(stack.doc["api_key"])

    def __call__(self, method: str, path: str, *, key: str | None = "", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["x-api-key"] = key or self.key
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    if "api_url" not in stack.doc or "api_key" not in stack.doc:
        pytest.fail(".local/stack.json has no api_url/api_key: run `make up` to redeploy")
    return Api(stack)


def test_a_request_without_the_api_key_is_refused(api: Api, stack: Stack) -> None:
    tenant = stack.doc["tenant_id"]
    for key in (None, "not-the-key"):
        for method, path in (("GET", f"/tenants/{tenant}/settings"), ("POST", f"/tenants/{tenant}/sync")):
            reply = api(method, path, key=key, json={})
            assert reply.status_code == 403, (key, method, path, reply.text)
    assert api("GET", f"/tenants/{tenant}/settings").status_code == 200


def test_settings_round_trip(api: Api, stack: Stack, onboard: Callable[..., OnboardedTenant]) -> None:
    tenant = onboard().tenant_id
    path = f"/tenants/{tenant}/settings"

    before = api("GET", path)
    assert before.status_code == 200, before.text
    assert before.json()["flows"]["push_payments"] is True
    assert "secret_name" not in before.json()

    changed = api("PATCH", path, json={"flows": {"push_payments": False}, "accounts": {"ar_account": "1010"}})

    assert changed.status_code == 200, changed.text
    assert changed.json()["flows"]["push_payments"] is False
    assert changed.json()["flows"]["push_invoices"] is True
    after = api("GET", path).json()
    assert after == changed.json()
    stored = stack.store().get_tenant(tenant)  # what the push and pull Lambdas read
    assert stored.flows.push_payments is False
    assert stored.accounts.ar_account == "1010"
    assert stored.secret_name  # untouched


def test_invalid_settings_are_422_and_nothing_is_saved(
    api: Api, stack: Stack, onboard: Callable[..., OnboardedTenant]
) -> None:
    tenant = onboard().tenant_id
    before = stack.store().get_tenant(tenant)

    reply = api(
        "PATCH", f"/tenants/{tenant}/settings", json={"lookback_minutes": -5, "base_currency": "X9Z1"}
    )

    assert reply.status_code == 422, reply.text
    locs = [e["loc"] for e in reply.json()["errors"]]
    assert ["body", "lookback_minutes"] in locs
    assert ["body", "base_currency"] in locs
    assert "X9Z1" not in reply.text
    assert stack.store().get_tenant(tenant) == before
    malformed = api(
        "PATCH",
        f"/tenants/{tenant}/settings",
        data=b'{"flows": ',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert api("GET", "/tenants/no-such-tenant-here/settings").status_code == 404


def test_sync_now_creates_a_pull_run_visible_in_the_status(
    api: Api, stack: Stack, onboard: Callable[..., OnboardedTenant]
) -> None:
    tenant = onboard(flows=ONLY_CUSTOMERS).tenant_id
    # Something for the customers flow to read (a flow that reads nothing records no timing).
    tag = uuid.uuid4().hex[:6].upper()
    stack.intacct_client(entity=e2e_entity(stack)).run(
        fn.create_customer(
            fn.CustomerInput(customer_id=f"API-{tag}", name=f"Sync now {tag}"), controlid=f"api-{tag}"
        )
    )

    queued = api("POST", f"/tenants/{tenant}/sync", json={})

    assert queued.status_code == 202, queued.text
    trigger = queued.json()["trigger"]
    assert trigger.startswith("operator:")

    def finished() -> dict[str, Any] | None:
        status = api("GET", f"/tenants/{tenant}/status")
        assert status.status_code == 200, status.text
        (report,) = status.json()["tenants"]
        last = report["last_pull"]
        customers = next(f for f in report["flows"] if f["flow"] == "pull:customers")
        # The run is stored first, then each flow's timing: wait for both.
        done = last and last["trigger"] == trigger and last["outcome"] in FINISHED
        return report if done and customers["last_outcome"] is not None else None

    report = eventually(finished, timeout=120, interval=1, what="the queued pull run in the status")
    assert report["last_pull"]["outcome"] == "succeeded"
    flows = {f["flow"]: f for f in report["flows"]}
    assert flows["pull:customers"]["last_outcome"] == "succeeded"
    assert flows["pull:customers"]["records_last_run"] >= 1
    assert flows["pull:customers"]["enabled"] is True
    assert flows["pull:invoices"]["enabled"] is False


def test_sync_now_with_every_pull_off_is_409(api: Api, onboard: Callable[..., OnboardedTenant]) -> None:
    tenant = onboard(flows=PULLS_OFF).tenant_id
    reply = api("POST", f"/tenants/{tenant}/sync", json={})
    assert reply.status_code == 409, reply.text


def test_an_error_is_listed_then_ignored_with_a_reason(
    api: Api, stack: Stack, onboard: Callable[..., OnboardedTenant]
) -> None:
    tenant = onboard().tenant_id
    stack.store().errors.record(
        tenant, "invoice", "inv_e2e", direction="push", message="the period is closed"
    )

    listed = api("GET", f"/tenants/{tenant}/errors", params={"direction": "push"})
    assert listed.status_code == 200, listed.text
    assert [(e["object_type"], e["object_id"]) for e in listed.json()["errors"]] == [("invoice", "inv_e2e")]

    refused = api("POST", f"/tenants/{tenant}/errors/invoice/inv_e2e/ignore", json={"reason": "  "})
    assert refused.status_code == 422
    ignored = api(
        "POST", f"/tenants/{tenant}/errors/invoice/inv_e2e/ignore", json={"reason": "voided in both"}
    )
    assert ignored.status_code == 200, ignored.text
    assert ignored.json()["ignored_reason"] == "voided in both"
    assert api("GET", f"/tenants/{tenant}/errors").json()["errors"] == []


# --- the committed document against the deployed API --------------------------------------------
def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# requirements/dev.txt is to pin schemathesis==4.32.5; until then these tests are skipped.
schemathesis = _optional("schemathesis")
NO_SCHEMATHESIS = "schemathesis is not installed: requirements/dev.txt needs schemathesis==4.32.5"
# A dozen requests per operation at most: the whole run in well under a minute.
MAX_EXAMPLES = 12
# A tenant of this test process's own for the fuzzing (never the demo tenant: the fuzzing
# changes settings at will). Pinned in the schema's config, so schemathesis knows the path
# parameter is given, not drawn; created by the fixture below.
FUZZ_TENANT = f"e2e-api-{uuid.uuid4().hex[:10]}"
# The settings have rules JSON Schema does not carry: across fields (an Order Entry definition
# cannot be both an invoice and a return) and on a value (the currency code: letters): a change
# the document allows can be refused, with a 422 the document describes.
SCHEMA_BLIND_RULES = {"changeSettings"}


def fuzz_schema() -> Any:
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    schema.config.update(parameters={"tenantId": FUZZ_TENANT})
    # The key is this test's to send (each call adds it); whether API Gateway refuses a request
    # without it is tested directly above.
    schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
    # Under the usage plan's rate (ApiRateLimit, 10/s by default): a 429 is documented, but a
    # run made of them would test nothing.
    schema.config.update(rate_limit="8/s")
    # API Gateway answers a method a REST API does not define with 403 ("Missing Authentication
    # Token"), never 405: not this API's to change.
    schema.config.checks.unsupported_method.enabled = False
    # The coverage phase (every boundary of every field: ~500 requests, ~90 s) only when asked
    # for, with API_FUZZ_COVERAGE=1; the default run is the examples and a dozen fuzzed cases each.
    schema.config.phases.coverage.enabled = os.environ.get("API_FUZZ_COVERAGE") == "1"
    return schema


Decorator = Callable[[Callable[..., None]], Callable[..., None]]
every_operation_but_sync_now: Decorator
sync_now_operation: Decorator
if schemathesis is not None:
    SCHEMA = fuzz_schema()
    every_operation_but_sync_now = SCHEMA.exclude(operation_id="syncNow").parametrize()
    sync_now_operation = SCHEMA.include(operation_id="syncNow").parametrize()
else:
    every_operation_but_sync_now = sync_now_operation = pytest.mark.skip(reason=NO_SCHEMATHESIS)


@pytest.fixture(scope="module")
def fuzz_tenant(stack: Stack) -> Iterator[str]:
    """FUZZ_TENANT with its pulls off, so nothing the fuzzing does starts a pull run; its own
    Blixo sandbox account, like every e2e tenant."""
    api_key = f"e2e-key-{uuid.uuid4().hex}"
    admin = str(stack.doc["blixo"]["url"]).removesuffix("/v1") + "/_sandbox/accounts"
    requests.post(admin, json={"apiKey": api_key}, timeout=10).raise_for_status()
    secrets = stack.client("secretsmanager")
    stored = onboard_tenant(
        stack.store(),
        secrets,
        stack.doc["tenant_secret_prefix"],
        TenantSettings(tenant_id=FUZZ_TENANT, name="Fuzzed", flows=PULLS_OFF, entity_id=e2e_entity(stack)),
        sandbox_secrets(stack.doc, f"whsec_{uuid.uuid4().hex}", api_key),
    )
    yield FUZZ_TENANT
    stack.store().delete_tenant(FUZZ_TENANT)
    secrets.delete_secret(SecretId=stored.secret_name, ForceDeleteWithoutRecovery=True)


@every_operation_but_sync_now
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_deployed_api_follows_its_document(case: Any, api: Api, fuzz_tenant: str) -> None:
    blind = case.operation.definition.raw.get("operationId") in SCHEMA_BLIND_RULES
    case.call_and_validate(
        base_url=api.url,
        headers={"x-api-key": api.key},
        excluded_checks=[schemathesis.checks.positive_data_acceptance] if blind else [],
    )


@sync_now_operation
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_sync_now_refuses_what_its_document_refuses(case: Any, api: Api, fuzz_tenant: str) -> None:
    # Only requests the document calls invalid: a valid one queues a pull (tested directly above).
    if case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.POSITIVE:
        return
    case.call_and_validate(base_url=api.url, headers={"x-api-key": api.key})
