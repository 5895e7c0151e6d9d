"""Which deployed stack a command talks to: the local stack or a stage in AWS.

Resolved once per invocation from the global options. `--stack NAME` reads the CloudFormation
stack's outputs (a real stage, with the usual profile/region chain); without it the command
uses `.local/stack.json` (what `make up` wrote), so every command works on the local stack
with no flags. `--endpoint` points boto3 at another endpoint (ministack, say).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bisync.endpoints import BLIXO_API_URL
from bisync.store import SyncStore

ROOT = Path(__file__).resolve().parent.parent
STACK_JSON = ROOT / ".local" / "stack.json"
# Operator commands retry throttling the standard way and give up quickly on a dead endpoint.
# ministack takes any credentials; a developer's profile chain may have none.
LOCAL_KEY = "test"
BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


class TargetError(Exception):
    """The stack cannot be found or read: a message for the operator, no traceback."""


@dataclass(frozen=True)
class Target:
    """The resources of one deployed stack, and clients for them."""

    region: str
    sync_table: str
    push_queue_url: str
    push_dlq_url: str
    pull_queue_url: str
    pull_dlq_url: str
    tenant_secret_prefix: str
    stage: str = ""
    stack_name: str = ""
    webhook_url: str = ""
    api_url: str = ""
    functions: dict[str, str] = field(default_factory=dict)
    blixo_url: str = BLIXO_API_URL
    endpoint: str | None = None
    profile: str | None = None
    # The local stack's sandbox entries (urls, default credentials), when it is the local stack.
    local: dict[str, Any] = field(default_factory=dict)

    def session(self) -> boto3.Session:
        if self.endpoint:
            # Local endpoints (ministack) take any credentials; the profile chain may have none.
            return boto3.Session(
                aws_access_key_id=LOCAL_KEY, aws_secret_access_key=LOCAL_KEY, region_name=self.region
            )
        return boto3.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint, config=BOTO_CONFIG)  # type: ignore[call-overload]

    def table(self) -> Any:
        resource = self.session().resource("dynamodb", endpoint_url=self.endpoint, config=BOTO_CONFIG)
        return resource.Table(self.sync_table)

    def store(self) -> SyncStore:
        return SyncStore(self.table())

    def queue_urls(self, queue: str) -> tuple[str, str]:
        """(source, dead-letter) queue URLs of `push` or `pull`."""
        if queue == "push":
            return self.push_queue_url, self.push_dlq_url
        if queue == "pull":
            return self.pull_queue_url, self.pull_dlq_url
        raise TargetError(f"unknown queue {queue!r}: use push or pull")


def from_stack_file(path: Path, endpoint: str | None = None, region: str | None = None) -> Target:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from None
    try:
        return Target(
            region=region or doc["region"],
            sync_table=doc["sync_table"],
            push_queue_url=doc["push_queue_url"],
            push_dlq_url=doc["push_dlq_url"],
            pull_queue_url=doc["pull_queue_url"],
            pull_dlq_url=doc["pull_dlq_url"],
            tenant_secret_prefix=doc["tenant_secret_prefix"],
            stage=doc.get("stage", ""),
            stack_name=doc.get("stack_name", ""),
            webhook_url=doc.get("webhook_url", ""),
            api_url=doc.get("api_url", ""),
            functions=dict(doc.get("functions", {})),
            blixo_url=doc.get("blixo", {}).get("url", BLIXO_API_URL),
            endpoint=endpoint or doc.get("aws_endpoint"),
            local={k: doc[k] for k in ("intacct", "blixo", "tenant_id") if k in doc},
        )
    except KeyError as exc:
        raise TargetError(f"{path} has no {exc.args[0]!r}: run `make up` again") from None


# CloudFormation output -> Target field.
_OUTPUTS = {
    "SyncTableName": "sync_table",
    "PushQueueUrl": "push_queue_url",
    "PushDlqUrl": "push_dlq_url",
    "PullQueueUrl": "pull_queue_url",
    "PullDlqUrl": "pull_dlq_url",
    "TenantSecretPrefix": "tenant_secret_prefix",
    "WebhookUrl": "webhook_url",
    "AccountingSyncApiUrl": "api_url",
}


def from_cloudformation(
    stack_name: str, *, region: str | None, profile: str | None, endpoint: str | None
) -> Target:
    if endpoint:
        session = boto3.Session(
            aws_access_key_id=LOCAL_KEY, aws_secret_access_key=LOCAL_KEY, region_name=region or "us-east-1"
        )
    else:
        session = boto3.Session(profile_name=profile, region_name=region)
    try:
        cfn = session.client("cloudformation", endpoint_url=endpoint, config=BOTO_CONFIG)
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise TargetError(f"cannot read stack {stack_name}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    values: dict[str, Any] = {}
    for key, name in _OUTPUTS.items():
        if key in outputs:
            values[name] = outputs[key]
    missing = [
        k for k, n in _OUTPUTS.items() if n not in values and k not in ("WebhookUrl", "AccountingSyncApiUrl")
    ]
    if missing:
        raise TargetError(
            f"stack {stack_name} lacks the outputs {', '.join(missing)}: is it this application?"
        )
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}
    return Target(
        region=session.region_name or "us-east-1",
        stage=params.get("Stage", ""),
        stack_name=stack_name,
        endpoint=endpoint,
        profile=profile,
        **values,
    )


def resolve(
    *,
    stack: str | None = None,
    stack_file: Path | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> Target:
    """The stack named by the options; the local stack's file when none is named."""
    if stack:
        return from_cloudformation(stack, region=region, profile=profile, endpoint=endpoint)
    path = stack_file or STACK_JSON
    if not path.exists():
        raise TargetError(
            f"no stack given and {path} does not exist: pass --stack NAME (a deployed stage) "
            "or run `make up` for the local stack"
        )
    return from_stack_file(path, endpoint=endpoint, region=region)
