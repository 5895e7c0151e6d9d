"""The DynamoDB store: the only code that knows the table's key design."""

from bisync.store.dynamodb import SyncStore, TenantNotFoundError
from bisync.store.mappings import MappingConflictError
from bisync.store.models import (
    ErrorLevel,
    FlowCursor,
    Mapping,
    Origin,
    RunOutcome,
    SyncErrorRecord,
    SyncRun,
)

__all__ = [
    "ErrorLevel",
    "FlowCursor",
    "Mapping",
    "MappingConflictError",
    "Origin",
    "RunOutcome",
    "SyncErrorRecord",
    "SyncRun",
    "SyncStore",
    "TenantNotFoundError",
]
