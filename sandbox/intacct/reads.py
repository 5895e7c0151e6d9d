"""Read functions: query, readByQuery, readMore, read, readByName."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sandbox.intacct.catalog import FIELDS, NAME_FIELD, VIEWS, canonical
from sandbox.intacct.filters import Predicate, compile_filter, compile_sql, sort_key
from sandbox.intacct.records import (
    Ctx,
    Resolver,
    check_field,
    flat_element,
    full_record,
    source_find,
    source_get,
    source_rows,
)
from sandbox.intacct.store import Record
from sandbox.intacct.values import IntacctError, fail, is_int


def text(el: Element, tag: str, default: str = "") -> str:
    child = el.find(tag)
    return default if child is None or child.text is None else child.text.strip()


def schema_error(text_: str) -> IntacctError:
    return fail("XL03000003", text_, description="XML Parse schema error")


def object_of(el: Element) -> str:
    raw = text(el, "object")
    if not raw:
        raise schema_error(
            f"Error 1871: Element '{el.tag}': Missing child element(s). Expected is ( object )."
        )
    obj = canonical(raw)
    if obj is None:
        raise fail(
            "DL02000001",
            f"Object definition {raw} not found",
            description="Invalid object",
            correction="Check the object name",
        )
    return obj


def _data(listtype: str, **attrs: str) -> Element:
    data = Element("data", {"listtype": listtype})
    for key, value in attrs.items():
        data.set(key, value)
    return data


def _rows(
    ctx: Ctx, obj: str, pred: Predicate, showprivate: bool, docparid: str = ""
) -> tuple[list[Record], Resolver]:
    resolver = Resolver(ctx, obj)
    rows = [
        r
        for r in source_rows(ctx, obj)
        if ctx.visible(obj, r, showprivate)
        and (not docparid or r.get("DOCPARID") == docparid)
        and pred(resolver.getter(r))
    ]
    return rows, resolver


# -- query -------------------------------------------------------------------------------------
def fn_query(ctx: Ctx, el: Element) -> list[Element]:
    obj = object_of(el)
    if obj in VIEWS:
        raise fail(
            "DL02000001",
            f"query does not support the legacy object {obj}; use readByQuery, or query {VIEWS[obj]}",
            description="Invalid object",
            correction=f"Query {VIEWS[obj]} instead",
        )
    select = el.find("select")
    items = [] if select is None else [(f.tag, (f.text or "").strip()) for f in select]
    if not items:
        raise schema_error("Error 1871: Element 'query': Missing child element(s). Expected is ( select ).")
    for tag, name in items:
        if tag not in _SELECT_TAGS:
            raise schema_error(
                f"Error 1871: Element '{tag}': This element is not expected. "
                "Expected is one of ( field, count, avg, min, max, sum )."
            )
        if tag in _UNSUPPORTED_AGGREGATES:
            raise fail(
                "DL02000001",
                f"The aggregate function {tag} is not supported by the sandbox (only count is); "
                "select the field and aggregate on the client",
                description="Unsupported aggregate",
            )
        if name == "*":
            raise fail(
                "DL02000001", "Select field * is not supported; list the fields", description="Invalid field"
            )
    selected = [(tag, check_field(obj, name)) for tag, name in items]
    fields = [name for tag, name in selected if tag == "field"]
    _query_format(el.find("options"))
    pagesize_text = text(el, "pagesize", "100")
    offset_text = text(el, "offset", "0")
    if not is_int(pagesize_text) or not 1 <= int(pagesize_text) <= 2000:
        raise schema_error(
            f"Error 1839: Element 'pagesize': '{pagesize_text}' is not a valid value of the atomic type "
            "'pagesizeType' (1 to 2000)."
        )
    if not is_int(offset_text):
        raise schema_error(
            f"Error 1824: Element 'offset': '{offset_text}' is not a valid value of the atomic type "
            "'xs:nonNegativeInteger'."
        )
    pagesize, offset = int(pagesize_text), int(offset_text)
    options = el.find("options")
    showprivate = options is not None and text(options, "showprivate").lower() == "true"
    caseinsensitive = options is not None and text(options, "caseinsensitive").lower() == "true"
    pred: Predicate = lambda get: True  # noqa: E731
    flt = el.find("filter")
    if flt is not None:
        ops = list(flt)
        if len(ops) != 1:
            raise schema_error("Error 1871: Element 'filter': exactly one top-level operator is expected.")
        pred = compile_filter(obj, ops[0], lambda n: check_field(obj, n), caseinsensitive)
    order: list[tuple[str, bool]] = []
    orderby = el.find("orderby")
    if orderby is not None:
        for o in orderby.findall("order"):
            order.append((check_field(obj, text(o, "field")), o.find("descending") is not None))
    rows, resolver = _rows(ctx, obj, pred, showprivate)
    rows = _sorted(obj, rows, order, resolver, caseinsensitive)
    if len(fields) == len(selected):
        out = [[(f, resolver.value(r, f)) for f in fields] for r in rows]
    else:
        out = _count_groups(selected, rows, resolver)
    page = out[offset : offset + pagesize]
    remaining = max(0, len(out) - offset - len(page))
    data = _data(
        obj, totalcount=str(len(out)), offset=str(offset), count=str(len(page)), numremaining=str(remaining)
    )
    for values in page:
        data.append(flat_element(obj, obj, values))
    ctx.transactions += 1
    return [data]


_SELECT_TAGS = ("field", "count", "avg", "min", "max", "sum")
_UNSUPPORTED_AGGREGATES = ("avg", "min", "max", "sum")


def _count_groups(
    selected: list[tuple[str, str]], rows: list[Record], resolver: Resolver
) -> list[list[tuple[str, str]]]:
    """`<count>F</count>`: one row per distinct combination of the plain fields (SQL GROUP BY),
    in the order groups first appear, with `COUNT.F` = the group's rows where F is not empty.
    With no plain field there is exactly one row, even when nothing matched."""
    keys = [name for tag, name in selected if tag == "field"]
    groups: dict[tuple[str, ...], list[Record]] = {}
    for r in rows:
        groups.setdefault(tuple(resolver.value(r, k) for k in keys), []).append(r)
    if not keys and not groups:
        groups[()] = []
    out: list[list[tuple[str, str]]] = []
    for key, members in groups.items():
        values = dict(zip(keys, key, strict=True))
        row: list[tuple[str, str]] = []
        for tag, name in selected:
            if tag == "field":
                row.append((name, values[name]))
            else:
                n = sum(1 for m in members if resolver.value(m, name) != "")
                row.append((f"COUNT.{name}", str(n)))
        out.append(row)
    return out


def _query_format(options: Element | None) -> None:
    """`<options><returnformat>`: only xml is served; json and csv are refused, not ignored."""
    fmt = "" if options is None else text(options, "returnformat").lower()
    _check_format(fmt or "xml", "returnformat")


def _check_format(fmt: str, element: str) -> None:
    if fmt.lower() == "xml":
        return
    if fmt.lower() in ("json", "csv"):
        raise fail(
            "DL02000001",
            f"{element} {fmt} is not supported by the sandbox: it answers xml only",
            description="Unsupported return format",
            correction=f"Leave out {element} or use xml",
        )
    raise fail(
        "DL02000001",
        f"Invalid {element} {fmt}: use xml, json or csv",
        description="Invalid return format",
    )


def _sorted(
    obj: str, rows: list[Record], order: list[tuple[str, bool]], resolver: Resolver, ci: bool
) -> list[Record]:
    rows = sorted(rows, key=lambda r: int(r["RECORDNO"]))
    for name, desc in reversed(order):

        def key(r: Record, name: str = name) -> tuple[int, object]:
            k = sort_key(obj, name, resolver.value(r, name))
            return (k[0], k[1].lower()) if ci and isinstance(k[1], str) else k

        rows.sort(key=key, reverse=desc)
    return rows


# -- readByQuery / readMore --------------------------------------------------------------------
@dataclass
class ResultSet:
    company: str
    obj: str
    rows: list[Element]
    pagesize: int
    expires: float
    total: int


RESULTS: dict[str, ResultSet] = {}


def _fields_list(obj: str, raw: str) -> list[str]:
    raw = raw.strip()
    if raw in ("", "*"):
        return list(FIELDS[obj])
    return [check_field(obj, f, relations=False) for f in raw.split(",") if f.strip()]


def fn_read_by_query(ctx: Ctx, el: Element) -> list[Element]:
    obj = object_of(el)
    fields = _fields_list(obj, text(el, "fields", "*"))
    size_text = text(el, "pagesize", "100")
    if not is_int(size_text) or not 1 <= int(size_text) <= 1000:
        raise fail(
            "DL02000001",
            f"Invalid pagesize {size_text}: readByQuery returns 1 to 1000 records per page",
            description="Invalid pagesize",
        )
    _check_format(text(el, "returnFormat") or text(el, "returnformat") or "xml", "returnFormat")
    pred = compile_sql(obj, text(el, "query"), lambda n: check_field(obj, n, relations=False))
    # readByQuery has no options element (3.0 DTD), so it can never ask for private data: a
    # top-level session sees only shared records, like query without showprivate.
    rows, _ = _rows(ctx, obj, pred, showprivate=False, docparid=text(el, "docparid"))
    tag = obj.lower()
    rendered = [flat_element(tag, obj, [(f, r.get(f, "")) for f in fields]) for r in rows]
    ctx.transactions += 1
    return [_page(ctx, obj, rendered, int(size_text), None, len(rendered))]


def _page(  # noqa: PLR0917 - internal helper, every argument is needed
    ctx: Ctx, obj: str, rows: list[Element], pagesize: int, result_id: str | None, total: int
) -> Element:
    """One page; the rest is kept under a resultId (the same id is reused by each readMore)."""
    page, rest = rows[:pagesize], rows[pagesize:]
    if rest:
        result_id = result_id or f"{secrets.randbelow(10**10):010d}{secrets.token_urlsafe(18)}"
        ttl = float(ctx.settings.get("result_ttl_s", 900.0))
        RESULTS[result_id] = ResultSet(ctx.company, obj, rest, pagesize, time.monotonic() + ttl, total)
    data = _data(
        obj.lower(),
        count=str(len(page)),
        totalcount=str(total),
        numremaining=str(len(rest)),
        resultId=result_id if rest and result_id else "",
    )
    data.extend(page)
    return data


def fn_read_more(ctx: Ctx, el: Element) -> list[Element]:
    rid = text(el, "resultId")
    if not rid:
        raise schema_error(
            "Error 1871: Element 'readMore': Missing child element(s). Expected is ( resultId )."
        )
    rs = RESULTS.get(rid)
    if rs is None or rs.company != ctx.company or rs.expires < time.monotonic():
        RESULTS.pop(rid, None)
        raise fail(
            "DL02000001",
            f"Attempt to readMore with an invalid or expired resultId {rid}",
            description="Invalid resultId",
            correction="Run the readByQuery again",
        )
    ctx.transactions += 1
    RESULTS.pop(rid, None)
    return [_page(ctx, rs.obj, rs.rows, rs.pagesize, rid, rs.total)]


# -- read / readByName -----------------------------------------------------------------------------
def _read_fields(obj: str, raw: str) -> list[str] | None:
    raw = raw.strip()
    if raw in ("", "*"):
        return None
    return [check_field(obj, f, relations=False) for f in raw.split(",") if f.strip()]


def fn_read(ctx: Ctx, el: Element) -> list[Element]:
    obj = object_of(el)
    _check_format(text(el, "returnFormat") or text(el, "returnformat") or "xml", "returnFormat")
    fields = _read_fields(obj, text(el, "fields", "*"))
    keys = [k.strip() for k in text(el, "keys").split(",") if k.strip()]
    if len(keys) > 100:
        raise fail("DL02000001", "read accepts at most 100 keys", description="Too many keys")
    recs: list[Record] = []
    for k in keys:
        if not is_int(k):
            raise fail("DL02000001", f"Invalid key {k}: keys are record numbers", description="Invalid key")
        rec = source_get(ctx, obj, int(k))
        # Same rule as readByQuery: no showprivate here, so no entity-private records at top level.
        if rec is not None and ctx.visible(obj, rec, False):
            recs.append(rec)
    ctx.transactions += 1
    return [_read_data(ctx, obj, recs, fields)]


def fn_read_by_name(ctx: Ctx, el: Element) -> list[Element]:
    obj = object_of(el)
    _check_format(text(el, "returnFormat") or text(el, "returnformat") or "xml", "returnFormat")
    fields = _read_fields(obj, text(el, "fields", "*"))
    name_field = NAME_FIELD[obj]
    recs: list[Record] = []
    for k in (k.strip() for k in text(el, "keys").split(",")):
        if k:
            recs.extend(r for r in source_find(ctx, obj, name_field, k) if ctx.visible(obj, r, False))
    ctx.transactions += 1
    return [_read_data(ctx, obj, recs, fields)]


def _read_data(ctx: Ctx, obj: str, recs: list[Record], fields: list[str] | None) -> Element:
    # Legacy objects (ARPAYMENT) answer read in lowercase, as the reference samples show.
    tag = obj.lower() if obj in VIEWS else obj
    data = _data(tag, count=str(len(recs)))
    for r in recs:
        data.append(full_record(ctx, obj, r, tag, fields))
    return data
