"""Reconciliation: each customer's open balance in Blixo and in Intacct side by side, the
differences, and the records that explain them (unsynced, errored, mismatched, missing).

Open balance = open invoices + open convenience-fee invoices - open credit - unapplied cash, in
document currency, summed from the documents the same way on both sides (Blixo has no customer
balance of its own; bisync.operate.ledgers reads them):

- Blixo: invoices' `balance` (voided ones 0, drafts left out), credit notes' `balance`,
  payments' `unappliedAmount` (voided ones 0).
- Intacct: ARINVOICE and ARADJUSTMENT TRX_TOTALDUE (transaction currency, like Blixo's amounts;
  a credit memo's is negative; a reversed invoice and its reversal are both 0), ARPYMT
  TRX_TOTALDUE = what a payment left unapplied (reversed `V` and drafts `D` count 0).
  CUSTOMER.TOTALDUE is not used: it spans every entity and leaves unapplied cash out.
- Convenience fees: Blixo keeps a fee inside its payment, never as an invoice, and the push pays
  the CF-<paymentId> invoice with that same payment. So a fee invoice counts on the Intacct side
  (the customer owes it there) and as 0 on the Blixo side: an open one is a difference, and the
  fee invoice is its explanation.

Differences are Blixo minus Intacct. Each differing record is one explanation whose `amount` is
its part of the difference, so a customer's explanations add up to the customer's difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, computed_field

from bisync.operate.ledgers import (
    CREDIT_NOTE,
    CUSTOMER,
    FEE,
    INVOICE,
    PAYMENT,
    ZERO,
    BlixoLists,
    IntacctQueries,
    Ledger,
    pulled_document_keys,
    read_blixo,
    read_intacct,
)
from bisync.operate.matching import CustomerRow, ErrorIndex, Links, MappingLookup, Pair, link
from bisync.settings import TenantSettings
from bisync.store.models import ErrorLevel, SyncErrorRecord

_LABELS = {
    CUSTOMER: "customer",
    INVOICE: "invoice",
    CREDIT_NOTE: "credit note",
    PAYMENT: "payment",
    FEE: "convenience-fee invoice",
}


class ExplanationKind(StrEnum):
    UNSYNCED = "unsynced"  # on one side only, never linked
    ERRORED = "errored"  # an open sync error stands for it
    MISMATCH = "mismatch"  # linked, and the open amounts (or the customers) differ
    MISSING = "missing"  # linked, but the other side does not show the record


class Balance(BaseModel):
    """One side's open receivable of a customer, by what makes it up (credit and cash negative)."""

    invoices: Decimal = ZERO
    convenience_fees: Decimal = ZERO
    credit_notes: Decimal = ZERO
    unapplied_payments: Decimal = ZERO

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        return self.invoices + self.convenience_fees + self.credit_notes + self.unapplied_payments

    @classmethod
    def of(cls, sums: Mapping[str, Decimal]) -> Balance:
        return cls(
            invoices=sums.get(INVOICE, ZERO),
            convenience_fees=sums.get(FEE, ZERO),
            credit_notes=sums.get(CREDIT_NOTE, ZERO),
            unapplied_payments=sums.get(PAYMENT, ZERO),
        )


class CustomerBalance(BaseModel):
    blixo_id: str | None
    intacct_id: str | None  # CUSTOMERID
    name: str
    blixo: Balance | None  # None: no such customer on that side
    intacct: Balance | None
    difference: Decimal


class DocumentDifference(BaseModel):
    object_type: str  # invoice, credit_note, payment, convenience_fee
    number: str | None
    blixo_id: str | None
    intacct_key: str | None  # RECORDNO
    blixo_customer_id: str | None
    intacct_customer_id: str | None
    blixo_open: Decimal | None  # its part of the customer's balance; None: not on that side
    intacct_open: Decimal | None
    difference: Decimal


class Explanation(BaseModel):
    kind: ExplanationKind
    object_type: str
    message: str
    number: str | None = None
    blixo_id: str | None = None
    intacct_key: str | None = None
    blixo_customer_id: str | None = None
    intacct_customer_id: str | None = None
    # Its part of the difference; None: none of its own (the customer's documents carry it).
    amount: Decimal | None = None
    error_level: ErrorLevel | None = None


class Totals(BaseModel):
    customers_compared: int = 0  # present on both sides
    customers_only_in_blixo: int = 0
    customers_only_in_intacct: int = 0
    documents_compared: int = 0  # linked and present on both sides
    invoices_compared: int = 0
    customer_differences: int = 0
    document_differences: int = 0
    open_errors: int = 0
    blixo_open: Decimal = ZERO
    intacct_open: Decimal = ZERO

    @computed_field  # type: ignore[prop-decorator]
    @property
    def differences(self) -> int:
        return self.customer_differences + self.document_differences

    @computed_field  # type: ignore[prop-decorator]
    @property
    def difference(self) -> Decimal:
        return self.blixo_open - self.intacct_open


class Reconciliation(BaseModel):
    tenant_id: str
    entity_id: str | None
    as_of: datetime
    customers: list[CustomerBalance]  # on both sides, or with something open
    documents: list[DocumentDifference]  # only those that differ
    explanations: list[Explanation]
    totals: Totals

    @property
    def balanced(self) -> bool:
        return self.totals.differences == 0

    def summary(self) -> str:
        t = self.totals
        return (
            f"{t.customers_compared} customers and {t.documents_compared} documents compared "
            f"({t.invoices_compared} invoices), {t.differences} differences, {t.open_errors} open sync errors"
        )


def reconcile(
    settings: TenantSettings,
    blixo: BlixoLists,
    intacct: IntacctQueries,
    mappings: MappingLookup,
    errors: Sequence[SyncErrorRecord],
    *,
    now: datetime | None = None,
) -> Reconciliation:
    """Read both sides (at once: they are different services) and compare them."""
    as_of = now or datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-blixo") as pool:
        blixo_side = pool.submit(read_blixo, blixo)
        intacct_side = read_intacct(intacct, settings)
        documents = pulled_document_keys(intacct, settings, errors)
        blixo_read = blixo_side.result()
    return compare(
        settings.tenant_id,
        blixo_read,
        intacct_side,
        mappings,
        errors,
        pulled_documents=documents,
        entity_id=settings.entity_id,
        as_of=as_of,
    )


def compare(
    tenant_id: str,
    blixo: Ledger,
    intacct: Ledger,
    mappings: MappingLookup,
    errors: Sequence[SyncErrorRecord],
    *,
    pulled_documents: Mapping[str, str] | None = None,
    entity_id: str | None = None,
    as_of: datetime | None = None,
) -> Reconciliation:
    links = link(tenant_id, blixo, intacct, mappings)
    errs = ErrorIndex(errors, pulled_documents or {})
    totals = Totals(
        open_errors=len(errors),
        blixo_open=sum((e.amount for e in blixo.entries), ZERO),
        intacct_open=sum((e.amount for e in intacct.entries), ZERO),
    )
    documents: list[DocumentDifference] = []
    explanations: list[Explanation] = []
    # Records with nothing open of their own that explain a customer's difference all the same
    # (an unsynced payment moved what it paid): kept if that customer turns out to differ.
    context: list[tuple[CustomerRow | None, Explanation]] = []
    for pair in links.pairs:
        b_row, i_row = links.rows_of(pair)
        b_cust, i_cust = links.customer_ids(pair)
        where: dict[str, Any] = {
            "object_type": pair.object_type,
            "number": pair.number,
            "blixo_id": pair.blixo_id,
            "intacct_key": pair.intacct_key,
            "blixo_customer_id": b_cust,
            "intacct_customer_id": i_cust,
        }
        error = errs.find(pair.object_type, pair.blixo_id, pair.intacct_key)
        if pair.blixo_open is not None and pair.intacct is not None:
            totals.documents_compared += 1
            totals.invoices_compared += pair.object_type == INVOICE
        difference = (pair.blixo_open or ZERO) - (pair.intacct_open or ZERO)
        # The same record under two different customers puts both of them out, even at 0.
        split = b_row is not None and i_row is not None and b_row is not i_row
        if difference or (split and (pair.blixo_open or pair.intacct_open)):
            totals.document_differences += 1
            documents.append(
                DocumentDifference(
                    **where, blixo_open=pair.blixo_open, intacct_open=pair.intacct_open, difference=difference
                )
            )
            kind, message = _why(pair, split)
            explanations.append(_explain(kind, message, errs.take(error), amount=difference, **where))
        elif (why := _moves_others(pair)) is not None:
            context.append((b_row or i_row, _explain(why[0], why[1], error, **where)))
    customers: list[CustomerBalance] = []
    differing: set[int] = set()
    for row in links.rows():
        totals.customers_compared += row.on_both_sides
        totals.customers_only_in_blixo += row.intacct_id is None
        totals.customers_only_in_intacct += row.blixo_id is None
        b_total, i_total = sum(row.blixo.values(), ZERO), sum(row.intacct.values(), ZERO)
        if not (row.on_both_sides or b_total or i_total):
            continue  # on one side only with nothing open: nothing to reconcile
        name = blixo.customers.get(row.blixo_id or "") or intacct.customers.get(row.intacct_id or "") or ""
        customers.append(
            CustomerBalance(
                blixo_id=row.blixo_id,
                intacct_id=row.intacct_id,
                name=name,
                blixo=Balance.of(row.blixo) if row.blixo_id is not None else None,
                intacct=Balance.of(row.intacct) if row.intacct_id is not None else None,
                difference=b_total - i_total,
            )
        )
        if b_total == i_total:
            continue
        totals.customer_differences += 1
        differing.add(id(row))
        if not row.on_both_sides:
            kind, message = _why_customer(row)
            error = errs.take(errs.find(CUSTOMER, row.blixo_id, row.intacct_id))
            explanations.append(
                _explain(
                    kind,
                    message,
                    error,
                    object_type=CUSTOMER,
                    number=name,
                    blixo_id=row.blixo_id,
                    intacct_key=row.intacct_id,
                    blixo_customer_id=row.blixo_id,
                    intacct_customer_id=row.intacct_id,
                )
            )
    for row_of, item in context:
        if row_of is not None and id(row_of) in differing:
            errs.take(errs.find(item.object_type, item.blixo_id, item.intacct_key))
            explanations.append(item)
    explanations.extend(_other_errors(errs, links))
    customers.sort(key=lambda c: (c.difference == 0, c.name.lower(), c.blixo_id or "", c.intacct_id or ""))
    return Reconciliation(
        tenant_id=tenant_id,
        entity_id=entity_id,
        as_of=as_of or datetime.now(UTC),
        customers=customers,
        documents=documents,
        explanations=explanations,
        totals=totals,
    )


def _moves_others(pair: Pair) -> tuple[ExplanationKind, str] | None:
    """A payment or credit note with nothing open of its own that moved other records' balances
    on one side only: unsynced, or linked with different applications."""
    if pair.object_type not in (PAYMENT, CREDIT_NOTE):
        return None
    what = _LABELS[pair.object_type]
    b, i = pair.blixo, pair.intacct
    if not pair.linked and (entry := b or i) is not None and entry.posted and entry.applied:
        where = "Blixo only: never synced to Intacct" if b else "Intacct only: not pulled into Blixo"
        return ExplanationKind.UNSYNCED, f"{what} in {where}; it applied {entry.applied}"
    if b is not None and i is not None and b.applied != i.applied:
        return ExplanationKind.MISMATCH, f"{what} applied {b.applied} in Blixo, {i.applied} in Intacct"
    return None


def _why(pair: Pair, split: bool) -> tuple[ExplanationKind, str]:
    what = _LABELS[pair.object_type]
    if not pair.linked:
        if pair.blixo is not None:
            return ExplanationKind.UNSYNCED, f"{what} in Blixo only: never synced to Intacct"
        return ExplanationKind.UNSYNCED, f"{what} in Intacct only: not pulled into Blixo"
    if pair.blixo_open is None:
        return ExplanationKind.MISSING, f"{what} linked to Blixo {pair.blixo_id}, which Blixo does not list"
    if pair.intacct is None:
        return (
            ExplanationKind.MISSING,
            f"{what} linked to Intacct record {pair.intacct_key}, which Intacct does not show "
            "(deleted, or another entity's)",
        )
    if split:
        return ExplanationKind.MISMATCH, f"{what} is under one customer in Blixo and another in Intacct"
    if pair.object_type == FEE:
        return (
            ExplanationKind.MISMATCH,
            f"{what} open in Intacct; Blixo took the fee as paid with payment {pair.blixo_id}",
        )
    return (
        ExplanationKind.MISMATCH,
        f"{what} open {pair.blixo_open} in Blixo, {pair.intacct_open} in Intacct",
    )


def _why_customer(row: CustomerRow) -> tuple[ExplanationKind, str]:
    if row.linked_to:
        other = "Intacct" if row.intacct_id is None else "Blixo"
        return (
            ExplanationKind.MISSING,
            f"customer linked to {other} {row.linked_to}, which {other} does not show",
        )
    if row.intacct_id is None:
        return ExplanationKind.UNSYNCED, "customer in Blixo only: never synced to Intacct"
    return ExplanationKind.UNSYNCED, "customer in Intacct only: not pulled into Blixo"


def _explain(
    kind: ExplanationKind, message: str, error: SyncErrorRecord | None, **fields: Any
) -> Explanation:
    """An open sync error is the reason that matters most: it says what to fix."""
    if error is None:
        return Explanation(kind=kind, message=message, **fields)
    return Explanation(
        kind=ExplanationKind.ERRORED,
        message=f"{message}; {error.direction} sync error: {error.message}",
        error_level=error.level,
        **fields,
    )


def _other_errors(errs: ErrorIndex, links: Links) -> list[Explanation]:
    """The errors of records that do not differ (or that neither side lists): shown all the
    same, with whatever the ledgers say of the record, and no part of any difference."""
    found: dict[tuple[bool, str, str], Pair] = {}
    for pair in links.pairs:
        if pair.blixo_id:
            found.setdefault((True, pair.object_type, pair.blixo_id), pair)
        if pair.intacct_key:
            found.setdefault((False, pair.object_type, pair.intacct_key), pair)
    out: list[Explanation] = []
    for error, by_blixo, key in errs.untaken():
        fields: dict[str, Any] = {"blixo_id": key} if by_blixo else {"intacct_key": key}
        row = (links.by_blixo if by_blixo else links.by_intacct).get(key)
        match = found.get((by_blixo, error.object_type, key))
        if error.object_type == CUSTOMER and row is not None:
            fields = {"blixo_id": row.blixo_id, "intacct_key": row.intacct_id}
            fields.update(blixo_customer_id=row.blixo_id, intacct_customer_id=row.intacct_id)
        elif error.object_type != CUSTOMER and match is not None:
            b_cust, i_cust = links.customer_ids(match)
            fields = {"blixo_id": match.blixo_id, "intacct_key": match.intacct_key, "number": match.number}
            fields.update(blixo_customer_id=b_cust, intacct_customer_id=i_cust)
        label = _LABELS.get(error.object_type, error.object_type)
        message = f"{label}: {error.direction} sync error: {error.message}"
        out.append(
            Explanation(
                kind=ExplanationKind.ERRORED,
                object_type=error.object_type,
                message=message,
                error_level=error.level,
                **fields,
            )
        )
    return out
