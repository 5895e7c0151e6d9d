"""Onboard a tenant: its settings in the sync table and its credentials in Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

from bisync.secrets import TenantSecrets, tenant_secret_name
from bisync.settings import TenantSettings
from bisync.store import SyncStore


def secret_document(secrets: TenantSecrets) -> str:
    """The JSON stored in Secrets Manager (SecretStr hides values from every other dump)."""
    intacct = secrets.intacct
    return json.dumps(
        {
            "intacct": {
                "sender_id": intacct.sender_id,
                "sender_password": intacct.sender_password.get_secret_value(),
                "company_id": intacct.company_id,
                "user_id": intacct.user_id,
                "user_password": intacct.user_password.get_secret_value(),
                "entity_id": intacct.entity_id,
            },
            "blixo_api_key": secrets.blixo_api_key.get_secret_value(),
            "webhook_secrets": [s.get_secret_value() for s in secrets.webhook_secrets],
        }
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
