"""One classifier over both clients' errors: transient (retry the message) or business (the
object's sync error; the queue goes on)."""

from __future__ import annotations

from bisync.blixo import errors as blixo_errors
from bisync.intacct import errors as intacct_errors
from bisync.mapping.common import MappingError
from bisync.secrets import TenantSecretsError
from bisync.store.mappings import MappingConflictError
from bisync.store.models import ErrorLevel


class SyncFailure(Exception):
    """Base of what a sync step raises on purpose."""


class TransientSyncError(SyncFailure):
    """Worth trying again later: the SQS message fails and is redelivered (then the DLQ)."""


class BusinessSyncError(SyncFailure):
    """Retrying cannot fix it: it becomes the object's sync error, with Intacct's number."""

    def __init__(self, message: str, *, errorno: str | None = None, level: ErrorLevel = ErrorLevel.ERROR):
        super().__init__(message)
        self.message = message
        self.errorno = errorno
        self.level = level


def classify(exc: BaseException) -> SyncFailure | None:
    """The sync meaning of an exception; None for a bug (let it fail the message loudly)."""
    if isinstance(exc, SyncFailure):
        return exc
    if isinstance(exc, intacct_errors.IntacctError):
        if exc.retryable or isinstance(
            exc, intacct_errors.AuthenticationError | intacct_errors.UnsafeEndpointError
        ):
            # Credentials and endpoints are the tenant's configuration: the message waits in
            # the queue (then the DLQ, for replay) until an operator fixes them.
            return TransientSyncError(f"Intacct: {exc.message}")
        return BusinessSyncError(exc.message, errorno=exc.errorno)
    if isinstance(exc, blixo_errors.BlixoError):
        if isinstance(exc, blixo_errors.TransientError | blixo_errors.AuthenticationError):
            return TransientSyncError(f"Blixo: {exc}")
        return BusinessSyncError(f"Blixo: {exc}")
    if isinstance(exc, MappingError | MappingConflictError):
        return BusinessSyncError(str(exc))
    if isinstance(exc, TenantSecretsError):
        return TransientSyncError(str(exc))
    return None
