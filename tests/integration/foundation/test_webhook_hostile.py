"""The webhook Lambda under hostile but verified input, and tenants whose secret is missing or
malformed: bad input is a clear 4xx with a metric and nothing queued; a verified event is
queued exactly as Blixo sent it; no secret reaches a log line or an exception."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from bisync.blixo.webhooks import sign
from bisync.secrets import TenantSecretsError, parse_tenant_secrets
from bisync.settings import TenantSettings
from bisync.sync.jobs import PushJob
from tests.integration.foundation.conftest import (
    SECRET_PREFIX,
    WEBHOOK_SECRET,
    Aws,
    LambdaContext,
    load_handler,
    secretsmanager,
)
from tests.unit.foundation.fakes import event_payload, invoice_object


@pytest.fixture
def acme(aws: Aws) -> Aws:
    aws.store.put_tenant(TenantSettings(tenant_id="acme"))
    aws.put_secret("acme", [WEBHOOK_SECRET])
    return aws


def deliver(body: str, tenant_id: str = "acme", secret: str = WEBHOOK_SECRET) -> tuple[int, dict[str, Any]]:
    event = {
        "resource": "/webhooks/blixo/{tenantId}",
        "path": f"/webhooks/blixo/{tenant_id}",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Blixo-Signature": sign(body.encode(), secret)},
        "multiValueHeaders": {},
        "pathParameters": {"tenantId": tenant_id},
        "requestContext": {"requestId": "r-1", "stage": "dev"},
        "body": body,
        "isBase64Encoded": False,
    }
    response = load_handler("webhook").lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def invoice_body(**over: Any) -> str:
    return json.dumps(event_payload(obj=invoice_object(**over)), separators=(",", ":"))


def metrics_logged(out: str) -> set[str]:
    names: set[str] = set()
    for line in out.splitlines():
        if '"_aws"' in line:
            for metric in json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                names.add(metric["Name"])
    return names


@pytest.mark.parametrize(
    "amount",
    [
        "1e26",
        "1E+26",
        "-1e26",
        "1e400",
        "123456789012345678901234567890",
        "1" * 5000,
        "1e-1000000",
        "9e999999999",
    ],
)
def test_a_money_value_out_of_range_is_400_not_502(
    acme: Aws, amount: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = invoice_body().replace('"total":1500.0', f'"total":{amount}')
    assert amount in body
    status, reply = deliver(body)
    assert status == 400, reply
    assert "message" in reply
    assert acme.receive(acme.push_queue_url) == []
    assert "WebhookRejectedMalformed" in metrics_logged(capsys.readouterr().out)


@pytest.mark.parametrize("depth", [40, 256, 500, 994, 1200, 100_000])
def test_deep_nesting_is_400_at_every_depth(acme: Aws, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = invoice_body().replace('"metadata":{}', f'"metadata":{{}},"extra":{nested}')
    status, reply = deliver(body)
    assert status == 400, reply
    assert "nested" in reply["message"] or "JSON" in reply["message"]
    assert acme.receive(acme.push_queue_url) == []


@pytest.mark.parametrize("text", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"])
def test_a_lone_surrogate_is_400(acme: Aws, text: str) -> None:
    body = invoice_body().replace('"invoiceNo":"INV-1001"', f'"invoiceNo":"{text}"')
    status, reply = deliver(body)
    assert status == 400, reply
    assert "surrogate" in reply["message"]
    # In a key too.
    key_body = invoice_body().replace('"metadata":{}', f'"metadata":{{"{text}":"x"}}')
    assert deliver(key_body)[0] == 400
    assert acme.receive(acme.push_queue_url) == []


# The characters an SQS message body may hold (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD, and
# #x10000-#x10FFFF), from SQS's SendMessage reference.
SQS_BODY = re.compile("[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def test_a_verified_event_is_queued_exactly_as_sent(acme: Aws) -> None:
    body = invoice_body().replace('"total":1500.0', '"total":12345678901234567.89')
    body = body.replace('"invoiceNo":"INV-1001"', '"invoiceNo":"INV-\\ud83d\\ude00-\ufffe-\\u0007-é"')
    status, reply = deliver(body)
    assert status == 202, reply
    [message] = acme.receive(acme.push_queue_url)
    # What reached SendMessage holds only characters real SQS takes (moto takes any).
    assert SQS_BODY.fullmatch(message["Body"])
    job = PushJob.model_validate_json(message["Body"])
    assert job.event_json == body  # the verified text, byte for byte
    event = job.event()
    assert event["data"]["object"]["total"] == Decimal("12345678901234567.89")
    assert event["data"]["object"]["invoiceNo"] == "INV-\U0001f600-\ufffe-\x07-é"


def test_a_non_bmp_character_as_a_literal_reaches_the_queue(acme: Aws) -> None:
    body = invoice_body().replace('"invoiceNo":"INV-1001"', '"invoiceNo":"INV-\U0001f600\uffff"')
    assert deliver(body)[0] == 202
    [message] = acme.receive(acme.push_queue_url)
    assert SQS_BODY.fullmatch(message["Body"])
    assert PushJob.model_validate_json(message["Body"]).event_json == body


# --------------------------------------------------------------------------- secrets
CURRENT = "whsec_PLAINTEXT_current_9f8e7d"
PREVIOUS = "whsec_PLAINTEXT_previous_1a2b3c"
SENDER = "sender-PLAINTEXT-pw-77"
USER = "user-PLAINTEXT-pw-88"
API_KEY = "blixo-PLAINTEXT-key-99"
PLAINTEXTS = (CURRENT, PREVIOUS, SENDER, USER, API_KEY)

MALFORMED_DOCUMENTS = [
    # Three webhook secrets (at most two), an unknown field, a password of the wrong type...
    {
        "intacct": {
            "sender_id": "s",
            "sender_password": SENDER,
            "company_id": "c",
            "user_id": "u",
            "user_password": USER,
        },
        "blixo_api_key": API_KEY,
        "webhook_secrets": [CURRENT, PREVIOUS, CURRENT + "x"],
    },
    {"intacct": SENDER, "blixo_api_key": API_KEY, "webhook_secrets": [CURRENT]},
    {"intacct": {"sender_password": [SENDER]}, "blixo_api_key": {"k": API_KEY}, "webhook_secrets": CURRENT},
    {"blixo_api_key": API_KEY, "webhook_secrets": [CURRENT, PREVIOUS], "extra": USER},
    [CURRENT, PREVIOUS, SENDER],
    f'{{"webhook_secrets": ["{CURRENT}"], "blixo_api_key": "{API_KEY}"',  # not JSON at all
    # A secret pasted as a key: the location must not name it.
    {"blixo_api_key": API_KEY, "webhook_secrets": [PREVIOUS], CURRENT: SENDER},
    {"intacct": {USER: "x"}, "blixo_api_key": API_KEY, "webhook_secrets": [CURRENT]},
    # An empty secret is refused when the document is read (it would verify nothing).
    {
        "intacct": {
            "sender_id": "s",
            "sender_password": SENDER,
            "company_id": "c",
            "user_id": "u",
            "user_password": USER,
        },
        "blixo_api_key": API_KEY,
        "webhook_secrets": [""],
    },
    # Nested past what json can read: a clear error, not a RecursionError.
    '{"webhook_secrets": ["' + CURRENT + '"], "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
]


def assert_no_plaintext(*texts: str) -> None:
    for text in texts:
        for secret in PLAINTEXTS:
            assert secret not in text


@pytest.mark.parametrize("document", MALFORMED_DOCUMENTS)
def test_a_malformed_secret_document_is_a_secret_free_error(
    aws: Aws, document: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    aws.store.put_tenant(TenantSettings(tenant_id="leaky"))
    text = document if isinstance(document, str) else json.dumps(document)
    secretsmanager().create_secret(Name=f"{SECRET_PREFIX}leaky", SecretString=text)

    with pytest.raises(TenantSecretsError) as caught:
        parse_tenant_secrets("leaky", text)
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None
    assert "leaky" in str(caught.value)

    status, reply = deliver(invoice_body(), tenant_id="leaky", secret=CURRENT)
    assert status == 503  # our configuration: Blixo keeps retrying until it is fixed
    assert aws.receive(aws.push_queue_url) == []
    out = capsys.readouterr()
    # Every log line in whatever form it was captured: the stream, and each record's fields.
    logged = out.out + out.err + "".join(str(vars(r)) for r in caplog.records)
    assert "secret" in logged
    assert "leaky" in logged
    assert_no_plaintext(str(caught.value), repr(caught.value), json.dumps(reply), logged)


def test_a_missing_secret_is_a_logged_503_naming_the_secret(
    aws: Aws, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    aws.store.put_tenant(TenantSettings(tenant_id="nosecret"))
    status, reply = deliver(invoice_body(), tenant_id="nosecret")
    assert status == 503
    assert "retry" in reply["message"]
    out = capsys.readouterr().out
    [error] = [r for r in caplog.records if r.levelname == "ERROR"]
    detail = str(getattr(error, "detail", ""))
    assert "ResourceNotFoundException" in detail
    assert f"{SECRET_PREFIX}nosecret" in detail
    assert "WebhookSecretUnavailable" in metrics_logged(out)
    assert aws.receive(aws.push_queue_url) == []
