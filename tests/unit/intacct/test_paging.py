"""query keyset paging with rows shifting between pages; readByQuery/readMore; read chunks."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from bisync.intacct.filters import F
from bisync.intacct.models import Customer
from tests.unit.intacct.fakes import Call, FakeGateway, make_client, records_xml, response_xml, result_xml


def _match(el: ET.Element, row: dict[str, Any]) -> bool:
    """The part of the filter grammar the client's pager and these tests use."""
    op = el.tag
    if op == "and":
        return all(_match(c, row) for c in el)
    if op == "or":
        return any(_match(c, row) for c in el)
    field = el.findtext("field") or ""
    value = row.get(field)
    target: Any = el.findtext("value")
    if isinstance(value, int):
        target = int(target)
    ops: dict[str, Any] = {
        "equalto": lambda: value == target,
        "greaterthan": lambda: value > target,
        "greaterthanorequalto": lambda: value >= target,
        "lessthan": lambda: value < target,
    }
    return bool(ops[op]())


class Table:
    """Rows of one object; `between_pages` mutates it after each page is served."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.pages_served = 0
        self.between_pages: list[Any] = []
        self.requests: list[ET.Element] = []

    def __call__(self, call: Call) -> bytes:
        results = []
        for name, cid, body in call.functions:
            assert name == "query"
            self.requests.append(body)
            filt = body.find("filter")
            rows = [r for r in self.rows if filt is None or _match(next(iter(filt)), r)]
            keys = [o.findtext("field") or "" for o in body.findall("orderby/order")]
            rows.sort(key=lambda r: tuple(r[k] for k in keys))
            size = int(body.findtext("pagesize") or 100)
            offset = int(body.findtext("offset") or 0)
            page = rows[offset : offset + size]
            fields = [f.text or "" for f in body.findall("select/field")]
            data = records_xml(
                "CUSTOMER",
                [{k: str(r[k]) for k in fields} for r in page],
                totalcount=len(rows),
                offset=offset,
                numremaining=max(0, len(rows) - offset - len(page)),
            )
            results.append(result_xml(name, cid, data=data))
        if self.between_pages:
            self.between_pages.pop(0)(self.rows)
        self.pages_served += 1
        return response_xml(results)


def rows(keys: range) -> list[dict[str, Any]]:
    return [{"RECORDNO": k, "CUSTOMERID": f"C-{k}", "SEQ": k % 7} for k in keys]


def test_rows_inserted_and_deleted_between_pages_lose_and_repeat_nothing() -> None:
    table = Table(rows(range(1, 26)))
    # after page 1: insert rows that sort before the cursor and delete one already seen;
    # after page 2: insert rows that sort after it.
    table.between_pages = [
        lambda rs: (rs.extend(rows(range(100, 103))), rs.remove(next(r for r in rs if r["RECORDNO"] == 3))),
        lambda rs: rs.extend(rows(range(200, 204))),
    ]
    client = make_client(FakeGateway(table))
    got = [int(r["RECORDNO"]) for r in client.query("CUSTOMER", ["CUSTOMERID"], pagesize=10)]
    assert len(got) == len(set(got))
    # every original row (1..25) and every row inserted after the cursor is seen once
    assert set(range(1, 26)) <= set(got)
    assert set(range(100, 103)) | set(range(200, 204)) <= set(got)
    assert got == sorted(got)


def test_offset_shifts_would_break_naive_paging_but_not_keyset() -> None:
    """Deleting rows before the cursor shifts later rows back by offset: keyset must not skip."""
    table = Table(rows(range(1, 31)))
    table.between_pages = [lambda rs: [rs.remove(r) for r in [x for x in rs if x["RECORDNO"] <= 5]]]
    client = make_client(FakeGateway(table))
    got = [int(r["RECORDNO"]) for r in client.query("CUSTOMER", ["CUSTOMERID"], pagesize=10)]
    assert got == list(range(1, 31))
    assert all(int(req.findtext("offset") or 0) == 0 for req in table.requests)


def test_order_by_a_field_plus_recordno_with_ties_across_pages() -> None:
    table = Table(rows(range(1, 41)))
    # rows inserted mid-scan with the current SEQ value and a higher RECORDNO still come
    table.between_pages = [
        lambda rs: rs.extend({"RECORDNO": k, "CUSTOMERID": "x", "SEQ": 6} for k in (50, 51))
    ]
    client = make_client(FakeGateway(table))
    got = list(client.query("CUSTOMER", ["CUSTOMERID"], order_by="SEQ", pagesize=7))
    keys = [int(r["RECORDNO"]) for r in got]
    assert len(keys) == len(set(keys)) == 42
    assert [(int(r["SEQ"]), int(r["RECORDNO"])) for r in got] == sorted(
        (int(r["SEQ"]), int(r["RECORDNO"])) for r in got
    )
    second = table.requests[1]
    assert [o.findtext("field") for o in second.findall("orderby/order")] == ["SEQ", "RECORDNO"]
    # only the fields asked for (+ the keyset fields)
    assert [f.text for f in second.findall("select/field")] == ["CUSTOMERID", "RECORDNO", "SEQ"]


def test_caller_filter_is_kept_on_every_page_and_models_parse() -> None:
    table = Table(rows(range(1, 21)))
    client = make_client(FakeGateway(table))
    customers = list(client.query_models(Customer, ["CUSTOMERID"], filter=F.gt("RECORDNO", 4), pagesize=5))
    assert [c.recordno for c in customers] == [str(k) for k in range(5, 21)]
    assert customers[0].customerid == "C-5"
    assert all(req.find("filter/and") is not None for req in table.requests[1:])


def test_read_by_query_follows_read_more_until_nothing_remains() -> None:
    pages = {
        None: (["1", "2"], 3, "rid-1"),
        "rid-1": (["3", "4"], 1, "rid-1"),
        "rid-1#2": (["5"], 0, "rid-1"),
    }
    state = {"more": 0}

    def handler(call: Call) -> bytes:
        (name, cid, body) = call.functions[0]
        if name == "readByQuery":
            assert body.findtext("query") == "STATUS = 'active'"
            assert int(body.findtext("pagesize") or 0) == 1000
            keys, remaining, rid = pages[None]
        else:
            assert body.findtext("resultId") == "rid-1"
            state["more"] += 1
            keys, remaining, rid = pages["rid-1" if state["more"] == 1 else "rid-1#2"]
        data = records_xml("customer", [{"RECORDNO": k} for k in keys], numremaining=remaining, resultId=rid)
        return response_xml([result_xml(name, cid, data=data)])

    client = make_client(FakeGateway(handler))
    got = [r["RECORDNO"] for r in client.read_by_query("CUSTOMER", ["RECORDNO"], "STATUS = 'active'")]
    assert got == ["1", "2", "3", "4", "5"]
    assert state["more"] == 2


def test_read_chunks_keys_by_100() -> None:
    seen: list[list[str]] = []

    def handler(call: Call) -> bytes:
        results = []
        for name, cid, body in call.functions:
            keys = (body.findtext("keys") or "").split(",")
            seen.append(keys)
            data = records_xml("CUSTOMER", [{"RECORDNO": k} for k in keys])
            results.append(result_xml(name, cid, data=data))
        return response_xml(results)

    gw = FakeGateway(handler)
    client = make_client(gw)
    keys = [str(k) for k in range(1, 251)]
    got = client.read("CUSTOMER", keys, ["RECORDNO", "NAME"])
    assert [len(chunk) for chunk in seen] == [100, 100, 50]
    assert [r["RECORDNO"] for r in got] == keys
    assert len(gw.content_calls) == 1  # three read functions in one request
