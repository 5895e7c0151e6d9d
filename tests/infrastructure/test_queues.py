"""Queues: dead-letter queues with redrive, FIFO ordering, and the SQS event sources."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from tests.infrastructure.cfn import (
    FOURTEEN_DAYS_SECONDS,
    VISIBILITY_TO_TIMEOUT_FACTOR,
    Template,
    dead_letter_targets,
    function_timeout,
    parse_overrides,
    props,
    ref_target,
    resolve,
    resources,
    sqs_consumers,
    sub_text,
)

# SQS's default when a queue sets no retention.
DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600
# AWS's limit on the batch size of an event source mapping on a FIFO queue.
FIFO_MAX_BATCH_SIZE = 10


def is_fifo(template: Template, queue_id: str) -> bool:
    return props(template, queue_id).get("FifoQueue") is True


def redrive_problems(template: Template) -> list[str]:
    """Every queue a Lambda consumes has a dead-letter queue it redrives to, as production needs."""
    queues = resources(template, "AWS::SQS::Queue")
    problems = []
    for consumer in sqs_consumers(template):
        source = consumer.queue_id
        if source is None:
            problems.append(
                f"{consumer.function_id}/{consumer.source}: its queue is not a queue of this template"
            )
            continue
        redrive = props(template, source).get("RedrivePolicy")
        if not isinstance(redrive, Mapping):
            problems.append(f"{source}: consumed by {consumer.function_id} but has no RedrivePolicy")
            continue
        dlq = dead_letter_targets(template).get(source)
        if dlq is None or dlq not in queues:
            problems.append(f"{source}: deadLetterTargetArn is not !GetAtt <a queue of this template>.Arn")
            continue
        if dlq == source:
            problems.append(f"{source}: redrives to itself")
        if ref_target(redrive.get("maxReceiveCount")) != "MaxReceiveCount":
            problems.append(f"{source}: maxReceiveCount is not !Ref MaxReceiveCount")
        if is_fifo(template, source) and not is_fifo(template, dlq):
            problems.append(f"{source} is FIFO but its dead-letter queue {dlq} is not (SQS refuses that)")
        retention = resolve(template, props(template, dlq).get("MessageRetentionPeriod"))
        if retention != FOURTEEN_DAYS_SECONDS:
            problems.append(f"{dlq}: retains {retention} s, not 14 days")
        source_retention = resolve(
            template, props(template, source).get("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS)
        )
        if isinstance(retention, int) and source_retention > retention:
            problems.append(f"{dlq}: keeps messages for less time than its source {source}")
    return problems


def test_there_are_sqs_consumers_to_check(template: Template) -> None:
    # Guards every check below against passing vacuously on a template with no event sources.
    assert {c.function_id for c in sqs_consumers(template)} == {"PushFunction", "PullFunction"}


def test_every_consumed_queue_has_a_dead_letter_queue_with_redrive(template: Template) -> None:
    assert redrive_problems(template) == []


def test_redrive_check_detects_a_queue_without_dead_letter_queue(template: Template) -> None:
    mutated = copy.deepcopy(template)
    del mutated["Resources"]["PushQueue"]["Properties"]["RedrivePolicy"]
    assert redrive_problems(mutated) == ["PushQueue: consumed by PushFunction but has no RedrivePolicy"]


def test_redrive_check_detects_a_standard_dead_letter_queue_behind_a_fifo_queue(template: Template) -> None:
    mutated = copy.deepcopy(template)
    del mutated["Resources"]["PullDLQ"]["Properties"]["FifoQueue"]
    mutated["Resources"]["PullQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] = 3
    assert redrive_problems(mutated) == [
        "PullQueue: maxReceiveCount is not !Ref MaxReceiveCount",
        "PullQueue is FIFO but its dead-letter queue PullDLQ is not (SQS refuses that)",
    ]


def test_every_queue_is_a_consumed_source_or_a_dead_letter_queue(template: Template) -> None:
    consumed = {c.queue_id for c in sqs_consumers(template)}
    dlqs = set(dead_letter_targets(template).values())
    assert set(resources(template, "AWS::SQS::Queue")) == consumed | dlqs
    # A Lambda draining a dead-letter queue would hide exactly what the DLQ alarm reports.
    assert consumed.isdisjoint(dlqs)


@pytest.mark.parametrize("queue_id", ["PushQueue", "PullQueue"])
def test_job_queues_are_fifo_deduplicated_by_id_not_content(template: Template, queue_id: str) -> None:
    queue = props(template, queue_id)
    assert queue.get("FifoQueue") is True
    # The push dedupes on the Blixo event id, the pull on tenant+hour: never on the body.
    assert queue.get("ContentBasedDeduplication", False) is False


def test_fifo_queue_names_end_in_fifo(template: Template) -> None:
    for queue_id in resources(template, "AWS::SQS::Queue"):
        name = sub_text(props(template, queue_id).get("QueueName")) or props(template, queue_id).get(
            "QueueName"
        )
        if is_fifo(template, queue_id) and name is not None:
            assert str(name).endswith(".fifo"), (
                f"{queue_id}: CloudFormation rejects a FIFO queue named {name}"
            )


def test_every_queue_is_encrypted_at_rest(template: Template) -> None:
    for queue_id in resources(template, "AWS::SQS::Queue"):
        queue = props(template, queue_id)
        assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue, queue_id


def test_every_sqs_event_source_reports_batch_item_failures(template: Template) -> None:
    for consumer in sqs_consumers(template):
        # Without it one failed record makes the whole batch visible again (and re-run).
        assert "ReportBatchItemFailures" in consumer.properties.get("FunctionResponseTypes", []), consumer


def test_batch_item_failure_check_detects_a_missing_response_type(template: Template) -> None:
    mutated = copy.deepcopy(template)
    del mutated["Resources"]["PullFunctionPullQueueEvents"]["Properties"]["FunctionResponseTypes"]
    with pytest.raises(AssertionError):
        test_every_sqs_event_source_reports_batch_item_failures(mutated)


def test_fifo_event_sources_stay_within_the_fifo_batch_limit(template: Template) -> None:
    for consumer in sqs_consumers(template):
        if consumer.queue_id is not None and is_fifo(template, consumer.queue_id):
            assert 1 <= resolve(template, consumer.properties.get("BatchSize", 10)) <= FIFO_MAX_BATCH_SIZE
            assert "MaximumBatchingWindowInSeconds" not in consumer.properties


def visibility_problems(template: Template, overrides: Mapping[str, str] | None = None) -> list[str]:
    problems = []
    for consumer in sqs_consumers(template):
        assert consumer.queue_id is not None
        visibility = resolve(
            template, props(template, consumer.queue_id).get("VisibilityTimeout", 30), overrides
        )
        timeout = function_timeout(template, consumer.function_id, overrides)
        if visibility < VISIBILITY_TO_TIMEOUT_FACTOR * timeout:
            problems.append(
                f"{consumer.queue_id}: visibility {visibility} s < 6 x {consumer.function_id} timeout {timeout} s"
            )
    return problems


def samconfig_overrides(samconfig: dict[str, Any]) -> dict[str, dict[str, str]]:
    found = {}
    for env, commands in samconfig.items():
        deploy = commands.get("deploy", {}).get("parameters", {}) if isinstance(commands, dict) else {}
        if "parameter_overrides" in deploy:
            found[env] = parse_overrides(deploy["parameter_overrides"])
    return found


def test_visibility_timeout_covers_six_function_timeouts_with_defaults(template: Template) -> None:
    assert visibility_problems(template) == []


def test_visibility_timeout_covers_six_function_timeouts_in_every_deploy_environment(
    template: Template, samconfig: dict[str, Any]
) -> None:
    environments = samconfig_overrides(samconfig)
    assert environments, "samconfig.toml has no parameter_overrides to check"
    for env, overrides in environments.items():
        assert visibility_problems(template, overrides) == [], env


def test_visibility_check_detects_a_longer_function_timeout(template: Template) -> None:
    assert visibility_problems(template, {"PushTimeoutSeconds": "61"}) == [
        "PushQueue: visibility 360 s < 6 x PushFunction timeout 61 s"
    ]
