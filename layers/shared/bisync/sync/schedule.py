"""The hourly schedule: turn the tenant list into one pull job per tenant with pulls on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bisync.settings import TenantSettings
from bisync.sync.jobs import plan_pull_jobs
from bisync.sync.ports import MessageSink


def enqueue_pull_jobs(
    tenants: Iterable[TenantSettings], fired_at: str | datetime, sink: MessageSink
) -> list[str]:
    """Queue the hour's jobs; returns the tenant ids queued. The job id is (tenant, hour), so a
    schedule that fires twice within SQS's deduplication window queues each tenant once."""
    moment = (
        datetime.fromisoformat(fired_at.replace("Z", "+00:00")) if isinstance(fired_at, str) else fired_at
    )
    jobs = plan_pull_jobs(tenants, moment)
    for job in jobs:
        sink.send(job.to_message())
    return [job.tenant_id for job in jobs]
