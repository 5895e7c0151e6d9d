"""Typed builders of gateway functions, one module per object.

Each builder returns a `Function` (name, controlid, payload) that the client can send alone
or batched with others. Write builders require the caller's deterministic controlid (the
idempotency key under uniqueid=true) and carry a `Lookup` that finds the record they made
if a retry is refused as already done. Legacy (`create_*`) payloads keep the schema's strict
element order and split dates; generic ones use mm/dd/yyyy.
"""

from bisync.intacct.functions.adjustments import (
    AdjustmentInput,
    AdjustmentLineInput,
    AdjustmentLineUpdate,
    AdjustmentUpdateInput,
    create_aradjustment,
    delete_aradjustment,
    update_aradjustment,
)
from bisync.intacct.functions.base import (
    MAX_QUERY_PAGESIZE,
    MAX_READ_KEYS,
    MAX_READBYQUERY_PAGESIZE,
    Function,
    Input,
    Lookup,
    money,
    new_controlid,
)
from bisync.intacct.functions.customers import Address, CustomerInput, create_customer, update_customer
from bisync.intacct.functions.generic import create, delete, update
from bisync.intacct.functions.invoices import (
    InvoiceInput,
    InvoiceLineInput,
    InvoiceLineUpdate,
    InvoiceUpdateInput,
    create_invoice,
    reverse_invoice,
    update_invoice,
)
from bisync.intacct.functions.orderentry import (
    SoLineInput,
    SoTransactionInput,
    SoTransactionUpdateInput,
    create_sotransaction,
    update_sotransaction,
)
from bisync.intacct.functions.payments import (
    ArPaymentDetailInput,
    ArPaymentInput,
    ArPymtInput,
    PaymentApplicationInput,
    apply_arpayment,
    create_arpayment,
    create_arpymt,
    reverse_arpayment,
)
from bisync.intacct.functions.reads import (
    get_api_session,
    query,
    read,
    read_by_name,
    read_by_query,
    read_more,
)

__all__ = [
    "MAX_QUERY_PAGESIZE",
    "MAX_READBYQUERY_PAGESIZE",
    "MAX_READ_KEYS",
    "Address",
    "AdjustmentInput",
    "AdjustmentLineInput",
    "AdjustmentLineUpdate",
    "AdjustmentUpdateInput",
    "ArPaymentDetailInput",
    "ArPaymentInput",
    "ArPymtInput",
    "CustomerInput",
    "Function",
    "Input",
    "InvoiceInput",
    "InvoiceLineInput",
    "InvoiceLineUpdate",
    "InvoiceUpdateInput",
    "Lookup",
    "PaymentApplicationInput",
    "SoLineInput",
    "SoTransactionInput",
    "SoTransactionUpdateInput",
    "apply_arpayment",
    "create",
    "create_aradjustment",
    "create_arpayment",
    "create_arpymt",
    "create_customer",
    "create_invoice",
    "create_sotransaction",
    "delete",
    "delete_aradjustment",
    "get_api_session",
    "money",
    "new_controlid",
    "query",
    "read",
    "read_by_name",
    "read_by_query",
    "read_more",
    "reverse_arpayment",
    "reverse_invoice",
    "update",
    "update_aradjustment",
    "update_customer",
    "update_invoice",
    "update_sotransaction",
]
