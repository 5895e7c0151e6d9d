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
    last_success: datetime | None = None  # when a run last ended with every record synced
    processed: int = 0  # records written by every run so far
    last_processed: int = 0  # records written by the last run


class Origin(StrEnum):
    """Which side created a record: that side owns it (the other never overwrites it)."""

    BLIXO = "blixo"
    INTACCT = "intacct"


class Mapping(BaseModel):
    """One link between a Blixo object and its Intacct record(s)."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    object_type: str  # customer, invoice, credit_note, payment
    blixo_id: str
    intacct_key: str  # the RECORDNO (ARINVOICE, ARADJUSTMENT, ARPYMT) or CUSTOMERID
    # The other Intacct records that belong to this object (a payment's credit application, its
    # convenience-fee invoice ...), by role.
    extra_keys: dict[str, str] = Field(default_factory=dict)
    origin: Origin
    # sha256 of the last synced canonical form: an update that does not change it writes nothing.
    hash: str = ""
    # The source's version of what was last synced (Blixo updatedAt, Intacct WHENMODIFIED): an
    # older event arriving late is not applied over a newer one.
    source_version: str | None = None
    # What the writer needs to know of the Intacct side (line count, state ...).
    state: dict[str, str] = Field(default_factory=dict)
    updated_at: datetime | None = None


class ErrorLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class SyncErrorRecord(BaseModel):
    """The open sync error of one object: overwritten on each failure, deleted on success."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    object_type: str
    object_id: str
    direction: str  # push or pull
    level: ErrorLevel = ErrorLevel.ERROR
    message: str
    intacct_errorno: str | None = None
    attempts: int = 1
    first_seen: datetime
    last_seen: datetime
    # What a retry needs: the event type and ids to re-read and re-send the object.
    retry: dict[str, str] = Field(default_factory=dict)
    ignored: bool = False
    ignored_reason: str | None = None
