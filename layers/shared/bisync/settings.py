"""A tenant's sync settings: Blixo's "Settings -> Accounting Sync" for one Blixo account."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class Flows(BaseModel):
    """Which flows are on. Pull = Intacct -> Blixo, push = Blixo -> Intacct."""

    model_config = ConfigDict(extra="forbid")

    pull_customers: bool = True
    pull_invoices: bool = True
    pull_credit_notes: bool = True
    pull_payments: bool = True
    push_customers: bool = True
    push_invoices: bool = True
    push_credit_notes: bool = True
    push_payments: bool = True
    push_convenience_fees: bool = True

    @property
    def any_pull(self) -> bool:
        return self.pull_customers or self.pull_invoices or self.pull_credit_notes or self.pull_payments

    @property
    def any_push(self) -> bool:
        return (
            self.push_customers
            or self.push_invoices
            or self.push_credit_notes
            or self.push_payments
            or self.push_convenience_fees
        )


class AccountMappings(BaseModel):
    """Intacct GL accounts and bank account the pushed documents post to."""

    model_config = ConfigDict(extra="forbid")

    revenue_account: str = "4000"
    ar_account: str = "1200"
    undeposited_funds_account: str = "1500"
    convenience_fee_account: str = "4900"
    bank_account_id: str | None = None
    location_id: str | None = None
    department_id: str | None = None


class TenantSettings(BaseModel):
    """Everything the sync needs to know about one tenant, except its secrets."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    name: str = ""
    enabled: bool = True
    flows: Flows = Field(default_factory=Flows)
    accounts: AccountMappings = Field(default_factory=AccountMappings)
    # Documents dated before this are never synced (a tenant's history stays where it is).
    start_date: date | None = None
    # Intacct multi-entity: the entity (LOCATIONENTITY) the tenant's records live in.
    entity_id: str | None = None
    # Pull reads overlap by this much, because Intacct stamps long imports with their start time.
    lookback_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    # Requests in flight per Intacct company (the default performance tier allows 2).
    intacct_concurrency: int = Field(default=2, ge=1, le=10)
    # Secrets Manager secret holding Intacct and Blixo credentials and webhook secrets.
    secret_name: str = ""

    @field_validator("tenant_id")
    @classmethod
    def _valid_tenant_id(cls, value: str) -> str:
        if not TENANT_ID_PATTERN.fullmatch(value):
            raise ValueError("tenant id must be 1-64 letters, digits, '-' or '_'")
        return value

    @property
    def pull_enabled(self) -> bool:
        return self.enabled and self.flows.any_pull

    @property
    def push_enabled(self) -> bool:
        return self.enabled and self.flows.any_push
