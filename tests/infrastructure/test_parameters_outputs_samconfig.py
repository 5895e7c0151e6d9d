"""Parameters, outputs, and the per-stage deploy configuration in samconfig.toml."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.infrastructure.cfn import Template, parse_overrides, ref_target, resources, sub_text

STAGES = ("dev", "staging", "prod")
WEBHOOK_PATH = "/webhooks/blixo/{tenantId}"


def test_required_parameters_exist_with_their_defaults(template: Template) -> None:
    parameters = template["Parameters"]
    assert {"Stage", "IntacctEndpointUrl", "BlixoApiUrl", "LogLevel", "AlarmEmail", "MaxReceiveCount"} <= set(
        parameters
    )
    assert parameters["Stage"]["AllowedValues"] == list(STAGES)
    # The real gateway by default: only the local stack points it at the sandbox.
    assert parameters["IntacctEndpointUrl"]["Default"] == "https://api.intacct.com/ia/xml/xmlgw.phtml"
    assert parameters["BlixoApiUrl"]["Default"] == "https://api.blixo.com/v1"
    assert parameters["LogLevel"]["Default"] in parameters["LogLevel"]["AllowedValues"]
    assert parameters["AlarmEmail"]["Default"] == ""
    max_receive = parameters["MaxReceiveCount"]
    assert max_receive["Type"] == "Number"
    assert max_receive.get("MinValue", 0) >= 1
    assert max_receive["Default"] >= max_receive["MinValue"]


def unused_parameters(template: Template) -> list[str]:
    text = repr({key: value for key, value in template.items() if key != "Parameters"})
    return [
        name
        for name in template["Parameters"]
        if f"'Ref': '{name}'" not in text and "${" + name + "}" not in text
    ]


def test_every_parameter_is_used(template: Template) -> None:
    assert unused_parameters(template) == []


def test_unused_parameter_check_detects_one(template: Template) -> None:
    mutated = copy.deepcopy(template)
    mutated["Parameters"]["Forgotten"] = {"Type": "String", "Default": ""}
    assert unused_parameters(mutated) == ["Forgotten"]


def test_outputs_give_the_webhook_url_queue_urls_and_table_names(template: Template) -> None:
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert "WebhookApi" in resources(template, "AWS::Serverless::Api")
    assert sub_text(outputs["WebhookUrl"]) == (
        "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}" + WEBHOOK_PATH
    )
    # !Ref of a queue is its URL, of a table its name.
    by_target = {ref_target(value): name for name, value in outputs.items() if ref_target(value)}
    for resource in ("PushQueue", "PushDLQ", "PullQueue", "PullDLQ", "SyncTable", "IdempotencyTable"):
        assert resource in by_target, f"no output gives {resource}"


def test_outputs_give_the_accounting_sync_api_url_and_its_key_id(template: Template) -> None:
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    # The operators' CLI reads the output by this exact name.
    assert sub_text(outputs["AccountingSyncApiUrl"]) == (
        "https://${AccountingSyncApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
    )
    assert ref_target(outputs["AccountingSyncApiId"]) == "AccountingSyncApi"
    assert ref_target(outputs["AccountingSyncApiKeyId"]) == "AccountingSyncApiKey"


# --- samconfig.toml -----------------------------------------------------------------------------
def deploy_parameters(samconfig: dict[str, Any], env: str) -> dict[str, Any]:
    found = samconfig.get(env, {}).get("deploy", {}).get("parameters")
    assert isinstance(found, dict), f"samconfig.toml has no [{env}.deploy.parameters]"
    return found


def test_each_stage_deploys_its_own_stack(samconfig: dict[str, Any]) -> None:
    names = [deploy_parameters(samconfig, env)["stack_name"] for env in STAGES]
    assert len(set(names)) == len(STAGES), names


@pytest.mark.parametrize("env", STAGES)
def test_stage_deploy_parameters(samconfig: dict[str, Any], template: Template, env: str) -> None:
    deploy = deploy_parameters(samconfig, env)
    # IAM: SAM creates the function roles; AUTO_EXPAND: the Serverless transform.
    assert {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(deploy["capabilities"].split())
    overrides = parse_overrides(deploy["parameter_overrides"])
    assert overrides.get("Stage") == env
    parameters = template["Parameters"]
    for name, value in overrides.items():
        # A misspelt name would make `sam deploy` fail on the real account, not here.
        assert name in parameters, f"[{env}] overrides unknown parameter {name}"
        allowed = parameters[name].get("AllowedValues")
        assert allowed is None or value in allowed, f"[{env}] {name}={value} not in {allowed}"


def test_prod_changes_are_reviewed_before_they_run(samconfig: dict[str, Any]) -> None:
    assert deploy_parameters(samconfig, "prod").get("confirm_changeset") is True


def test_the_endpoint_defaults_are_the_ones_the_code_uses(template: Template) -> None:
    from bisync.endpoints import BLIXO_API_URL, INTACCT_GATEWAY_URL

    params = template["Parameters"]
    assert params["IntacctEndpointUrl"]["Default"] == INTACCT_GATEWAY_URL
    assert params["BlixoApiUrl"]["Default"].rstrip("/") == BLIXO_API_URL.rstrip("/")
