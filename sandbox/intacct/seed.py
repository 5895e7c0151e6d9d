"""Default company data and bulk seeding for benchmarks."""

from __future__ import annotations

from typing import Any

from sandbox.intacct.store import Store

COMPANY_ID = "SANDBOX"
SENDER_ID = "blixo-sandbox"
SENDER_PASSWORD = "sandbox-sender"
USER_ID = "blixo"
USER_PASSWORD = "sandbox-user"
ENTITIES = ("E100", "E200")

DEFAULT_SETTINGS: dict[str, Any] = {
    "users": {USER_ID: USER_PASSWORD},
    "senders": [SENDER_ID],
    "session_timeout_s": 3600.0,
    "result_ttl_s": 900.0,
    "concurrency_limit": 2,
    # A/R is closed through this date (internal yyyy-mm-dd): earlier documents are refused.
    "closed_through": "2019-12-31",
    "base_currency": "USD",
}

# A second Web Services sender Intacct knows but the company has not authorised: what an
# operator meets when a tenant's company never added the integration's sender.
UNAUTHORISED_SENDER_ID = "other-partner"
UNAUTHORISED_SENDER_PASSWORD = "other-partner-pw"
SENDERS = {SENDER_ID: SENDER_PASSWORD, UNAUTHORISED_SENDER_ID: UNAUTHORISED_SENDER_PASSWORD}

_GL = [
    ("1000", "Cash - Operating", "balancesheet", "debit", "Cash and Cash Equivalents"),
    ("1010", "Cash - First Sandbox Bank Checking", "balancesheet", "debit", "Cash and Cash Equivalents"),
    ("1200", "Accounts Receivable", "balancesheet", "debit", "Accounts Receivable"),
    ("1500", "Undeposited Funds", "balancesheet", "debit", "Cash and Cash Equivalents"),
    ("2100", "Sales Tax Payable", "balancesheet", "credit", "Other Current Liabilities"),
    ("4000", "Sales Revenue", "incomestatement", "credit", "Revenue"),
    ("4100", "Service Revenue", "incomestatement", "credit", "Revenue"),
    ("4900", "Convenience Fee Income", "incomestatement", "credit", "Other Income"),
    ("4950", "Sales Returns and Allowances", "incomestatement", "debit", "Revenue"),
]

_ITEMS = [
    ("WIDGET", "Widget", "Non-Inventory (Sales only)", "25", "4000"),
    ("CONSULT-HR", "Consulting hour", "Non-Inventory (Sales only)", "150", "4100"),
    ("SUBSCRIPTION", "Monthly subscription", "Non-Inventory (Sales only)", "99", "4100"),
    ("CONV-FEE", "Convenience fee", "Non-Inventory (Sales only)", "3", "4900"),
]

_TERMS = [("N30", "Net 30", "30"), ("N15", "Net 15", "15"), ("DUE", "Due on receipt", "0")]


def load_defaults(store: Store, company: str = COMPANY_ID) -> None:
    """The reference data every fresh sandbox company has."""
    store.put_settings(company, dict(DEFAULT_SETTINGS))
    created = "2020-01-01 00:00:00"

    def add(obj: str, data: dict[str, str]) -> dict[str, str]:
        data = {"WHENCREATED": created, **data}
        return store.insert(company, obj, data)

    for loc, name in zip(ENTITIES, ("Sandbox US East", "Sandbox US West"), strict=True):
        add(
            "LOCATIONENTITY",
            {
                "LOCATIONID": loc,
                "NAME": name,
                "REPORTPRINTAS": name,
                "CURRENCY": "USD",
                "STATUS": "active",
                "STARTDATE": "2020-01-01",
                "FIRSTMONTH": "January",
                "OPCOUNTRY": "United States",
                "LEGALNAME": f"{name} LLC",
                "LEGALCOUNTRY": "United States",
                "ADDRESSCOUNTRYDEFAULT": "United States",
            },
        )
        add(
            "LOCATION",
            {
                "LOCATIONID": loc,
                "NAME": name,
                "PARENTID": "",
                "STATUS": "active",
                "CURRENCY": "USD",
                "ENTITY": loc,
            },
        )
    for acct, title, kind, normal, category in _GL:
        add(
            "GLACCOUNT",
            {
                "ACCOUNTNO": acct,
                "TITLE": title,
                "ACCOUNTTYPE": kind,
                "NORMALBALANCE": normal,
                "CLOSINGTYPE": "non-closing account" if kind == "balancesheet" else "closed to account",
                "STATUS": "active",
                "CATEGORY": category,
                "REQUIREDEPT": "false",
                "REQUIRELOC": "false",
            },
        )
    add(
        "CHECKINGACCOUNT",
        {
            "BANKACCOUNTID": "BOA-CHK",
            "BANKACCOUNTNO": "000123456789",
            "GLACCOUNTNO": "1010",
            "BANKNAME": "First Sandbox Bank",
            "ROUTINGNO": "021000021",
            "BANKACCOUNTTYPE": "checking",
            "STATUS": "active",
            "CURRENCY": "USD",
            "COMPANYNAME": "Sandbox Inc",
        },
    )
    for item_id, name, kind, price, gl in _ITEMS:
        add(
            "ITEM",
            {
                "ITEMID": item_id,
                "NAME": name,
                "ITEMTYPE": kind,
                "STATUS": "active",
                "BASEPRICE": price,
                "INCOMEGLACCOUNTNO": gl,
                "MRR": "false",
                "GLGROUP": "Sales",
            },
        )
    for name, desc, days in _TERMS:
        add(
            "ARTERM",
            {
                "NAME": name,
                "DESCRIPTION": desc,
                "STATUS": "active",
                "DUEDATE": days,
                "DUEFROM": "from invoice/bill date",
            },
        )
    for docid, category, desc in (
        ("Sales Invoice", "Invoice", "Posts an A/R invoice"),
        ("Sales Return", "Return", "Posts an A/R adjustment (credit memo)"),
    ):
        add(
            "SODOCUMENTPARAMS",
            {
                "DOCID": docid,
                "DOCCLASS": category,
                "CATEGORY": category,
                "DESCRIPTION": desc,
                "STATUS": "active",
                "UPDATES_GL": "Accounts Receivable",
                "UPDATES_INV": "No",
                "SALE_PUR_TRANS": "Sale",
                "TD_CREATION_RULE": "Top level or entity",
            },
        )
