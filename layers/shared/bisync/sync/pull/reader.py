"""Reading what changed, at the request lower bound.

Headers are read with `query` at pagesize 2000, keyset-paged on (WHENMODIFIED, RECORDNO), only
the fields the mapping needs; the children of a page (lines, payment details) are read in
bulk with one `in` filter over the page's keys. The children of page n and the headers of
page n+1 go in the same gateway request, so a flow costs about one request per page; that
request is sent while the caller writes page n, so reading and writing overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bisync.intacct.filters import F, Filter
from bisync.intacct.functions import MAX_QUERY_PAGESIZE, Function, query
from bisync.intacct.outcome import Outcome
from bisync.intacct.paging import after
from bisync.intacct.xml import Record
from bisync.sync.failures import BusinessSyncError

Execute = Callable[[Sequence[Function]], list[Outcome]]
ORDER_FIELD = "WHENMODIFIED"
KEY = "RECORDNO"


@dataclass(frozen=True)
class Children:
    object: str
    fields: tuple[str, ...]
    parent_field: str  # e.g. DOCHDRNO, PAYMENTKEY


@dataclass
class Page:
    records: list[Record]
    children: dict[str, list[Record]] = field(default_factory=dict)
    # Some rows were met earlier in this scan at an older version (edited while it ran).
    revisits: bool = False

    @property
    def last(self) -> Record:
        return self.records[-1]


@dataclass
class ReadStats:
    requests: int = 0
    functions: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    # Pages of two flows may be read at once (one ahead of the other).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def sent(self, functions: int) -> None:
        with self._lock:
            self.requests += 1
            self.functions += functions

    def count(self, obj: str, n: int) -> None:
        with self._lock:
            self.rows[obj] = self.rows.get(obj, 0) + n


def intacct_timestamp(moment: datetime) -> str:
    return moment.strftime("%m/%d/%Y %H:%M:%S")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value.strip(), "%m/%d/%Y %H:%M:%S")


def _ok(outcome: Outcome) -> Outcome:
    if not outcome.done:
        error = outcome.error
        raise BusinessSyncError(
            error.message if error else "a read failed", errorno=error.errorno if error else None
        )
    return outcome


R = TypeVar("R")


def _soon(work: Callable[..., R], *args: Any) -> Future[R]:
    """`work(*args)` in a thread of its own, its result or failure in the future. A daemon
    thread: a read nobody waits for any more (the run stopped early) just ends with its request."""
    future: Future[R] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=run, name="pull-read-ahead", daemon=True).start()
    return future


class Reader:
    def __init__(
        self, execute: Execute, *, show_private: bool = False, pagesize: int = MAX_QUERY_PAGESIZE
    ) -> None:
        self._execute = execute
        self._show_private = show_private
        self.pagesize = pagesize
        self.stats = ReadStats()

    def _send(self, functions: list[Function]) -> list[Outcome]:
        self.stats.sent(len(functions))
        return [_ok(o) for o in self._execute(functions)]

    def _headers(self, obj: str, fields: Sequence[str], flt: Filter | None) -> Function:
        select = list(dict.fromkeys([*fields, KEY, ORDER_FIELD]))
        return query(
            obj,
            select,
            filter=flt,
            order_by=[(ORDER_FIELD, True), (KEY, True)],
            pagesize=self.pagesize,
            show_private=self._show_private,
        )

    def _children(self, spec: Children, keys: list[str], after_key: str | None = None) -> Function:
        flt = F.in_(spec.parent_field, keys)
        if after_key is not None:
            flt = F.and_(flt, F.gt(KEY, after_key))
        return query(
            spec.object,
            list(dict.fromkeys([*spec.fields, KEY, spec.parent_field])),
            filter=flt,
            order_by=[(KEY, True)],
            pagesize=self.pagesize,
            show_private=self._show_private,
        )

    def pages(
        self,
        obj: str,
        fields: Sequence[str],
        *,
        base: Filter | None,
        start_after: Record | None = None,
        children: Children | None = None,
    ) -> Iterator[Page]:
        """Every header matching `base` once, in (WHENMODIFIED, RECORDNO) order, with its
        children; `start_after` resumes after a checkpointed row. The first page is read from
        the moment this is called, each next page while the caller handles the one before."""

        def header_filter(last: Record | None) -> Filter | None:
            if last is None:
                return base
            cursor = after(last, ORDER_FIELD)
            return cursor if base is None else F.and_(base, cursor)

        # RECORDNO -> the WHENMODIFIED it was met at. A row met again at the same version is
        # dropped; one edited while the scan ran comes again at its new place, and is kept: the
        # cursor passes it, so it must be written as it now is.
        seen: dict[str, str] = {}

        def load(first: Outcome) -> tuple[Page, Outcome | None]:
            """A page from its headers' outcome: its children, and the next page's headers."""
            rows = [dict(r) for r in first.records if seen.get(str(r.get(KEY))) != str(r.get(ORDER_FIELD))]
            revisits = any(str(r.get(KEY)) in seen for r in rows)
            seen.update((str(r.get(KEY)), str(r.get(ORDER_FIELD))) for r in rows)
            self.stats.count(obj, len(rows))
            data = first.data
            more = bool(first.records) and (
                (data.numremaining or 0) > 0
                if data and data.numremaining is not None
                else len(first.records) >= self.pagesize
            )
            next_headers = self._headers(obj, fields, header_filter(first.records[-1])) if more else None
            page = Page(rows, revisits=revisits)
            if children is None or not rows:
                return page, (self._send([next_headers])[0] if next_headers else None)
            keys = [str(r[KEY]) for r in rows]
            calls = [self._children(children, keys)] + ([next_headers] if next_headers else [])
            outcomes = self._send(calls)
            kids = list(outcomes[0].records)
            child_data = outcomes[0].data
            while child_data is not None and (child_data.numremaining or 0) > 0 and kids:
                extra = self._send([self._children(children, keys, str(kids[-1][KEY]))])[0]
                kids.extend(extra.records)
                child_data = extra.data
            self.stats.count(children.object, len(kids))
            for kid in kids:
                page.children.setdefault(str(kid.get(children.parent_field)), []).append(dict(kid))
            return page, (outcomes[1] if next_headers else None)

        def stream(first: Future[tuple[Page, Outcome | None]]) -> Iterator[Page]:
            current = first
            while True:
                page, following = current.result()
                # The next page is read while the caller writes this one (reads only: nothing
                # of it is used before the caller asks for it, after this page is written).
                upcoming = _soon(load, following) if following is not None else None
                if page.records:
                    yield page
                if upcoming is None:
                    return
                current = upcoming

        # The first page is asked for now, not at the first `next()`: a caller may open the
        # next flow's pages while it still writes this flow's.
        return stream(
            _soon(lambda: load(self._send([self._headers(obj, fields, header_filter(start_after))])[0]))
        )

    def by_keys(self, obj: str, fields: Sequence[str], key_field: str, values: Sequence[str]) -> list[Record]:
        """Rows whose `key_field` is one of `values` (a few at a time, for dependencies)."""
        out: list[Record] = []
        for start in range(0, len(values), self.pagesize):
            chunk = list(values[start : start + self.pagesize])
            outcome = self._send(
                [
                    query(
                        obj,
                        list(dict.fromkeys([*fields, KEY])),
                        filter=F.in_(key_field, chunk),
                        order_by=[(KEY, True)],
                        pagesize=self.pagesize,
                        show_private=self._show_private,
                    )
                ]
            )[0]
            out.extend(dict(r) for r in outcome.records)
            self.stats.count(obj, len(outcome.records))
        return out
