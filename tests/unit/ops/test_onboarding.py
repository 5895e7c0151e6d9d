"""The secret document onboarding stores is exactly what the Lambdas read back."""

from __future__ import annotations

import json

from pydantic import SecretStr

from bisync.secrets import IntacctCredentials, TenantSecrets
from ops.onboarding import secret_document


def test_the_secret_document_reveals_every_secret_and_reads_back_equal() -> None:
    secrets = TenantSecrets(
        intacct=IntacctCredentials(
            sender_id="sender",
            sender_password=SecretStr("sender-pw & <x>"),
            company_id="CO",
            user_id="user",
            user_password=SecretStr("user-pw"),
            entity_id="E100",
        ),
        blixo_api_key=SecretStr("key-1"),
        webhook_secrets=[SecretStr("whsec_new"), SecretStr("whsec_old")],
    )

    document = json.loads(secret_document(secrets))

    assert document["intacct"]["sender_password"] == "sender-pw & <x>"
    assert document["webhook_secrets"] == ["whsec_new", "whsec_old"]
    assert "**" not in json.dumps(document)
    assert TenantSecrets.model_validate(document) == secrets
