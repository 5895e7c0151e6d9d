"""A pull run's view of the tenant's sync errors: read once, cleared only where one exists.

Every record a run writes clears its object's sync error; nearly all have none, and a delete
per record would be one sequential DynamoDB request each (18,000 of them for a large first
pull). Pull runs of a tenant never overlap (one FIFO group), and the push keys its errors by
Blixo ids, so what the run read at its start plus what it recorded itself is the whole truth.
The run records from two threads (a chunk's link conflicts are recorded behind the next chunk's
writes), so the set is guarded.
"""

from __future__ import annotations

import threading
from datetime import datetime

from bisync.store.models import ErrorLevel, SyncErrorRecord
from bisync.sync.ports import ErrorLog


class KnownErrors:
    def __init__(self, errors: ErrorLog, tenant_id: str) -> None:
        self._errors = errors
        self._tenant = tenant_id
        self._open: set[tuple[str, str]] | None = None
        self._lock = threading.Lock()

    def _known(self) -> set[tuple[str, str]]:
        """The open errors' keys, listed once; call with the lock held."""
        if self._open is None:
            listed = self._errors.list(self._tenant, include_ignored=True)
            self._open = {(e.object_type, e.object_id) for e in listed}
        return self._open

    def record(
        self,
        tenant_id: str,
        object_type: str,
        object_id: str,
        *,
        direction: str,
        message: str,
        level: ErrorLevel = ErrorLevel.ERROR,
        intacct_errorno: str | None = None,
        retry: dict[str, str] | None = None,
        now: datetime | None = None,
    ) -> SyncErrorRecord:
        recorded = self._errors.record(
            tenant_id,
            object_type,
            object_id,
            direction=direction,
            message=message,
            level=level,
            intacct_errorno=intacct_errorno,
            retry=retry,
            now=now,
        )
        if tenant_id == self._tenant:
            with self._lock:
                self._known().add((object_type, object_id))
        return recorded

    def clear(self, tenant_id: str, object_type: str, object_id: str) -> bool:
        if tenant_id == self._tenant:
            with self._lock:
                if (object_type, object_id) not in self._known():
                    return False
        cleared = self._errors.clear(tenant_id, object_type, object_id)
        if tenant_id == self._tenant:
            with self._lock:
                self._known().discard((object_type, object_id))
        return cleared

    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]:
        return self._errors.list(tenant_id, include_ignored=include_ignored)
