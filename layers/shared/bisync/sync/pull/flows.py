"""The pull's flows, one per object: what each reads in Intacct and how it writes to Blixo.

Every flow plans a page in the main thread (mappings read in one batch), runs its Blixo writes
with bounded concurrency, then records mappings and sync errors. Nothing is written when a
record's canonical form did not change; Blixo-owned records are never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.intacct.filters import F, Filter
from bisync.intacct.models import Customer as IntacctCustomer
from bisync.intacct.models import SoDocument, SoDocumentEntry
from bisync.intacct.xml import Record
from bisync.mapping import customer as customer_map
from bisync.mapping import order_entry
from bisync.mapping import payment as payment_map
from bisync.mapping.common import MappingError, canonical_hash, idempotency_key
from bisync.mapping.convenience_fee import is_fee_invoice_number
from bisync.store.mappings import MappingConflictError
from bisync.store.models import ErrorLevel, Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.pull.context import PullContext, is_conflict_on, jsonable, metadata
from bisync.sync.pull.reader import Children, Page

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


# ------------------------------------------------------------------ customers

CUSTOMERS = FlowSpec(
    "customers", "pull_customers", "customer", "CUSTOMER", customer_map.INTACCT_FIELDS, None, None
)


class _Index:
    """Blixo objects by number, listed once per run and only when a number conflict needs it."""

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        self._load = load
        self._items: dict[str, Any] | None = None

    def get(self, number: str) -> Any:
        if self._items is None:
            self._items = self._load()
        return self._items.get(number)


def pull_customers(ctx: PullContext, page: Page, indexes: dict[str, _Index]) -> None:
    counts = ctx.flow("customers")
    records = [IntacctCustomer.model_validate(r) for r in page.records]
    counts.read += len(records)
    linked = ctx.mappings.many_by_intacct(ctx.tenant_id, "customer", [r.customerid or "" for r in records])
    plans: list[tuple[IntacctCustomer, dict[str, Any], str, Mapping | None]] = []
    for record in records:
        if not record.customerid:
            counts.skipped += 1
            continue
        current = linked.get(record.customerid)
        if current is not None and current.origin is Origin.BLIXO:
            counts.skipped += 1  # Blixo owns it: the pull never overwrites it
            continue
        body = customer_map.from_intacct(record)
        digest = canonical_hash(body)
        if current is not None and current.hash == digest:
            counts.unchanged += 1
            continue
        plans.append((record, body, digest, current))
    index = indexes.setdefault(
        "customers", _Index(lambda: {c.customer_no: c for c in ctx.blixo.customers.iter() if c.customer_no})
    )

    def write(
        record: IntacctCustomer, body: dict[str, Any], digest: str, current: Mapping | None
    ) -> Callable[[], Any]:
        def call() -> Any:
            key = idempotency_key(ctx.tenant_id, "customer", record.customerid or "", "pull", digest)
            if current is not None:
                return ("updated", ctx.blixo.customers.update(current.blixo_id, body, idempotency_key=key))
            try:
                created = ctx.blixo.customers.create(
                    {**body, "metadata": metadata(record.recordno or "")}, idempotency_key=key
                )
                return ("created", created)
            except Exception as exc:
                if is_conflict_on(exc, "customerNo"):
                    existing = index.get(record.customerid or "")
                    if existing is not None:
                        return ("linked", existing)
                raise

        return call

    results = ctx.run_writes([write(*plan) for plan in plans])
    new_links: list[Mapping] = []
    for (record, _body, digest, current), result in zip(plans, results, strict=True):
        cid = record.customerid or ""
        if isinstance(result, BaseException):
            ctx.fail(
                "customers",
                "customer",
                cid,
                ctx.business_failure(result),
                {"intacct_key": cid, "flow": "customers"},
            )
            continue
        action, blixo_customer = result
        assert isinstance(blixo_customer, Customer)
        if current is not None:
            ctx.mappings.save(
                current.model_copy(update={"hash": digest, "source_version": _modified(record.whenmodified)})
            )
            counts.updated += 1
        else:
            new_links.append(
                Mapping(
                    tenant_id=ctx.tenant_id,
                    object_type="customer",
                    blixo_id=blixo_customer.id,
                    intacct_key=cid,
                    origin=Origin.BLIXO if action == "linked" else Origin.INTACCT,
                    hash=digest if action != "linked" else "",
                    extra_keys={"recordno": record.recordno or ""},
                )
            )
            if action == "linked":
                counts.unchanged += 1
            else:
                counts.created += 1
        ctx.errors.clear(ctx.tenant_id, "customer", cid)
    link_all(ctx, new_links)


def _modified(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def ensure_customers(
    ctx: PullContext, customer_ids: Sequence[str], indexes: dict[str, _Index]
) -> dict[str, str]:
    """Blixo ids of the given CUSTOMERIDs, pulling the ones not yet in Blixo (one read)."""
    wanted = [c for c in dict.fromkeys(customer_ids) if c]
    found = ctx.mappings.many_by_intacct(ctx.tenant_id, "customer", wanted)
    missing = [c for c in wanted if c not in found]
    if missing:
        rows = ctx.reader.by_keys("CUSTOMER", CUSTOMERS.fields, "CUSTOMERID", missing)
        if rows:
            pull_customers(ctx, Page(rows), indexes)
        found.update(ctx.mappings.many_by_intacct(ctx.tenant_id, "customer", missing))
    return {k: m.blixo_id for k, m in found.items()}


# ------------------------------------------------------------------ Order Entry documents

INVOICES = FlowSpec(
    "invoices",
    "pull_invoices",
    "invoice",
    "SODOCUMENT",
    order_entry.HEADER_FIELDS,
    Children("SODOCUMENTENTRY", order_entry.ENTRY_FIELDS, "DOCHDRNO"),
    "WHENCREATED",
)
CREDIT_NOTES = FlowSpec(
    "credit_notes",
    "pull_credit_notes",
    "credit_note",
    "SODOCUMENT",
    order_entry.HEADER_FIELDS,
    Children("SODOCUMENTENTRY", order_entry.ENTRY_FIELDS, "DOCHDRNO"),
    "WHENCREATED",
)


def pull_documents(ctx: PullContext, spec: FlowSpec, page: Page, indexes: dict[str, _Index]) -> None:
    """Sales Invoices -> invoices, Sales Returns -> credit notes; the mapping follows the A/R
    record (PRRECORDKEY) an edit replaces, so the same Blixo document is updated in place."""
    is_invoice = spec.name == "invoices"
    object_type = spec.object_type
    alias_type = ALIAS_INVOICE_DOC if is_invoice else ALIAS_RETURN_DOC
    counts = ctx.flow(spec.name)
    docs = [SoDocument.model_validate(r) for r in page.records]
    counts.read += len(docs)
    customers = ensure_customers(ctx, [d.custvendid or "" for d in docs], indexes)
    aliases = ctx.mappings.many_by_intacct(ctx.tenant_id, alias_type, [d.recordno or "" for d in docs])
    by_ar = ctx.mappings.many_by_intacct(
        ctx.tenant_id, object_type, [d.prrecordkey or "" for d in docs if d.prrecordkey]
    )
    plans: list[tuple[SoDocument, dict[str, Any], str, Mapping | None]] = []
    for doc in docs:
        so_key = doc.recordno or ""
        if order_entry.is_draft(doc) or not doc.prrecordkey:
            counts.skipped += 1  # drafts post nothing to A/R
            continue
        if ctx.settings.before_start(doc.whencreated):
            counts.skipped += 1
            continue
        if is_invoice and is_fee_invoice_number(doc.docno):
            counts.skipped += 1
            continue
        alias = aliases.get(so_key)
        current = (
            ctx.mappings.by_blixo(ctx.tenant_id, object_type, alias.blixo_id)
            if alias
            else by_ar.get(doc.prrecordkey)
        )
        if current is not None and current.origin is Origin.BLIXO:
            counts.skipped += 1
            continue
        customer_id = customers.get(doc.custvendid or "")
        if customer_id is None:
            ctx.fail(
                spec.name,
                object_type,
                so_key,
                BusinessSyncError(f"customer {doc.custvendid} of {doc.docid} is not in Blixo"),
                {"intacct_key": so_key, "flow": spec.name},
            )
            continue
        try:
            entries = [SoDocumentEntry.model_validate(e) for e in page.children.get(so_key, [])]
            body = (order_entry.invoice_body if is_invoice else order_entry.credit_note_body)(
                doc, entries, customer_id
            )
        except MappingError as exc:
            ctx.fail(
                spec.name,
                object_type,
                so_key,
                BusinessSyncError(str(exc)),
                {"intacct_key": so_key, "flow": spec.name},
            )
            continue
        digest = canonical_hash(jsonable(body))
        if current is not None and current.hash == digest and current.intacct_key == doc.prrecordkey:
            counts.unchanged += 1
            continue
        plans.append((doc, body, digest, current))
    api = ctx.blixo.invoices if is_invoice else ctx.blixo.credit_notes
    number_field = "invoiceNo" if is_invoice else "creditNoteNo"
    index = indexes.setdefault(
        object_type,
        _Index(lambda: {str(_number(d)): d for d in api.iter() if _number(d)}),
    )

    def write(
        doc: SoDocument, body: dict[str, Any], digest: str, current: Mapping | None
    ) -> Callable[[], Any]:
        def call() -> Any:
            key = idempotency_key(ctx.tenant_id, object_type, doc.recordno or "", "pull", digest)
            if current is not None:
                if current.hash == digest:
                    return ("moved", None)  # only the A/R key changed
                patch = {k: v for k, v in jsonable(body).items() if k != "customerId"}
                return ("updated", api.update(current.blixo_id, patch, idempotency_key=key))
            try:
                created = api.create(
                    {
                        **jsonable(body),
                        "metadata": metadata(
                            doc.prrecordkey or "", **{"intacct.docId": (doc.docid or "")[:255]}
                        ),
                    },
                    idempotency_key=key,
                )
                return ("created", created)
            except Exception as exc:
                if is_conflict_on(exc, number_field):
                    existing = index.get(body[number_field])
                    if existing is not None and existing.customer_id == body["customerId"]:
                        return ("linked", existing)
                raise

        return call

    results = ctx.run_writes([write(*plan) for plan in plans])
    new_links: list[Mapping] = []
    for (doc, _body, digest, current), result in zip(plans, results, strict=True):
        so_key = doc.recordno or ""
        if isinstance(result, BaseException):
            ctx.fail(
                spec.name,
                object_type,
                so_key,
                ctx.business_failure(result),
                {"intacct_key": so_key, "flow": spec.name},
            )
            continue
        action, written = result
        ar_key = doc.prrecordkey or ""
        if current is not None:
            ctx.mappings.save(
                current.model_copy(
                    update={
                        "intacct_key": ar_key,
                        "hash": digest,
                        "source_version": _modified(doc.whenmodified),
                        "extra_keys": {**current.extra_keys, "document": so_key},
                    }
                ),
                previous_intacct_key=current.intacct_key,
            )
            if ctx.mappings.by_intacct(ctx.tenant_id, alias_type, so_key) is None:
                new_links.append(_alias(ctx, alias_type, current.blixo_id, so_key))
            counts.updated += 1
        else:
            assert isinstance(written, Invoice | CreditNote)
            new_links.append(
                Mapping(
                    tenant_id=ctx.tenant_id,
                    object_type=object_type,
                    blixo_id=written.id,
                    intacct_key=ar_key,
                    extra_keys={"document": so_key},
                    origin=Origin.BLIXO if action == "linked" else Origin.INTACCT,
                    hash=digest if action != "linked" else "",
                    source_version=_modified(doc.whenmodified),
                )
            )
            new_links.append(_alias(ctx, alias_type, written.id, so_key))
            if action == "linked":
                counts.unchanged += 1
            else:
                counts.created += 1
        ctx.errors.clear(ctx.tenant_id, object_type, so_key)
    link_all(ctx, new_links)


def _number(doc: Invoice | CreditNote) -> str | None:
    return doc.invoice_no if isinstance(doc, Invoice) else doc.credit_note_no


def _required(value: str | None, problem: str) -> str:
    if value is None:
        raise MappingError(problem)
    return value


def _alias(ctx: PullContext, alias_type: str, blixo_id: str, so_key: str) -> Mapping:
    return Mapping(
        tenant_id=ctx.tenant_id,
        object_type=alias_type,
        blixo_id=blixo_id,
        intacct_key=so_key,
        origin=Origin.INTACCT,
    )


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


# ------------------------------------------------------------------ payments

PAYMENTS = FlowSpec(
    "payments",
    "pull_payments",
    "payment",
    "ARPYMT",
    payment_map.HEADER_FIELDS,
    Children("ARPYMTDETAIL", payment_map.DETAIL_FIELDS, "PAYMENTKEY"),
    "RECEIPTDATE",
)


def _is_ours(record: Record) -> bool:
    return str(record.get("DESCRIPTION") or "").startswith(payment_map.PUSH_MARKER)


def pull_payments(ctx: PullContext, page: Page, indexes: dict[str, _Index], reversals: list[Record]) -> None:
    counts = ctx.flow("payments")
    counts.read += len(page.records)
    keys = [str(r["RECORDNO"]) for r in page.records]
    linked = ctx.mappings.many_by_intacct(ctx.tenant_id, "payment", keys)
    customers = ensure_customers(ctx, [str(r.get("CUSTOMERID") or "") for r in page.records], indexes)
    invoice_keys = [str(d.get("RECORDKEY") or "") for ds in page.children.values() for d in ds]
    credit_keys = [
        str(d.get("ADJUSTMENTKEY") or "")
        for ds in page.children.values()
        for d in ds
        if d.get("ADJUSTMENTKEY")
    ]
    invoices = {
        k: m.blixo_id for k, m in ctx.mappings.many_by_intacct(ctx.tenant_id, "invoice", invoice_keys).items()
    }
    credits = {
        k: m.blixo_id
        for k, m in ctx.mappings.many_by_intacct(ctx.tenant_id, "credit_note", credit_keys).items()
    }
    plans: list[tuple[Record, str, Callable[[], Any], Mapping | None]] = []
    for record in page.records:
        key = str(record["RECORDNO"])
        current = linked.get(key)
        state = str(record.get("STATE") or "")
        display = str(record.get("DISPLAYSTATE") or "")
        if display == "Reversal":
            reversals.append(record)
            counts.skipped += 1
            continue
        if (current is not None and current.origin is Origin.BLIXO) or _is_ours(record) or state == "D":
            counts.skipped += 1  # pushed from Blixo, or a draft
            continue
        if state == "V":
            if current is None or current.state.get("voided"):
                counts.skipped += 1 if current is None else 0
                counts.unchanged += 0 if current is None else 1
                continue
            plans.append((record, "void", _void_call(ctx, current, key), current))
            continue
        if current is not None:
            counts.unchanged += 1  # a posted payment does not change in Intacct, only its state
            continue
        customer_id = customers.get(str(record.get("CUSTOMERID") or ""))
        try:
            body = payment_map.payment_body(
                record,
                page.children.get(key, []),
                customer_id=_required(
                    customer_id, f"customer {record.get('CUSTOMERID')} is not in Blixo yet"
                ),
                invoices=invoices,
                credit_notes=credits,
            )
        except MappingError as exc:
            # Not dropped, not shrunk: it waits as a sync error the next run retries by itself.
            ctx.fail(
                "payments",
                "payment",
                key,
                BusinessSyncError(f"waiting: {exc}", level=ErrorLevel.ERROR),
                {"intacct_key": key, "flow": "payments", "pending": "1"},
            )
            continue
        digest = canonical_hash(jsonable(body))
        plans.append((record, "create", _create_call(ctx, key, body, digest), None))
    results = ctx.run_writes([plan[2] for plan in plans])
    new_links: list[Mapping] = []
    for (record, action, _call, current), result in zip(plans, results, strict=True):
        key = str(record["RECORDNO"])
        if isinstance(result, BaseException):
            ctx.fail(
                "payments",
                "payment",
                key,
                ctx.business_failure(result),
                {"intacct_key": key, "flow": "payments"},
            )
            continue
        if action == "void":
            assert current is not None
            ctx.mappings.save(current.model_copy(update={"state": {**current.state, "voided": "1"}}))
            counts.updated += 1
        else:
            assert isinstance(result, Payment)
            new_links.append(
                Mapping(
                    tenant_id=ctx.tenant_id,
                    object_type="payment",
                    blixo_id=result.id,
                    intacct_key=key,
                    origin=Origin.INTACCT,
                    hash=canonical_hash(jsonable({"id": result.id})),
                )
            )
            counts.created += 1
        ctx.errors.clear(ctx.tenant_id, "payment", key)
    link_all(ctx, new_links)


def _create_call(ctx: PullContext, key: str, body: dict[str, Any], digest: str) -> Callable[[], Any]:
    def call() -> Any:
        payload = {**jsonable(body), "metadata": metadata(key)}
        return ctx.blixo.payments.create(
            payload, idempotency_key=idempotency_key(ctx.tenant_id, "payment", key, "pull", digest)
        )

    return call


def _void_call(ctx: PullContext, current: Mapping, key: str) -> Callable[[], Any]:
    def call() -> Any:
        try:
            return ctx.blixo.payments.void(
                current.blixo_id, idempotency_key=idempotency_key(ctx.tenant_id, "payment", key, "void")
            )
        except Exception as exc:
            # Voided already (by an earlier attempt whose reply was lost): done.
            if is_conflict_on(exc, "status"):
                return None
            raise

    return call


def tie_reversals(ctx: PullContext, reversals: list[Record], voided_seen: dict[str, Record]) -> None:
    """A Reversal names no original: tie it by customer, amount and reference; when that does not
    give exactly one original, say so as a warning rather than guess."""
    for reversal in reversals:
        amount = str(reversal.get("TOTALENTERED") or "").lstrip("-")
        matches = [
            r
            for r in voided_seen.values()
            if r.get("CUSTOMERID") == reversal.get("CUSTOMERID")
            and str(r.get("TOTALENTERED") or "") == amount
            and (r.get("DOCNUMBER") or "") == (reversal.get("DOCNUMBER") or "")
            and not _is_ours(r)
        ]
        if len(matches) != 1:
            ctx.errors.record(
                ctx.tenant_id,
                "payment",
                f"reversal-{reversal.get('RECORDNO')}",
                direction="pull",
                message=(
                    f"Intacct reversal {reversal.get('RECORDNO')} of {amount} for customer {reversal.get('CUSTOMERID')} "
                    f"matches {len(matches)} voided payments; no Blixo payment was voided for it"
                ),
                level=ErrorLevel.WARNING,
                retry={"intacct_key": str(reversal.get("RECORDNO")), "flow": "payments"},
                now=ctx.now(),
            )


def pending_payment_keys(ctx: PullContext) -> list[str]:
    return [
        e.retry["intacct_key"]
        for e in ctx.errors.list(ctx.tenant_id)
        if e.direction == "pull"
        and e.object_type == "payment"
        and e.retry.get("pending")
        and e.retry.get("intacct_key")
    ]


__all__ = ["CREDIT_NOTES", "CUSTOMERS", "INVOICES", "PAYMENTS", "FlowSpec", "date"]
