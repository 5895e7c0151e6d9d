"""Matching the two ledgers for the reconciliation: customers and documents paired through the
store's links (one batch read per object type and direction), and the open sync errors found
by the record they name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from bisync.operate.ledgers import CREDIT_NOTE, CUSTOMER, FEE, INVOICE, PAYMENT, ZERO, Entry, Ledger
from bisync.store import models

DOCUMENT_TYPES = (INVOICE, CREDIT_NOTE, PAYMENT, FEE)


class MappingLookup(Protocol):
    """The store's batch reads of links (bisync.store.mappings.MappingStore has them)."""

    def many_by_blixo(
        self, tenant_id: str, object_type: str, blixo_ids: Iterable[str]
    ) -> dict[str, models.Mapping]: ...

    def many_by_intacct(
        self, tenant_id: str, object_type: str, intacct_keys: Iterable[str]
    ) -> dict[str, models.Mapping]: ...


@dataclass(eq=False)
class CustomerRow:
    blixo_id: str | None
    intacct_id: str | None
    linked_to: str | None = None  # the other side's id its link names, when that side lacks it
    blixo: dict[str, Decimal] = field(default_factory=dict)  # open amounts by object type
    intacct: dict[str, Decimal] = field(default_factory=dict)

    @property
    def on_both_sides(self) -> bool:
        return self.blixo_id is not None and self.intacct_id is not None


@dataclass
class Pair:
    """A record and its linked counterpart; either may be missing."""

    object_type: str
    blixo: Entry | None
    intacct: Entry | None
    blixo_id: str | None  # the entry's, or the one its link names
    intacct_key: str | None
    linked: bool

    @property
    def blixo_open(self) -> Decimal | None:
        if self.blixo is not None:
            return self.blixo.amount
        # A linked fee invoice's Blixo side is its payment, which took the fee as paid.
        return ZERO if self.linked and self.object_type == FEE else None

    @property
    def intacct_open(self) -> Decimal | None:
        return self.intacct.amount if self.intacct is not None else None

    @property
    def number(self) -> str | None:
        return (self.blixo.number if self.blixo else None) or (self.intacct.number if self.intacct else None)


@dataclass
class Links:
    by_blixo: dict[str, CustomerRow]
    by_intacct: dict[str, CustomerRow]
    pairs: list[Pair]

    def rows(self) -> list[CustomerRow]:
        return list(dict.fromkeys([*self.by_blixo.values(), *self.by_intacct.values()]))

    def rows_of(self, pair: Pair) -> tuple[CustomerRow | None, CustomerRow | None]:
        return (
            self.by_blixo[pair.blixo.customer] if pair.blixo else None,
            self.by_intacct[pair.intacct.customer] if pair.intacct else None,
        )

    def customer_ids(self, pair: Pair) -> tuple[str | None, str | None]:
        b_row, i_row = self.rows_of(pair)
        blixo_id = b_row.blixo_id if b_row else (i_row.blixo_id if i_row else None)
        intacct_id = i_row.intacct_id if i_row else (b_row.intacct_id if b_row else None)
        return blixo_id, intacct_id


def link(tenant_id: str, blixo: Ledger, intacct: Ledger, mappings: MappingLookup) -> Links:
    by_blixo, by_intacct = _customer_rows(tenant_id, blixo, intacct, mappings)
    for entry in blixo.entries:
        sums = by_blixo[entry.customer].blixo
        sums[entry.object_type] = sums.get(entry.object_type, ZERO) + entry.amount
    for entry in intacct.entries:
        sums = by_intacct[entry.customer].intacct
        sums[entry.object_type] = sums.get(entry.object_type, ZERO) + entry.amount
    pairs = [p for t in DOCUMENT_TYPES for p in _pairs(tenant_id, t, blixo, intacct, mappings)]
    return Links(by_blixo, by_intacct, pairs)


def _customer_rows(
    tenant_id: str, blixo: Ledger, intacct: Ledger, mappings: MappingLookup
) -> tuple[dict[str, CustomerRow], dict[str, CustomerRow]]:
    """One row per customer, a linked one shared by both sides; ids documents name count too."""
    b_ids = sorted(set(blixo.customers) | {e.customer for e in blixo.entries})
    i_ids = sorted(set(intacct.customers) | {e.customer for e in intacct.entries})
    links = mappings.many_by_blixo(tenant_id, CUSTOMER, b_ids)
    by_blixo: dict[str, CustomerRow] = {}
    by_intacct: dict[str, CustomerRow] = {}
    known = set(i_ids)
    for b in b_ids:
        found = links.get(b)
        if found is not None and found.intacct_key in known and found.intacct_key not in by_intacct:
            by_blixo[b] = by_intacct[found.intacct_key] = CustomerRow(b, found.intacct_key)
        else:
            by_blixo[b] = CustomerRow(b, None, linked_to=found.intacct_key if found else None)
    unclaimed = [i for i in i_ids if i not in by_intacct]
    back = mappings.many_by_intacct(tenant_id, CUSTOMER, unclaimed)
    for i in unclaimed:
        found = back.get(i)
        by_intacct[i] = CustomerRow(None, i, linked_to=found.blixo_id if found else None)
    return by_blixo, by_intacct


def _pairs(
    tenant_id: str, object_type: str, blixo: Ledger, intacct: Ledger, mappings: MappingLookup
) -> list[Pair]:
    """Blixo's records by their links, then Intacct's that none of those claimed."""
    b_entries = {e.key: e for e in blixo.entries if e.object_type == object_type}
    i_entries = {e.key: e for e in intacct.entries if e.object_type == object_type}
    links = mappings.many_by_blixo(tenant_id, object_type, list(b_entries))
    pairs: list[Pair] = []
    claimed: set[str] = set()
    for key, entry in b_entries.items():
        found = links.get(key)
        other = i_entries.get(found.intacct_key) if found else None
        if other is not None:
            claimed.add(other.key)
        target = found.intacct_key if found else None
        pairs.append(Pair(object_type, entry, other, key, target, found is not None))
    unclaimed = [k for k in i_entries if k not in claimed]
    back = mappings.many_by_intacct(tenant_id, object_type, unclaimed)
    for key in unclaimed:
        found = back.get(key)
        source = found.blixo_id if found else None
        pairs.append(Pair(object_type, None, i_entries[key], source, key, found is not None))
    return pairs


class ErrorIndex:
    """Open sync errors by the record they name. The push names the Blixo id; the pull the
    Intacct key: CUSTOMERID, ARPYMT RECORDNO ("reversal-<n>" for a reversal), and for invoices
    and returns their Order Entry document, which stands for the A/R record it posted."""

    def __init__(self, errors: Sequence[models.SyncErrorRecord], pulled_documents: Mapping[str, str]) -> None:
        # (error, named by its Blixo id, the key it names)
        self._errors: list[tuple[models.SyncErrorRecord, bool, str]] = []
        self._by: dict[tuple[bool, str, str], models.SyncErrorRecord] = {}
        self._used: set[int] = set()
        for error in errors:
            by_blixo = error.direction != "pull"
            key = error.object_id
            if not by_blixo:
                key = key.removeprefix("reversal-")
                if error.object_type in (INVOICE, CREDIT_NOTE):
                    key = pulled_documents.get(key, key)
            self._errors.append((error, by_blixo, key))
            self._by.setdefault((by_blixo, error.object_type, key), error)

    def find(
        self, object_type: str, blixo_id: str | None, intacct_key: str | None
    ) -> models.SyncErrorRecord | None:
        if object_type == FEE:
            # A fee invoice is written with its payment: the payment's push error is the fee's.
            return self._by.get((True, PAYMENT, blixo_id or ""))
        return self._by.get((True, object_type, blixo_id or "")) or self._by.get(
            (False, object_type, intacct_key or "")
        )

    def take(self, error: models.SyncErrorRecord | None) -> models.SyncErrorRecord | None:
        """The error is shown with its record (not again on its own)."""
        if error is not None:
            self._used.add(id(error))
        return error

    def untaken(self) -> Iterator[tuple[models.SyncErrorRecord, bool, str]]:
        return ((e, b, k) for e, b, k in self._errors if id(e) not in self._used)
