"""Pull A/R payments: applications per invoice and credit note, voids, waiting payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bisync.blixo.models import Payment
from bisync.intacct.xml import Record
from bisync.mapping import payment as payment_map
from bisync.mapping.common import MappingError, canonical_hash, idempotency_key
from bisync.store.models import ErrorLevel, Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.pull.context import PullContext, is_conflict_on, jsonable, metadata
from bisync.sync.pull.customers import ensure_customers
from bisync.sync.pull.reader import Children, Page
from bisync.sync.pull.specs import (
    FlowSpec,
    Index,
    link_all,
    required,
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


def _probe(record: Record) -> str:
    return payment_map.cash_probe(str(record.get("CUSTOMERID") or ""), str(record.get("DOCNUMBER") or ""))


def _is_ours(record: Record) -> bool:
    return str(record.get("DESCRIPTION") or "").startswith(payment_map.PUSH_MARKER)


def pull_payments(
    ctx: PullContext,
    page: Page,
    indexes: dict[str, Index],
    reversals: list[Record],
    *,
    seen: set[str] | None = None,
) -> None:
    counts = ctx.flow("payments")
    if seen is not None:
        page = Page([r for r in page.records if str(r["RECORDNO"]) not in seen], page.children)
        seen.update(str(r["RECORDNO"]) for r in page.records)
        if not page.records:
            return
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
    # Cash payments the push announced and has not linked yet (its reply lost, a retry
    # pending): the push's own, never pulled back as new.
    announced = ctx.mappings.expected(
        ctx.tenant_id,
        "payment",
        [_probe(r) for r in page.records if str(r["RECORDNO"]) not in linked and r.get("DOCNUMBER")],
    )
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
        pushed = current is None and _probe(record) in announced
        if (
            (current is not None and current.origin is Origin.BLIXO)
            or _is_ours(record)
            or pushed
            or state == "D"
        ):
            counts.skipped += 1  # pushed from Blixo, or a draft
            continue
        if state == "V":
            if current is None:
                # Reversed before it was ever written (it may have waited for its invoice):
                # nothing is owed to Blixo, so nothing waits any more either.
                ctx.errors.clear(ctx.tenant_id, "payment", key)
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
                customer_id=required(customer_id, f"customer {record.get('CUSTOMERID')} is not in Blixo yet"),
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
            ctx.write_failed("payments", "payment", key, result, {"intacct_key": key, "flow": "payments"})
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
    ctx.record_later(lambda: link_all(ctx, new_links))
    ctx.raise_held()


def _create_call(ctx: PullContext, key: str, body: dict[str, Any], digest: str) -> Callable[[], Any]:
    def call() -> Any:
        payload = {**jsonable(body), "metadata": metadata(key)}
        return ctx.blixo.payments.create(
            payload, idempotency_key=idempotency_key(ctx.tenant_id, "payment", key, "create", digest)
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
        # The originals the push reversed count too (a reversal of ours is no one's to void).
        matches = [
            r
            for r in voided_seen.values()
            if r.get("CUSTOMERID") == reversal.get("CUSTOMERID")
            and str(r.get("TOTALENTERED") or "").lstrip("-") == amount
            and (r.get("DOCNUMBER") or "") == (reversal.get("DOCNUMBER") or "")
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
