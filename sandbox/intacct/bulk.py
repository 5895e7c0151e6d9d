"""Bulk seeding for benchmarks and request-count tests, written straight into the store.

Legacy kinds: customers, A/R invoices with one line, payments paying them in full. Order Entry
kinds: `Sales Invoice` documents with their lines and the ARINVOICE each posts, `Sales Return`
documents with the ARADJUSTMENT credit memo each posts, and A/R payments on the orders' invoices.

The Order Entry rows are the rows `create_sotransaction` and the generic ARPYMT `create` write
(orderentry.py, ardocs.py, payments.py): the same fields, internal flags and RECORDNO sequence, and the
invoices, documents and customers moved the way a payment moves them, so no read can tell them
apart. Only the clock differs: every write takes the next second of a seed clock that ends at
the moment of seeding (or continues after the newest seeded-kind row already there), so
AUWHENCREATED follows insertion order and WHENMODIFIED is the time of each row's last write,
never shared. Rows are built in memory and inserted with one executemany in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sandbox.intacct.catalog import FIELDS
from sandbox.intacct.ledger import EVER_APPLIED, ar_state, set_amounts
from sandbox.intacct.ledger import dec as _dec
from sandbox.intacct.seed import ENTITIES
from sandbox.intacct.store import Record, Store
from sandbox.intacct.values import fmt_number as _fmt_number
from sandbox.intacct.values import money

# Amounts repeat a lot (three items, three quantities): the same conversions, cached. Equal
# Decimals (2 and 2.00) print the same, so the cache cannot change a result.
fmt_number = lru_cache(maxsize=4096)(_fmt_number)
dec = lru_cache(maxsize=4096)(_dec)
# The store's json.dumps(rec), without the per-call encoder set-up.
_to_json = json.JSONEncoder(check_circular=False).encode

_TS_FORMAT = "%Y-%m-%d %H:%M:%S"  # the store's now_ts() form
_EPOCH = dt.datetime(1970, 1, 1)
_DEFAULT_START = "2026-01-01"
_SPREAD_DAYS = 300  # document dates go from the start date over this many days
_PAYMENT_LAG_DAYS = 7
_ORDER_TERM = "N30"
_ITEM_CYCLE = ("WIDGET", "CONSULT-HR", "SUBSCRIPTION")
_BANK = "BOA-CHK"
_PAYMENT_METHOD = "Printed Check"
_DOC_PREFIX = {"Sales Invoice": "SI", "Sales Return": "SR"}  # orderentry.py's auto numbering
_SEEDED_OBJECTS = (
    "CUSTOMER",
    "ARINVOICE",
    "ARINVOICEITEM",
    "ARADJUSTMENT",
    "ARADJUSTMENTITEM",
    "ARPYMT",
    "ARPYMTDETAIL",
    "SODOCUMENT",
    "SODOCUMENTENTRY",
)
# ledger.item_record keeps only the item object's fields; a set, not the catalogue's tuple.
_ITEM_FIELDS = {obj: frozenset(FIELDS[obj]) for obj in ("ARINVOICEITEM", "ARADJUSTMENTITEM")}
_ORDER_ENTRY_KEYS = ("orders", "returns", "order_payments", "lines_per_order", "lines_per_return")


@dataclass
class _Item:
    item_id: str
    name: str
    price: Decimal
    gl: str
    gl_title: str


@dataclass
class _Plan:
    """The validated payload."""

    customers: int
    invoices: int
    payments: int
    prefix: str
    orders: int
    lines_per_order: int
    returns: int
    lines_per_return: int
    order_payments: int
    entity: str
    start: str
    order_entry: bool  # report the Order Entry counts (only when asked, so legacy answers stay)

    def ticks(self) -> int:
        """Writes the seed makes, each one clock second: a document is inserted, its A/R record
        and lines, the document updated (PRRECORDKEY), then its entries; a payment is inserted
        with its detail, then the invoice and the document are updated."""
        return (
            self.customers
            + 2 * self.invoices
            + 2 * self.payments
            + self.orders * (3 + 2 * self.lines_per_order)
            + self.returns * (3 + 2 * self.lines_per_return)
            + 4 * self.order_payments
        )


@dataclass
class _Order:
    doc: Record
    ar: Record


@dataclass
class _Writer:
    """Rows in insertion order, with RECORDNOs from the company counter and clock stamps."""

    next_no: int
    clock_start: dt.datetime
    rows: list[tuple[str, Record]] = field(default_factory=list)
    tick: int = 0

    days: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start_secs = int((self.clock_start - _EPOCH).total_seconds())

    def stamp(self) -> str:
        """clock_start + tick seconds in the _TS_FORMAT form (strftime per row is the slow part)."""
        secs = self.tick + self.start_secs
        self.tick += 1
        day, rest = divmod(secs, 86400)
        date = self.days.get(day)
        if date is None:
            date = self.days[day] = (_EPOCH + dt.timedelta(days=day)).strftime("%Y-%m-%d")
        hours, rest = divmod(rest, 3600)
        return f"{date} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def add(self, obj: str, rec: Record) -> Record:
        """Store.insert: a new RECORDNO, WHENMODIFIED and AUWHENCREATED of this write."""
        rec["RECORDNO"] = str(self.next_no)
        self.next_no += 1
        ts = self.stamp()
        rec["WHENMODIFIED"] = ts
        rec.setdefault("AUWHENCREATED", ts)
        self.rows.append((obj, rec))
        return rec

    def touch(self, rec: Record) -> None:
        """Store.update: the row is written again (rows are serialised at the end)."""
        rec["WHENMODIFIED"] = self.stamp()


def _count(payload: dict[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    value = int(payload.get(key, default))
    if value < minimum:
        raise ValueError(f"{key} must be at least {minimum}")
    return value


def _plan(store: Store, company: str, settings: dict[str, Any], payload: dict[str, Any]) -> _Plan:
    n = int(payload.get("n", 0))
    invoices = int(payload.get("invoices", n))
    plan = _Plan(
        customers=int(payload.get("customers", n)),
        invoices=invoices,
        payments=min(int(payload.get("payments", n)), invoices),
        prefix=str(payload.get("prefix", "SEED")),
        orders=_count(payload, "orders", 0),
        lines_per_order=_count(payload, "lines_per_order", 3, minimum=1),
        returns=_count(payload, "returns", 0),
        lines_per_return=_count(payload, "lines_per_return", 1, minimum=1),
        order_payments=_count(payload, "order_payments", 0),
        entity=str(payload.get("entity") or ""),
        start="",
        order_entry=any(k in payload for k in _ORDER_ENTRY_KEYS),
    )
    if plan.order_payments > plan.orders:
        raise ValueError(f"order_payments ({plan.order_payments}) cannot exceed orders ({plan.orders})")
    if plan.entity and not store.find(company, "LOCATIONENTITY", "LOCATIONID", plan.entity):
        raise ValueError(f"unknown entity {plan.entity}")
    closed = str(settings.get("closed_through", ""))
    if "start_date" in payload:
        start = dt.date.fromisoformat(str(payload["start_date"])).isoformat()
        if closed and start <= closed:
            raise ValueError(f"start_date {start} is in the closed period (A/R closed through {closed})")
    else:
        # create_sotransaction refuses dates in the closed period: start after it.
        start = _DEFAULT_START
        if closed and start <= closed:
            start = (dt.date.fromisoformat(closed) + dt.timedelta(days=1)).isoformat()
    plan.start = start
    if plan.invoices and not plan.customers and not store.count(company, "CUSTOMER"):
        plan.invoices = plan.payments = 0  # nobody to invoice
    return plan


def seed_records(store: Store, company: str, payload: dict[str, Any]) -> dict[str, int]:
    """`{"n": 100}` seeds 100 of each legacy kind; `customers`/`invoices`/`payments` override per
    kind (invoices round-robin over the seeded customers; each payment pays one invoice in full).
    `orders` / `returns` (with `lines_per_order` / `lines_per_return`) and `order_payments` seed
    Order Entry documents and payments on them, optionally in `entity`, dated from `start_date`."""
    settings = store.settings(company)
    if settings is None:
        raise ValueError(f"unknown company {company}")
    plan = _plan(store, company, settings, payload)
    store.begin()
    try:
        counts = _Seeder(store, company, settings, plan).run()
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return counts


class _Seeder:
    def __init__(self, store: Store, company: str, settings: dict[str, Any], plan: _Plan) -> None:
        self.store = store
        self.company = company
        self.plan = plan
        self.base = str(settings.get("base_currency", "USD"))
        row = store.db.execute("SELECT next FROM seq WHERE company=?", (company,)).fetchone()
        self.writer = _Writer(1 if row is None else int(row[0]), self._clock_start())
        self.new_customers: list[Record] = []
        # Order Entry context, set by _order_entry
        self.items: list[_Item] = []
        self.entity_fields: Record = {}
        self.location = ""
        self.term_days = 0
        self.line = 0  # running line number: items and quantities cycle over it

    def _clock_start(self) -> dt.datetime:
        """The last write lands on now, unless rows of these objects are already newer."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
        start = now - dt.timedelta(seconds=max(self.plan.ticks() - 1, 0))
        marks = ",".join("?" * len(_SEEDED_OBJECTS))
        newest = self.store.db.execute(
            f"SELECT MAX(json_extract(data, '$.WHENMODIFIED')) FROM records "
            f"WHERE company=? AND object IN ({marks})",
            (self.company, *_SEEDED_OBJECTS),
        ).fetchone()[0]
        if newest:
            start = max(start, dt.datetime.strptime(str(newest), _TS_FORMAT) + dt.timedelta(seconds=1))
        return start

    # -- the run ------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        plan = self.plan
        self._customers()
        legacy_pool = self.new_customers or self.store.all(self.company, "CUSTOMER")
        invoices = self._legacy_invoices(legacy_pool)
        self._legacy_payments(invoices)
        counts = {"customers": plan.customers, "invoices": len(invoices), "payments": plan.payments}
        if plan.orders or plan.returns:
            self._order_entry(counts)
        elif plan.order_entry:
            counts.update(
                {
                    "orders": 0,
                    "order_lines": 0,
                    "returns": 0,
                    "return_lines": 0,
                    "order_payments": 0,
                    "payment_details": 0,
                }
            )
        if self.writer.tick != plan.ticks():  # the clock's size was computed up front
            raise RuntimeError(f"seed clock drift: {self.writer.tick} writes, {plan.ticks()} planned")
        self._refresh_customers()
        self._flush()
        return counts

    def _order_entry(self, counts: dict[str, int]) -> None:
        plan = self.plan
        pool = self.new_customers or [
            c
            for c in self.store.all(self.company, "CUSTOMER")
            if c.get("MEGAENTITYID", "") in ("", plan.entity) and c.get("STATUS") != "inactive"
        ]
        if not pool:
            raise ValueError("no customers to seed Order Entry documents for")
        self.items = self._items()
        self.entity_fields = self._entity_fields()
        self.location = plan.entity or self._top_location()
        self.term_days = self._term_days()
        orders = self._documents("Sales Invoice", plan.orders, pool, plan.lines_per_order)
        self._documents("Sales Return", plan.returns, pool, plan.lines_per_return)
        bank = self.store.find(self.company, "CHECKINGACCOUNT", "BANKACCOUNTID", _BANK)
        if plan.order_payments and not bank:
            raise ValueError(f"bank account {_BANK} is missing")
        for j in range(plan.order_payments):
            self._payment(orders[j], j, bank[0])
        counts.update(
            {
                "orders": plan.orders,
                "order_lines": plan.orders * plan.lines_per_order,
                "returns": plan.returns,
                "return_lines": plan.returns * plan.lines_per_return,
                "order_payments": plan.order_payments,
                "payment_details": plan.order_payments,
            }
        )

    # -- legacy kinds ------------------------------------------------------------------------------
    def _customers(self) -> None:
        start = self.store.count(self.company, "CUSTOMER")
        for i in range(self.plan.customers):
            cid = f"{self.plan.prefix}-C{start + i + 1:06d}"
            name = f"Seed Customer {start + i + 1}"
            rec = self.writer.add(
                "CUSTOMER",
                {
                    "CUSTOMERID": cid,
                    "NAME": name,
                    "STATUS": "active",
                    "TOTALDUE": "0",
                    "ONETIME": "false",
                    "ONHOLD": "false",
                    "WHENCREATED": "",
                    # what a top-level generic create adds
                    "CREATEDBY": "1",
                    "MODIFIEDBY": "1",
                    "MEGAENTITYKEY": "",
                    "MEGAENTITYNAME": "",
                    "DISPLAYCONTACT.PRINTAS": name,
                    "DISPLAYCONTACT.COMPANYNAME": name,
                    "DISPLAYCONTACT.CONTACTNAME": f"{name}({cid})",
                    "DISPLAYCONTACT.EMAIL1": f"{cid.lower()}@example.com",
                    "TERMNAME": "N30",
                    "CURRENCY": "USD",
                    "ENTITY": f"C{cid}",
                    "MEGAENTITYID": "",
                },
            )
            rec["WHENCREATED"] = rec["AUWHENCREATED"]  # master data: a timestamp
            self.new_customers.append(rec)

    def _legacy_invoices(self, customers: list[Record]) -> list[Record]:
        prefix = self.plan.prefix
        invoices: list[Record] = []
        for i in range(self.plan.invoices if customers else 0):
            cust = customers[i % len(customers)]
            amount = str(100 + (i % 50))
            paid = i < self.plan.payments
            inv = self.writer.add(
                "ARINVOICE",
                {
                    "RECORDID": f"{prefix}-INV-{i + 1:06d}",
                    "CUSTOMERID": cust["CUSTOMERID"],
                    "CUSTOMERNAME": cust["NAME"],
                    "WHENCREATED": "2024-07-01",
                    "WHENPOSTED": "2024-07-01",
                    "WHENDUE": "2024-07-31",
                    "TERMNAME": "N30",
                    "BASECURR": "USD",
                    "CURRENCY": "USD",
                    "TOTALENTERED": amount,
                    "TRX_TOTALENTERED": amount,
                    "TOTALPAID": amount if paid else "0",
                    "TRX_TOTALPAID": amount if paid else "0",
                    "TOTALDUE": "0" if paid else amount,
                    "TRX_TOTALDUE": "0" if paid else amount,
                    "STATE": "Paid" if paid else "Posted",
                    "WHENPAID": "2024-07-15" if paid else "",
                    "MODULEKEY": "4.AR",
                    "RECORDTYPE": "ri",
                    "MEGAENTITYID": "",
                },
            )
            self.writer.add(
                "ARINVOICEITEM",
                {
                    "RECORDKEY": inv["RECORDNO"],
                    "ACCOUNTNO": "4000",
                    "ACCOUNTTITLE": "Sales Revenue",
                    "AMOUNT": amount,
                    "TRX_AMOUNT": amount,
                    "LINE_NO": "1",
                    "LOCATIONID": "E100",
                    "ENTRYDESCRIPTION": "Seeded line",
                    "CUSTOMERID": cust["CUSTOMERID"],
                    "CURRENCY": "USD",
                },
            )
            invoices.append(inv)
        return invoices

    def _legacy_payments(self, invoices: list[Record]) -> None:
        for i in range(self.plan.payments):
            inv = invoices[i]
            pay = self.writer.add(
                "ARPYMT",
                {
                    "CUSTOMERID": inv["CUSTOMERID"],
                    "CUSTOMERNAME": inv["CUSTOMERNAME"],
                    "PAYMENTMETHOD": "EFT",
                    "RECEIPTDATE": "2024-07-15",
                    "PAYMENTDATE": "2024-07-15",
                    "WHENCREATED": "2024-07-15",
                    "WHENPAID": "2024-07-15",
                    "FINANCIALENTITY": "BOA-CHK",
                    "FINANCIALENTITYTYPE": "BA",
                    "DOCNUMBER": f"{self.plan.prefix}-PAY-{i + 1:06d}",
                    "STATE": "C",
                    "DISPLAYSTATE": "Complete",
                    "RECORDTYPE": "rp",
                    "CURRENCY": "USD",
                    "BASECURR": "USD",
                    "TOTALENTERED": inv["TOTALENTERED"],
                    "TRX_TOTALENTERED": inv["TOTALENTERED"],
                    "TOTALPAID": inv["TOTALENTERED"],
                    "TRX_TOTALPAID": inv["TOTALENTERED"],
                    "TOTALDUE": "0",
                    "TRX_TOTALDUE": "0",
                    "MEGAENTITYID": "",
                },
            )
            self.writer.add(
                "ARPYMTDETAIL",
                {
                    "PAYMENTKEY": pay["RECORDNO"],
                    "RECORDKEY": inv["RECORDNO"],
                    "PAYMENTDATE": "2024-07-15",
                    "TRX_PAYMENTAMOUNT": inv["TOTALENTERED"],
                    "PAYMENTAMOUNT": inv["TOTALENTERED"],
                    "CURRENCY": "USD",
                    "STATE": "C",
                },
            )

    # -- Order Entry ---------------------------------------------------------------------------------
    def _items(self) -> list[_Item]:
        items = []
        for item_id in _ITEM_CYCLE:
            found = self.store.find(self.company, "ITEM", "ITEMID", item_id)
            if not found:
                raise ValueError(f"item {item_id} is missing")
            gl = found[0].get("INCOMEGLACCOUNTNO", "4000")
            account = self.store.find(self.company, "GLACCOUNT", "ACCOUNTNO", gl)
            items.append(
                _Item(
                    item_id,
                    found[0].get("NAME", ""),
                    money(dec(found[0].get("BASEPRICE", "0"))),
                    gl,
                    account[0].get("TITLE", "") if account else "",
                )
            )
        return items

    def _entity_fields(self) -> Record:
        """Ctx.entity_fields() of a session in the plan's entity (or the top level)."""
        if not self.plan.entity:
            return {"MEGAENTITYKEY": "", "MEGAENTITYID": "", "MEGAENTITYNAME": ""}
        ent = self.store.find(self.company, "LOCATIONENTITY", "LOCATIONID", self.plan.entity)[0]
        return {
            "MEGAENTITYKEY": ent["RECORDNO"],
            "MEGAENTITYID": self.plan.entity,
            "MEGAENTITYNAME": ent.get("NAME", ""),
        }

    def _top_location(self) -> str:
        """A top-level transaction needs a location on every line."""
        for loc in ENTITIES:
            if self.store.find(self.company, "LOCATION", "LOCATIONID", loc):
                return loc
        locations = self.store.all(self.company, "LOCATION")
        if not locations:
            raise ValueError("no location for the seeded lines")
        return locations[0]["LOCATIONID"]

    def _base_fields(self) -> Record:
        return {"CREATEDBY": "1", "MODIFIEDBY": "1", **self.entity_fields}

    def _docnos(self, docpar: str, count: int) -> list[str]:
        """create_sotransaction's automatic numbers (`SI-00001`), continuing after the documents
        already there; a number some document already holds is skipped."""
        existing = self.store.find(self.company, "SODOCUMENT", "DOCPARID", docpar)
        taken = {d.get("DOCID", "") for d in existing}
        out: list[str] = []
        n = len(existing)
        while len(out) < count:
            n += 1
            docno = f"{_DOC_PREFIX[docpar]}-{n:05d}"
            if f"{docpar}-{docno}" not in taken:
                out.append(docno)
        return out

    def _entries(self, count: int) -> list[Record]:
        """orderentry._entry for lines with itemid, quantity and locationid (price from the item)."""
        entries = []
        for _ in range(count):
            item = self.items[self.line % len(self.items)]
            qty = money(Decimal((self.line // len(self.items)) % 3 + 1))
            self.line += 1
            value = money(qty * item.price)
            entries.append(
                {
                    "ITEMID": item.item_id,
                    "ITEMNAME": item.name,
                    "ITEMDESC": item.name,
                    "QUANTITY": fmt_number(qty),
                    "UNIT": "Each",
                    "PRICE": fmt_number(item.price),
                    "UIPRICE": fmt_number(item.price),
                    "TRX_PRICE": fmt_number(item.price),
                    "UIVALUE": fmt_number(value),
                    "VALUE": fmt_number(value),
                    "TRX_VALUE": fmt_number(value),
                    "MULTIPLIER": "1",
                    "MEMO": "",
                    "LOCATIONID": self.location,
                    "DEPARTMENTID": "",
                    "_GL": item.gl,
                }
            )
        return entries

    def _documents(self, docpar: str, count: int, pool: list[Record], n_lines: int) -> list[_Order]:
        params = self.store.find(self.company, "SODOCUMENTPARAMS", "DOCID", docpar)
        if count and not params:
            raise ValueError(f"transaction definition {docpar} is missing")
        docnos = self._docnos(docpar, count)
        return [
            self._document(docpar, params[0], docnos[i], i, count, pool[i % len(pool)], n_lines)
            for i in range(count)
        ]

    def _document(  # noqa: PLR0917 - internal helper
        self, docpar: str, params: Record, docno: str, i: int, count: int, cust: Record, n_lines: int
    ) -> _Order:
        """fn_create_sotransaction (state Pending) followed by _post and _save_entries."""
        is_return = docpar == "Sales Return"
        created = (
            dt.date.fromisoformat(self.plan.start) + dt.timedelta(days=i * _SPREAD_DAYS // count)
        ).isoformat()
        docid = f"{docpar}-{docno}"
        term = "" if is_return else _ORDER_TERM
        due = (dt.date.fromisoformat(created) + dt.timedelta(days=self.term_days)).isoformat() if term else ""
        entries = self._entries(n_lines)
        doc: Record = {
            "DOCNO": docno,
            "DOCID": docid,
            "DOCPARID": docpar,
            "DOCPARKEY": params["RECORDNO"],
            "DOCPARCLASS": params.get("DOCCLASS", ""),
            "STATE": "Pending",
            "WHENCREATED": created,
            "WHENDUE": due,
            "CUSTVENDID": cust["CUSTOMERID"],
            "CUSTVENDNAME": cust.get("NAME", ""),
            "CUSTREC": cust["RECORDNO"],
            "PONUMBER": f"{self.plan.prefix}-{'RMA' if is_return else 'PO'}-{docno}",
            "MESSAGE": "",
            "TERM.NAME": term,
            "BASECURR": self.base,
            "CURRENCY": "USD",
            "_EXTERNALID": "",
            **self._base_fields(),
        }
        total = sum((dec(e["UIVALUE"]) for e in entries), Decimal(0))
        for f in ("SUBTOTAL", "TOTAL", "TRX_SUBTOTAL", "TRX_TOTAL", "TOTALDUE", "TRX_TOTALDUE"):
            doc[f] = fmt_number(total)
        doc["TOTALPAID"] = doc["TRX_TOTALPAID"] = "0"
        self.writer.add("SODOCUMENT", doc)
        ar = self._post(doc, entries, cust, is_return)
        doc["PRRECORDKEY"] = ar["RECORDNO"]
        doc["WHENPOSTED"] = doc["WHENCREATED"]
        self.writer.touch(doc)
        for n, e in enumerate(entries):
            row = dict(e)
            row.update(
                {
                    "DOCHDRNO": doc["RECORDNO"],
                    "DOCHDRID": docid,
                    "DOCPARID": docpar,
                    "LINE_NO": str(n),
                    "STATE": doc["STATE"],
                    "WHENCREATED": created,
                }
            )
            self.writer.add("SODOCUMENTENTRY", row)
        return _Order(doc, ar)

    def _term_days(self) -> int:
        found = self.store.find(self.company, "ARTERM", "NAME", _ORDER_TERM)
        if not found:
            raise ValueError(f"term {_ORDER_TERM} is missing")
        return int(found[0].get("DUEDATE") or 0)

    def _post(self, doc: Record, entries: list[Record], cust: Record, is_return: bool) -> Record:
        """orderentry._post + ledger.create_ar: the ARINVOICE (or ARADJUSTMENT credit memo)."""
        sign = Decimal(-1) if is_return else Decimal(1)
        titles = {item.gl: item.gl_title for item in self.items}
        lines: list[Record] = []
        for n, e in enumerate(entries, start=1):
            amount = sign * dec(e["UIVALUE"])
            lines.append(
                {
                    "ACCOUNTNO": e["_GL"],
                    "ACCOUNTTITLE": titles[e["_GL"]],
                    "OFFSETGLACCOUNTNO": "1200",
                    "AMOUNT": fmt_number(amount),
                    "TRX_AMOUNT": fmt_number(amount),
                    "ENTRYDESCRIPTION": e["MEMO"] or e["ITEMDESC"],
                    "LOCATIONID": e["LOCATIONID"],
                    "DEPARTMENTID": e["DEPARTMENTID"],
                    "LINE_NO": str(n),
                    "ITEMID": e["ITEMID"],
                    "TOTALPAID": "0",
                    "TRX_TOTALPAID": "0",
                }
            )
        obj = "ARADJUSTMENT" if is_return else "ARINVOICE"
        header: Record = {
            "CUSTOMERID": doc["CUSTVENDID"],
            "WHENCREATED": doc["WHENCREATED"],
            "WHENPOSTED": doc["WHENCREATED"],
            "RECORDID": doc["DOCNO"],
            "DOCNUMBER": doc["PONUMBER"],
            "DESCRIPTION": doc["MESSAGE"],
            "CURRENCY": doc["CURRENCY"],
            "MODULEKEY": "8.SO",
            "RECORDTYPE": "ra" if is_return else "ri",
        }
        if not is_return:
            header.update({"WHENDUE": doc["WHENDUE"], "TERMNAME": doc["TERM.NAME"]})
        rec: Record = {
            "CUSTOMERNAME": cust.get("NAME", ""),
            "BASECURR": self.base,
            "MODULEKEY": "4.AR",
            "SYSTEMGENERATED": "F",
            **self._base_fields(),
            **header,
        }
        rec["CURRENCY"] = rec["CURRENCY"] or rec["BASECURR"]
        total = sum((dec(line["AMOUNT"]) for line in lines), Decimal(0))
        set_amounts(rec, total, Decimal(0))
        rec["STATE"] = ar_state(rec)
        self.writer.add(obj, rec)
        for line in lines:
            self.writer.add(f"{obj}ITEM", self._item_record(obj, rec, line))
        return rec

    @staticmethod
    def _item_record(obj: str, rec: Record, line: Record) -> Record:
        """ledger.item_record."""
        item = {
            **line,
            "RECORDKEY": rec["RECORDNO"],
            "CURRENCY": rec["CURRENCY"],
            "BASECURR": rec["BASECURR"],
            "ENTRY_DATE": rec["WHENCREATED"],
            "CUSTOMERID": rec["CUSTOMERID"],
            "CUSTOMERNAME": rec.get("CUSTOMERNAME", ""),
            "RECORDTYPE": rec.get("RECORDTYPE", ""),
            "WHENCREATED": rec["WHENCREATED"],
            "STATE": rec["STATE"],
        }
        keep = _ITEM_FIELDS[f"{obj}ITEM"]
        return {k: v for k, v in item.items() if k in keep}

    def _payment(self, order: _Order, j: int, bank: Record) -> None:
        """payments.create_payment_generic + new_payment: one ARPYMTDETAIL on the order's invoice,
        in full for even j and for half (to the cent) for odd j; then apply_amount and sync_document."""
        ar, doc = order.ar, order.doc
        total = dec(ar["TOTALENTERED"])
        amount = total if j % 2 == 0 else money(total / 2)
        received = (
            dt.date.fromisoformat(ar["WHENCREATED"]) + dt.timedelta(days=_PAYMENT_LAG_DAYS)
        ).isoformat()
        values: Record = {
            "PAYMENTMETHOD": _PAYMENT_METHOD,
            "CUSTOMERID": ar["CUSTOMERID"],
            "RECEIPTDATE": received,
            "PAYMENTDATE": received,
            "DOCNUMBER": f"{self.plan.prefix}-CHK-{doc['DOCNO']}",
            "FINANCIALENTITY": _BANK,
            "FINANCIALENTITYTYPE": "BA",
            "FINANCIALACCOUNTNAME": bank.get("BANKNAME", ""),
            "FINANCIALACCOUNTCURRENCY": "USD",
        }
        rec: Record = {
            "RECORDTYPE": "rp",
            "STATE": "C",
            "DISPLAYSTATE": "Complete",
            "CUSTOMERNAME": ar["CUSTOMERNAME"],
            "BASECURR": self.base,
            "BILLTOPAYTONAME": ar["CUSTOMERNAME"],
            **self._base_fields(),
            **values,
        }
        rec["CURRENCY"] = rec.get("CURRENCY") or rec["BASECURR"]
        rec.setdefault("WHENCREATED", received)
        rec.setdefault("PAYMENTDATE", received)
        rec["WHENPAID"] = received
        set_amounts(rec, amount, amount)
        self.writer.add("ARPYMT", rec)
        self.writer.add(
            "ARPYMTDETAIL",
            {
                "PAYMENTKEY": rec["RECORDNO"],
                "RECORDKEY": ar["RECORDNO"],
                "PAYMENTDATE": received,
                "CURRENCY": rec["CURRENCY"],
                "STATE": "C",
                "WHENCREATED": received,
                "TRX_PAYMENTAMOUNT": fmt_number(amount),
                "PAYMENTAMOUNT": fmt_number(amount),
            },
        )
        ar["_LASTPAID"] = received
        paid = dec(ar["TOTALPAID"]) + amount
        set_amounts(ar, total, paid)
        if paid != 0:
            ar[EVER_APPLIED] = "1"
        ar["STATE"] = ar_state(ar)
        ar["WHENPAID"] = ar["_LASTPAID"] if ar["STATE"] == "Paid" else ""
        self.writer.touch(ar)
        doc["TOTALPAID"] = doc["TRX_TOTALPAID"] = fmt_number(abs(dec(ar["TOTALPAID"])))
        doc["TOTALDUE"] = doc["TRX_TOTALDUE"] = fmt_number(abs(dec(ar["TOTALDUE"])))
        self.writer.touch(doc)

    # -- customers' TOTALDUE and the write ----------------------------------------------------------
    def _refresh_customers(self) -> None:
        """ledger.refresh_customer for every customer with a seeded A/R record: TOTALDUE is the
        sum of the customer's open A/R (without moving the customer's WHENMODIFIED)."""
        due: dict[str, Decimal] = {}
        for obj, rec in self.writer.rows:
            if obj in ("ARINVOICE", "ARADJUSTMENT"):
                cid = rec.get("CUSTOMERID", "")
                due[cid] = due.get(cid, Decimal(0)) + dec(rec.get("TOTALDUE", "0"))
        if not due:
            return
        existing = self.store.db.execute(
            "SELECT json_extract(data, '$.CUSTOMERID'), json_extract(data, '$.TOTALDUE') FROM records "
            "WHERE company=? AND object IN ('ARINVOICE', 'ARADJUSTMENT')",
            (self.company,),
        )
        for cid, value in existing:
            if cid in due:
                due[cid] += dec(str(value or "0"))
        for cust in self.new_customers:
            if cust["CUSTOMERID"] in due:
                cust["TOTALDUE"] = fmt_number(due[cust["CUSTOMERID"]])
        new = {c["RECORDNO"] for c in self.new_customers}
        updates = []
        for cust in self.store.all(self.company, "CUSTOMER"):
            if cust["RECORDNO"] not in new and cust.get("CUSTOMERID") in due:
                cust["TOTALDUE"] = fmt_number(due[cust["CUSTOMERID"]])
                updates.append((json.dumps(cust), self.company, "CUSTOMER", int(cust["RECORDNO"])))
        self.store.db.executemany(
            "UPDATE records SET data=? WHERE company=? AND object=? AND recordno=?", updates
        )

    def _flush(self) -> None:
        self.store.db.executemany(
            "INSERT INTO records(company, object, recordno, data) VALUES(?, ?, ?, ?)",
            ((self.company, obj, int(rec["RECORDNO"]), _to_json(rec)) for obj, rec in self.writer.rows),
        )
        self.store.db.execute(
            "INSERT INTO seq(company, next) VALUES(?, ?) ON CONFLICT(company) DO UPDATE SET next=excluded.next",
            (self.company, self.writer.next_no),
        )
