"""The messages on the push and pull queues, and how each is grouped and deduplicated.

FIFO groups give the ordering the ledgers need: a customer's events are applied in order
(push group = tenant:customer) and a tenant has at most one pull running (pull group = tenant).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bisync.blixo.webhooks import parse_strict_json
from bisync.settings import TenantSettings

# SQS allows 1-128 characters from this set in group and deduplication ids.
_SQS_ID = re.compile(r"^[!-~]{1,128}$")
# Characters a message body may not hold (SQS takes #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
# #x10000-#x10FFFF). In JSON text they can only sit inside strings, where \uXXXX is the same.
_SQS_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sqs_safe_json(text: str) -> str:
    """JSON text SQS accepts as a message body, meaning the same JSON value."""
    return _SQS_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def sqs_safe_id(raw: str) -> str:
    """The id itself when SQS accepts it, else a stable digest of it (never rejected, never merged)."""
    if _SQS_ID.fullmatch(raw):
        return raw
    return "h-" + hashlib.sha256(raw.encode()).hexdigest()


class QueueMessage(BaseModel):
    """A message ready for SendMessage on a FIFO queue."""

    model_config = ConfigDict(frozen=True)

    body: str
    group_id: str
    deduplication_id: str


class PushJob(BaseModel):
    """One verified Blixo webhook event for one tenant, on its way to Intacct."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["push"] = "push"
    tenant_id: str
    event_id: str
    event_type: str
    # The Blixo customer the event is about: the push queue's ordering unit.
    customer_id: str
    received_at: datetime
    # The verified body exactly as Blixo sent it: text, so no number is rounded through a
    # float on the way (the consumer re-validates it, parsing money as Decimal).
    event_json: str

    def event(self) -> dict[str, Any]:
        return parse_strict_json(self.event_json.encode("utf-8"))

    def to_message(self) -> QueueMessage:
        return QueueMessage(
            body=sqs_safe_json(self.model_dump_json()),
            group_id=sqs_safe_id(f"{self.tenant_id}:{self.customer_id}"),
            # Blixo retries a delivery with the same event id: SQS drops the copy.
            deduplication_id=sqs_safe_id(self.event_id),
        )


class PullJob(BaseModel):
    """Pull what changed in Intacct for one tenant."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pull"] = "pull"
    tenant_id: str
    trigger: Literal["schedule", "operator", "continuation"] = "schedule"
    # The schedule's time (truncated to the hour), so two firings of the same hour are one job.
    scheduled_for: datetime
    # Where an interrupted pull resumes (set when a pull re-enqueues its own continuation).
    resume: dict[str, Any] = Field(default_factory=dict)

    def to_message(self) -> QueueMessage:
        stamp = self.scheduled_for.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        dedup = f"pull:{self.tenant_id}:{self.trigger}:{stamp}"
        if self.resume:
            dedup += ":" + hashlib.sha256(repr(sorted(self.resume.items())).encode()).hexdigest()[:16]
        return QueueMessage(
            body=self.model_dump_json(),
            group_id=sqs_safe_id(self.tenant_id),
            deduplication_id=sqs_safe_id(dedup),
        )


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def plan_pull_jobs(tenants: Iterable[TenantSettings], fired_at: datetime) -> list[PullJob]:
    """One job per tenant whose pull is on."""
    slot = hour_of(fired_at)
    return [PullJob(tenant_id=t.tenant_id, scheduled_for=slot) for t in tenants if t.pull_enabled]
