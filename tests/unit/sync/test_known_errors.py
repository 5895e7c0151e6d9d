"""KnownErrors: a pull run reads the tenant's sync errors once and deletes only those it knows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bisync.store.models import ErrorLevel, SyncErrorRecord
from bisync.sync.pull.known_errors import KnownErrors


class Log:
    def __init__(self, *open_ids: str) -> None:
        self.open = {("invoice", i) for i in open_ids}
        self.calls: list[str] = []

    def record(self, tenant_id: str, object_type: str, object_id: str, **kw: Any) -> SyncErrorRecord:
        self.calls.append(f"record {object_id}")
        self.open.add((object_type, object_id))
        now = datetime.now(UTC)
        return SyncErrorRecord(
            tenant_id=tenant_id,
            object_type=object_type,
            object_id=object_id,
            direction=kw["direction"],
            level=ErrorLevel.ERROR,
            message=kw["message"],
            first_seen=now,
            last_seen=now,
        )

    def clear(self, tenant_id: str, object_type: str, object_id: str) -> bool:
        self.calls.append(f"clear {object_id}")
        had = (object_type, object_id) in self.open
        self.open.discard((object_type, object_id))
        return had

    def list(self, tenant_id: str, *, include_ignored: bool = False) -> list[SyncErrorRecord]:
        self.calls.append(f"list ignored={include_ignored}")
        now = datetime.now(UTC)
        return [
            SyncErrorRecord(
                tenant_id=tenant_id, object_type=t, object_id=i, direction="pull",
                level=ErrorLevel.ERROR, message="m", first_seen=now, last_seen=now,
            )
            for t, i in sorted(self.open)
        ]  # fmt: skip


def test_clean_records_cost_one_list_and_no_delete() -> None:
    log = Log("SO-7")
    known = KnownErrors(log, "acme")
    assert [known.clear("acme", "invoice", f"SO-{n}") for n in range(5)] == [False] * 5
    assert log.calls == ["list ignored=True"]
    assert known.clear("acme", "invoice", "SO-7") is True
    assert known.clear("acme", "invoice", "SO-7") is False  # gone: not deleted twice
    assert log.calls == ["list ignored=True", "clear SO-7"]


def test_an_error_recorded_in_the_run_is_cleared_when_its_record_syncs() -> None:
    log = Log()
    known = KnownErrors(log, "acme")
    known.record("acme", "invoice", "SO-9", direction="pull", message="waits for its customer")
    assert known.clear("acme", "invoice", "SO-9") is True
    assert log.open == set()
