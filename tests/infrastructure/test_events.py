"""The sample events in events/: accepted by Powertools' parsers and by the project's own models,
and consistent with the template (route, queue names) and with each other."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    EventBridgeModel,
    SqsModel,
)
from pydantic import BaseModel, SecretStr

from bisync.blixo.webhooks import AcceptedEvent, InvalidSignature, signature_from_headers, verify
from bisync.sync.jobs import PullJob, PushJob
from tests.infrastructure.cfn import EVENTS_DIR, Template, events_of_type, props, sub_text

# The file -> (the function it drives, the Powertools model that must accept it).
SAMPLES: dict[str, tuple[str, type[BaseModel]]] = {
    "webhook_invoice_created.json": ("WebhookFunction", APIGatewayProxyEventModel),
    "push_sqs_batch.json": ("PushFunction", SqsModel),
    "pull_schedule_event.json": ("PullScheduleFunction", EventBridgeModel),
    "pull_sqs_batch.json": ("PullFunction", SqsModel),
    "api_get_settings.json": ("AccountingSyncFunction", APIGatewayProxyEventModel),
}
DEMO_WEBHOOK_SECRET = "whsec_demo_current"


def load(name: str) -> dict[str, Any]:
    data = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_sample_is_known_and_every_function_has_one(template: Template) -> None:
    assert sorted(p.name for p in EVENTS_DIR.glob("*.json")) == sorted(SAMPLES)
    assert sorted(function_id for function_id, _ in SAMPLES.values()) == sorted(
        fid for fid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_powertools_parser_accepts_the_sample(name: str) -> None:
    _, model = SAMPLES[name]
    model.model_validate(load(name))


def test_schedule_sample_is_a_scheduled_event() -> None:
    event = load("pull_schedule_event.json")
    # EventBridge always sends "0"; Powertools' model requires the field.
    assert event["version"] == "0"
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.source == "aws.events"
    assert parsed.detail_type == "Scheduled Event"


def test_parser_check_can_fail() -> None:
    event = load("pull_schedule_event.json")
    del event["version"]
    with pytest.raises(ValueError, match="version"):
        EventBridgeModel.model_validate(event)


def test_push_sample_bodies_are_push_jobs_with_their_fifo_ids() -> None:
    batch = SqsModel.model_validate(load("push_sqs_batch.json"))
    for record in batch.Records:
        job = PushJob.model_validate_json(str(record.body))
        message = job.to_message()
        assert record.attributes.MessageGroupId == message.group_id
        assert record.attributes.MessageDeduplicationId == message.deduplication_id
        assert job.event()["id"] == job.event_id


def test_pull_sample_bodies_are_pull_jobs_with_their_fifo_ids() -> None:
    batch = SqsModel.model_validate(load("pull_sqs_batch.json"))
    for record in batch.Records:
        job = PullJob.model_validate_json(str(record.body))
        message = job.to_message()
        assert record.attributes.MessageGroupId == message.group_id
        assert record.attributes.MessageDeduplicationId == message.deduplication_id


def test_job_check_can_fail() -> None:
    body = json.loads(load("pull_sqs_batch.json")["Records"][0]["body"])
    body["tenant"] = body.pop("tenant_id")
    with pytest.raises(ValueError, match="tenant"):
        PullJob.model_validate(body)


@pytest.mark.parametrize(
    ("name", "queue_id"), [("push_sqs_batch.json", "PushQueue"), ("pull_sqs_batch.json", "PullQueue")]
)
def test_sqs_samples_come_from_the_dev_stage_queue(template: Template, name: str, queue_id: str) -> None:
    queue_name = sub_text(props(template, queue_id)["QueueName"])
    assert queue_name is not None
    for record in load(name)["Records"]:
        assert record["eventSourceARN"].rsplit(":", 1)[1] == queue_name.replace("${Stage}", "dev")


def test_webhook_sample_is_signed_with_the_demo_secret() -> None:
    event = APIGatewayProxyEventModel.model_validate(load("webhook_invoice_created.json"))
    # The raw body, byte for byte as API Gateway passes it: the signature covers exactly that.
    assert isinstance(event.body, str)
    body = event.body.encode("utf-8")
    signature = signature_from_headers(event.headers)
    outcome = verify(body, signature, [SecretStr(DEMO_WEBHOOK_SECRET)])
    assert isinstance(outcome, AcceptedEvent)
    assert outcome.secret_index == 0
    assert (event.multiValueHeaders or {}).get("X-Blixo-Signature") == [signature]


def test_signature_check_can_fail() -> None:
    event = load("webhook_invoice_created.json")
    with pytest.raises(InvalidSignature, match="signature does not match"):
        verify(event["body"].encode(), event["headers"]["X-Blixo-Signature"], [SecretStr("whsec_other")])


def test_webhook_sample_matches_the_route(template: Template) -> None:
    event = APIGatewayProxyEventModel.model_validate(load("webhook_invoice_created.json"))
    ((_, _, route),) = [e for e in events_of_type(template, "Api") if e[0] == "WebhookFunction"]
    assert event.resource == route["Path"]
    assert event.httpMethod == route["Method"].upper()
    assert event.path == route["Path"].replace("{tenantId}", (event.pathParameters or {})["tenantId"])


def test_api_sample_matches_a_route_of_the_api_function(template: Template) -> None:
    event = APIGatewayProxyEventModel.model_validate(load("api_get_settings.json"))
    routes = {
        (e["Path"], e["Method"].upper())
        for fid, _, e in events_of_type(template, "Api")
        if fid == "AccountingSyncFunction"
    }
    assert (event.resource, event.httpMethod) in routes
    assert event.path == event.resource.replace("{tenantId}", (event.pathParameters or {})["tenantId"])
    assert event.requestContext.stage == "dev"


def test_push_sample_carries_the_webhook_sample_event() -> None:
    webhook_body = load("webhook_invoice_created.json")["body"]
    push_body = json.loads(load("push_sqs_batch.json")["Records"][0]["body"])
    assert push_body["event_json"] == webhook_body  # the verified text, byte for byte
    assert push_body["tenant_id"] == load("webhook_invoice_created.json")["pathParameters"]["tenantId"]
