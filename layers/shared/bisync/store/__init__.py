"""The DynamoDB store: the only code that knows the table's key design."""

from bisync.store.dynamodb import SyncStore, TenantNotFoundError
from bisync.store.models import FlowCursor, RunOutcome, SyncRun

__all__ = ["FlowCursor", "RunOutcome", "SyncRun", "SyncStore", "TenantNotFoundError"]
