"""What the store keeps besides tenant settings: runs and flow cursors."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RunOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    # The tenant's pulls were switched off after the job was queued (or a DLQ replay).
    SKIPPED = "skipped"


class SyncRun(BaseModel):
    """One pull (or push batch) run of one tenant: what it did and how it ended."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    run_id: str
    kind: str  # "pull" or "push"
    started_at: datetime
    finished_at: datetime | None = None
    outcome: RunOutcome = RunOutcome.RUNNING
    counts: dict[str, int] = Field(default_factory=dict)
    trigger: str = ""  # what started it: a schedule time, an event id, an operator


class FlowCursor(BaseModel):
    """Where a flow stands: its high-water mark and when it last ran."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    flow: str
    high_water: str | None = None
    last_run_started: datetime | None = None
    last_run_finished: datetime | None = None
    last_outcome: RunOutcome | None = None
    processed: int = 0
