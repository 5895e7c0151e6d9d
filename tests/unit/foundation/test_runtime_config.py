"""RuntimeConfig from the environment the template sets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bisync.config import RuntimeConfig


def test_fields_come_from_their_capitalised_variables_with_types_checked() -> None:
    config = RuntimeConfig.from_env(
        {
            "SYNC_TABLE": "blixo-intacct-dev-sync",
            "WEBHOOK_MAX_BODY_BYTES": "1024",
            "INTACCT_REQUEST_DEADLINE_SECONDS": "12.5",
            "INTACCT_ALLOWED_HOSTS": '["api.intacct.com", "eu.intacct.com"]',
            "UNRELATED": "ignored",
        }
    )
    assert config.sync_table == "blixo-intacct-dev-sync"
    assert config.webhook_max_body_bytes == 1024
    assert config.intacct_request_deadline_seconds == 12.5
    assert config.intacct_allowed_hosts == ("api.intacct.com", "eu.intacct.com")
    assert config.stage == "dev"  # the default when unset


def test_allowed_hosts_may_be_one_comma_separated_line() -> None:
    config = RuntimeConfig.from_env({"SYNC_TABLE": "t", "INTACCT_ALLOWED_HOSTS": " a.example , b.example ,"})
    assert config.intacct_allowed_hosts == ("a.example", "b.example")


def test_a_missing_table_or_a_bad_number_is_an_error_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="sync_table"):
        RuntimeConfig.from_env({})
    with pytest.raises(ValidationError, match="webhook_max_body_bytes"):
        RuntimeConfig.from_env({"SYNC_TABLE": "t", "WEBHOOK_MAX_BODY_BYTES": "lots"})
    with pytest.raises(ValueError, match="JSON list"):
        RuntimeConfig.from_env({"SYNC_TABLE": "t", "INTACCT_ALLOWED_HOSTS": '{"a": 1}'})


def test_the_config_is_frozen() -> None:
    config = RuntimeConfig.from_env({"SYNC_TABLE": "t"})
    with pytest.raises(ValidationError):
        config.sync_table = "other"  # type: ignore[misc]
