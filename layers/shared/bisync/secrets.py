"""Per-tenant credentials, kept in one Secrets Manager secret per tenant (never in code or logs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class IntacctCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_id: str
    sender_password: SecretStr
    company_id: str
    user_id: str
    user_password: SecretStr
    entity_id: str | None = None


class TenantSecrets(BaseModel):
    """The JSON document stored at `<TENANT_SECRET_PREFIX><tenant id>`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intacct: IntacctCredentials
    blixo_api_key: SecretStr
    # The current webhook secret first; during a rotation the previous one follows it.
    webhook_secrets: list[SecretStr] = Field(min_length=1, max_length=2)


def tenant_secret_name(prefix: str, tenant_id: str) -> str:
    return f"{prefix}{tenant_id}"
