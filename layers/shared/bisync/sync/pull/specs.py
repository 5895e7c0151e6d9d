"""What the pull's flows share: the flow specs, their filters, the number indexes, links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bisync.intacct.filters import F, Filter
from bisync.mapping.common import MappingError
from bisync.store.mappings import MappingConflictError
from bisync.store.models import Mapping
from bisync.sync.pull.context import PullContext
from bisync.sync.pull.reader import Children

ALIAS_INVOICE_DOC = "sodocument"  # SODOCUMENT RECORDNO -> the Blixo invoice it became
ALIAS_RETURN_DOC = "soreturn"


@dataclass(frozen=True)
class FlowSpec:
    name: str  # customers, invoices, credit_notes, payments
    flag: str  # the settings flag
    object_type: str  # the mapping type
    intacct_object: str
    fields: tuple[str, ...]
    children: Children | None
    date_field: str | None  # filtered against the start date


def base_filter(spec: FlowSpec, ctx: PullContext, since: str | None) -> Filter | None:
    parts: list[Filter] = []
    if since:
        parts.append(F.gte("WHENMODIFIED", since))
    if spec.date_field and ctx.settings.start_date:
        parts.append(F.gte(spec.date_field, ctx.settings.start_date))
    if spec.name == "invoices":
        parts.append(F.in_("DOCPARID", ctx.settings.invoice_definitions))
    if spec.name == "credit_notes":
        parts.append(F.in_("DOCPARID", ctx.settings.return_definitions or ["-none-"]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else F.and_(*parts)


class Index:
    """Blixo objects by number, listed once per run and only when a number conflict needs it."""

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        self._load = load
        self._items: dict[str, Any] | None = None

    def get(self, number: str) -> Any:
        if self._items is None:
            self._items = self._load()
        return self._items.get(number)


def modified(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def required(value: str | None, problem: str) -> str:
    if value is None:
        raise MappingError(problem)
    return value


def link_all(ctx: PullContext, links: list[Mapping]) -> None:
    """A page's new links in few transactions. An alias made by an earlier attempt of the page
    is fine; any other conflict means the record was linked meanwhile (reported, not lost)."""
    for mapping, result in zip(links, ctx.mappings.link_many(links), strict=True):
        if isinstance(result, MappingConflictError) and mapping.object_type not in (
            ALIAS_INVOICE_DOC,
            ALIAS_RETURN_DOC,
        ):
            ctx.errors.record(
                ctx.tenant_id,
                mapping.object_type,
                mapping.intacct_key,
                direction="pull",
                message=str(result),
                retry={"intacct_key": mapping.intacct_key},
                now=ctx.now(),
            )
