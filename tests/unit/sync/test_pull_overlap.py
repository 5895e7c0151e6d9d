"""The pull overlaps reads and writes: pages are read ahead of the caller, and a chunk's
bookkeeping runs behind the writes, in order, stopping at the first failure."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, cast

import pytest

from bisync.intacct.functions import Function
from bisync.intacct.outcome import Outcome, OutcomeStatus
from bisync.intacct.xml import ResultData
from bisync.settings import TenantSettings
from bisync.sync.pull.context import PullContext
from bisync.sync.pull.reader import Reader


def _rows(start: int, n: int) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"RECORDNO": str(i), "WHENMODIFIED": f"11/01/2026 00:00:{i % 60:02d}"}
        for i in range(start, start + n)
    )


class Pages:
    """Answers header queries with pages of 2 out of 6 rows; records when each was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, functions: Sequence[Function]) -> list[Outcome]:
        with self.lock:
            n = sum(1 for a in self.asked if a.startswith("page"))
            self.asked.append(f"page {n}")
        rows = _rows(n * 2, 2) if n < 3 else ()
        remaining = max(0, 6 - (n + 1) * 2)
        data = ResultData("X", len(rows), 6, remaining, 0, None, ("X",), rows)
        return [Outcome(functions[0], OutcomeStatus.SUCCESS, data=data)]


def test_the_next_page_is_asked_for_before_the_caller_asks_and_each_page_comes_once() -> None:
    gateway = Pages()
    reader = Reader(gateway, pagesize=2)
    pages = reader.pages("X", ["RECORDNO"], base=None)
    seen: list[list[str]] = []
    for page in pages:
        # While the caller holds page n, page n+1's request has been (or is being) sent.
        for _ in range(200):
            if len(gateway.asked) > len(seen) + 1 or len(seen) == 2:
                break
            threading.Event().wait(0.01)
        seen.append([str(r["RECORDNO"]) for r in page.records])
        if len(seen) < 3:
            assert len(gateway.asked) >= len(seen) + 1
    assert seen == [["0", "1"], ["2", "3"], ["4", "5"]]
    assert reader.stats.requests == 3
    assert reader.stats.rows == {"X": 6}


def test_the_first_page_is_read_from_the_moment_the_pages_are_opened() -> None:
    gateway = Pages()
    reader = Reader(gateway, pagesize=2)
    pages = reader.pages("X", ["RECORDNO"], base=None)  # not iterated yet
    for _ in range(200):
        if gateway.asked:
            break
        threading.Event().wait(0.01)
    assert gateway.asked[0] == "page 0"
    assert [r["RECORDNO"] for r in next(iter(pages)).records] == ["0", "1"]


def test_a_failed_read_ahead_is_raised_where_the_caller_asks_for_that_page() -> None:
    calls = {"n": 0}

    def flaky(functions: Sequence[Function]) -> list[Outcome]:
        calls["n"] += 1
        if calls["n"] == 3:  # the read ahead while the caller holds page 0
            raise ConnectionError("gateway gone")
        data = ResultData("X", 2, 6, 4, 0, None, ("X",), _rows(0, 2))
        return [Outcome(functions[0], OutcomeStatus.SUCCESS, data=data)]

    pages = iter(Reader(flaky, pagesize=2).pages("X", ["RECORDNO"], base=None))
    assert [r["RECORDNO"] for r in next(pages).records] == ["0", "1"]  # its read ahead failed meanwhile
    with pytest.raises(ConnectionError):
        next(pages)


def _ctx() -> PullContext:
    return PullContext(
        TenantSettings(tenant_id="acme"),
        mappings=cast(Any, None),
        errors=cast(Any, None),
        blixo=cast(Any, None),
        reader=cast(Any, None),
    )


def test_bookkeeping_runs_in_order_behind_the_caller_and_settle_waits_for_it() -> None:
    ctx = _ctx()
    done: list[int] = []
    gate = threading.Event()

    def first() -> None:
        gate.wait(5)
        done.append(1)

    ctx.record_later(first)
    ctx.record_later(lambda: done.append(2))
    assert done == []  # the caller went on while the first piece waits
    gate.set()
    ctx.settle()
    assert done == [1, 2]
    ctx.close()


def test_after_a_failed_piece_nothing_later_runs_and_the_failure_is_raised() -> None:
    ctx = _ctx()
    done: list[str] = []

    gate = threading.Event()

    def links() -> None:
        gate.wait(5)
        raise RuntimeError("DynamoDB said no")

    ctx.record_later(links)
    ctx.record_later(lambda: done.append("checkpoint"))  # queued behind the failing piece
    gate.set()
    with pytest.raises(RuntimeError, match="DynamoDB said no"):
        ctx.settle()
    assert done == []  # no checkpoint passes links that were not stored
    with pytest.raises(RuntimeError, match="DynamoDB said no"):
        ctx.record_later(lambda: done.append("more"))
    ctx.close()
    assert done == []
