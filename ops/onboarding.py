"""Onboard a tenant: its settings in the sync table and its credentials in Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from bisync.secrets import TenantSecrets, tenant_secret_name
from bisync.settings import TenantSettings
from bisync.store import SyncStore


def secret_document(secrets: TenantSecrets) -> str:
    """The JSON stored in Secrets Manager: the model's own fields, SecretStr values revealed
    (they are masked in every other dump)."""
    return json.dumps(
        secrets.model_dump(),
        default=lambda value: value.get_secret_value() if isinstance(value, SecretStr) else str(value),
    )


def onboard_tenant(
    store: SyncStore, secretsmanager: Any, prefix: str, settings: TenantSettings, secrets: TenantSecrets
) -> TenantSettings:
    """Create or update both halves; safe to run again with the same or changed values."""
    name = tenant_secret_name(prefix, settings.tenant_id)
    document = secret_document(secrets)
    try:
        secretsmanager.create_secret(Name=name, SecretString=document)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=name, SecretString=document)
    stored = settings.model_copy(update={"secret_name": name})
    store.put_tenant(stored)
    return stored
