"""Fakes of what the reconciliation reads: Blixo lists, Intacct queries, the store's links."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.intacct.filters import Filter, In
from bisync.operate.reconcile import Reconciliation, reconcile
from bisync.settings import TenantSettings
from bisync.store.models import Mapping, Origin, SyncErrorRecord

TENANT = "acme"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class _List:
    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.calls = 0

    def iter(self) -> Iterator[Any]:
        self.calls += 1
        return iter(self.items)


class FakeBlixo:
    def __init__(self) -> None:
        self.customers = _List([])
        self.invoices = _List([])
        self.credit_notes = _List([])
        self.payments = _List([])

    def customer(self, cid: str, name: str) -> None:
        self.customers.items.append(Customer(id=cid, name=name))

    def invoice(self, iid: str, customer: str, total: str, balance: str, status: str = "issued") -> None:
        self.invoices.items.append(
            Invoice.model_validate(
                {"id": iid, "invoiceNo": f"N-{iid}", "customerId": customer, "currency": "USD"}
                | {"total": total, "balance": balance, "status": status}
            )
        )

    def credit(self, cid: str, customer: str, total: str, balance: str, status: str = "open") -> None:
        self.credit_notes.items.append(
            CreditNote.model_validate(
                {"id": cid, "creditNoteNo": f"N-{cid}", "customerId": customer, "currency": "USD"}
                | {"total": total, "balance": balance, "status": status}
            )
        )

    def payment(
        self, pid: str, customer: str, amount: str, unapplied: str, status: str = "succeeded"
    ) -> None:
        self.payments.items.append(
            Payment.model_validate(
                {"id": pid, "customerId": customer, "currency": "USD", "amount": amount}
                | {"unappliedAmount": unapplied, "status": status}
            )
        )


class FakeIntacct:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            o: [] for o in ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT", "SODOCUMENT")
        }
        self.calls: list[tuple[str, bool]] = []

    def query(
        self, object: str, fields: Sequence[str], *, filter: Filter | None = None, show_private: bool = False
    ) -> Iterator[dict[str, Any]]:
        self.calls.append((object, show_private))
        rows = self.rows[object]
        if isinstance(filter, In):
            rows = [r for r in rows if r["RECORDNO"] in filter.values]
        return iter([{k: v for k, v in r.items() if k in {*fields, "RECORDNO"}} for r in rows])

    def customer(self, cid: str, name: str) -> None:
        self.rows["CUSTOMER"].append(
            {"RECORDNO": str(len(self.rows["CUSTOMER"]) + 1), "CUSTOMERID": cid, "NAME": name}
        )

    def ar(self, obj: str, key: str, customer: str, due: str, paid: str = "0", **more: str) -> None:
        row = {"RECORDNO": key, "RECORDID": f"R-{key}", "CUSTOMERID": customer, "STATE": "Posted"}
        row |= {"TRX_TOTALDUE": due, "TOTALDUE": due, "TRX_TOTALPAID": paid, "TOTALPAID": paid, **more}
        self.rows[obj].append(row)

    def payment(self, key: str, customer: str, due: str, paid: str, state: str = "C") -> None:
        row = {"RECORDNO": key, "DOCNUMBER": f"CHK-{key}", "CUSTOMERID": customer, "STATE": state}
        row |= {"TRX_TOTALDUE": due, "TOTALDUE": due, "TRX_TOTALPAID": paid, "TOTALPAID": paid}
        self.rows["ARPYMT"].append(row)


class FakeMappings:
    def __init__(self) -> None:
        self.links: dict[str, list[Mapping]] = {}
        self.calls: list[tuple[str, str, int]] = []

    def add(self, object_type: str, blixo_id: str, intacct_key: str) -> None:
        self.links.setdefault(object_type, []).append(
            Mapping(
                tenant_id=TENANT,
                object_type=object_type,
                blixo_id=blixo_id,
                intacct_key=intacct_key,
                origin=Origin.BLIXO,
            )
        )

    def many_by_blixo(self, tenant_id: str, object_type: str, blixo_ids: Iterable[str]) -> dict[str, Mapping]:
        ids = set(blixo_ids)
        self.calls.append(("blixo", object_type, len(ids)))
        return {m.blixo_id: m for m in self.links.get(object_type, []) if m.blixo_id in ids}

    def many_by_intacct(
        self, tenant_id: str, object_type: str, intacct_keys: Iterable[str]
    ) -> dict[str, Mapping]:
        keys = set(intacct_keys)
        self.calls.append(("intacct", object_type, len(keys)))
        return {m.intacct_key: m for m in self.links.get(object_type, []) if m.intacct_key in keys}


def error(object_type: str, object_id: str, direction: str = "push", **kw: Any) -> SyncErrorRecord:
    return SyncErrorRecord(
        tenant_id=TENANT,
        object_type=object_type,
        object_id=object_id,
        direction=direction,
        message=kw.pop("message", "Invalid account 9999."),
        first_seen=T0,
        last_seen=T0,
        **kw,
    )


class World:
    def __init__(self, entity_id: str | None = "E100") -> None:
        self.blixo = FakeBlixo()
        self.intacct = FakeIntacct()
        self.maps = FakeMappings()
        self.errors: list[SyncErrorRecord] = []
        self.settings = TenantSettings(tenant_id=TENANT, entity_id=entity_id)

    def run(self) -> Reconciliation:
        return reconcile(self.settings, self.blixo, self.intacct, self.maps, self.errors, now=T0)

    def linked_customer(self, blixo_id: str = "cus_1", intacct_id: str = "C-1", name: str = "Acme") -> None:
        self.blixo.customer(blixo_id, name)
        self.intacct.customer(intacct_id, name)
        self.maps.add("customer", blixo_id, intacct_id)
