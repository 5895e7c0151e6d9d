"""Alarms: DLQ depth for every DLQ, errors and throttles for every function, all to one topic."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.infrastructure.cfn import (
    Template,
    as_list,
    dead_letter_targets,
    functions,
    getatt_target,
    props,
    ref_target,
    resources,
)


def alarm_topic(template: Template) -> str:
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    return topic_id


def fires_on_first(alarm: Mapping[str, Any]) -> bool:
    """The alarm goes off on the first message / error / throttle."""
    operator, threshold = alarm.get("ComparisonOperator"), alarm.get("Threshold")
    return (operator, threshold) in {("GreaterThanThreshold", 0), ("GreaterThanOrEqualToThreshold", 1)}


def alarms_on(template: Template, namespace: str, metric: str) -> dict[str, Mapping[str, Any]]:
    """Dimension target (queue or function logical id) -> the alarm watching it."""
    found: dict[str, Mapping[str, Any]] = {}
    for alarm_id in resources(template, "AWS::CloudWatch::Alarm"):
        alarm = props(template, alarm_id)
        if alarm.get("Namespace") != namespace or alarm.get("MetricName") != metric:
            continue
        for dimension in alarm.get("Dimensions", []):
            value = dimension.get("Value")
            target = getatt_target(value, "QueueName") or ref_target(value)
            if target is not None and fires_on_first(alarm):
                found[target] = alarm
    return found


def missing_alarms(template: Template) -> list[str]:
    missing = []
    depth = alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for dlq in sorted(set(dead_letter_targets(template).values())):
        if dlq not in depth:
            missing.append(f"DLQ depth > 0 on {dlq}")
    for metric in ("Errors", "Throttles"):
        watched = alarms_on(template, "AWS/Lambda", metric)
        missing.extend(f"{metric} on {fid}" for fid in sorted(functions(template)) if fid not in watched)
    return missing


def test_every_dlq_and_every_function_has_its_alarms(template: Template) -> None:
    assert set(dead_letter_targets(template).values()) == {"PushDLQ", "PullDLQ"}
    assert missing_alarms(template) == []


def test_alarm_check_detects_a_missing_dlq_alarm(template: Template) -> None:
    mutated = copy.deepcopy(template)
    del mutated["Resources"]["PullDLQDepthAlarm"]
    mutated["Resources"]["PushThrottlesAlarm"]["Properties"]["Threshold"] = 5
    assert missing_alarms(mutated) == ["DLQ depth > 0 on PullDLQ", "Throttles on PushFunction"]


def test_every_alarm_notifies_the_alarm_topic(template: Template) -> None:
    topic = alarm_topic(template)
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    dlqs = set(dead_letter_targets(template).values())
    assert len(alarms) == len(dlqs) + 2 * len(functions(template))
    for alarm_id in alarms:
        actions = [ref_target(a) for a in as_list(props(template, alarm_id).get("AlarmActions", []))]
        assert topic in actions, alarm_id
        # A DLQ whose data stops (e.g. an idle queue) must not raise a false alarm.
        assert props(template, alarm_id).get("TreatMissingData") == "notBreaching", alarm_id


def test_email_subscription_exists_only_when_an_address_is_given(template: Template) -> None:
    topic = alarm_topic(template)
    subscriptions = resources(template, "AWS::SNS::Subscription")
    assert len(subscriptions) == 1
    ((subscription_id, subscription),) = subscriptions.items()
    assert subscription.get("Condition") == "HasAlarmEmail"
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    properties = props(template, subscription_id)
    assert properties.get("Protocol") == "email"
    assert ref_target(properties.get("Endpoint")) == "AlarmEmail"
    assert ref_target(properties.get("TopicArn")) == topic


def key_policy_lets_cloudwatch_publish(template: Template, key_id: str) -> bool:
    for statement in as_list(props(template, key_id).get("KeyPolicy", {}).get("Statement", [])):
        principal = statement.get("Principal", {})
        services = as_list(principal.get("Service", [])) if isinstance(principal, Mapping) else []
        actions = set(as_list(statement.get("Action", [])))
        if (
            statement.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com" in services
            and "kms:Decrypt" in actions
            and actions & {"kms:GenerateDataKey", "kms:GenerateDataKey*"}
        ):
            return True
    return False


def test_cloudwatch_can_publish_to_the_alarm_topic(template: Template) -> None:
    # CloudWatch calls KMS itself when it publishes an alarm to an encrypted topic; the AWS
    # managed SNS key's policy cannot be edited to allow that, so the publish fails silently
    # (only a line in the alarm history shows it).
    key = props(template, alarm_topic(template)).get("KmsMasterKeyId")
    if key is None:
        return
    key_id = ref_target(key) or getatt_target(key, "Arn")
    assert key_id in resources(template, "AWS::KMS::Key"), f"alarm topic encrypted with {key!r}"
    assert key_policy_lets_cloudwatch_publish(template, key_id)
