"""Access to the local stack described by .local/stack.json (for the demo and operators' tools)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from pydantic import SecretStr

from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import Limiter
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials

ROOT = Path(__file__).resolve().parent.parent
STACK_JSON = ROOT / ".local" / "stack.json"
# What the commands run against the local stack printed (the chaos run's pull worker and CLI
# calls, the e2e tests' CLI calls): the log scan reads it with the functions' logs.
COMMAND_LOGS = ROOT / ".local" / "logs"


def command_log(name: str) -> Path:
    """The file a command's output is appended to (`.local/logs/<name>.log`)."""
    COMMAND_LOGS.mkdir(parents=True, exist_ok=True)
    return COMMAND_LOGS / f"{name}.log"


def keep_output(name: str, *texts: str) -> None:
    """Appends what a command printed to its log, for the log scan."""
    with command_log(name).open("a", encoding="utf-8", errors="replace") as log:
        for text in texts:
            log.write(text if text.endswith("\n") or not text else text + "\n")


class StackNotUpError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalStack:
    doc: dict[str, Any]

    @classmethod
    def load(cls, path: Path = STACK_JSON) -> LocalStack:
        if not path.exists():
            raise StackNotUpError(f"{path} not found: run `make up` first")
        return cls(json.loads(path.read_text()))

    def _kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.doc["aws_endpoint"],
            "region_name": self.doc["region"],
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",  # ministack's dummy credentials
        }

    def client(self, service: str) -> Any:
        return boto3.client(service, **self._kwargs())  # type: ignore[call-overload]

    def table(self) -> Any:
        return boto3.resource("dynamodb", **self._kwargs()).Table(self.doc["sync_table"])

    def save(self, path: Path = STACK_JSON) -> None:
        path.write_text(json.dumps(self.doc, indent=2) + "\n")


@dataclass(frozen=True)
class Sandboxes:
    """The sandboxes' admin endpoints (`/_sandbox/...`, JSON) named in the stack document."""

    intacct_admin: str  # http://host:port/_sandbox
    blixo_admin: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Sandboxes:
        intacct = str(doc["intacct"]["url"]).split("/ia/", 1)[0] + "/_sandbox"
        blixo = str(doc["blixo"]["url"]).removesuffix("/v1") + "/_sandbox"
        return cls(intacct, blixo)

    def intacct(self, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        return _admin(f"{self.intacct_admin}/{path}", body, params)

    def blixo(self, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        return _admin(f"{self.blixo_admin}/{path}", body, params)

    def intacct_counters(self, company: str) -> dict[str, int]:
        return dict(self.intacct("counters", company=company).get(company, {}))


def _admin(url: str, body: dict[str, Any] | None, params: dict[str, str]) -> Any:
    if body is None:
        reply = requests.get(url, params=params, timeout=600)
    else:
        reply = requests.post(url, json=body, params=params, timeout=600)
    reply.raise_for_status()
    return reply.json()


def sandbox_intacct_client(
    doc: dict[str, Any],
    *,
    company: str | None = None,
    entity: str | None = None,
    retry: RetryPolicy | None = None,
    limiter: Limiter | None = None,
) -> IntacctClient:
    """A session on the local Intacct sandbox with its default sender and user (in `company`,
    default the stack's, and in `entity`, default the top level)."""
    sandbox = doc["intacct"]
    return IntacctClient(
        Credentials(
            sender_id=sandbox["sender_id"],
            sender_password=SecretStr(sandbox["sender_password"]),
            company_id=company or sandbox["company_id"],
            user_id=sandbox["user_id"],
            user_password=SecretStr(sandbox["user_password"]),
            entity_id=entity,
            endpoint_url=sandbox["url"],
        ),
        retry=retry or RetryPolicy(attempts=3),
        limiter=limiter,
    )


def proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (field 3, the state, first); None when
    the process is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
