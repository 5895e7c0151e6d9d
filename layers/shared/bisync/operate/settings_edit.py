"""Changing a tenant's settings: a partial change merged into the current settings and
validated as a whole before anything is saved (the CLI's `tenant set` and the API's PATCH)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bisync.settings import TenantSettings

# Not an operator's to change here: the tenant's identity and where its secret lives.
PROTECTED = frozenset({"tenant_id", "secret_name"})
# Settings whose values must exist in the tenant's Intacct company: looked up before saving.
CHECKED_IN_INTACCT = frozenset({"accounts", "invoice_definitions", "return_definitions"})
# Settings objects whose fields merge one by one; every other value (lists, the terms map)
# is replaced whole, so `terms={}` clears the terms.
MERGED = frozenset({"flows", "accounts"})


class SettingsChangeError(ValueError):
    """A change that names an unknown or protected setting, or a malformed assignment."""


def merge(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """`change` over `base`; nested objects merge key by key, lists and values replace."""
    out = dict(base)
    for key, value in change.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = merge(current, value)
        else:
            out[key] = value
    return out


def apply_change(current: TenantSettings, change: Mapping[str, Any]) -> TenantSettings:
    """The new settings; raises pydantic's ValidationError (field paths, no values echoed by
    our renderers) or SettingsChangeError. Nothing is saved here."""
    touched = PROTECTED & set(change)
    if touched:
        raise SettingsChangeError(f"{', '.join(sorted(touched))} cannot be changed")
    base = current.model_dump(mode="json")
    merged = {**base, **{k: v for k, v in change.items() if k not in MERGED}}
    for key in MERGED & set(change):
        value = change[key]
        merged[key] = merge(base[key], value) if isinstance(value, Mapping) else value
    return TenantSettings.model_validate(merged)


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """`flows.pull_invoices=false accounts.ar_account=1100 invoice_definitions=["Sales Invoice"]`
    as a nested change."""
    change: dict[str, Any] = {}
    for item in assignments:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise SettingsChangeError(f"{item!r} is not NAME=VALUE (e.g. flows.pull_invoices=false)")
        value: Any = raw
        # Text stays text (so `accounts.ar_account=1200` is the account "1200"; the model turns
        # "30" and "false" into numbers and booleans where it wants them); JSON objects, lists
        # and quoted strings are read as JSON, and `null` unsets.
        if raw.strip() == "null":
            value = None
        elif raw.lstrip()[:1] in ("{", "[", '"'):
            try:
                value = json.loads(raw)
            except ValueError:
                raise SettingsChangeError(f"{path}: {raw!r} is not valid JSON") from None
        keys = [k.strip() for k in path.split(".")]
        if any(not k for k in keys):
            raise SettingsChangeError(f"{path!r} is not a setting name")
        node = change
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise SettingsChangeError(f"{path!r} sets a value inside a value")
            node = child
        node[keys[-1]] = value
    return change
