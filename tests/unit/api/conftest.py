"""The Accounting Sync API handler over moto: the sync table as template.yaml declares it, the
four queues, a tenant with its secret, and API Gateway REST proxy events to call it with."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

import bisync.aws
import bisync.config
from bisync.settings import TenantSettings
from bisync.store import SyncStore
from functions.api import app as api
from tests.infrastructure.cfn import EVENTS_DIR, load_template, props

REGION = "us-east-1"
STAGE = "dev"
TABLE = f"blixo-intacct-{STAGE}-sync"
SECRET_PREFIX = f"blixo-intacct/{STAGE}/tenants/"
TENANT = "acme"
BLIXO_KEY = "blixo-key-TOPSECRET"
QUEUES = ("push", "push-dlq", "pull", "pull-dlq")
SAMPLE: dict[str, Any] = json.loads((EVENTS_DIR / "api_get_settings.json").read_text(encoding="utf-8"))


@cache
def sync_table_props() -> dict[str, Any]:
    return props(load_template(), "SyncTable")


def clear_caches() -> None:
    bisync.config.runtime_config.cache_clear()
    bisync.aws.sqs_client.cache_clear()
    bisync.aws.sync_store.cache_clear()
    api._dlq_urls.cache_clear()
    parameters.clear_caches()


def secret_document(tenant_id: str = TENANT) -> str:
    return json.dumps(
        {
            "intacct": {
                "sender_id": "sender",
                "sender_password": "sender-TOPSECRET",
                "company_id": "ACME",
                "user_id": "sync",
                "user_password": "user-TOPSECRET",
            },
            "blixo_api_key": BLIXO_KEY,
            "webhook_secrets": ["whsec_TOPSECRET"],
        }
    )


@dataclass
class World:
    store: SyncStore
    sqs: Any
    secrets: Any
    queues: dict[str, str]

    def messages(self, queue: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.queues[queue],
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            found.extend(batch)
        return found

    def bodies(self, queue: str) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.messages(queue)]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # No Intacct here: the lookups a settings change triggers find everything (a test that
    # needs them to fail replaces this).
    monkeypatch.setattr(api, "intacct_problems", lambda _settings: [])
    clear_caches()
    with mock_aws():
        table_props = sync_table_props()
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        dynamodb.meta.client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=table_props["AttributeDefinitions"],
            KeySchema=table_props["KeySchema"],
            GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
        )
        sqs = boto3.client("sqs", region_name=REGION)
        queues = {
            name: sqs.create_queue(
                QueueName=f"blixo-intacct-{STAGE}-{name}.fifo",
                Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
            )["QueueUrl"]
            for name in QUEUES
        }
        env = {
            "STAGE": STAGE,
            "POWERTOOLS_SERVICE_NAME": "blixo-intacct-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "BlixoIntacctSync",
            "SYNC_TABLE": TABLE,
            "PUSH_QUEUE_URL": queues["push"],
            "PULL_QUEUE_URL": queues["pull"],
            api.PUSH_DLQ_ENV: queues["push-dlq"],
            api.PULL_DLQ_ENV: queues["pull-dlq"],
            "TENANT_SECRET_PREFIX": SECRET_PREFIX,
            "BLIXO_API_URL": "https://blixo.example.test/v1",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        store = SyncStore(dynamodb.Table(TABLE))
        secrets = boto3.client("secretsmanager", region_name=REGION)
        store.put_tenant(TenantSettings(tenant_id=TENANT, name="Acme", secret_name=SECRET_PREFIX + TENANT))
        secrets.create_secret(Name=SECRET_PREFIX + TENANT, SecretString=secret_document())
        yield World(store=store, sqs=sqs, secrets=secrets, queues=queues)
    clear_caches()


@dataclass
class LambdaContext:
    function_name: str = "blixo-intacct-dev-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:blixo-intacct-dev-api"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name: str = "/aws/lambda/blixo-intacct-dev-api"
    log_stream_name: str = "2026/12/01/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The sample API Gateway REST proxy event (events/api_get_settings.json, what `sam local
    invoke` uses) turned into another request. API Gateway checked the key before the function
    sees the event: the function never does."""
    event = copy.deepcopy(SAMPLE)
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None:
        event["headers"]["Content-Type"] = "application/json"
        event["multiValueHeaders"]["Content-Type"] = ["application/json"]
    event.update(
        resource=path,
        path=path,
        httpMethod=method,
        body=text,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        # Powertools routes on `path`; the route's own parameters are its business.
        pathParameters=None,
    )
    event["requestContext"].update(
        resourcePath=path,
        httpMethod=method,
        path=f"/{STAGE}{path}" + (f"?{urlencode(query)}" if query else ""),
    )
    return event


@dataclass
class Reply:
    status: int
    body: Any
    raw: str


Call = Callable[..., Reply]


@pytest.fixture
def call(world: World) -> Call:
    def _call(method: str, path: str, **kwargs: Any) -> Reply:
        result = api.lambda_handler(rest_event(method, path, **kwargs), LambdaContext())  # type: ignore[arg-type]
        raw = result.get("body") or ""
        return Reply(int(result["statusCode"]), json.loads(raw) if raw else None, raw)

    return _call
