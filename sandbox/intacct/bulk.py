"""Bulk seeding for benchmarks: N customers, invoices (with one line) and payments, inserted directly."""

from __future__ import annotations

from typing import Any

from sandbox.intacct.store import Store
from sandbox.intacct.values import now_ts


def seed_records(store: Store, company: str, payload: dict[str, Any]) -> dict[str, int]:
    """`{"n": 100}` seeds 100 of each kind; `customers`/`invoices`/`payments` override per kind.
    Invoices go round-robin over the seeded customers; each payment pays one invoice in full."""
    if store.settings(company) is None:
        raise ValueError(f"unknown company {company}")
    n = int(payload.get("n", 0))
    n_cust = int(payload.get("customers", n))
    n_inv = int(payload.get("invoices", n))
    n_pay = min(int(payload.get("payments", n)), n_inv)
    prefix = str(payload.get("prefix", "SEED"))
    start = store.count(company, "CUSTOMER")
    store.begin()
    try:
        customers = []
        for i in range(n_cust):
            cid = f"{prefix}-C{start + i + 1:06d}"
            name = f"Seed Customer {start + i + 1}"
            customers.append(
                store.insert(
                    company,
                    "CUSTOMER",
                    {
                        "CUSTOMERID": cid,
                        "NAME": name,
                        "STATUS": "active",
                        "TOTALDUE": "0",
                        "ONETIME": "false",
                        "ONHOLD": "false",
                        "WHENCREATED": now_ts(),
                        "DISPLAYCONTACT.PRINTAS": name,
                        "DISPLAYCONTACT.COMPANYNAME": name,
                        "DISPLAYCONTACT.EMAIL1": f"{cid.lower()}@example.com",
                        "TERMNAME": "N30",
                        "CURRENCY": "USD",
                        "ENTITY": f"C{cid}",
                        "MEGAENTITYID": "",
                    },
                )
            )
        if not customers:
            customers = store.all(company, "CUSTOMER")
        invoices = []
        for i in range(n_inv if customers else 0):
            cust = customers[i % len(customers)]
            amount = str(100 + (i % 50))
            paid = i < n_pay
            inv = store.insert(
                company,
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
            store.insert(
                company,
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
        for i in range(n_pay):
            inv = invoices[i]
            pay = store.insert(
                company,
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
                    "DOCNUMBER": f"{prefix}-PAY-{i + 1:06d}",
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
            store.insert(
                company,
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
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return {"customers": n_cust, "invoices": len(invoices), "payments": n_pay}
