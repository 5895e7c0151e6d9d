"""The template as CloudFormation receives it: SAM's transform run locally by samtranslator.

What SAM adds on its own (the functions' roles, their managed policies, the API stages, the
Lambda permissions) exists only after the transform, so the IAM checks and the second checkov
run read this expansion rather than the template as written. `sam validate` does the same:
local CodeUri/ContentUri paths are given a placeholder S3 location (what `sam deploy` uploads).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]
from samtranslator.utils.py27hash_fix import (  # type: ignore[import-untyped]
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from tests.infrastructure.cfn import TEMPLATE_PATH, Template, load_template_text

# A region for samtranslator's pseudo parameters (no AWS call is made).
REGION = "us-east-1"


def _no_managed_policy_names() -> dict[str, str]:
    # SAM looks up managed policies given by bare name in Policies; this template gives none,
    # so the lookup (an IAM call) is never needed.
    return {}


def expand_template(template: Template) -> Template:
    document: dict[str, Any] = json.loads(json.dumps(template))  # plain dicts, a private copy
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = "s3://placeholder-bucket/" + properties[key].strip("/")
    parameters: dict[str, Any] = {}
    to_py27_compatible_template(document, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    # passthrough_metadata: each generated resource keeps its source's Metadata (checkov skips).
    expanded = translator.translate(
        document,
        parameter_values=parameters,
        passthrough_metadata=True,
        get_managed_policy_map=_no_managed_policy_names,
    )
    result = undo_mark_unicode_str_in_template(expanded)
    assert isinstance(result, dict)
    return result


@lru_cache(maxsize=1)
def expanded_template(path: Path = TEMPLATE_PATH) -> Template:
    return expand_template(load_template_text(path.read_text(encoding="utf-8"), str(path)))
