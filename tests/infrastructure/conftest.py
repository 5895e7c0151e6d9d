"""Fixtures: the template, its raw text and samconfig.toml, each read once per session."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from tests.infrastructure.cfn import SAMCONFIG_PATH, TEMPLATE_PATH, Template, load_template_text


@pytest.fixture(scope="session")
def template_text() -> str:
    return TEMPLATE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def template(template_text: str) -> Template:
    return load_template_text(template_text, str(TEMPLATE_PATH))


@pytest.fixture(scope="session")
def samconfig() -> dict[str, Any]:
    with SAMCONFIG_PATH.open("rb") as handle:
        return tomllib.load(handle)
