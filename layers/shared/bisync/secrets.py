"""Per-tenant credentials, kept in one Secrets Manager secret per tenant (never in code or logs).

No model here may echo its input in an error: pydantic puts the offending input into every
validation error by default, and a malformed document would then carry the plaintext
secrets into the exception the runtime logs. `parse_tenant_secrets` reports only where the
document is wrong and what was expected there.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

_SECRET_MODEL = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
# An empty secret is no secret: refused when the document is read, not when it is first used.
Secret = Annotated[SecretStr, Field(min_length=1)]


class TenantSecretsError(Exception):
    """The tenant's secret is missing, unreadable or malformed. The message names the tenant and
    what is wrong, never a value of the document."""

    def __init__(self, tenant_id: str, problem: str) -> None:
        super().__init__(f"tenant {tenant_id!r}: secret {problem}")
        self.tenant_id = tenant_id
        self.problem = problem


class IntacctCredentials(BaseModel):
    model_config = _SECRET_MODEL

    sender_id: str = Field(min_length=1)
    sender_password: Secret
    company_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    user_password: Secret
    entity_id: str | None = None


class TenantSecrets(BaseModel):
    """The JSON document stored at `<TENANT_SECRET_PREFIX><tenant id>`."""

    model_config = _SECRET_MODEL

    intacct: IntacctCredentials
    blixo_api_key: Secret
    # The current webhook secret first; during a rotation the previous one follows it.
    webhook_secrets: list[Secret] = Field(min_length=1, max_length=2)


# The names a location may show: a key the models do not know is anybody's text, a secret
# pasted as a key included.
_KNOWN_FIELDS = frozenset(TenantSecrets.model_fields) | frozenset(IntacctCredentials.model_fields)


def _named(part: str | int) -> str:
    return str(part) if isinstance(part, int) or part in _KNOWN_FIELDS else "<an unknown field>"


def tenant_secret_name(prefix: str, tenant_id: str) -> str:
    return f"{prefix}{tenant_id}"


def parse_tenant_secrets(tenant_id: str, document: str | bytes | dict[str, Any]) -> TenantSecrets:
    """The tenant's secret document as TenantSecrets, or a TenantSecretsError that says which
    fields are wrong (location and pydantic's error type only)."""
    problem: str | None = None
    secrets: TenantSecrets | None = None
    raw: Any = document
    if isinstance(document, str | bytes):
        try:
            raw = json.loads(document)
        except ValueError:
            # json's message quotes part of the document: say only that it is not JSON.
            problem = "is not a JSON document"
        except RecursionError:
            problem = "is not a usable JSON document (nested too deep)"
    if problem is None:
        try:
            secrets = TenantSecrets.model_validate(raw)
        except PydanticValidationError as exc:
            problem = "document is malformed: " + "; ".join(
                f"{'.'.join(_named(p) for p in err['loc']) or '(root)'}: {err['type']}"
                for err in exc.errors()[:10]
            )
        except RecursionError:
            problem = "document is malformed: nested too deep"
    # Raised here, outside any except block: no __context__ holding the validation error.
    if secrets is None:
        raise TenantSecretsError(tenant_id, problem or "is malformed")
    return secrets
