"""The two ledgers as the reconciliation reads them: every record's part of its customer's open
balance, signed from the customer's side (invoices positive, credit and unapplied cash negative),
in document currency. See bisync.operate.reconcile for why each amount is what it is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol, TypeVar

from bisync.blixo.api import CreditNoteStatus, InvoiceStatus, PaymentStatus
from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.intacct.filters import F, Filter
from bisync.intacct.xml import Record
from bisync.mapping.convenience_fee import is_fee_invoice_number
from bisync.settings import TenantSettings
from bisync.store.models import SyncErrorRecord

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# The mapping types (and the sync errors' object types).
CUSTOMER, INVOICE, CREDIT_NOTE, PAYMENT, FEE = (
    "customer",
    "invoice",
    "credit_note",
    "payment",
    "convenience_fee",
)
_AMOUNTS = ("TRX_TOTALDUE", "TOTALDUE", "TRX_TOTALPAID", "TOTALPAID")
AR_FIELDS = ("RECORDID", "CUSTOMERID", "STATE", *_AMOUNTS)
PAYMENT_FIELDS = ("DOCNUMBER", "CUSTOMERID", "STATE", *_AMOUNTS)
_NOT_POSTED_PAYMENT = frozenset({"V", "D"})  # reversed (the original and its Reversal), draft
_NOT_POSTED_AR = frozenset({"Reversed", "Reversal"})
_VOIDED = frozenset({InvoiceStatus.VOIDED, CreditNoteStatus.VOIDED, PaymentStatus.VOIDED})
_IN_FILTER_CHUNK = 500


@dataclass(frozen=True)
class Entry:
    """One record's part of its customer's open balance."""

    object_type: str  # invoice, credit_note, payment, convenience_fee
    key: str  # Blixo id / Intacct RECORDNO
    number: str | None
    customer: str  # Blixo customer id / CUSTOMERID
    amount: Decimal
    # What a payment or credit note applied to invoices: with nothing open of its own, an
    # unsynced payment still explains the balances of what it paid.
    applied: Decimal = ZERO
    posted: bool = True  # False: voided, reversed or a reversal (it moves nothing)


@dataclass
class Ledger:
    customers: dict[str, str] = field(default_factory=dict)  # id -> name
    entries: list[Entry] = field(default_factory=list)


def blixo_ledger(
    customers: Iterable[Customer],
    invoices: Iterable[Invoice],
    credit_notes: Iterable[CreditNote],
    payments: Iterable[Payment],
) -> Ledger:
    """Drafts post nothing and are left out; voided records count 0 but stay, so a link to
    an Intacct record that was not reversed still finds them."""
    ledger = Ledger({c.id: c.name for c in customers})
    add = ledger.entries.append
    for inv in invoices:
        if inv.status is not InvoiceStatus.DRAFT:
            add(
                _unless_voided(
                    inv.status, Entry(INVOICE, inv.id, inv.invoice_no, inv.customer_id, inv.balance)
                )
            )
    for cn in credit_notes:
        if cn.status is not CreditNoteStatus.DRAFT:
            entry = Entry(
                CREDIT_NOTE, cn.id, cn.credit_note_no, cn.customer_id, -cn.balance, cn.total - cn.balance
            )
            add(_unless_voided(cn.status, entry))
    for p in payments:
        entry = Entry(
            PAYMENT, p.id, p.reference, p.customer_id, -p.unapplied_amount, p.amount - p.unapplied_amount
        )
        add(_unless_voided(p.status, entry))
    return ledger


def _unless_voided(status: object, entry: Entry) -> Entry:
    if status in _VOIDED:
        # Something voided owes (or holds) nothing, whatever amount it still reports.
        return replace(entry, amount=ZERO, applied=ZERO, posted=False)
    return replace(entry, amount=entry.amount + ZERO)  # + ZERO: no "-0.00"


def intacct_ledger(
    customers: Iterable[Record],
    invoices: Iterable[Record],
    adjustments: Iterable[Record],
    payments: Iterable[Record],
) -> Ledger:
    ledger = Ledger({str(r["CUSTOMERID"]): str(r.get("NAME") or r["CUSTOMERID"]) for r in customers})
    add = ledger.entries.append
    for r in invoices:
        if r.get("STATE") != "Draft":
            kind = FEE if is_fee_invoice_number(r.get("RECORDID")) else INVOICE
            add(_entry(kind, r, "RECORDID", 1, posted=r.get("STATE") not in _NOT_POSTED_AR))
    for r in adjustments:
        if r.get("STATE") != "Draft":  # a credit memo's TOTALDUE (and TOTALPAID) is negative already
            add(_entry(CREDIT_NOTE, r, "RECORDID", 1, posted=r.get("STATE") not in _NOT_POSTED_AR))
    for r in payments:
        posted = r.get("STATE") not in _NOT_POSTED_PAYMENT
        add(_entry(PAYMENT, r, "DOCNUMBER", -1 if posted else 0, posted=posted))
    return ledger


def _entry(object_type: str, r: Record, number: str, sign: int, *, posted: bool) -> Entry:
    return Entry(
        object_type,
        str(r["RECORDNO"]),
        str(r[number]) if r.get(number) else None,
        str(r.get("CUSTOMERID") or ""),
        _amount(r, "TOTALDUE") * sign + ZERO,  # + ZERO: 0 * -1 is "-0.00" otherwise
        abs(_amount(r, "TOTALPAID")) if posted else ZERO,
        posted,
    )


def _amount(r: Record, name: str) -> Decimal:
    # TRX_: the transaction currency, which is Blixo's document currency.
    value = r.get(f"TRX_{name}") or r.get(name) or "0"
    return Decimal(str(value)).quantize(CENT)


# ------------------------------------------------------------------ reading them

T_co = TypeVar("T_co", covariant=True)


class Listing(Protocol[T_co]):
    def iter(self) -> Iterator[T_co]: ...


class BlixoLists(Protocol):
    """What the reconciliation reads of Blixo (BlixoClient has it)."""

    @property
    def customers(self) -> Listing[Customer]: ...
    @property
    def invoices(self) -> Listing[Invoice]: ...
    @property
    def credit_notes(self) -> Listing[CreditNote]: ...
    @property
    def payments(self) -> Listing[Payment]: ...


class IntacctQueries(Protocol):
    """What it reads of Intacct (IntacctClient has it): `query` over every page."""

    def query(
        self,
        object: str,
        fields: Sequence[str],
        *,
        filter: Filter | None = None,
        show_private: bool = False,
    ) -> Iterator[Record]: ...


def read_blixo(blixo: BlixoLists) -> Ledger:
    """Each list once, every page."""
    return blixo_ledger(
        blixo.customers.iter(), blixo.invoices.iter(), blixo.credit_notes.iter(), blixo.payments.iter()
    )


def read_intacct(intacct: IntacctQueries, settings: TenantSettings) -> Ledger:
    """Each object once, every page, only the fields needed. An entity's session sees its own
    records (and the top level's); a top-level tenant sees the entities' with showprivate."""
    private = not settings.entity_id

    def rows(obj: str, fields: Sequence[str]) -> Iterator[Record]:
        return intacct.query(obj, fields, show_private=private)

    return intacct_ledger(
        rows("CUSTOMER", ("CUSTOMERID", "NAME")),
        rows("ARINVOICE", AR_FIELDS),
        rows("ARADJUSTMENT", AR_FIELDS),
        rows("ARPYMT", PAYMENT_FIELDS),
    )


def pulled_document_keys(
    intacct: IntacctQueries, settings: TenantSettings, errors: Sequence[SyncErrorRecord]
) -> dict[str, str]:
    """The pull keys an invoice's or return's sync error by its Order Entry document: the A/R
    record (PRRECORDKEY) each of those documents posted, read for those documents only."""
    keys = sorted(
        {
            e.object_id
            for e in errors
            if e.direction == "pull" and e.object_type in (INVOICE, CREDIT_NOTE) and e.object_id.isdigit()
        }
    )
    found: dict[str, str] = {}
    for start in range(0, len(keys), _IN_FILTER_CHUNK):
        chunk = F.in_("RECORDNO", keys[start : start + _IN_FILTER_CHUNK])
        for r in intacct.query(
            "SODOCUMENT", ["PRRECORDKEY"], filter=chunk, show_private=not settings.entity_id
        ):
            if r.get("PRRECORDKEY"):
                found[str(r["RECORDNO"])] = str(r["PRRECORDKEY"])
    return found
