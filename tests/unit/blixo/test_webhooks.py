"""Webhook verification: signature, rotation, size, strict JSON, event validation."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from bisync.blixo import api
from bisync.blixo.api import EventAction, ResourceKind
from bisync.blixo.models import Invoice, Payment
from bisync.blixo.webhooks import (
    DEFAULT_MAX_BODY_BYTES,
    AcceptedEvent,
    IgnoredEvent,
    InvalidSignature,
    MalformedPayload,
    MissingSignature,
    PayloadTooLarge,
    WebhookError,
    sign,
    signature_from_headers,
    verify,
)
from tests.unit.blixo import samples

SECRET = "whsec_current_0123456789"
OLD_SECRET = "whsec_previous_9876543210"


def _signed(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_valid_signature_is_accepted_and_event_parsed() -> None:
    raw = samples.body(samples.event("invoice.created", samples.invoice()))

    outcome = verify(raw, _signed(raw), [SECRET])

    assert isinstance(outcome, AcceptedEvent)
    assert outcome.secret_index == 0
    event = outcome.event
    assert event.id == "evt_1"
    assert event.resource is ResourceKind.INVOICE
    assert event.action is EventAction.CREATED
    assert isinstance(event.object, Invoice)
    assert event.object_id == "inv_1"


def test_sign_matches_an_independent_hmac() -> None:
    raw = b'{"a":1}'
    assert sign(raw, SECRET) == _signed(raw)
    assert sign(raw, SecretStr(SECRET)) == _signed(raw)
    assert sign(raw, SECRET.encode()) == _signed(raw)


@pytest.mark.parametrize("position", [0, 10, -2])
def test_a_changed_byte_is_rejected(position: int) -> None:
    raw = samples.body(samples.event())
    signature = _signed(raw)
    tampered = bytearray(raw)
    tampered[position] ^= 0x01

    with pytest.raises(InvalidSignature):
        verify(bytes(tampered), signature, [SECRET])


def test_a_changed_amount_is_rejected_even_if_still_valid_json() -> None:
    raw = samples.body(samples.event(obj=samples.invoice(total=54.50)))
    signature = _signed(raw)
    forged = raw.replace(b'"total": 54.5', b'"total": 5.45')
    assert forged != raw

    with pytest.raises(InvalidSignature):
        verify(forged, signature, [SECRET])


def test_wrong_secret_is_rejected() -> None:
    raw = samples.body(samples.event())
    with pytest.raises(InvalidSignature) as info:
        verify(raw, _signed(raw, "some-other-secret"), [SECRET])
    assert info.value.status_code == 401


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature_is_rejected(header: str | None) -> None:
    raw = samples.body(samples.event())
    with pytest.raises(MissingSignature) as info:
        verify(raw, header, [SECRET])
    assert info.value.status_code == 401


@pytest.mark.parametrize("header", ["not-hex", "ab" * 31, "ab" * 33, "sha256=" + "ab" * 32, "zz" * 32])
def test_signature_that_is_not_a_digest_is_rejected(header: str) -> None:
    raw = samples.body(samples.event())
    with pytest.raises(InvalidSignature):
        verify(raw, header, [SECRET])


def test_signature_case_and_whitespace_are_tolerated() -> None:
    raw = samples.body(samples.event())
    outcome = verify(raw, f"  {_signed(raw).upper()}\n", [SECRET])
    assert isinstance(outcome, AcceptedEvent)


def test_previous_secret_is_accepted_during_rotation() -> None:
    raw = samples.body(samples.event())

    old = verify(raw, _signed(raw, OLD_SECRET), [SECRET, OLD_SECRET])
    new = verify(raw, _signed(raw, SECRET), [SecretStr(SECRET), SecretStr(OLD_SECRET)])

    assert isinstance(old, AcceptedEvent)
    assert old.secret_index == 1
    assert isinstance(new, AcceptedEvent)
    assert new.secret_index == 0


def test_retired_secret_is_rejected_after_rotation() -> None:
    raw = samples.body(samples.event())
    with pytest.raises(InvalidSignature):
        verify(raw, _signed(raw, OLD_SECRET), [SECRET])


def test_empty_secrets_are_a_configuration_error_not_a_401() -> None:
    raw = samples.body(samples.event())
    with pytest.raises(ValueError, match="no webhook secret"):
        verify(raw, _signed(raw), [])
    with pytest.raises(ValueError, match="no webhook secret"):
        verify(raw, _signed(raw, ""), ["", b""])


def test_oversize_body_is_rejected_before_signature_check() -> None:
    raw = b" " * (DEFAULT_MAX_BODY_BYTES + 1)
    # No signature at all: size is checked first, so the answer is 413, not 401.
    with pytest.raises(PayloadTooLarge) as info:
        verify(raw, None, [SECRET])
    assert info.value.status_code == 413


def test_body_size_limit_is_configurable_and_inclusive() -> None:
    raw = samples.body(samples.event())
    assert isinstance(verify(raw, _signed(raw), [SECRET], max_body_bytes=len(raw)), AcceptedEvent)
    with pytest.raises(PayloadTooLarge):
        verify(raw, _signed(raw), [SECRET], max_body_bytes=len(raw) - 1)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"evt"', "JSON object"),
        (b'{"id": "evt_1", "id": "evt_2"}', "duplicate JSON key"),
        (b'{"amount": NaN}', "NaN"),
        (b'{"amount": Infinity}', "Infinity"),
        (b'{"amount": -Infinity}', "-Infinity"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON|JSON object"),
    ],
)
def test_malformed_json_is_rejected(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason) as info:
        verify(raw, _signed(raw), [SECRET], max_body_bytes=1_000_000)
    assert info.value.status_code == 400


def test_duplicate_key_nested_in_the_object_is_rejected() -> None:
    raw = (
        b'{"id":"evt_1","type":"invoice.updated","createdAt":"2024-03-02T11:30:01Z",'
        b'"data":{"object":{"id":"inv_1","total":10,"total":1000}}}'
    )
    with pytest.raises(MalformedPayload, match="duplicate JSON key 'total'"):
        verify(raw, _signed(raw), [SECRET])


def test_malformed_json_with_a_bad_signature_is_a_signature_error() -> None:
    # Unauthenticated input is never parsed.
    with pytest.raises(InvalidSignature):
        verify(b"{not json", "ab" * 32, [SECRET])


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "invoice.created", "createdAt": "2024-03-02T11:30:01Z", "data": {"object": {}}},
        {"id": "evt_1", "createdAt": "2024-03-02T11:30:01Z", "data": {"object": {}}},
        {"id": "evt_1", "type": "invoice.created", "data": {"object": {}}},
        {"id": "evt_1", "type": "invoice.created", "createdAt": "2024-03-02T11:30:01Z"},
        {"id": "", "type": "invoice.created", "createdAt": "2024-03-02T11:30:01Z", "data": {"object": {}}},
        # A naive timestamp is not an instant.
        {
            "id": "evt_1",
            "type": "invoice.created",
            "createdAt": "2024-03-02T11:30:01",
            "data": {"object": {}},
        },
    ],
)
def test_bad_envelope_is_malformed(payload: dict[str, object]) -> None:
    raw = json.dumps(payload).encode()
    with pytest.raises(MalformedPayload, match="envelope"):
        verify(raw, _signed(raw), [SECRET])


def test_known_type_with_invalid_object_is_malformed() -> None:
    obj = samples.invoice(total="12.345")  # three places: not money
    raw = samples.body(samples.event("invoice.updated", obj))
    with pytest.raises(MalformedPayload, match=r"invoice.updated object.*total") as info:
        verify(raw, _signed(raw), [SECRET])
    # The error names the field but does not echo the payload's values.
    assert "12.345" not in str(info.value)


def test_object_of_the_wrong_kind_is_malformed() -> None:
    raw = samples.body(samples.event("payment.created", samples.customer()))
    with pytest.raises(MalformedPayload):
        verify(raw, _signed(raw), [SECRET])


@pytest.mark.parametrize(
    "type_", ["invoice.paid", "subscription.created", "customer.merged", "INVOICE.CREATED"]
)
def test_unknown_event_type_is_ignored_not_accepted(type_: str) -> None:
    # The object need not match any model: an unknown type is acknowledged as it is.
    raw = samples.body(samples.event(type_, {"whatever": True}, event_id="evt_unknown"))

    outcome = verify(raw, _signed(raw), [SECRET])

    assert outcome == IgnoredEvent(event_id="evt_unknown", event_type=type_, secret_index=0)


def test_unknown_event_type_still_needs_a_valid_signature() -> None:
    raw = samples.body(samples.event("invoice.paid", {}))
    with pytest.raises(InvalidSignature):
        verify(raw, _signed(raw, "wrong"), [SECRET])


@pytest.mark.parametrize("type_", sorted(api.EVENT_TYPES))
def test_every_known_type_parses_into_its_model(type_: str) -> None:
    kind, action = api.EVENT_TYPES[type_]
    obj = {
        ResourceKind.CUSTOMER: samples.customer,
        ResourceKind.INVOICE: samples.invoice,
        ResourceKind.CREDIT_NOTE: samples.credit_note,
        ResourceKind.PAYMENT: samples.payment,
    }[kind]()
    raw = samples.body(samples.event(type_, obj))

    outcome = verify(raw, _signed(raw), [SECRET])

    assert isinstance(outcome, AcceptedEvent)
    assert outcome.event.resource is kind
    assert outcome.event.action is action
    assert outcome.event.type == type_


def test_void_arrives_as_updated_with_previous() -> None:
    obj = samples.payment(status="voided")
    raw = samples.body(samples.event("payment.updated", obj, previous={"status": "succeeded"}))

    outcome = verify(raw, _signed(raw), [SECRET])

    assert isinstance(outcome, AcceptedEvent)
    assert isinstance(outcome.event.object, Payment)
    assert outcome.event.is_void
    assert outcome.event.previous == {"status": "succeeded"}


def test_plain_update_is_not_a_void() -> None:
    raw = samples.body(
        samples.event("invoice.updated", samples.invoice(), previous={"dueDate": "2024-03-30"})
    )
    outcome = verify(raw, _signed(raw), [SECRET])
    assert isinstance(outcome, AcceptedEvent)
    assert not outcome.event.is_void


def test_money_in_events_is_exact_decimal() -> None:
    # 0.1 + 0.2 style values must not pick up binary float noise on the way in.
    obj = samples.invoice(subtotal=0.3, taxTotal=0.1, total=0.4, amountPaid=0.2, balance=0.2)
    raw = samples.body(samples.event(obj=obj))
    outcome = verify(raw, _signed(raw), [SECRET])
    assert isinstance(outcome, AcceptedEvent)
    assert isinstance(outcome.event.object, Invoice)
    assert str(outcome.event.object.total) == "0.40"
    assert str(outcome.event.object.balance) == "0.20"


def test_all_errors_share_a_base_class_with_status() -> None:
    for cls, status in [
        (MissingSignature, 401),
        (InvalidSignature, 401),
        (PayloadTooLarge, 413),
        (MalformedPayload, 400),
    ]:
        assert issubclass(cls, WebhookError)
        assert cls.status_code == status


def test_errors_do_not_reveal_the_secret() -> None:
    raw = samples.body(samples.event())
    with pytest.raises(InvalidSignature) as info:
        verify(raw, "ab" * 32, [SECRET, OLD_SECRET])
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_signature_header_lookup_ignores_case() -> None:
    assert signature_from_headers({"x-blixo-signature": "abc", "Other": "x"}) == "abc"
    assert signature_from_headers({"X-BLIXO-SIGNATURE": "def"}) == "def"
    assert signature_from_headers({"X-Other": "abc"}) is None
    assert signature_from_headers(None) is None
