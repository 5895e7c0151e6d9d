"""receive_webhook: the webhook Lambda's decisions, with fake tenants, secrets and queue."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bisync.blixo.models import parse_event
from bisync.sync.intake import IntakeResult, IntakeStatus, receive_webhook
from bisync.sync.jobs import PushJob
from tests.unit.foundation.fakes import (
    OLD_SECRET,
    SECRET,
    T0,
    FakeDeliveries,
    FakeQueue,
    FakeSecrets,
    FakeStore,
    customer_object,
    event_payload,
    payment_object,
    raw,
    signed,
    tenant,
)

MAX = 4096


@dataclass
class World:
    store: FakeStore
    secrets: FakeSecrets
    queue: FakeQueue
    deliveries: FakeDeliveries

    def deliver(self, body: bytes, signature: str | None, tenant_id: str = "acme") -> IntakeResult:
        return receive_webhook(
            tenant_id,
            body,
            signature,
            tenants=self.store,
            webhook_secrets=self.secrets,
            queue=self.queue,
            deliveries=self.deliveries,
            max_body_bytes=MAX,
            now=lambda: T0,
        )


@pytest.fixture
def world() -> World:
    return World(
        store=FakeStore().add(tenant("acme")),
        secrets=FakeSecrets({"acme": [SECRET]}),
        queue=FakeQueue(),
        deliveries=FakeDeliveries(),
    )


def test_a_verified_event_is_queued_and_answered_202(world: World) -> None:
    payload = event_payload("invoice.created", event_id="evt_42")
    body, sig = signed(payload)

    response = world.deliver(body, sig)

    assert response.status is IntakeStatus.QUEUED
    assert (response.event_id, response.event_type) == ("evt_42", "invoice.created")
    [message] = world.queue.sent
    assert message.group_id == "acme:cus_1"  # the invoice's customer
    assert message.deduplication_id == "evt_42"
    job = PushJob.model_validate_json(message.body)
    assert (job.tenant_id, job.event_id, job.event_type, job.customer_id) == (
        "acme",
        "evt_42",
        "invoice.created",
        "cus_1",
    )
    assert job.received_at == T0
    # The consumer re-validates the event it carries: it must read back as what Blixo sent.
    assert parse_event(job.event()) == parse_event(payload)


def test_a_customer_event_is_grouped_by_the_customer_itself(world: World) -> None:
    body, sig = signed(event_payload("customer.updated", customer_object(id="cus_7")))
    assert world.deliver(body, sig).status is IntakeStatus.QUEUED
    assert world.queue.sent[0].group_id == "acme:cus_7"


def test_a_payment_event_is_grouped_by_its_customer(world: World) -> None:
    body, sig = signed(event_payload("payment.created", payment_object(customerId="cus_9")))
    assert world.deliver(body, sig).status is IntakeStatus.QUEUED
    assert world.queue.sent[0].group_id == "acme:cus_9"


def test_an_oversize_body_is_413_before_any_lookup(world: World) -> None:
    body = b"{" + b" " * MAX + b"}"
    response = world.deliver(body, "0" * 64)
    assert response.status is IntakeStatus.TOO_LARGE
    assert world.store.lookups == []
    assert world.secrets.calls == []
    assert world.queue.sent == []


def test_a_body_of_exactly_the_limit_is_not_oversize(world: World) -> None:
    payload = event_payload()
    payload["padding"] = ""
    payload["padding"] = "x" * (MAX - len(raw(payload)))
    body, sig = signed(payload)
    assert len(body) == MAX
    assert world.deliver(body, sig).status is IntakeStatus.QUEUED


def test_an_unknown_tenant_is_404_and_its_secrets_are_not_read(world: World) -> None:
    body, sig = signed(event_payload())
    response = world.deliver(body, sig, tenant_id="ghost")
    assert response.status is IntakeStatus.UNKNOWN_TENANT
    assert world.store.lookups == ["ghost"]
    assert world.secrets.calls == []
    assert world.queue.sent == []


@pytest.mark.parametrize("tenant_id", ["", "../acme", "acme#B#x", "ac me", "a" * 65])
def test_an_invalid_tenant_id_is_404_without_a_lookup(world: World, tenant_id: str) -> None:
    body, sig = signed(event_payload())
    assert world.deliver(body, sig, tenant_id=tenant_id).status is IntakeStatus.UNKNOWN_TENANT
    assert world.store.lookups == []
    assert world.queue.sent == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "   ",
        "not-hex",
        "0" * 64,
        "sha256=" + "0" * 64,
    ],
)
def test_a_missing_or_bad_signature_is_401(world: World, signature: str | None) -> None:
    body, _ = signed(event_payload())
    response = world.deliver(body, signature)
    assert response.status is IntakeStatus.UNSIGNED
    assert world.queue.sent == []


def test_a_signature_made_with_another_secret_is_401(world: World) -> None:
    body, sig = signed(event_payload(), secret="someone-else")
    assert world.deliver(body, sig).status is IntakeStatus.UNSIGNED
    assert world.queue.sent == []


def test_a_signature_over_other_bytes_is_401(world: World) -> None:
    body, sig = signed(event_payload())
    tampered = body.replace(b"1500.0", b"1.0")
    assert tampered != body
    assert world.deliver(tampered, sig).status is IntakeStatus.UNSIGNED
    assert world.queue.sent == []


def test_the_previous_secret_is_accepted_during_a_rotation(world: World) -> None:
    world.secrets.secrets["acme"] = [SECRET, OLD_SECRET]
    old_body, old_sig = signed(event_payload(event_id="evt_old"), secret=OLD_SECRET)
    new_body, new_sig = signed(event_payload(event_id="evt_new"), secret=SECRET)
    assert world.deliver(old_body, old_sig).status is IntakeStatus.QUEUED
    assert world.deliver(new_body, new_sig).status is IntakeStatus.QUEUED
    assert [m.deduplication_id for m in world.queue.sent] == ["evt_old", "evt_new"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'{"id": "evt_1", "id": "evt_2"}',
        json.dumps(event_payload(obj={"id": "inv_1"})).encode(),  # invoice without its fields
        json.dumps({"id": "evt_1", "type": "invoice.created"}).encode(),  # no data
    ],
)
def test_a_signed_but_malformed_body_is_400(world: World, body: bytes) -> None:
    from bisync.blixo.webhooks import sign

    response = world.deliver(body, sign(body, SECRET))
    assert response.status is IntakeStatus.MALFORMED
    assert world.queue.sent == []


def test_an_unknown_event_type_is_200_ignored_and_not_queued(world: World) -> None:
    body, sig = signed(event_payload("subscription.renewed", {"id": "sub_1"}, event_id="evt_9"))
    response = world.deliver(body, sig)
    assert response.status is IntakeStatus.IGNORED
    assert (response.event_id, response.event_type) == ("evt_9", "subscription.renewed")
    assert world.queue.sent == []


def test_a_queue_failure_propagates_so_blixo_gets_a_5xx_and_retries(world: World) -> None:
    world.queue.fail_with = ConnectionError("sqs unreachable")
    body, sig = signed(event_payload())
    with pytest.raises(ConnectionError):
        world.deliver(body, sig)
    # Not remembered: Blixo's retry of it is queued, not refused as a replay.
    assert world.deliveries.queued == {}
    world.queue.fail_with = None
    assert world.deliver(body, sig).status is IntakeStatus.QUEUED
    assert len(world.queue.sent) == 1


def test_an_event_id_queued_before_is_a_replay_acknowledged_and_not_queued(world: World) -> None:
    body, sig = signed(event_payload("invoice.created", event_id="evt_7"))
    assert world.deliver(body, sig).status is IntakeStatus.QUEUED
    assert world.deliveries.queued == {("acme", "evt_7"): T0}
    again = world.deliver(body, sig)
    assert (again.status, again.event_id, again.event_type) == (
        IntakeStatus.REPLAYED,
        "evt_7",
        "invoice.created",
    )
    assert len(world.queue.sent) == 1
    # Per tenant: the same event id at another tenant is that tenant's own event.
    world.store.add(tenant("beta"))
    world.secrets.secrets["beta"] = [SECRET]
    assert world.deliver(body, sig, tenant_id="beta").status is IntakeStatus.QUEUED
    assert len(world.queue.sent) == 2


def test_an_unverified_replay_is_refused_before_the_replay_guard_is_asked(world: World) -> None:
    body, _sig = signed(event_payload(event_id="evt_8"))
    assert world.deliver(body, "sha256=" + "0" * 64).status is IntakeStatus.UNSIGNED
    assert world.deliveries.queued == {}


def test_an_unexpected_secrets_failure_propagates_rather_than_being_answered_4xx(world: World) -> None:
    world.store.add(tenant("nosecret"))  # FakeSecrets raises KeyError: a bug, not an answer
    body, sig = signed(event_payload())
    with pytest.raises(KeyError):
        world.deliver(body, sig, tenant_id="nosecret")
    assert world.queue.sent == []


def test_a_missing_secret_is_a_retryable_refusal_that_names_no_secret(world: World) -> None:
    from bisync.secrets import TenantSecretsError

    def missing(tenant_id: str) -> list[SecretStr]:
        raise TenantSecretsError(tenant_id, "'prefix/acme' could not be read (ResourceNotFoundException)")

    world.secrets = missing  # type: ignore[assignment]
    body, sig = signed(event_payload())
    result = world.deliver(body, sig)
    assert result.status is IntakeStatus.SECRET_UNAVAILABLE
    assert "ResourceNotFoundException" in result.message
    assert SECRET not in result.message
    assert world.queue.sent == []
