"""DynamoDB: the sync table the store's key design needs and Powertools' idempotency table."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from bisync.config import RuntimeConfig
from bisync.store import keys
from tests.conftest import ROOT
from tests.infrastructure.cfn import Template, globals_function, props, ref_target, resources

STORE_SOURCE = ROOT / "layers" / "shared" / "bisync" / "store" / "dynamodb.py"


def table_behind(template: Template, env_var: str) -> str:
    """The table a Globals environment variable names (what the functions actually use)."""
    table_id = ref_target(globals_function(template)["Environment"]["Variables"].get(env_var))
    assert table_id in resources(template, "AWS::DynamoDB::Table"), f"{env_var} is not !Ref <a table>"
    return table_id


def powertools_default(parameter: str) -> Any:
    return inspect.signature(DynamoDBPersistenceLayer.__init__).parameters[parameter].default


def key_schema(schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def test_there_are_exactly_the_two_tables(template: Template) -> None:
    assert {table_behind(template, "SYNC_TABLE"), table_behind(template, "IDEMPOTENCY_TABLE")} == set(
        resources(template, "AWS::DynamoDB::Table")
    )


def test_idempotency_table_has_ttl_on_the_powertools_expiry_attribute(template: Template) -> None:
    table = props(template, table_behind(template, "IDEMPOTENCY_TABLE"))
    assert table.get("TimeToLiveSpecification") == {
        "AttributeName": powertools_default("expiry_attr"),
        "Enabled": True,
    }
    assert powertools_default("expiry_attr") == "expiration"
    assert key_schema(table["KeySchema"]) == {"HASH": powertools_default("key_attr")}


def test_sync_table_has_the_store_key_design_and_tenant_index(template: Template) -> None:
    table = props(template, table_behind(template, "SYNC_TABLE"))
    assert key_schema(table["KeySchema"]) == {"HASH": "PK", "RANGE": "SK"}
    indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {keys.TENANT_INDEX}
    tenant_index = indexes[keys.TENANT_INDEX]
    assert key_schema(tenant_index["KeySchema"]) == {"HASH": "GSI1PK", "RANGE": "GSI1SK"}
    # iter_tenants rebuilds whole settings from the index items, so every attribute is needed.
    assert tenant_index["Projection"] == {"ProjectionType": "ALL"}
    defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert defined == {"PK": "S", "SK": "S", "GSI1PK": "S", "GSI1SK": "S"}


def test_store_writes_the_attributes_the_sync_table_declares(template: Template) -> None:
    table = props(template, table_behind(template, "SYNC_TABLE"))
    source = STORE_SOURCE.read_text(encoding="utf-8")
    for attribute in ("PK", "SK", "GSI1PK", "GSI1SK", table["TimeToLiveSpecification"]["AttributeName"]):
        assert f'"{attribute}"' in source, f"the store never writes {attribute}"
    assert table["TimeToLiveSpecification"]["Enabled"] is True


@pytest.mark.parametrize("env_var", ["SYNC_TABLE", "IDEMPOTENCY_TABLE"])
def test_table_is_production_grade(template: Template, env_var: str) -> None:
    table_id = table_behind(template, env_var)
    table = props(template, table_id)
    assert table.get("BillingMode") == "PAY_PER_REQUEST"
    assert table.get("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}
    assert table.get("SSESpecification", {}).get("SSEEnabled") is True
    assert table.get("DeletionProtectionEnabled") == {"Fn::If": ["IsProd", True, False]}
    # Mappings and cursors cannot be rebuilt: deleting the stack must not delete them.
    assert template["Resources"][table_id].get("DeletionPolicy") == "Retain"
    assert template["Resources"][table_id].get("UpdateReplacePolicy") == "Retain"


def test_is_prod_condition_means_the_prod_stage(template: Template) -> None:
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_every_required_runtime_setting_is_in_the_function_environment(template: Template) -> None:
    env = globals_function(template)["Environment"]["Variables"]
    required = [name for name, field in RuntimeConfig.model_fields.items() if field.is_required()]
    assert required, "RuntimeConfig has no required field: this check would pass vacuously"
    for name in required:
        assert name.upper() in env, f"RuntimeConfig.{name} has no {name.upper()} in Globals"
    # And the variables name the right resources and parameters.
    assert ref_target(env["SYNC_TABLE"]) == table_behind(template, "SYNC_TABLE")
    assert ref_target(env["PUSH_QUEUE_URL"]) == "PushQueue"
    assert ref_target(env["PULL_QUEUE_URL"]) == "PullQueue"
    assert ref_target(env["INTACCT_ENDPOINT_URL"]) == "IntacctEndpointUrl"
    assert ref_target(env["BLIXO_API_URL"]) == "BlixoApiUrl"
    assert ref_target(env["POWERTOOLS_LOG_LEVEL"]) == "LogLevel"
