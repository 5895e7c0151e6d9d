"""Pull Order Entry documents: Sales Invoices -> invoices, Sales Returns -> credit notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bisync.blixo.models import CreditNote, Invoice
from bisync.intacct.models import SoDocument, SoDocumentEntry
from bisync.mapping import order_entry
from bisync.mapping.common import MappingError, canonical_hash, idempotency_key
from bisync.mapping.convenience_fee import is_fee_invoice_number
from bisync.store.models import Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.pull.context import PullContext, is_conflict_on, jsonable, metadata
from bisync.sync.pull.customers import ensure_customers
from bisync.sync.pull.reader import Children, Page
from bisync.sync.pull.specs import (
    ALIAS_INVOICE_DOC,
    ALIAS_RETURN_DOC,
    FlowSpec,
    Index,
    link_all,
    modified,
)

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


def pull_documents(ctx: PullContext, spec: FlowSpec, page: Page, indexes: dict[str, Index]) -> None:
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
        Index(lambda: {str(_number(d)): d for d in api.iter() if _number(d)}),
    )

    def write(
        doc: SoDocument, body: dict[str, Any], digest: str, current: Mapping | None
    ) -> Callable[[], Any]:
        def call() -> Any:
            key = idempotency_key(ctx.tenant_id, object_type, doc.recordno or "", "create", digest)
            if current is not None:
                # The change from the synced state to this one, when Intacct stamped it: a
                # return to an earlier state is a new change (WHENMODIFIED is to the second).
                version = f"{doc.whenmodified or ''}|{current.hash}|{digest}"
                key = idempotency_key(ctx.tenant_id, object_type, doc.recordno or "", "update", version)
                link = metadata(doc.prrecordkey or "", **{"intacct.docId": (doc.docid or "")[:255]})
                if current.hash == digest:
                    # Only the A/R key moved (an Order Entry edit): the link in Blixo follows it.
                    move_key = idempotency_key(
                        ctx.tenant_id, object_type, doc.recordno or "", "move", doc.prrecordkey or ""
                    )
                    return (
                        "moved",
                        api.update(current.blixo_id, {"metadata": link}, idempotency_key=move_key),
                    )
                patch = {k: v for k, v in jsonable(body).items() if k != "customerId"}
                patch["metadata"] = link
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
            ctx.write_failed(
                spec.name, object_type, so_key, result, {"intacct_key": so_key, "flow": spec.name}
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
                        "source_version": modified(doc.whenmodified),
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
                    source_version=modified(doc.whenmodified),
                )
            )
            new_links.append(_alias(ctx, alias_type, written.id, so_key))
            if action == "linked":
                counts.unchanged += 1
            else:
                counts.created += 1
        ctx.errors.clear(ctx.tenant_id, object_type, so_key)
    ctx.record_later(lambda: link_all(ctx, new_links))
    ctx.raise_held()


def _number(doc: Invoice | CreditNote) -> str | None:
    return doc.invoice_no if isinstance(doc, Invoice) else doc.credit_note_no


def _alias(ctx: PullContext, alias_type: str, blixo_id: str, so_key: str) -> Mapping:
    return Mapping(
        tenant_id=ctx.tenant_id,
        object_type=alias_type,
        blixo_id=blixo_id,
        intacct_key=so_key,
        origin=Origin.INTACCT,
    )
