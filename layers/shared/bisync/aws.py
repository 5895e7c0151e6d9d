"""Small AWS adapters the handlers wire together: queues, secrets, the sync table.

Clients are created lazily and once per container, so a cold start pays only for what the
handler uses (architecture.md: each boto3 client or resource costs ~130 ms here).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities import parameters

from bisync.config import runtime_config
from bisync.secrets import TenantSecrets, TenantSecretsError, parse_tenant_secrets, tenant_secret_name
from bisync.store import SyncStore
from bisync.sync.jobs import QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# Secrets are re-read at most this often, so a rotation reaches warm containers within minutes.
SECRET_MAX_AGE_SECONDS = 300


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    return boto3.client("sqs")


@lru_cache(maxsize=1)
def sync_store() -> SyncStore:
    table = boto3.resource("dynamodb").Table(runtime_config().sync_table)
    return SyncStore(table)


class SqsQueue:
    """Sends prepared FIFO messages to one queue."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._url = queue_url
        self._client = client

    def send(self, message: QueueMessage) -> str:
        client = self._client or sqs_client()
        reply = client.send_message(
            QueueUrl=self._url,
            MessageBody=message.body,
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.deduplication_id,
        )
        return str(reply["MessageId"])


def load_tenant_secrets(tenant_id: str) -> TenantSecrets:
    """The tenant's credentials from Secrets Manager (cached by Powertools for a few minutes).

    Raises TenantSecretsError, secret-free, when the secret is missing, unreadable or malformed."""
    name = tenant_secret_name(runtime_config().tenant_secret_prefix, tenant_id)
    problem: str | None = None
    raw: str | bytes | None = None
    try:
        raw = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        # Powertools' message is botocore's ("ResourceNotFoundException ... can't find the
        # specified secret"): names and codes, no secret value.
        problem = f"{name!r} could not be read ({_aws_error_code(exc)})"
    if problem is not None or raw is None:
        raise TenantSecretsError(tenant_id, problem or f"{name!r} is empty")
    return parse_tenant_secrets(tenant_id, raw)


def _aws_error_code(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(cause).__name__))
    return type(cause).__name__ if cause else type(exc).__name__


__all__ = ["SqsQueue", "TenantSecretsError", "load_tenant_secrets", "sqs_client", "sync_store"]
