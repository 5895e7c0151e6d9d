"""Reading template.yaml as written: intrinsic functions, parameter defaults, IAM statements.

The template is decoded with cfn-lint's YAML loader, which turns the short tags (!Ref, !GetAtt,
!Sub, !If ...) into their long form and keeps each node's line, so a check can look at the
raw text around a value (the comment that must justify a `Resource: "*"`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

from tests.conftest import ROOT

TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
EVENTS_DIR = ROOT / "events"

Template = dict[str, Any]

# SAM's own default when neither the function nor Globals set a timeout.
SAM_DEFAULT_TIMEOUT_SECONDS = 3
# AWS's guidance for SQS event sources: visibility timeout >= 6 x the function timeout.
VISIBILITY_TO_TIMEOUT_FACTOR = 6
FOURTEEN_DAYS_SECONDS = 14 * 24 * 3600


def load_template_text(text: str, name: str = "template.yaml") -> Template:
    loaded = cfn_yaml.loads(text, name)
    assert isinstance(loaded, dict), "the template is not a mapping"
    return loaded


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    return load_template_text(path.read_text(encoding="utf-8"), str(path))


# --- resources ----------------------------------------------------------------------------------
def resources(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource for every resource of one type."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == type_name
    }


def props(template: Template, logical_id: str) -> dict[str, Any]:
    resource = template["Resources"][logical_id]
    properties = resource.get("Properties", {})
    assert isinstance(properties, dict)
    return properties


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def globals_function(template: Template) -> dict[str, Any]:
    found = template.get("Globals", {}).get("Function", {})
    assert isinstance(found, dict)
    return found


# --- intrinsic functions ------------------------------------------------------------------------
def ref_target(value: Any) -> str | None:
    """`!Ref X` -> "X"."""
    if isinstance(value, Mapping) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def getatt_target(value: Any, attribute: str) -> str | None:
    """`!GetAtt X.<attribute>` (either form) -> "X"."""
    if not (isinstance(value, Mapping) and set(value) == {"Fn::GetAtt"}):
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
        return str(target[0])
    return None


def sub_text(value: Any) -> str | None:
    """The format string of `!Sub "..."` (the one-argument form)."""
    if isinstance(value, Mapping) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    return None


def parse_overrides(parameter_overrides: str) -> dict[str, str]:
    """samconfig's `Key="value" Key2="value"` string -> {Key: value}."""
    found = {}
    for item in shlex.split(parameter_overrides):
        key, equals, value = item.partition("=")
        assert equals, f"parameter override {item!r} is not Key=value"
        found[key] = value
    return found


def resolve(template: Template, value: Any, overrides: Mapping[str, str] | None = None) -> Any:
    """A literal, or `!Ref Parameter` resolved to the override or else the parameter's default."""
    name = ref_target(value)
    if name is None:
        return value
    parameters = template.get("Parameters", {})
    assert name in parameters, f"!Ref {name} is not a parameter, so it has no value to resolve"
    if overrides and name in overrides:
        raw: Any = overrides[name]
    else:
        assert "Default" in parameters[name], f"parameter {name} has no default"
        raw = parameters[name]["Default"]
    if parameters[name].get("Type") == "Number":
        return int(raw)
    return raw


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# --- functions and their event sources ----------------------------------------------------------
def function_timeout(template: Template, logical_id: str, overrides: Mapping[str, str] | None = None) -> int:
    timeout = props(template, logical_id).get("Timeout", globals_function(template).get("Timeout"))
    if timeout is None:
        return SAM_DEFAULT_TIMEOUT_SECONDS
    return int(resolve(template, timeout, overrides))


def function_layers(template: Template, logical_id: str) -> list[Any]:
    """SAM appends a function's Layers to the Globals' Layers."""
    return as_list(globals_function(template).get("Layers", [])) + as_list(
        props(template, logical_id).get("Layers", [])
    )


def function_environment(template: Template, logical_id: str) -> dict[str, Any]:
    """SAM merges a function's environment variables over the Globals' ones."""
    merged: dict[str, Any] = dict(globals_function(template).get("Environment", {}).get("Variables", {}))
    merged.update(props(template, logical_id).get("Environment", {}).get("Variables", {}))
    return merged


def events_of_type(template: Template, *types: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(function id, event name, event properties) for every SAM function event of these types."""
    found = []
    for function_id, function in functions(template).items():
        for event_name, event in function.get("Properties", {}).get("Events", {}).items():
            if event.get("Type") in types:
                found.append((function_id, event_name, event.get("Properties", {})))
    return found


@dataclass(frozen=True)
class SqsConsumer:
    function_id: str
    source: str  # the SAM event name or the EventSourceMapping's logical id
    queue_id: str | None  # None when the queue is not a queue of this template
    properties: dict[str, Any]


def sqs_consumers(template: Template) -> list[SqsConsumer]:
    """Every SQS -> Lambda wiring: SAM `Type: SQS` events and raw EventSourceMappings."""
    queues = resources(template, "AWS::SQS::Queue")
    found = []
    for function_id, event_name, properties in events_of_type(template, "SQS"):
        queue_id = getatt_target(properties.get("Queue"), "Arn")
        found.append(
            SqsConsumer(function_id, event_name, queue_id if queue_id in queues else None, properties)
        )
    for mapping_id, mapping in resources(template, "AWS::Lambda::EventSourceMapping").items():
        properties = mapping.get("Properties", {})
        queue_id = getatt_target(properties.get("EventSourceArn"), "Arn")
        if queue_id is None or queue_id not in queues:
            continue  # not an SQS source of this template (streams are out of scope here)
        function_id = ref_target(properties.get("FunctionName")) or str(properties.get("FunctionName"))
        found.append(SqsConsumer(function_id, mapping_id, queue_id, properties))
    return found


def dead_letter_targets(template: Template) -> dict[str, str]:
    """Source queue id -> its dead-letter queue id (only for redrive policies that name one)."""
    found = {}
    for queue_id in resources(template, "AWS::SQS::Queue"):
        redrive = props(template, queue_id).get("RedrivePolicy")
        if isinstance(redrive, Mapping):
            target = getatt_target(redrive.get("deadLetterTargetArn"), "Arn")
            if target is not None:
                found[queue_id] = target
    return found


# --- IAM ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    path: tuple[str | int, ...]  # where in the template the statement sits
    body: Mapping[str, Any]

    @property
    def where(self) -> str:
        return "/".join(str(part) for part in self.path)

    @property
    def in_key_policy(self) -> bool:
        # In a KMS key policy "*" means "this key": AWS requires it there.
        return "KeyPolicy" in self.path

    def actions(self) -> list[Any]:
        return as_list(self.body.get("Action", []))

    def resources(self) -> list[Any]:
        return as_list(self.body.get("Resource", []))


def iam_statements(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[Statement]:
    """Every policy statement anywhere in the template (inline SAM policies, roles, managed
    policies, resource policies, key policies): any mapping under a `Statement` key."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "Statement":
                for index, statement in enumerate(as_list(value)):
                    if isinstance(statement, Mapping):
                        yield Statement((*path, key, index), statement)
            else:
                yield from iam_statements(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from iam_statements(item, (*path, index))


def line_of(node: Any) -> int | None:
    """0-based line of a decoded node in the template text (None for plain Python values)."""
    mark = getattr(node, "start_mark", None)
    return None if mark is None else int(mark.line)
