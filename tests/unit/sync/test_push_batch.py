"""process_push_batch over fakes: flow switches, unknown tenants, sessions that cannot open,
and what it records (sync errors, flow activity)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from bisync.blixo.models import parse_event
from bisync.blixo.webhooks import WebhookError
from bisync.intacct.outcome import Outcome, OutcomeStatus
from bisync.secrets import TenantSecretsError
from bisync.settings import TenantSettings
from bisync.store.models import ErrorLevel, Mapping
from bisync.sync.jobs import PushJob
from bisync.sync.push import PushContext, PushMessage, PushSession, PushStatus, process_push_batch
from tests.unit.foundation.fakes import T0, FakeStore, customer_object, event_payload, pushes_off, tenant


@dataclass
class Errors:
    recorded: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[tuple[str, str, str]] = field(default_factory=list)

    def record(self, tenant_id: str, object_type: str, object_id: str, **kw: Any) -> Any:
        self.recorded.append({"tenant": tenant_id, "type": object_type, "id": object_id, **kw})

    def clear(self, tenant_id: str, object_type: str, object_id: str) -> bool:
        self.cleared.append((tenant_id, object_type, object_id))
        return False

    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[Any]:
        return []


@dataclass
class Store(FakeStore):
    errors: Errors = field(default_factory=Errors)


def store_with(*settings: TenantSettings) -> Store:
    store = Store()
    store.add(*settings)
    return store


@dataclass
class Mappings:
    links: dict[tuple[str, str], Mapping] = field(default_factory=dict)
    announced: dict[tuple[str, str], str] = field(default_factory=dict)

    def by_blixo(self, tenant_id: str, object_type: str, blixo_id: str) -> Mapping | None:
        return self.links.get((object_type, blixo_id))

    def by_intacct(self, tenant_id: str, object_type: str, intacct_key: str) -> Mapping | None:
        return next(
            (m for m in self.links.values() if m.object_type == object_type and m.intacct_key == intacct_key),
            None,
        )

    def link(self, mapping: Mapping) -> Mapping:
        self.links[(mapping.object_type, mapping.blixo_id)] = mapping
        return mapping

    def save(self, mapping: Mapping, *, previous_intacct_key: str | None = None) -> Mapping:
        return self.link(mapping)

    def expect(self, tenant_id: str, object_type: str, probe: str, blixo_id: str) -> None:
        self.announced[(object_type, probe)] = blixo_id

    def unexpect(self, tenant_id: str, object_type: str, probe: str) -> None:
        self.announced.pop((object_type, probe), None)


class BlixoNow:
    """Blixo as it is now: each job's object as its event carried it (push reads it first)."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}

    def _get(self, object_id: str) -> Any:
        if object_id not in self.objects:
            raise AssertionError(f"unexpected Blixo read {object_id}")
        return self.objects[object_id]

    customer = invoice = credit_note = payment = _get


NOW = BlixoNow()


@pytest.fixture(autouse=True)
def _blixo_now() -> None:
    NOW.objects.clear()


def job(
    event_type: str, obj: dict[str, Any], event_id: str = "evt_1", tenant_id: str = "acme"
) -> PushMessage:
    with contextlib.suppress(ValueError, ValidationError, WebhookError):
        NOW.objects[str(obj["id"])] = parse_event(event_payload(event_type, obj, event_id)).object
    return PushMessage(
        f"m-{event_id}",
        PushJob(
            tenant_id=tenant_id,
            event_id=event_id,
            event_type=event_type,
            customer_id=str(obj.get("customerId") or obj["id"]),
            received_at=T0,
            event_json=json.dumps(event_payload(event_type, obj, event_id)),
        ),
    )


def gateway(functions: Any) -> list[Outcome]:
    return [Outcome(f, OutcomeStatus.SUCCESS, key=f"K-{i}", data=None) for i, f in enumerate(functions)]


def sessions(opened: list[str], mappings: Mappings) -> Any:
    def open_session(settings: TenantSettings) -> PushSession:
        opened.append(settings.tenant_id)
        return PushSession(context=PushContext(settings, mappings, NOW, now=lambda: T0), execute=gateway)

    return open_session


@pytest.mark.parametrize("flag", ["push_customers"])
def test_a_flow_that_is_off_opens_no_session_and_writes_nothing(flag: str) -> None:
    store = store_with(tenant("acme", flows=pushes_off()))
    opened: list[str] = []
    report = process_push_batch(
        [job("customer.created", customer_object())], store=store, open_session=sessions(opened, Mappings())
    )
    assert opened == []
    [outcome] = report.outcomes
    assert outcome.result is not None
    assert (outcome.result.status, outcome.result.reason) == (PushStatus.SKIPPED, "flow off")
    assert store.activity[0].processed == 0


def test_a_customer_event_creates_and_counts() -> None:
    store = store_with(tenant("acme"))
    mappings = Mappings()
    opened: list[str] = []
    report = process_push_batch(
        [job("customer.created", customer_object())], store=store, open_session=sessions(opened, mappings)
    )
    [outcome] = report.outcomes
    assert outcome.result is not None
    assert outcome.result.status is PushStatus.CREATED
    assert opened == ["acme"]
    assert report.stats.requests == 2  # the CUSTOMERID lookup, then the create
    assert store.activity[0].processed == 1
    assert store.errors.cleared == [("acme", "customer", customer_object()["id"])]


def test_an_unknown_tenant_fails_its_messages_and_records_nothing() -> None:
    store = Store()
    report = process_push_batch(
        [job("customer.created", customer_object(), tenant_id="ghost")],
        store=store,
        open_session=sessions([], Mappings()),
    )
    assert report.failed_ids() == ["m-evt_1"]
    assert store.activity == []
    assert store.errors.recorded == []


def test_a_secret_that_cannot_be_read_fails_the_messages_transiently() -> None:
    store = store_with(tenant("acme"))

    def broken(settings: TenantSettings) -> PushSession:
        raise TenantSecretsError("acme", "'x' could not be read (ResourceNotFoundException)")

    report = process_push_batch(
        [job("customer.created", customer_object())], store=store, open_session=broken
    )
    assert report.failed_ids() == ["m-evt_1"]
    assert store.errors.recorded == []


def test_a_business_refusal_becomes_the_objects_sync_error() -> None:
    store = store_with(tenant("acme"))
    from bisync.intacct.errors import BusinessError, ErrorDetail

    def refusing(functions: Any) -> list[Outcome]:
        return [
            Outcome(
                f,
                OutcomeStatus.FAILED,
                error=BusinessError(
                    "BL01001973: bad", errors=[ErrorDetail(errorno="BL01001973", description="bad")]
                ),
            )
            if f.is_write
            else Outcome(f, OutcomeStatus.SUCCESS, data=None)
            for f in functions
        ]

    def open_session(settings: TenantSettings) -> PushSession:
        return PushSession(context=PushContext(settings, Mappings(), NOW, now=lambda: T0), execute=refusing)

    report = process_push_batch(
        [job("customer.created", customer_object())], store=store, open_session=open_session
    )
    assert report.failed_ids() == []
    [error] = store.errors.recorded
    assert (error["type"], error["id"], error["level"], error["intacct_errorno"]) == (
        "customer",
        customer_object()["id"],
        ErrorLevel.ERROR,
        "BL01001973",
    )
    assert error["retry"]["event_type"] == "customer.created"
    assert isinstance(error["now"], datetime)
