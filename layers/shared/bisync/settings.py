"""A tenant's sync settings: Blixo's "Settings -> Accounting Sync" for one Blixo account."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
WILDCARD = "*"
# Blixo's payment methods (bisync.blixo.api.PaymentMethod; a test keeps the two equal).
PAYMENT_METHODS = ("check", "cash", "ach", "wire", "credit_card", "other")
DEFAULT_EXCHANGE_RATE_TYPE = "Intacct Daily Rate"


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


class BankAccountRule(BaseModel):
    """Payments of `method` in `currency` deposit to `bank_account_id`; `*` matches any."""

    model_config = ConfigDict(extra="forbid")

    method: str = WILDCARD  # a Blixo payment method (check, cash, ach, wire, credit_card, other)
    currency: str = WILDCARD
    bank_account_id: str = Field(min_length=1)

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        # A misspelt method would never match and silently send every payment elsewhere.
        if value != WILDCARD and value not in PAYMENT_METHODS:
            raise ValueError(f"method must be * or one of {', '.join(PAYMENT_METHODS)}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if value != WILDCARD and not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError("currency must be * or a 3-letter ISO code")
        return value

    def matches(self, method: str | None, currency: str | None) -> bool:
        return self.method in (WILDCARD, method or "") and self.currency.upper() in (
            WILDCARD,
            (currency or "").upper(),
        )


class AccountMappings(BaseModel):
    """Intacct GL accounts, bank accounts and dimensions the pushed documents post to."""

    model_config = ConfigDict(extra="forbid")

    revenue_account: str = "4000"
    tax_account: str = "2100"
    discount_account: str = "4950"
    ar_account: str = "1200"
    undeposited_funds_account: str = "1500"
    convenience_fee_account: str = "4900"
    # Bank accounts by payment method x currency, first match wins; no match: undeposited funds.
    bank_accounts: list[BankAccountRule] = Field(default_factory=list)
    # Kept for settings stored before the rules existed: a catch-all bank account.
    bank_account_id: str | None = None
    # Where an unapplied remainder (overpayment) posts.
    overpayment_location_id: str | None = None
    overpayment_department_id: str | None = None
    # Default dimensions of every line (a line's metadata may override them).
    location_id: str | None = None
    department_id: str | None = None
    class_id: str | None = None

    def bank_account_for(self, method: str | None, currency: str | None) -> str | None:
        for rule in self.bank_accounts:
            if rule.matches(method, currency):
                return rule.bank_account_id
        return self.bank_account_id


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
    # The Intacct company's base currency; documents in another currency name a rate type.
    base_currency: str = Field(default="USD", min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")
    exchange_rate_type: str = Field(default=DEFAULT_EXCHANGE_RATE_TYPE, min_length=1)
    # Blixo payment terms -> Intacct term names (a term not listed is sent as Blixo names it).
    terms: dict[str, str] = Field(default_factory=dict)
    # Order Entry transaction definitions the pull reads as invoices and as credit notes.
    invoice_definitions: list[str] = Field(default_factory=lambda: ["Sales Invoice"], min_length=1)
    return_definitions: list[str] = Field(default_factory=lambda: ["Sales Return"])
    # Pull reads overlap by this much, because Intacct stamps long imports with their start time.
    lookback_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    # Requests in flight per Intacct company (the default performance tier allows 2).
    intacct_concurrency: int = Field(default=2, ge=1, le=10)
    # Blixo writes in flight during a pull (Blixo allows 20 per key).
    blixo_concurrency: int = Field(default=10, ge=1, le=20)
    # Secrets Manager secret holding Intacct and Blixo credentials and webhook secrets.
    secret_name: str = ""

    @field_validator("tenant_id")
    @classmethod
    def _valid_tenant_id(cls, value: str) -> str:
        if not TENANT_ID_PATTERN.fullmatch(value):
            raise ValueError("tenant id must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("base_currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not value.isascii() or not value.isalpha():
            raise ValueError("base_currency must be a 3-letter ISO code")
        return value.upper()

    @model_validator(mode="after")
    def _distinct_definitions(self) -> TenantSettings:
        if set(self.invoice_definitions) & set(self.return_definitions):
            raise ValueError("a transaction definition cannot be both an invoice and a return")
        return self

    @property
    def pull_enabled(self) -> bool:
        return self.enabled and self.flows.any_pull

    @property
    def push_enabled(self) -> bool:
        return self.enabled and self.flows.any_push

    def before_start(self, day: date | None) -> bool:
        """True if a document of this date is older than the tenant's start date (skipped)."""
        return self.start_date is not None and day is not None and day < self.start_date
