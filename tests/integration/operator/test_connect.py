"""`tenant connect` against the sandboxes: what it checks, what it says, what it stores."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bisync.secrets import parse_tenant_secrets
from bisync.store import TenantNotFoundError
from blixo_cli.onboard import ConnectRequest, connect_tenant
from blixo_cli.target import Target
from sandbox.intacct import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD
from tests.integration.foundation.conftest import secretsmanager
from tests.integration.operator.conftest import World
from tests.integration.push.conftest import BLIXO_KEY
from tests.unit.cli.moto_stack import invoke

NEW = "globex"


def request(**over: Any) -> ConnectRequest:
    values: dict[str, Any] = {
        "tenant_id": NEW,
        "company_id": COMPANY_ID,
        "user_id": USER_ID,
        "user_password": USER_PASSWORD,
        "sender_id": SENDER_ID,
        "sender_password": SENDER_PASSWORD,
        "entity_id": "E100",
        "blixo_api_key": BLIXO_KEY,
        "name": "Globex",
    }
    values.update(over)
    return ConnectRequest(**values)


def hooks(world: World, url: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = world.blixo.request("GET", "webhooks", params={"perPage": 100})["data"]
    return [h for h in data if h["url"] == url]


def stored(target: Target) -> Any:
    raw = secretsmanager().get_secret_value(SecretId=f"{target.tenant_secret_prefix}{NEW}")["SecretString"]
    return parse_tenant_secrets(NEW, raw)


def test_connect_checks_stores_and_subscribes_the_webhook(world: World, target: Target) -> None:
    result = connect_tenant(target, request())

    assert result.problems == []
    assert result.saved
    settings = target.store().get_tenant(NEW)
    assert settings.entity_id == "E100"
    assert settings.name == "Globex"
    assert settings.secret_name == f"{target.tenant_secret_prefix}{NEW}"
    secrets = stored(target)
    assert secrets.intacct.user_password.get_secret_value() == USER_PASSWORD
    url = target.webhook_url.replace("{tenantId}", NEW)
    [hook] = hooks(world, url)
    # The endpoint signs with the secret the webhook Lambda will verify with.
    assert [s.get_secret_value() for s in secrets.webhook_secrets] == [hook["secret"]]
    assert hook["secret"].startswith("whsec_")
    assert result.webhook == "created"


def test_connect_again_keeps_everything_that_is_right(world: World, target: Target) -> None:
    connect_tenant(target, request())
    first = stored(target)

    again = connect_tenant(target, request(user_password=None, blixo_api_key=None, sender_password=None))

    assert again.saved
    assert again.webhook == "kept"
    assert stored(target) == first
    assert len(hooks(world, target.webhook_url.replace("{tenantId}", NEW))) == 1


def test_a_webhook_whose_secret_we_do_not_hold_is_replaced(world: World, target: Target) -> None:
    url = target.webhook_url.replace("{tenantId}", NEW)
    world.blixo.request(
        "POST",
        "webhooks",
        body={"url": url, "events": ["*"], "secret": "whsec_lost"},
        idempotency_key="lost-1",
    )

    result = connect_tenant(target, request())

    [hook] = hooks(world, url)
    assert hook["secret"] != "whsec_lost"
    assert result.webhook == "replaced"
    assert stored(target).webhook_secrets[0].get_secret_value() == hook["secret"]


def _nothing_stored(world: World, target: Target) -> None:
    with pytest.raises(TenantNotFoundError):
        target.store().get_tenant(NEW)
    names = [s["Name"] for s in secretsmanager().list_secrets()["SecretList"]]
    assert f"{target.tenant_secret_prefix}{NEW}" not in names
    assert hooks(world, target.webhook_url.replace("{tenantId}", NEW)) == []


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"user_password": "pw-Zq81x"}, "Intacct refused the sign-in"),
        ({"sender_id": "someone-else"}, "Intacct does not know this sender ID and sender password"),
        ({"sender_password": "pw-Zq81x"}, "Intacct does not know this sender ID and sender password"),
        (
            {"sender_id": "other-partner", "sender_password": "other-partner-pw"},
            "sender ID is not authorised for company SANDBOX",
        ),
        ({"entity_id": "E999"}, "entity does not exist"),
        ({"blixo_api_key": "not-a-key"}, "Blixo refused the API key"),
    ],
)
def test_wrong_credentials_are_said_plainly_and_nothing_is_stored(
    world: World, target: Target, over: dict[str, str], expected: str
) -> None:
    result = connect_tenant(target, request(**over))

    assert not result.saved
    assert [p.message for p in result.problems if expected in p.message], result.problems
    text = json.dumps(result.public())
    for secret in (USER_PASSWORD, SENDER_PASSWORD, BLIXO_KEY, "pw-Zq81x", "not-a-key"):
        assert secret not in text
    _nothing_stored(world, target)


def test_a_module_without_permission_is_named(world: World, target: Target) -> None:
    world.intacct_admin(
        "permissions", {"company": COMPANY_ID, "user": USER_ID, "deny": ["SODOCUMENT", "ARPYMT"]}
    )
    try:
        result = connect_tenant(target, request())
    finally:
        world.intacct_admin("permissions", {"company": COMPANY_ID})

    messages = [p.message for p in result.problems]
    assert any("may not read SODOCUMENT" in m and "Order Entry" in m for m in messages), messages
    assert any("may not read ARPYMT" in m and "Accounts Receivable" in m for m in messages), messages
    assert len(messages) == 2
    _nothing_stored(world, target)


def test_an_unsubscribed_module_is_named(world: World, target: Target) -> None:
    world.intacct_admin("permissions", {"company": COMPANY_ID, "unsubscribed": ["Order Entry"]})
    try:
        result = connect_tenant(target, request())
    finally:
        world.intacct_admin("permissions", {"company": COMPANY_ID})
    assert [p.message for p in result.problems] == [
        "the web-services user may not read SODOCUMENT: give its role Order Entry permissions "
        "(or subscribe the company to Order Entry)"
    ]


def test_mapped_accounts_that_do_not_exist_are_listed(world: World, target: Target) -> None:
    target.store().put_tenant(
        world.settings.model_copy(
            update={
                "tenant_id": NEW,
                "accounts": world.settings.accounts.model_copy(
                    update={"revenue_account": "4999", "bank_account_id": "NO-SUCH-BANK"}
                ),
            }
        )
    )

    result = connect_tenant(target, request())

    assert sorted(p.message.split(" (")[0] for p in result.problems) == [
        "GL account 4999",
        "bank account NO-SUCH-BANK",
    ]
    assert not result.saved


def test_the_command_exits_1_with_the_problems_and_no_traceback(world: World, target: Target) -> None:
    result = invoke(
        target, "tenant", "connect", NEW, "--company-id", COMPANY_ID, "--user-id", USER_ID,
        "--user-password", "wrong", "--sender-id", SENDER_ID, "--sender-password", SENDER_PASSWORD,
        "--blixo-api-key", BLIXO_KEY,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Intacct refused the sign-in" in result.output
    assert "nothing was stored" in result.output
    assert "Traceback" not in result.output


def test_the_command_asks_for_what_it_lacks(world: World, target: Target) -> None:
    result = invoke(target, "tenant", "connect", NEW, "--company-id", COMPANY_ID)
    assert result.exit_code == 1
    assert "--user-id is needed" in result.output


def test_tenant_set_looks_accounts_and_definitions_up_before_saving(world: World, target: Target) -> None:
    store = target.store()
    before = store.get_tenant("acme")

    bad = invoke(target, "tenant", "set", "acme", 'invoice_definitions=["Sales Invoice", "Project Invoice"]',
                 "accounts.revenue_account=4999")  # fmt: skip

    assert bad.exit_code == 1
    assert "transaction definition 'Project Invoice'" in bad.output
    assert "GL account 4999" in bad.output
    assert store.get_tenant("acme") == before
    good = invoke(target, "tenant", "set", "acme", "accounts.revenue_account=4100")
    assert good.exit_code == 0, good.output
    assert store.get_tenant("acme").accounts.revenue_account == "4100"


def test_connect_names_a_definition_intacct_does_not_have(world: World, target: Target) -> None:
    target.store().put_tenant(
        world.settings.model_copy(update={"tenant_id": NEW, "return_definitions": ["Credit Memo X"]})
    )
    result = connect_tenant(target, request())
    assert [p.message.split(" (")[0] for p in result.problems] == [
        "Order Entry transaction definition 'Credit Memo X'"
    ]


def test_a_setting_intacct_cannot_carry_is_refused_plainly(world: World, target: Target) -> None:
    result = invoke(target, "tenant", "set", "acme", 'invoice_definitions=["Sales\\u0013Invoice"]')
    assert result.exit_code == 1
    assert "U+0013" in result.output
    assert "Traceback" not in result.output
    assert target.store().get_tenant("acme").invoice_definitions == ["Sales Invoice"]
