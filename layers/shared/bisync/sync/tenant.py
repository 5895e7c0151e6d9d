"""The one path from a tenant to its ready clients: settings + secret + runtime config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bisync.blixo.client import BlixoClient
from bisync.blixo.models import CreditNote, Customer, Invoice, Payment
from bisync.config import RuntimeConfig
from bisync.intacct.client import IntacctClient
from bisync.intacct.limiter import LeaseLimiter, SlotLeases
from bisync.intacct.retry import RetryPolicy
from bisync.intacct.session import Credentials
from bisync.intacct.transport import Timeouts, Transport
from bisync.secrets import TenantSecrets
from bisync.settings import TenantSettings

# A lease outlives the longest request by this much (the request's deadline ends it first).
LEASE_MARGIN_SECONDS = 5.0


@dataclass
class TenantClients:
    settings: TenantSettings
    intacct: IntacctClient
    blixo: BlixoClient

    def close(self) -> None:
        self.blixo.close()


def intacct_client(
    settings: TenantSettings,
    secrets: TenantSecrets,
    config: RuntimeConfig,
    *,
    slots: SlotLeases,
    transport: Transport | None = None,
    retry: RetryPolicy | None = None,
    deadline_seconds: float | None = None,
    slot_wait_seconds: float = 20.0,
    slot_wait_limit: Callable[[], float] | None = None,
) -> IntacctClient:
    deadline = deadline_seconds or config.intacct_request_deadline_seconds
    timeouts = Timeouts(
        read=min(300.0, deadline), total=deadline, max_response_bytes=config.intacct_max_response_bytes
    )
    secret = secrets.intacct
    if settings.entity_id and not secret.entity_id:
        # The tenant's entity (a setting) decides where it logs in.
        secret = secret.model_copy(update={"entity_id": settings.entity_id})
    credentials = Credentials.for_gateway(
        secret, config.intacct_endpoint_url, tuple(config.intacct_allowed_hosts)
    )
    limiter = LeaseLimiter(
        slots,
        settings.tenant_id,
        settings.intacct_concurrency,
        lease_seconds=deadline + LEASE_MARGIN_SECONDS,
        max_wait=slot_wait_seconds,
        wait_limit=slot_wait_limit,
    )
    return IntacctClient(credentials, transport=transport, retry=retry, limiter=limiter, timeouts=timeouts)


def blixo_client(secrets: TenantSecrets, config: RuntimeConfig, **options: Any) -> BlixoClient:
    return BlixoClient(secrets.blixo_api_key, config.blixo_api_url, **options)


def connect(
    settings: TenantSettings,
    secrets: TenantSecrets,
    config: RuntimeConfig,
    *,
    slots: SlotLeases,
    intacct_options: dict[str, Any] | None = None,
    blixo_options: dict[str, Any] | None = None,
) -> TenantClients:
    return TenantClients(
        settings=settings,
        intacct=intacct_client(settings, secrets, config, slots=slots, **(intacct_options or {})),
        blixo=blixo_client(secrets, config, **(blixo_options or {})),
    )


class BlixoRecords:
    """BlixoReads over the REST client (what a push reads of its dependencies)."""

    def __init__(self, client: BlixoClient) -> None:
        self._client = client

    def customer(self, customer_id: str) -> Customer:
        return self._client.customers.get(customer_id)

    def invoice(self, invoice_id: str) -> Invoice:
        return self._client.invoices.get(invoice_id)

    def credit_note(self, credit_note_id: str) -> CreditNote:
        return self._client.credit_notes.get(credit_note_id)

    def payment(self, payment_id: str) -> Payment:
        return self._client.payments.get(payment_id)
