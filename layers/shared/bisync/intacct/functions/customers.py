"""CUSTOMER: generic create and update."""

from __future__ import annotations

from bisync.intacct.functions.base import Function, Input, Lookup
from bisync.intacct.functions.generic import create, update
from bisync.intacct.xml import Payload


class Address(Input):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class CustomerInput(Input):
    customer_id: str
    name: str
    status: str | None = None  # active / inactive
    email: str | None = None
    phone: str | None = None
    company_name: str | None = None
    print_as: str | None = None
    address: Address | None = None
    term_name: str | None = None
    currency: str | None = None
    parent_id: str | None = None

    def to_values(self, *, include_id: bool = True) -> Payload:
        addr = self.address
        return {
            "CUSTOMERID": self.customer_id if include_id else None,
            "NAME": self.name,
            "STATUS": self.status,
            "DISPLAYCONTACT": {
                "PRINTAS": self.print_as or self.name,
                "COMPANYNAME": self.company_name,
                "EMAIL1": self.email,
                "PHONE1": self.phone,
                "MAILADDRESS": (
                    {
                        "ADDRESS1": addr.address1,
                        "ADDRESS2": addr.address2,
                        "CITY": addr.city,
                        "STATE": addr.state,
                        "ZIP": addr.zip,
                        "COUNTRY": addr.country,
                    }
                    if addr
                    else None
                ),
            },
            "TERMNAME": self.term_name,
            "CURRENCY": self.currency,
            "PARENTID": self.parent_id,
        }


def create_customer(customer: CustomerInput, *, controlid: str) -> Function:
    return create(
        "CUSTOMER",
        customer.to_values(),
        controlid=controlid,
        lookup=Lookup("CUSTOMER", (("CUSTOMERID", customer.customer_id),)),
    )


def update_customer(customer: CustomerInput, *, controlid: str) -> Function:
    return update("CUSTOMER", customer.to_values(), controlid=controlid)
