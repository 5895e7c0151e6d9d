"""Customers: Blixo customer <-> Intacct CUSTOMER."""

from __future__ import annotations

from typing import Any

from bisync.blixo.api import CustomerStatus
from bisync.blixo.models import Customer
from bisync.intacct.functions import Address, CustomerInput
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
