"""Customers: Blixo customer <-> Intacct CUSTOMER."""

from __future__ import annotations

from typing import Any

from bisync.blixo.api import CustomerStatus
from bisync.blixo.models import Customer
from bisync.intacct.functions import Address, CustomerInput
from bisync.intacct.models import Customer as IntacctCustomer
from bisync.mapping.common import canonical_hash, intacct_id


def customer_id_for(customer: Customer) -> str:
    """The Intacct CUSTOMERID: Blixo's customerNo (the number both ledgers show), else an id
    derived from the Blixo id."""
    return intacct_id(customer.customer_no or customer.id)


def canonical(customer: Customer) -> dict[str, Any]:
    """What a sync of this customer depends on (nothing else triggers a write)."""
    addr = customer.address
    return {
        "customerId": customer_id_for(customer),
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "address": addr.model_dump(mode="json") if addr else None,
        "currency": customer.currency,
        "status": customer.status.value,
    }


def customer_hash(customer: Customer) -> str:
    return canonical_hash(canonical(customer))


def to_intacct(customer: Customer) -> CustomerInput:
    addr = customer.address
    return CustomerInput(
        customer_id=customer_id_for(customer),
        name=customer.name,
        status="inactive" if customer.status is CustomerStatus.ARCHIVED else "active",
        email=customer.email,
        phone=customer.phone,
        address=(
            Address(
                address1=addr.line1,
                address2=addr.line2,
                city=addr.city,
                state=addr.state,
                zip=addr.postal_code,
                country=addr.country,
            )
            if addr
            else None
        ),
        currency=customer.currency.upper() if customer.currency else None,
    )


# ------------------------------------------------------------------ Intacct -> Blixo


def from_intacct(record: IntacctCustomer) -> dict[str, Any]:
    """The Blixo customer body for an Intacct CUSTOMER (pull); also its canonical form."""
    # DISPLAYCONTACT is the customer's own contact; BILLTO fills what it leaves empty.
    contacts = [c for c in (record.displaycontact, record.billto) if c is not None]
    addresses = [c.mailaddress for c in contacts if c.mailaddress is not None]

    def first(values: list[str | None]) -> str | None:
        return next((v for v in values if v), None)

    addr = next(
        (a for a in addresses if any((a.address1, a.address2, a.city, a.state, a.zip, a.country))), None
    )
    body: dict[str, Any] = {
        "customerNo": record.customerid,
        "name": record.name or record.customerid,
        "email": first([c.email1 for c in contacts]),
        "phone": first([c.phone1 for c in contacts]),
        "address": (
            {
                "line1": addr.address1,
                "line2": addr.address2,
                "city": addr.city,
                "state": addr.state,
                "postalCode": addr.zip,
                "country": addr.country,
            }
            if addr
            else None
        ),
        "currency": record.currency or None,
        "paymentTerms": record.termname or None,
        "status": "archived" if (record.status or "").lower() == "inactive" else "active",
    }
    return {k: v for k, v in body.items() if v is not None}


INTACCT_FIELDS = (
    "RECORDNO",
    "CUSTOMERID",
    "NAME",
    "STATUS",
    "DISPLAYCONTACT.EMAIL1",
    "DISPLAYCONTACT.PHONE1",
    "DISPLAYCONTACT.MAILADDRESS.ADDRESS1",
    "DISPLAYCONTACT.MAILADDRESS.ADDRESS2",
    "DISPLAYCONTACT.MAILADDRESS.CITY",
    "DISPLAYCONTACT.MAILADDRESS.STATE",
    "DISPLAYCONTACT.MAILADDRESS.ZIP",
    "DISPLAYCONTACT.MAILADDRESS.COUNTRY",
    "TERMNAME",
    "CURRENCY",
    "WHENMODIFIED",
)
