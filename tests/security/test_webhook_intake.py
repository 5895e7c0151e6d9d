"""The webhook intake under attack and bad input, at the handler, on moto.

Each refused delivery gets the right answer (a 4xx with a clear message, or a 2xx where Blixo
must stop retrying), leaves the push queue exactly as it was, is counted by a Powertools metric
of its own, and leaves no secret in the reply or in any log line. A genuine delivery next to
each case shows the fixture can succeed, so every refusal is the input's doing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bisync.blixo.webhooks import sign
from bisync.settings import TenantSettings
from tests.infrastructure.cfn import load_template
from tests.security import webhook_support as support
from tests.security.webhook_support import (
    ACME_SECRET,
    BETA_SECRET,
    PAUSED_SECRET,
    PLAINTEXTS,
    SAMPLE_BODY,
    SAMPLE_EVENT_ID,
    SECRET_PREFIX,
    Intake,
    Reply,
    SqsClock,
    counted,
    leaked,
    padded,
    secret_document,
    secretsmanager,
)

# The fixtures, bound here for pytest to find (this folder's conftest is not this suite's).
_fast_moto_transactions = support._fast_moto_transactions
aws, aws_env, table, tenants = support.aws, support.aws_env, support.table, support.tenants
intake, sqs_clock = support.intake, support.sqs_clock

# A value inside the body: a body the intake refuses is never echoed into a reply or a log.
CANARY = "CANARY-7f3e-do-not-echo"
CANARY_BODY = SAMPLE_BODY.replace('"purchaseOrder":"PO-77"', f'"purchaseOrder":"{CANARY}"')


def assert_clean(reply: Reply, *, echoes: str | None = None) -> None:
    """No secret anywhere the invocation wrote; one answer line naming the outcome; and, for a
    refused body, none of its values."""
    assert leaked(reply.raw_output) == []
    assert reply.answered()["status"] == reply.status
    if echoes is not None:
        assert echoes not in reply.raw_output


def assert_refused(intake: Intake, reply: Reply, status: int, message: str, metric: str) -> None:
    """Refused: the status and its message exactly, the two metrics of the refusal, nothing on
    the push queue, and nothing secret or echoed."""
    assert (reply.status, reply.body) == (status, {"message": message})
    assert reply.metrics == counted(status, metric)
    assert intake.depth() == 0
    assert_clean(reply, echoes=CANARY)


def test_the_leak_check_finds_each_plaintext() -> None:
    for name, value in PLAINTEXTS.items():
        assert leaked(f"xx{value}yy") == [name]
    assert leaked(json.dumps({"ok": "whsec_SECURITY_"})) == []


def test_a_genuine_delivery_is_queued_once_and_counted(intake: Intake) -> None:
    reply = intake.post(CANARY_BODY)
    assert (reply.status, reply.body) == (202, {"status": "queued", "eventId": SAMPLE_EVENT_ID})
    assert reply.headers == {"Content-Type": "application/json"}
    assert reply.metrics == counted(202, "WebhookEventsQueued")
    [(attributes, job)] = intake.queued()
    assert attributes["MessageDeduplicationId"] == SAMPLE_EVENT_ID
    assert (job.tenant_id, job.event_id, job.event_json) == ("acme", SAMPLE_EVENT_ID, CANARY_BODY)
    assert_clean(reply)


# --------------------------------------------------------------------------- forged signatures
TAMPERED = SAMPLE_BODY.replace('"total":1500.0', '"total":1.0')
MISMATCH = "signature does not match"
NOT_HEX = "X-Blixo-Signature is not a hex HMAC-SHA256 digest"
MISSING = "missing X-Blixo-Signature header"


@pytest.mark.parametrize(
    ("body", "signature", "message"),
    [
        pytest.param(CANARY_BODY, sign(CANARY_BODY.encode(), "whsec_guessed"), MISMATCH, id="wrong-secret"),
        pytest.param(
            CANARY_BODY, sign(CANARY_BODY.encode(), BETA_SECRET), MISMATCH, id="another-tenants-secret"
        ),
        pytest.param(
            CANARY_BODY, sign(CANARY_BODY.encode(), PAUSED_SECRET), MISMATCH, id="a-disabled-tenants-secret"
        ),
        pytest.param(TAMPERED, sign(SAMPLE_BODY.encode(), ACME_SECRET), MISMATCH, id="tampered-body"),
        pytest.param(
            CANARY_BODY + " ", sign(CANARY_BODY.encode(), ACME_SECRET), MISMATCH, id="one-byte-appended"
        ),
        pytest.param(CANARY_BODY, sign(b"", ACME_SECRET), MISMATCH, id="signature-of-an-empty-body"),
        pytest.param(CANARY_BODY, "0" * 64, MISMATCH, id="all-zero-digest"),
        pytest.param(
            CANARY_BODY,
            sign(CANARY_BODY.encode(), "whsec_guessed").upper(),
            MISMATCH,
            id="wrong-digest-in-upper-case",
        ),
        pytest.param(
            CANARY_BODY, sign(CANARY_BODY.encode(), ACME_SECRET)[:63], NOT_HEX, id="truncated-digest"
        ),
        pytest.param(
            CANARY_BODY, "sha256=" + sign(CANARY_BODY.encode(), ACME_SECRET), NOT_HEX, id="prefixed-digest"
        ),
        pytest.param(
            CANARY_BODY,
            sign(CANARY_BODY.encode(), ACME_SECRET) + "," + "0" * 64,
            NOT_HEX,
            id="two-digests",
        ),
        pytest.param(CANARY_BODY, "", MISSING, id="empty-header"),
        pytest.param(CANARY_BODY, "   ", MISSING, id="blank-header"),
    ],
)
def test_a_forged_signature_is_401_and_queues_nothing(
    intake: Intake, body: str, signature: str, message: str
) -> None:
    reply = intake.post(body, signature=signature)
    assert_refused(intake, reply, 401, message, "WebhookRejectedSignature")


def test_a_delivery_without_the_signature_header_is_401(intake: Intake) -> None:
    reply = intake.post(CANARY_BODY, unsigned=True)
    assert_refused(intake, reply, 401, MISSING, "WebhookRejectedSignature")


def test_a_delivery_signed_for_one_tenant_opens_no_other(intake: Intake) -> None:
    # beta's own genuine delivery, replayed at acme's URL (and acme's at beta's).
    for tenant_id, secret in (("acme", BETA_SECRET), ("beta", ACME_SECRET)):
        reply = intake.post(CANARY_BODY, tenant_id=tenant_id, secret=secret)
        assert_refused(intake, reply, 401, MISMATCH, "WebhookRejectedSignature")
    assert intake.post(CANARY_BODY, tenant_id="beta", secret=BETA_SECRET).status == 202
    [(_, job)] = intake.queued()
    assert job.tenant_id == "beta"


def test_a_genuine_delivery_replayed_hours_later_is_acknowledged_and_not_queued(
    intake: Intake, sqs_clock: SqsClock
) -> None:
    """Blixo signs the body only (docs/blixo-api.md): a genuine delivery replayed hours later
    verifies again, and SQS's deduplication (MessageDeduplicationId = event id) lasts five
    minutes. The intake remembers each event id it queued: the replay is answered 200 (Blixo
    must stop), counted, and never queued a second time."""
    first = intake.post(SAMPLE_BODY)
    assert first.status == 202
    assert intake.depth() == 1

    sqs_clock.advance(3 * 3600)
    late = intake.post(SAMPLE_BODY)
    assert (late.status, late.body) == (
        200,
        {
            "status": "replayed",
            "eventId": SAMPLE_EVENT_ID,
            "message": "event already received: not queued again",
        },
    )
    assert late.metrics == counted(200, "WebhookReplaysIgnored")
    [(attributes, job)] = intake.queued()
    assert (attributes["MessageDeduplicationId"], job.event_json) == (SAMPLE_EVENT_ID, SAMPLE_BODY)
    assert_clean(late)


# --------------------------------------------------------------------------- size
DEPLOYED_LIMIT = 262144  # template.yaml's WebhookMaxBodyBytes default, checked below


def test_the_limit_under_test_is_the_deployed_one(intake: Intake) -> None:
    template = load_template()
    assert template["Parameters"]["WebhookMaxBodyBytes"]["Default"] == DEPLOYED_LIMIT
    variables = template["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["WEBHOOK_MAX_BODY_BYTES"] == {"Ref": "WebhookMaxBodyBytes"}
    assert intake.handler.runtime_config().webhook_max_body_bytes == DEPLOYED_LIMIT


def too_large(limit: int) -> str:
    return f"body exceeds {limit} bytes"


def test_a_body_of_exactly_the_limit_is_queued(intake: Intake) -> None:
    reply = intake.post(padded(SAMPLE_BODY, DEPLOYED_LIMIT))
    assert reply.status == 202
    assert intake.depth() == 1


@pytest.mark.parametrize(
    ("body", "options"),
    [
        pytest.param(padded(CANARY_BODY, DEPLOYED_LIMIT + 1), {}, id="one-byte-over"),
        pytest.param(padded(CANARY_BODY, 4 * DEPLOYED_LIMIT), {}, id="four-times-over"),
        pytest.param(padded(CANARY_BODY, DEPLOYED_LIMIT + 1), {"unsigned": True}, id="over-and-unsigned"),
        pytest.param(padded(CANARY_BODY, DEPLOYED_LIMIT + 1), {"signature": "0" * 64}, id="over-and-forged"),
        pytest.param(
            padded(CANARY_BODY, DEPLOYED_LIMIT + 1), {"tenant_id": "ghost"}, id="over-for-an-unknown-tenant"
        ),
        pytest.param(
            padded(CANARY_BODY, DEPLOYED_LIMIT + 1), {"base64_body": True}, id="over-once-base64-decoded"
        ),
    ],
)
def test_a_body_over_the_limit_is_413_before_anything_else(
    intake: Intake, body: str, options: dict[str, Any]
) -> None:
    reply = intake.post(body, **options)
    assert_refused(intake, reply, 413, too_large(DEPLOYED_LIMIT), "WebhookRejectedTooLarge")


def test_the_limit_counts_bytes_not_characters(intake: Intake) -> None:
    # 1 character, 3 bytes: the body has fewer characters than the limit, more bytes.
    base = padded(CANARY_BODY, DEPLOYED_LIMIT - 300)
    body = base.replace('"pad":"', '"pad":"' + "€" * 150, 1)
    assert len(body) < DEPLOYED_LIMIT < len(body.encode("utf-8"))
    reply = intake.post(body)
    assert_refused(intake, reply, 413, too_large(DEPLOYED_LIMIT), "WebhookRejectedTooLarge")


def test_a_base64_body_is_measured_once_decoded(intake: Intake) -> None:
    # Its base64 text is a third longer than the limit; the bytes Blixo sent are exactly it.
    reply = intake.post(padded(SAMPLE_BODY, DEPLOYED_LIMIT), base64_body=True)
    assert reply.status == 202
    assert intake.depth() == 1


def test_the_limit_is_the_handlers_configured_one(intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "1024")
    intake.handler.runtime_config.cache_clear()
    assert intake.post(padded(SAMPLE_BODY, 1024)).status == 202
    reply = intake.post(padded(CANARY_BODY, 1025))
    assert (reply.status, reply.body) == (413, {"message": too_large(1024)})
    assert reply.metrics == counted(413, "WebhookRejectedTooLarge")
    assert intake.depth() == 1  # the first one only
    intake.handler.runtime_config.cache_clear()


# --------------------------------------------------------------------------- malformed JSON
NOT_JSON = "body is not valid JSON: JSONDecodeError"
NOT_AN_OBJECT = "event must be a JSON object"
NOT_UTF8 = "body is not UTF-8"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(CANARY_BODY[:-1], NOT_JSON, id="truncated-by-one"),
        pytest.param(CANARY_BODY[: len(CANARY_BODY) // 2], NOT_JSON, id="truncated-half-way"),
        pytest.param("", NOT_JSON, id="empty"),
        pytest.param("\ufeff" + CANARY_BODY, NOT_JSON, id="byte-order-mark"),
        pytest.param(CANARY_BODY + CANARY_BODY, NOT_JSON, id="two-documents"),
        pytest.param("{'id': 'evt_1'}", NOT_JSON, id="single-quotes"),
        pytest.param(f"[{CANARY_BODY}]", NOT_AN_OBJECT, id="an-array"),
        pytest.param(json.dumps(CANARY_BODY), NOT_AN_OBJECT, id="a-string"),
        pytest.param("42", NOT_AN_OBJECT, id="a-number"),
        pytest.param("null", NOT_AN_OBJECT, id="null"),
        pytest.param("true", NOT_AN_OBJECT, id="true"),
        pytest.param(
            CANARY_BODY.replace('{"id":"evt_', '{"id":"evt_other","id":"evt_', 1),
            "duplicate JSON key 'id'",
            id="duplicate-event-id",
        ),
        pytest.param(
            CANARY_BODY.replace('"total":1500.0', '"total":1500.0,"total":1.0'),
            "duplicate JSON key 'total'",
            id="duplicate-nested-key",
        ),
        pytest.param(
            CANARY_BODY.replace('"total":1500.0', '"total":NaN'), "JSON constant NaN is not allowed", id="nan"
        ),
        pytest.param(
            CANARY_BODY.replace('"total":1500.0', '"total":-Infinity'),
            "JSON constant -Infinity is not allowed",
            id="infinity",
        ),
        pytest.param(
            json.dumps({"type": "invoice.created", "note": CANARY}),
            "invalid event envelope: 3 error(s), first at id: Field required",
            id="no-event-id",
        ),
        pytest.param(
            CANARY_BODY.replace('"customerId":"cus_01JDEMO001"', '"customerId":["cus"]'),
            "invalid invoice.created object: 1 error(s), first at customerId: Input should be a valid string",
            id="wrong-field-type",
        ),
    ],
)
def test_a_signed_but_malformed_body_is_400_and_queues_nothing(
    intake: Intake, body: str, message: str
) -> None:
    reply = intake.post(body)
    assert_refused(intake, reply, 400, message, "WebhookRejectedMalformed")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(CANARY_BODY.encode().replace(b"INV-1001", b"INV-\xff"), id="invalid-byte"),
        pytest.param(CANARY_BODY.encode().replace(b"INV-1001", b"INV-\xc0\xaf"), id="overlong-encoding"),
        pytest.param(CANARY_BODY.encode().replace(b"INV-1001", b"INV-\xed\xa0\x80"), id="encoded-surrogate"),
        pytest.param(CANARY_BODY.encode().replace(b"INV-1001", b"INV-\xe2\x82"), id="cut-multibyte"),
        pytest.param(CANARY_BODY.replace("INV-1001", "INV-é").encode("latin-1"), id="latin-1"),
        pytest.param(CANARY_BODY.encode("utf-16"), id="utf-16"),
    ],
)
def test_a_signed_body_that_is_not_utf8_is_400(intake: Intake, raw: bytes) -> None:
    # API Gateway hands a body that is not text to the Lambda base64-encoded.
    reply = intake.post(raw, base64_body=True)
    assert_refused(intake, reply, 400, NOT_UTF8, "WebhookRejectedMalformed")


# --------------------------------------------------------------------------- unknown tenants
@pytest.mark.parametrize(
    "tenant_id",
    [
        pytest.param("ghost", id="never-onboarded"),
        pytest.param("ACME", id="another-case"),
        pytest.param("a" * 64, id="longest-valid-id"),
        pytest.param("a" * 65, id="one-too-long"),
        pytest.param("a" * 10_000, id="very-long"),
        pytest.param("", id="empty"),
        pytest.param("../acme", id="parent-traversal"),
        pytest.param("acme/../beta", id="inner-traversal"),
        pytest.param("..%2Facme", id="encoded-slash"),
        pytest.param("%2e%2e%2facme", id="encoded-dots"),
        pytest.param("..\\acme", id="backslash-traversal"),
        pytest.param("acme\x00", id="nul-byte"),
        pytest.param("acme\n", id="trailing-newline"),
        pytest.param(" acme", id="leading-space"),
        pytest.param("acme#SETTINGS", id="dynamodb-key-separator"),
        pytest.param("TENANT#acme", id="dynamodb-key-prefix"),
        pytest.param("*", id="wildcard"),
        pytest.param("acme.json", id="dot"),
        pytest.param("acme\u200b", id="zero-width-space"),
        pytest.param("аcme", id="cyrillic-a"),  # noqa: RUF001 - the look-alike is the point
    ],
)
def test_an_unknown_tenant_is_404_whatever_the_id(intake: Intake, tenant_id: str) -> None:
    # Signed with acme's secret: no id that merely looks like acme's reaches its secret.
    reply = intake.post(CANARY_BODY, tenant_id=tenant_id)
    assert_refused(
        intake, reply, 404, "unknown tenant", "WebhookRejectedUnknownTenant"
    )  # the id is not echoed
    assert reply.answered()["tenant_id"] == tenant_id  # logged as one JSON value, newline or not


def test_a_tenant_with_a_secret_but_no_settings_is_unknown(intake: Intake) -> None:
    # The settings item says who is onboarded; a secret left behind by a removal opens nothing.
    secretsmanager().create_secret(
        Name=f"{SECRET_PREFIX}removed", SecretString=secret_document([ACME_SECRET])
    )
    reply = intake.post(CANARY_BODY, tenant_id="removed")
    assert_refused(intake, reply, 404, "unknown tenant", "WebhookRejectedUnknownTenant")


# --------------------------------------------------------------------------- disabled tenants
DISABLED = {
    "status": "tenant_disabled",
    "eventId": SAMPLE_EVENT_ID,
    "message": "tenant is disabled: event acknowledged, not synced",
}


def test_a_disabled_tenants_event_is_acknowledged_counted_and_not_queued(intake: Intake) -> None:
    """A 2xx so Blixo stops retrying (any other answer is retried for two days); the push would
    skip the event ("flow off") anyway, and `sync push --since` catches up on re-enabling."""
    reply = intake.post(SAMPLE_BODY, tenant_id="paused", secret=PAUSED_SECRET)
    assert (reply.status, reply.body) == (200, DISABLED)
    assert reply.metrics == counted(200, "WebhookIgnoredTenantDisabled")
    assert intake.depth() == 0
    assert reply.answered()["outcome"] == "tenant_disabled"
    assert_clean(reply)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"secret": ACME_SECRET}, MISMATCH, id="another-tenants-secret"),
        pytest.param({"signature": "0" * 64}, MISMATCH, id="forged"),
        pytest.param({"unsigned": True}, MISSING, id="unsigned"),
    ],
)
def test_a_disabled_tenant_still_refuses_a_forged_delivery(
    intake: Intake, options: dict[str, Any], message: str
) -> None:
    # The acknowledgement is for Blixo only: without the tenant's signature it is a 401.
    reply = intake.post(CANARY_BODY, tenant_id="paused", **options)
    assert_refused(intake, reply, 401, message, "WebhookRejectedSignature")


def test_a_disabled_tenants_malformed_body_is_still_400(intake: Intake) -> None:
    reply = intake.post(CANARY_BODY[:-1], tenant_id="paused", secret=PAUSED_SECRET)
    assert_refused(intake, reply, 400, NOT_JSON, "WebhookRejectedMalformed")


def test_a_re_enabled_tenants_event_is_queued_again(intake: Intake) -> None:
    intake.aws.store.put_tenant(TenantSettings(tenant_id="paused", enabled=True))
    reply = intake.post(SAMPLE_BODY, tenant_id="paused", secret=PAUSED_SECRET)
    assert (reply.status, reply.body) == (202, {"status": "queued", "eventId": SAMPLE_EVENT_ID})
    [(_, job)] = intake.queued()
    assert job.tenant_id == "paused"
