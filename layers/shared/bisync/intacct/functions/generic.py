"""Generic create, update and delete (the object API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bisync.intacct.functions.base import Function, Lookup, write


def create(
    object: str, values: Mapping[str, Any], *, controlid: str, lookup: Lookup | None = None
) -> Function:
    """Generic create: <create><OBJECT>values</OBJECT></create> (values may nest)."""
    return write("create", controlid, {object: dict(values)}, lookup)


def update(object: str, values: Mapping[str, Any], *, controlid: str) -> Function:
    """Generic update; `values` must hold RECORDNO (or the object's business id)."""
    return write("update", controlid, {object: dict(values)})


def delete(object: str, keys: Sequence[str | int], *, controlid: str) -> Function:
    return write("delete", controlid, {"object": object, "keys": ",".join(str(k) for k in keys)})
