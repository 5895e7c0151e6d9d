"""moto-backed AWS for the foundation integration tests: the sync table as template.yaml
declares it, the two FIFO queues, a tenant secret, and the handlers loaded from their files."""

from __future__ import annotations

import copy
import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML is pinned in dev.txt; no stubs
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

import bisync.aws
import bisync.config
from bisync.store import SyncStore
from tests.conftest import ROOT

REGION = "us-east-1"
STAGE = "dev"
TABLE_NAME = f"blixo-intacct-{STAGE}-sync"
IDEMPOTENCY_TABLE_NAME = f"blixo-intacct-{STAGE}-idempotency"
SECRET_PREFIX = f"blixo-intacct/{STAGE}/tenants/"
WEBHOOK_SECRET = "whsec_integration_current"
OLD_WEBHOOK_SECRET = "whsec_integration_previous"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Reads template.yaml; intrinsic functions (!Ref, !Sub ...) are kept as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_CfnLoader.add_multi_constructor("!", _any_tag)


@cache
def template_resource(name: str) -> dict[str, Any]:
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506
    resource: dict[str, Any] = template["Resources"][name]["Properties"]
    return resource


# Clients are made once per worker: moto intercepts them in every mock_aws context, and making
# them is most of a test's setup time.
@cache
def dynamodb() -> Any:
    return boto3.resource("dynamodb", region_name=REGION)


@cache
def sqs() -> Any:
    return boto3.client("sqs", region_name=REGION)


@cache
def secretsmanager() -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def create_table(resource: str, name: str) -> Any:
    """A table with the resource's key schema, attributes and GSIs exactly as the template has them."""
    props = template_resource(resource)
    extra = (
        {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]}
        if "GlobalSecondaryIndexes" in props
        else {}
    )
    dynamodb().meta.client.create_table(
        TableName=name,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        **extra,
    )
    return dynamodb().Table(name)


def create_sync_table() -> Any:
    return create_table("SyncTable", TABLE_NAME)


def create_fifo_queue(resource: str) -> str:
    props = template_resource(resource)
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    for key in ("DeduplicationScope", "FifoThroughputLimit"):
        if key in props:
            attributes[key] = str(props[key])
    name = f"blixo-intacct-{STAGE}-{resource.removesuffix('Queue').lower()}.fifo"
    url: str = sqs().create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def tenant_secret(webhook_secrets: list[str]) -> str:
    """A secret document in bisync.secrets.TenantSecrets shape."""
    return json.dumps(
        {
            "intacct": {
                "sender_id": "sender",
                "sender_password": "sender-pw",
                "company_id": "acme-co",
                "user_id": "sync",
                "user_password": "user-pw",
            },
            "blixo_api_key": "blixo-key",
            "webhook_secrets": webhook_secrets,
        }
    )


def clear_caches() -> None:
    bisync.config.runtime_config.cache_clear()
    bisync.aws.sqs_client.cache_clear()
    bisync.aws.sync_store.cache_clear()
    parameters.clear_caches()  # Powertools keeps secrets and its client between calls


@dataclass
class Aws:
    table: Any
    store: SyncStore
    push_queue_url: str
    pull_queue_url: str

    def put_secret(self, tenant_id: str, webhook_secrets: list[str]) -> None:
        secretsmanager().create_secret(
            Name=f"{SECRET_PREFIX}{tenant_id}", SecretString=tenant_secret(webhook_secrets)
        )

    def receive(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            reply = sqs().receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=30,
            )
            batch = reply.get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)


# One reentrant lock for every wrapped moto DynamoDB request (one lock, so nesting never
# deadlocks: a transaction's own put_item runs under the lock its caller holds).
_MOTO_LOCK = threading.RLock()


class _BackupOncePerTable:
    """moto backs up a table once per item of a transaction (a deep copy of the whole table
    each time), which makes a 100-item transaction on a table of a few thousand items take
    seconds. Inside one transaction every backup of a table is identical (nothing has changed
    yet), so taking it once changes nothing but the time."""

    def __init__(self) -> None:
        self._local = threading.local()

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            return copy.deepcopy(value, memo)
        if id(value) not in cache:
            cache[id(value)] = copy.deepcopy(value)
        return cache[id(value)]

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def transaction(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(backend: Any, transact_items: Any) -> Any:
            self._local.cache = {}
            try:
                return original(backend, transact_items)
            finally:
                self._local.cache = None

        return run


@pytest.fixture(autouse=True)
def _fast_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.dynamodb.models as dynamodb_models

    shim = _BackupOncePerTable()
    monkeypatch.setattr(dynamodb_models, "copy", shim)
    backend = dynamodb_models.DynamoDBBackend
    # A transaction backs the table up by copying it: a write from another thread (a webhook
    # delivered meanwhile) must not change it mid-copy. DynamoDB applies each request whole.
    lock = _MOTO_LOCK
    monkeypatch.setattr(
        backend, "transact_write_items", _locked(shim.transaction(backend.transact_write_items), lock)
    )
    for name in ("put_item", "update_item", "delete_item", "batch_write_item"):
        if hasattr(backend, name):
            monkeypatch.setattr(backend, name, _locked(getattr(backend, name), lock))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_caches()
    with mock_aws():
        yield
    clear_caches()


@pytest.fixture
def table(aws_env: None) -> Any:
    return create_sync_table()


@pytest.fixture
def store(table: Any) -> SyncStore:
    return SyncStore(table)


@pytest.fixture
def aws(table: Any, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """The stack's data plane in moto, and the environment template.yaml's Globals set."""
    create_table("IdempotencyTable", IDEMPOTENCY_TABLE_NAME)
    push_url = create_fifo_queue("PushQueue")
    pull_url = create_fifo_queue("PullQueue")
    env = {
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": "blixo-intacct-sync",
        "POWERTOOLS_METRICS_NAMESPACE": "BlixoIntacctSync",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "SYNC_TABLE": TABLE_NAME,
        "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE_NAME,
        "PUSH_QUEUE_URL": push_url,
        "PULL_QUEUE_URL": pull_url,
        "TENANT_SECRET_PREFIX": SECRET_PREFIX,
        "WEBHOOK_MAX_BODY_BYTES": "262144",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Aws(table=table, store=SyncStore(table), push_queue_url=push_url, pull_queue_url=pull_url)


@pytest.fixture
def serialized_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each moto DynamoDB request atomic, as each real DynamoDB request is.

    moto applies an update as unlocked Python, so two threads could interleave inside one
    request; the real service never does. A lock per request keeps that guarantee and no
    more: code that read, modified and wrote in two requests would still lose updates.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = _MOTO_LOCK  # the same one: a transaction calls put_item inside, under it
    for name in ("update_item", "put_item", "delete_item", "get_item", "query"):
        monkeypatch.setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name), lock))


def _locked(original: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    return locked


# --------------------------------------------------------------------------- handlers
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"


def load_handler(name: str) -> ModuleType:
    """functions/<name>/app.py as a fresh module (the folders are not packages)."""
    path: Path = FUNCTIONS / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"foundation_handler_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


@dataclass
class LambdaContext:
    function_name: str = "blixo-intacct-dev-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:blixo-intacct-dev-test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name: str = "/aws/lambda/blixo-intacct-dev-test"
    log_stream_name: str = "2026/11/26/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
