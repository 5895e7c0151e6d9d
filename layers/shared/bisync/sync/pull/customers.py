"""Pull customers: Intacct CUSTOMER -> Blixo customer (linked by number when it exists)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bisync.blixo.models import Customer
from bisync.intacct.models import Customer as IntacctCustomer
from bisync.mapping import customer as customer_map
from bisync.mapping.common import canonical_hash, idempotency_key
from bisync.store.models import Mapping, Origin
from bisync.sync.pull.context import PullContext, is_conflict_on, metadata
from bisync.sync.pull.reader import Page
from bisync.sync.pull.specs import (
    FlowSpec,
    Index,
    link_all,
    modified,
)

# ------------------------------------------------------------------ customers

CUSTOMERS = FlowSpec(
    "customers", "pull_customers", "customer", "CUSTOMER", customer_map.INTACCT_FIELDS, None, None
)


def pull_customers(ctx: PullContext, page: Page, indexes: dict[str, Index]) -> None:
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
        "customers", Index(lambda: {c.customer_no: c for c in ctx.blixo.customers.iter() if c.customer_no})
    )

    def write(
        record: IntacctCustomer, body: dict[str, Any], digest: str, current: Mapping | None
    ) -> Callable[[], Any]:
        def call() -> Any:
            cid = record.customerid or ""
            if current is not None:
                # The change from the synced state to this one, when Intacct stamped it: a
                # return to an earlier state is a new change (WHENMODIFIED is to the second).
                version = f"{record.whenmodified or ''}|{current.hash}|{digest}"
                key = idempotency_key(ctx.tenant_id, "customer", cid, "update", version)
                return ("updated", ctx.blixo.customers.update(current.blixo_id, body, idempotency_key=key))
            key = idempotency_key(ctx.tenant_id, "customer", cid, "create", digest)
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
            ctx.write_failed("customers", "customer", cid, result, {"intacct_key": cid, "flow": "customers"})
            continue
        action, blixo_customer = result
        assert isinstance(blixo_customer, Customer)
        if current is not None:
            ctx.mappings.save(
                current.model_copy(update={"hash": digest, "source_version": modified(record.whenmodified)})
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
    ctx.record_later(lambda: link_all(ctx, new_links))
    ctx.raise_held()


def ensure_customers(
    ctx: PullContext, customer_ids: Sequence[str], indexes: dict[str, Index]
) -> dict[str, str]:
    """Blixo ids of the given CUSTOMERIDs, pulling the ones not yet in Blixo (one read)."""
    wanted = [c for c in dict.fromkeys(customer_ids) if c]
    found = ctx.mappings.many_by_intacct(ctx.tenant_id, "customer", wanted)
    missing = [c for c in wanted if c not in found]
    if missing:
        rows = ctx.reader.by_keys("CUSTOMER", CUSTOMERS.fields, "CUSTOMERID", missing)
        if rows:
            pull_customers(ctx, Page(rows), indexes)
            ctx.settle()  # their links are read back just below
        found.update(ctx.mappings.many_by_intacct(ctx.tenant_id, "customer", missing))
    return {k: m.blixo_id for k, m in found.items()}
