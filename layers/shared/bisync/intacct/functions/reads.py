"""Session and read functions: getAPISession, query, readByQuery/readMore, read, readByName."""

from __future__ import annotations

from collections.abc import Sequence

from bisync.intacct.filters import Filter
from bisync.intacct.functions.base import (
    MAX_QUERY_PAGESIZE,
    MAX_READ_KEYS,
    MAX_READBYQUERY_PAGESIZE,
    Function,
    new_controlid,
)
from bisync.intacct.xml import Payload


def get_api_session(controlid: str | None = None) -> Function:
    return Function("getAPISession", controlid or new_controlid(), {})


def query(
    object: str,
    fields: Sequence[str],
    *,
    filter: Filter | None = None,
    order_by: Sequence[tuple[str, bool]] = (),
    pagesize: int = MAX_QUERY_PAGESIZE,
    offset: int = 0,
    show_private: bool = False,
    controlid: str | None = None,
) -> Function:
    """`order_by` is a list of (field, ascending)."""
    if not fields:
        raise ValueError("query needs the fields to select (no '*')")
    if not 1 <= pagesize <= MAX_QUERY_PAGESIZE:
        raise ValueError(f"pagesize must be 1..{MAX_QUERY_PAGESIZE}")
    payload: Payload = {
        "object": object,
        "select": {"field": list(fields)},
        "filter": filter.to_payload() if filter is not None else None,
        "orderby": (
            {"order": [{"field": f, "ascending" if asc else "descending": {}} for f, asc in order_by]}
            if order_by
            else None
        ),
        "options": {"showprivate": True} if show_private else None,
        "pagesize": pagesize,
        "offset": offset,
    }
    return Function("query", controlid or new_controlid(), payload)


def read_by_query(
    object: str,
    fields: Sequence[str] = ("*",),
    query: str = "",
    *,
    pagesize: int = MAX_READBYQUERY_PAGESIZE,
    controlid: str | None = None,
) -> Function:
    if not 1 <= pagesize <= MAX_READBYQUERY_PAGESIZE:
        raise ValueError(f"pagesize must be 1..{MAX_READBYQUERY_PAGESIZE}")
    payload: Payload = {
        "object": object,
        "fields": ",".join(fields),
        "query": query,
        "pagesize": pagesize,
    }
    return Function("readByQuery", controlid or new_controlid(), payload)


def read_more(result_id: str, *, controlid: str | None = None) -> Function:
    return Function("readMore", controlid or new_controlid(), {"resultId": result_id})


def read(
    object: str, keys: Sequence[str | int], fields: Sequence[str] = ("*",), *, controlid: str | None = None
) -> Function:
    if not keys or len(keys) > MAX_READ_KEYS:
        raise ValueError(f"read takes 1..{MAX_READ_KEYS} keys")
    payload: Payload = {
        "object": object,
        "keys": ",".join(str(k) for k in keys),
        "fields": ",".join(fields),
    }
    return Function("read", controlid or new_controlid(), payload)


def read_by_name(
    object: str, names: Sequence[str], fields: Sequence[str] = ("*",), *, controlid: str | None = None
) -> Function:
    if not names or len(names) > MAX_READ_KEYS:
        raise ValueError(f"readByName takes 1..{MAX_READ_KEYS} names")
    payload: Payload = {"object": object, "keys": ",".join(names), "fields": ",".join(fields)}
    return Function("readByName", controlid or new_controlid(), payload)
