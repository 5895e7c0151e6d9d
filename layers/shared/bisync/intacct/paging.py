"""Paging that survives rows shifting between pages.

`query` pages by keyset instead of offset: each page asks for the rows after the last one
seen in (order field, RECORDNO) order, so inserts or deletes before the cursor cannot shift a
row past it (offset paging would skip one per delete and repeat one per insert). Rows are
also de-duplicated by RECORDNO, for the case of a row whose order field changes mid-scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bisync.intacct.filters import F, Filter
from bisync.intacct.xml import Record

KEY_FIELD = "RECORDNO"


@dataclass(frozen=True)
class Page:
    records: tuple[Record, ...]
    numremaining: int | None = None
    result_id: str | None = None


def after(last: Record, order_field: str | None) -> Filter:
    """Rows strictly after `last` in (order_field, RECORDNO) ascending order."""
    key = last.get(KEY_FIELD)
    if key in (None, ""):
        raise ValueError("keyset paging needs RECORDNO in every row")
    if order_field is None or order_field == KEY_FIELD:
        return F.gt(KEY_FIELD, key)
    value = last.get(order_field)
    if value in (None, ""):
        raise ValueError(f"keyset paging cannot continue after an empty {order_field}; order by RECORDNO")
    return F.or_(F.gt(order_field, value), F.and_(F.eq(order_field, value), F.gt(KEY_FIELD, key)))


def keyset_pages(
    fetch: Callable[[Filter | None], Page],
    *,
    base_filter: Filter | None,
    order_field: str | None,
    pagesize: int,
) -> Iterator[Record]:
    """Yield every row once. `fetch(filter)` runs one query page with that filter."""
    seen: set[str] = set()
    cursor: Filter | None = None
    while True:
        if cursor is None:
            page_filter = base_filter
        elif base_filter is None:
            page_filter = cursor
        else:
            page_filter = F.and_(base_filter, cursor)
        page = fetch(page_filter)
        for record in page.records:
            key = str(record.get(KEY_FIELD))
            if key in seen:
                continue
            seen.add(key)
            yield record
        if not page.records or len(page.records) < pagesize or page.numremaining == 0:
            return
        cursor = after(page.records[-1], order_field)


def result_id_pages(first: Page, fetch_more: Callable[[str], Page]) -> Iterator[Record]:
    """readByQuery then readMore(resultId) until nothing remains."""
    page = first
    while True:
        yield from page.records
        if not page.numremaining or not page.result_id:
            return
        page = fetch_more(page.result_id)
