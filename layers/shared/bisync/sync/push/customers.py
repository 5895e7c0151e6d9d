"""Push customers: link an existing CUSTOMER by CUSTOMERID before creating one; update;
archived -> inactive. CUSTOMERID never changes once linked."""

from __future__ import annotations

from collections.abc import Generator

from bisync.blixo.models import Customer
from bisync.intacct import functions as fn
from bisync.intacct.filters import F
from bisync.intacct.outcome import Outcome
from bisync.mapping import customer as mapping
from bisync.mapping.common import controlid
from bisync.store.models import Mapping, Origin
from bisync.sync.failures import BusinessSyncError
from bisync.sync.push.context import (
    PushContext,
    PushResult,
    PushStatus,
    Step,
    change_version,
    is_stale,
    owned_by_intacct,
    run_one,
    version_of,
)

OBJECT = "customer"


def push_customer(ctx: PushContext, customer: Customer) -> Generator[Step, list[Outcome], PushResult]:
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, customer.id)
    if owned_by_intacct(linked, customer.metadata):
        return PushResult(
            PushStatus.SKIPPED,
            OBJECT,
            customer.id,
            linked.intacct_key if linked else None,
            "pulled from Intacct",
        )
    if is_stale(linked, version_of(customer)):
        return PushResult(
            PushStatus.SKIPPED, OBJECT, customer.id, linked.intacct_key if linked else None, "stale"
        )
    digest = mapping.customer_hash(customer)
    if linked is not None and linked.hash == digest:
        return PushResult(PushStatus.UNCHANGED, OBJECT, customer.id, linked.intacct_key)
    values = mapping.to_intacct(customer)
    if linked is not None:
        # CUSTOMERID cannot change in Intacct: the link keeps the one it was made with.
        warning = None
        if values.customer_id != linked.intacct_key:
            warning = (
                f"customerNo changed in Blixo to {values.customer_id}; Intacct's CUSTOMERID cannot change and "
                f"stays {linked.intacct_key} (the rest of the customer was updated)"
            )
        values = values.model_copy(update={"customer_id": linked.intacct_key})
        yield from run_one(
            fn.update_customer(
                values,
                controlid=controlid(
                    ctx.tenant_id, OBJECT, customer.id, "update", change_version(customer, digest)
                ),
            )
        )
        ctx.mappings.save(linked.model_copy(update={"hash": digest, "source_version": version_of(customer)}))
        return PushResult(PushStatus.UPDATED, OBJECT, customer.id, linked.intacct_key, warning=warning)
    owner = ctx.mappings.by_intacct(ctx.tenant_id, OBJECT, values.customer_id)
    if owner is not None and owner.blixo_id != customer.id:
        # Checked before anything is written: another Blixo customer holds this CUSTOMERID.
        raise BusinessSyncError(
            f"Intacct customer {values.customer_id} is already linked to Blixo customer {owner.blixo_id}; "
            "give this customer another customerNo"
        )
    found = yield from run_one(
        fn.query("CUSTOMER", ["CUSTOMERID"], filter=F.eq("CUSTOMERID", values.customer_id), pagesize=1)
    )
    status = PushStatus.LINKED if found.records else PushStatus.CREATED
    if found.records:
        # An Intacct customer with this number exists: link it and bring it to Blixo's state.
        yield from run_one(
            fn.update_customer(
                values,
                controlid=controlid(
                    ctx.tenant_id, OBJECT, customer.id, "link", change_version(customer, digest)
                ),
            )
        )
    else:
        yield from run_one(
            fn.create_customer(values, controlid=controlid(ctx.tenant_id, OBJECT, customer.id, "create"))
        )
    ctx.mappings.link(
        Mapping(
            tenant_id=ctx.tenant_id,
            object_type=OBJECT,
            blixo_id=customer.id,
            intacct_key=values.customer_id,
            origin=Origin.BLIXO,
            hash=digest,
            source_version=version_of(customer),
        )
    )
    return PushResult(status, OBJECT, customer.id, values.customer_id)


def ensure_customer(ctx: PushContext, customer_id: str) -> Generator[Step, list[Outcome], str]:
    """The CUSTOMERID of a Blixo customer, pushing (or linking) it first if needed."""
    linked = ctx.mappings.by_blixo(ctx.tenant_id, OBJECT, customer_id)
    if linked is not None:
        return linked.intacct_key
    result = yield from push_customer(ctx, ctx.blixo.customer(customer_id))
    if result.intacct_key is None:
        raise BusinessSyncError(f"customer {customer_id} could not be linked to Intacct: {result.reason}")
    return result.intacct_key
