"""The chaos run's generated workload, on both sides, from one seed.

Blixo side (pushed): customers, invoices, credit notes (on invoices, and free ones a payment
applies), payments (full, partial, over-, with a convenience fee, with a credit note), edits of
unpaid invoices and voids of invoices, payments and credit notes.
Intacct side (pulled): customers, Order Entry invoices and returns, A/R payments (full,
partial, over-), Order Entry edits of unpaid invoices and payment reversals.

Every write carries a key of its own (Blixo Idempotency-Key, Intacct controlid with
uniqueid), so the generator retries through the injected faults without writing twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bisync.blixo.client import BlixoClient
from bisync.intacct import functions as fn
from bisync.intacct.client import IntacctClient

CENT = Decimal("0.01")
ITEMS = {"WIDGET": Decimal(25), "CONSULT-HR": Decimal(150), "SUBSCRIPTION": Decimal(99)}
# Names and memos as customers type them: what XML and JSON must carry unchanged.
AWKWARD = ["O'Brien & Sons", 'Quote "Q" Ltd', "Tags <b>bold</b>", "Café ]]> Ünïcødé", "Notes 🎵 𝄞"]


@dataclass(frozen=True)
class Sizes:
    """How much of each thing is made; `at(scale)` scales the full run (0.1 = the small run)."""

    blixo_customers: int = 150
    blixo_invoices: int = 600
    blixo_payments: int = 400
    blixo_invoice_credit_notes: int = 80  # credit notes on invoices; free ones come with payments
    blixo_edits: int = 30
    blixo_invoice_voids: int = 20
    blixo_payment_voids: int = 15
    blixo_credit_voids: int = 5
    intacct_customers: int = 50
    intacct_orders: int = 200
    intacct_returns: int = 20
    intacct_payments: int = 100
    intacct_order_edits: int = 20
    intacct_reversals: int = 10

    @classmethod
    def at(cls, scale: float) -> Sizes:
        full = cls()
        return cls(**{k: max(1, round(v * scale)) for k, v in full.__dict__.items()})


@dataclass
class Made:
    """What the generator made, by its own ids (the verification's reference)."""

    blixo: dict[str, list[str]] = field(
        default_factory=lambda: {"customer": [], "invoice": [], "credit_note": [], "payment": []}
    )
    intacct: dict[str, list[str]] = field(
        default_factory=lambda: {"customer": [], "order": [], "return": [], "payment": []}
    )
    blixo_writes: int = 0
    intacct_writes: int = 0

    def counts(self) -> dict[str, int]:
        out = {f"blixo_{k}s": len(v) for k, v in self.blixo.items()}
        out |= {f"intacct_{k}s": len(v) for k, v in self.intacct.items()}
        return out


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


class BlixoWorkload:
    def __init__(self, blixo: BlixoClient, sizes: Sizes, tag: str, rng: random.Random) -> None:
        self.blixo = blixo
        self.sizes = sizes
        self.tag = tag
        self.rng = rng
        self.today = datetime.now(UTC).date()
        self._n = 0
        self._later: tuple[Any, ...] = ((), (), (), ())

    def _key(self, what: str) -> str:
        self._n += 1
        return f"chaos-{self.tag}-{what}-{self._n}"

    def run(self, made: Made, progress: Callable[[int], None] = lambda _n: None) -> None:
        s = self.sizes
        customers = [self._customer(i) for i in range(s.blixo_customers)]
        made.blixo["customer"] += customers
        progress(len(customers))
        invoices: list[tuple[str, str, Decimal]] = []
        for i in range(s.blixo_invoices):
            invoices.append(self._invoice(customers[i % len(customers)], i))
            progress(1)
        made.blixo["invoice"] += [inv for inv, _c, _t in invoices]
        paid, rest = invoices[: s.blixo_payments], invoices[s.blixo_payments :]
        # The unpaid rest: credit notes on some, edits of others, voids of yet others.
        credited = rest[: s.blixo_invoice_credit_notes]
        edited = rest[s.blixo_invoice_credit_notes : s.blixo_invoice_credit_notes + s.blixo_edits]
        start = s.blixo_invoice_credit_notes + s.blixo_edits
        voided = rest[start : start + s.blixo_invoice_voids]
        credit_notes = [self._credit_note(c, inv, total) for inv, c, total in credited]
        made.blixo["credit_note"] += credit_notes
        progress(len(credit_notes))
        full_payments: list[str] = []
        for j, (inv, customer, total) in enumerate(paid):
            payment, kind, free_credit = self._payment(j, inv, customer, total)
            made.blixo["payment"].append(payment)
            if free_credit:
                made.blixo["credit_note"].append(free_credit)
            if kind == "full":
                full_payments.append(payment)
            progress(1)
        made.blixo_writes = self._n
        self._later = (
            edited,
            voided,
            full_payments[: s.blixo_payment_voids],
            credit_notes[: s.blixo_credit_voids],
        )

    def to_change(self) -> dict[str, list[str]]:
        """What `change` will edit or void, by kind: the run waits for these to be synced first,
        so the edits and voids go through the paths that change what Intacct already has."""
        edited, voided, payments, credits = self._later
        return {
            "invoice": [inv for inv, _c, _t in edited + voided],
            "payment": list(payments),
            "credit_note": list(credits),
        }

    def change(self, made: Made, progress: Callable[[int], None] = lambda _n: None) -> None:
        """Edits of unpaid invoices, then voids of invoices, payments and credit notes."""
        edited, voided, full_payments, credit_notes = self._later
        for inv, _customer, _total in edited:
            self._edit(inv)
            progress(1)
        for inv, _customer, _total in voided:
            self.blixo.invoices.void(inv, idempotency_key=self._key("void-inv"))
            progress(1)
        for payment in full_payments:
            self.blixo.payments.void(payment, idempotency_key=self._key("void-pay"))
            progress(1)
        for credit in credit_notes:
            self.blixo.credit_notes.void(credit, idempotency_key=self._key("void-cn"))
            progress(1)
        made.blixo_writes = self._n

    def _customer(self, i: int) -> str:
        name = (
            f"{AWKWARD[i % len(AWKWARD)]} {self.tag}-{i}" if i % 7 == 0 else f"Chaos Customer {self.tag}-{i}"
        )
        created = self.blixo.customers.create(
            {
                "name": name,
                "customerNo": f"CB-{self.tag}-{i:04}",
                "currency": "USD",
                "email": f"ap{i}@chaos.example",
            },
            idempotency_key=self._key("customer"),
        )
        return created.id

    def _lines(self, i: int) -> list[dict[str, Any]]:
        out = []
        for n in range(1 + self.rng.randrange(3)):
            label = AWKWARD[(i + n) % len(AWKWARD)] if i % 11 == 0 else f"Service {n + 1}"
            price = Decimal(self.rng.randrange(500, 50_000)) / 100
            out.append({"name": label, "quantity": 1 + self.rng.randrange(4), "unitPrice": _money(price)})
        return out

    def _invoice(self, customer: str, i: int) -> tuple[str, str, Decimal]:
        created = self.blixo.invoices.create(
            {
                "customerId": customer,
                "invoiceNo": f"IB-{self.tag}-{i:04}",
                "currency": "USD",
                "issueDate": self.today.isoformat(),
                "items": self._lines(i),
                "status": "issued",
            },
            idempotency_key=self._key("invoice"),
        )
        return created.id, customer, created.total

    def _credit_note(self, customer: str, invoice: str | None, total: Decimal) -> str:
        amount = max(CENT, (total * Decimal("0.2")).quantize(CENT))
        created = self.blixo.credit_notes.create(
            {
                "customerId": customer,
                **({"invoiceId": invoice} if invoice else {}),
                "currency": "USD",
                "issueDate": self.today.isoformat(),
                "items": [{"name": "Service credit & refund", "quantity": 1, "unitPrice": _money(amount)}],
                "status": "open",
            },
            idempotency_key=self._key("credit"),
        )
        return created.id

    def _payment(self, j: int, invoice: str, customer: str, total: Decimal) -> tuple[str, str, str | None]:
        slot = j % 20
        kind = (
            "full"
            if slot < 6 or slot >= 18
            else "partial"
            if slot < 10
            else "over"
            if slot < 13
            else "fee"
            if slot < 17
            else "credit"
        )
        method, free_credit = "check", None
        applied: list[dict[str, Any]]
        if kind == "full":
            amount = total
            applied = [{"type": "invoice", "invoiceId": invoice, "amount": _money(total)}]
        elif kind == "partial":
            amount = (total / 2).quantize(CENT)
            applied = [{"type": "invoice", "invoiceId": invoice, "amount": _money(amount)}]
        elif kind == "over":
            amount = total + Decimal("25.00")
            applied = [{"type": "invoice", "invoiceId": invoice, "amount": _money(total)}]
        elif kind == "fee":
            fee = max(CENT, (total * Decimal("0.03")).quantize(CENT))
            amount, method = total + fee, "credit_card"
            applied = [
                {"type": "invoice", "invoiceId": invoice, "amount": _money(total)},
                {"type": "convenience_fee", "amount": _money(fee)},
            ]
        else:
            free_credit = self._credit_note(customer, None, total)
            credit = self.blixo.credit_notes.get(free_credit).total
            amount = total - credit
            applied = [
                {"type": "invoice", "invoiceId": invoice, "amount": _money(amount)},
                {
                    "type": "credit_note",
                    "creditNoteId": free_credit,
                    "invoiceId": invoice,
                    "amount": _money(credit),
                },
            ]
        created = self.blixo.payments.create(
            {
                "customerId": customer,
                "currency": "USD",
                "date": self.today.isoformat(),
                "amount": _money(amount),
                "method": method,
                "reference": f"PB-{self.tag}-{j:04}",
                "appliedTo": applied,
            },
            idempotency_key=self._key("payment"),
        )
        return created.id, kind, free_credit

    def _edit(self, invoice: str) -> None:
        current = self.blixo.invoices.get(invoice)
        items: list[dict[str, Any]] = [
            {"name": line.name, "quantity": str(line.quantity), "unitPrice": str(line.unit_price)}
            for line in current.items
        ]
        items[0]["quantity"] = str(current.items[0].quantity + 1)
        items.append({"name": "Added after review <edit>", "quantity": "1", "unitPrice": "12.34"})
        self.blixo.invoices.update(invoice, {"items": items}, idempotency_key=self._key("edit"))


class IntacctWorkload:
    """Written in batches of functions per request, as an ERP import would."""

    BATCH = 20

    def __init__(self, intacct: IntacctClient, sizes: Sizes, tag: str, rng: random.Random) -> None:
        self.intacct = intacct
        self.sizes = sizes
        self.tag = tag
        self.rng = rng
        self.today = datetime.now(UTC).date()
        self._n = 0
        self._later: tuple[Any, ...] = ((), ())

    def _cid(self, what: str) -> str:
        self._n += 1
        return f"chaos-{self.tag}-{what}-{self._n}"

    def _batches(self, functions: Sequence[fn.Function], progress: Callable[[int], None]) -> list[str]:
        keys: list[str] = []
        for start in range(0, len(functions), self.BATCH):
            chunk = functions[start : start + self.BATCH]
            for outcome in self.intacct.execute(chunk):
                outcome.raise_for_error()
                keys.append(str(outcome.key or ""))
            progress(len(chunk))
        return keys

    def run(self, made: Made, progress: Callable[[int], None] = lambda _n: None) -> None:
        s = self.sizes
        customers = [f"IX-{self.tag}-{i:03}" for i in range(s.intacct_customers)]
        self._batches(
            [
                fn.create_customer(
                    fn.CustomerInput(
                        customer_id=c, name=f"{AWKWARD[i % len(AWKWARD)]} Intacct {self.tag}-{i}"
                    ),
                    controlid=self._cid("customer"),
                )
                for i, c in enumerate(customers)
            ],
            progress,
        )
        made.intacct["customer"] += customers
        orders = self._documents("Sales Invoice", "SI", s.intacct_orders, customers, progress)
        made.intacct["order"] += [docid for docid, _c in orders]
        returns = self._documents("Sales Return", "SR", s.intacct_returns, customers, progress)
        made.intacct["return"] += [docid for docid, _c in returns]
        invoice_keys = self._invoice_keys([docid for docid, _c in orders])
        payments = self._payments(orders[: s.intacct_payments], invoice_keys, progress)
        made.intacct["payment"] += payments
        made.intacct_writes = self._n
        self._later = (orders[s.intacct_payments : s.intacct_payments + s.intacct_order_edits], payments)

    def change(self, made: Made, progress: Callable[[int], None] = lambda _n: None) -> None:
        """Order Entry edits of unpaid invoices (Intacct replaces their A/R records) and payment
        reversals, after a pull has brought the originals to Blixo."""
        s = self.sizes
        edits, payments = self._later
        self._batches(
            [
                fn.update_sotransaction(
                    fn.SoTransactionUpdateInput(
                        docid=docid,
                        lines=(fn.SoLineInput(itemid="WIDGET", quantity=Decimal(4), line_num=1),),
                    ),
                    controlid=self._cid("edit"),
                )
                for docid, _c in edits
            ],
            progress,
        )
        full = payments[0::3][: s.intacct_reversals]
        self._batches(
            [fn.reverse_arpayment(key, self.today, controlid=self._cid("reverse")) for key in full],
            progress,
        )
        made.intacct_writes = self._n

    def _documents(
        self, kind: str, prefix: str, count: int, customers: list[str], progress: Callable[[int], None]
    ) -> list[tuple[str, str]]:
        docs = []
        functions = []
        for i in range(count):
            customer = customers[i % len(customers)]
            number = f"{prefix}-{self.tag}-{i:04}"
            items = list(ITEMS)
            lines = tuple(
                fn.SoLineInput(
                    itemid=items[(i + n) % len(items)],
                    quantity=Decimal(1 + self.rng.randrange(3)),
                    memo=AWKWARD[n % len(AWKWARD)] if i % 9 == 0 else None,
                )
                for n in range(1 if kind == "Sales Return" else 1 + self.rng.randrange(3))
            )
            functions.append(
                fn.create_sotransaction(
                    fn.SoTransactionInput(
                        transactiontype=kind,
                        datecreated=self.today,
                        customerid=customer,
                        documentno=number,
                        lines=lines,
                    ),
                    controlid=self._cid(prefix),
                )
            )
            docs.append((f"{kind}-{number}", customer))
        self._batches(functions, progress)
        return docs

    def _invoice_keys(self, docids: list[str]) -> dict[str, tuple[str, Decimal]]:
        out: dict[str, tuple[str, Decimal]] = {}
        for start in range(0, len(docids), 100):
            [outcome] = self.intacct.execute(
                [
                    fn.read_by_name(
                        "SODOCUMENT", docids[start : start + 100], ["DOCID", "PRRECORDKEY", "TOTAL"]
                    )
                ]
            )
            for r in outcome.raise_for_error().records:
                out[str(r["DOCID"])] = (str(r["PRRECORDKEY"]), Decimal(str(r["TOTAL"])))
        return out

    def _payments(
        self,
        orders: Iterable[tuple[str, str]],
        keys: dict[str, tuple[str, Decimal]],
        progress: Callable[[int], None],
    ) -> list[str]:
        functions = []
        for j, (docid, customer) in enumerate(orders):
            invoicekey, total = keys[docid]
            kind = j % 3
            applied = total if kind != 1 else (total / 2).quantize(CENT)
            amount = applied + (Decimal("15.00") if kind == 2 else 0)
            functions.append(
                fn.create_arpayment(
                    fn.ArPaymentInput(
                        customerid=customer,
                        paymentamount=amount,
                        datereceived=self.today,
                        paymentmethod="Printed Check",
                        bankaccountid="BOA-CHK",
                        refid=f"PI-{self.tag}-{j:04}",
                        applications=(fn.PaymentApplicationInput(invoicekey=invoicekey, amount=applied),),
                    ),
                    controlid=self._cid("payment"),
                )
            )
        return self._batches(functions, progress)
