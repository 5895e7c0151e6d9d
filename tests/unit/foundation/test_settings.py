"""TenantSettings: the tenant id every key and queue id is built from, and the flow switches."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bisync.blixo.api import PaymentMethod
from bisync.settings import PAYMENT_METHODS, BankAccountRule, Flows, TenantSettings
from tests.unit.foundation.fakes import pulls_off, pushes_off


@pytest.mark.parametrize("tenant_id", ["a", "acme", "Acme_2", "9lives", "x-y_z", "a" * 64])
def test_valid_tenant_ids_are_kept_as_given(tenant_id: str) -> None:
    assert TenantSettings(tenant_id=tenant_id).tenant_id == tenant_id


@pytest.mark.parametrize(
    "tenant_id",
    [
        "",
        "-acme",  # must start with a letter or digit
        "_acme",
        "a" * 65,
        "ac me",
        "acmé",  # non-ASCII
        "acme\n",  # a trailing newline must not slip past "$"
        "acme#x",  # '#' is the key separator: TENANT#acme#x would look like a mapping partition
        "acme:x",  # ':' separates tenant and customer in push group ids
        "../acme",
    ],
)
def test_invalid_tenant_ids_are_refused(tenant_id: str) -> None:
    with pytest.raises(ValidationError, match="tenant id"):
        TenantSettings(tenant_id=tenant_id)


def test_unknown_fields_are_refused_at_every_level() -> None:
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"tenant_id": "acme", "pull_enabled": False})
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"tenant_id": "acme", "flows": {"pull_vendors": True}})


@pytest.mark.parametrize(("field", "value"), [("lookback_minutes", -1), ("intacct_concurrency", 0)])
def test_bounds(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"tenant_id": "acme", field: value})


def test_defaults_have_every_flow_on() -> None:
    settings = TenantSettings(tenant_id="acme")
    assert settings.pull_enabled
    assert settings.push_enabled


@pytest.mark.parametrize("only_on", ["pull_customers", "pull_invoices", "pull_credit_notes", "pull_payments"])
def test_one_pull_flow_is_enough_for_pull_enabled(only_on: str) -> None:
    flows = pulls_off().model_copy(update={only_on: True})
    assert TenantSettings(tenant_id="acme", flows=flows).pull_enabled


@pytest.mark.parametrize(
    "only_on",
    ["push_customers", "push_invoices", "push_credit_notes", "push_payments", "push_convenience_fees"],
)
def test_one_push_flow_is_enough_for_push_enabled(only_on: str) -> None:
    flows = pushes_off().model_copy(update={only_on: True})
    assert TenantSettings(tenant_id="acme", flows=flows).push_enabled


def test_all_pull_flows_off_means_pull_disabled_but_push_untouched() -> None:
    settings = TenantSettings(tenant_id="acme", flows=pulls_off())
    assert not settings.pull_enabled
    assert settings.push_enabled


def test_all_push_flows_off_means_push_disabled_but_pull_untouched() -> None:
    settings = TenantSettings(tenant_id="acme", flows=pushes_off())
    assert not settings.push_enabled
    assert settings.pull_enabled


def test_a_disabled_tenant_has_neither_direction_whatever_its_flows() -> None:
    settings = TenantSettings(tenant_id="acme", enabled=False, flows=Flows())
    assert not settings.pull_enabled
    assert not settings.push_enabled


def test_settings_round_trip_through_json() -> None:
    settings = TenantSettings.model_validate(
        {
            "tenant_id": "acme",
            "flows": {"pull_payments": False},
            "accounts": {"bank_account_id": "BOA"},
            "start_date": "2026-01-01",
            "entity_id": "E100",
        }
    )
    assert TenantSettings.model_validate_json(settings.model_dump_json()) == settings


def test_bank_account_rules_name_real_methods_and_currencies() -> None:
    assert BankAccountRule(method="credit_card", currency="eur", bank_account_id="CARD").matches(
        "credit_card", "EUR"
    )
    for rule in ({"method": "creditcard"}, {"method": "Check"}, {"currency": "EURO"}, {"currency": "1$"}):
        with pytest.raises(ValidationError) as caught:
            BankAccountRule(bank_account_id="X", **rule)
        # The field and the rule, never the value typed.
        assert next(iter(rule)) in str(caught.value)
    # The methods a rule may name are exactly Blixo's.
    assert set(PAYMENT_METHODS) == {m.value for m in PaymentMethod}


def test_an_unknown_method_in_bank_accounts_refuses_the_settings() -> None:
    with pytest.raises(ValidationError, match="method must be"):
        TenantSettings.model_validate(
            {
                "tenant_id": "acme",
                "accounts": {"bank_accounts": [{"method": "creditcard", "bank_account_id": "X"}]},
            }
        )
