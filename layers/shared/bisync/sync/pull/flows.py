"""The pull's flows, one module per object (customers, documents, payments): what each reads
in Intacct and how it writes to Blixo. Every flow plans a page in the main thread (mappings
read in one batch), runs its Blixo writes with bounded concurrency, then records mappings and
sync errors. Nothing is written when a record's canonical form did not change; Blixo-owned
records are never overwritten."""

from bisync.sync.pull.customers import CUSTOMERS, ensure_customers, pull_customers
from bisync.sync.pull.documents import CREDIT_NOTES, INVOICES, pull_documents
from bisync.sync.pull.payments import PAYMENTS, pending_payment_keys, pull_payments, tie_reversals
from bisync.sync.pull.specs import FlowSpec, base_filter

__all__ = [
    "CREDIT_NOTES",
    "CUSTOMERS",
    "INVOICES",
    "PAYMENTS",
    "FlowSpec",
    "base_filter",
    "ensure_customers",
    "pending_payment_keys",
    "pull_customers",
    "pull_documents",
    "pull_payments",
    "tie_reversals",
]
