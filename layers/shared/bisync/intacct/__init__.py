"""Sage Intacct XML gateway client (sessions, batches, typed outcomes and errors, paging)."""

from bisync.intacct.client import IntacctClient
from bisync.intacct.errors import (
    AuthenticationError,
    BusinessError,
    ErrorDetail,
    IntacctError,
    OutcomeUnknownError,
    RateLimitError,
    TransientError,
)
from bisync.intacct.filters import F, Filter
from bisync.intacct.functions import Function, Lookup
from bisync.intacct.limiter import CompanyLimiter
from bisync.intacct.outcome import Outcome, OutcomeStatus
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials
from bisync.intacct.transport import HttpResponse, RequestsTransport, Timeouts

__all__ = [
    "AuthenticationError",
    "BusinessError",
    "CompanyLimiter",
    "Credentials",
    "ErrorDetail",
    "F",
    "Filter",
    "Function",
    "HttpResponse",
    "IntacctClient",
    "IntacctError",
    "Lookup",
    "Outcome",
    "OutcomeStatus",
    "OutcomeUnknownError",
    "RateLimitError",
    "RequestsTransport",
    "RetryPolicy",
    "Timeouts",
    "TransientError",
]
