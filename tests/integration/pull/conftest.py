"""The pull in process: the same world as the push (moto, both sandboxes), seeded in Intacct."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bisync.intacct import functions as fn
from tests.integration.foundation.conftest import _fast_moto_transactions, aws, aws_env, table  # noqa: F401 - fixtures
from tests.integration.push.conftest import World, blixo_sandbox, intacct_sandbox, world  # noqa: F401 - fixtures

__all__ = ["DAY", "Seeder", "World"]

DAY = dt.date(2026, 11, 20)


class Seeder:
    """Writes in the Intacct sandbox the way an accountant would (Order Entry, A/R payments)."""

    def __init__(self, target: World) -> None:
        self.world = target
        self.n = 0

    def cid(self, what: str) -> str:
        self.n += 1
        return f"seed-{what}-{self.n}"

    def customer(self, customer_id: str, name: str, **fields: object) -> str:
        outcome = self.world.intacct.run(
            fn.create_customer(
                fn.CustomerInput(customer_id=customer_id, name=name, **fields), controlid=self.cid("c")
            )
        )
        return str(outcome.key)

    def order(
        self,
        customer_id: str,
        number: str,
        *lines: tuple[str, int],
        kind: str = "Sales Invoice",
        state: str | None = None,
    ) -> str:
        tx = fn.SoTransactionInput(
            transactiontype=kind,
            datecreated=DAY,
            customerid=customer_id,
            documentno=number,
            datedue=DAY + dt.timedelta(days=30),
            referenceno=f"PO-{number}",
            state=state,
            lines=tuple(
                fn.SoLineInput(itemid=item, quantity=Decimal(q), locationid="E100") for item, q in lines
            ),
        )
        return str(self.world.intacct.run(fn.create_sotransaction(tx, controlid=self.cid("so"))).key)

    def ar_key(self, docid: str) -> str:
        [doc] = self.world.intacct.execute([fn.read_by_name("SODOCUMENT", [docid], ["PRRECORDKEY"])])[
            0
        ].records
        return str(doc["PRRECORDKEY"])

    def pay(
        self, customer_id: str, amount: str, *applications: tuple[str, str], refid: str | None = None
    ) -> str:
        payment = fn.ArPaymentInput(
            customerid=customer_id,
            paymentamount=Decimal(amount),
            datereceived=DAY + dt.timedelta(days=2),
            paymentmethod="Printed Check",
            bankaccountid="BOA-CHK",
            refid=refid or self.cid("chk"),
            applications=tuple(
                fn.PaymentApplicationInput(invoicekey=k, amount=Decimal(a)) for k, a in applications
            ),
            overpaylocid="E100" if Decimal(amount) > sum(Decimal(a) for _, a in applications) else None,
        )
        return str(self.world.intacct.run(fn.create_arpayment(payment, controlid=self.cid("pay"))).key)
