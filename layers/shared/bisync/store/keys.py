"""The single-table key design (see docs/architecture.md). Only the store module imports this."""

from __future__ import annotations

import hashlib

TENANT_INDEX = "GSI1"
TENANT_INDEX_PK = "TENANT"


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


SETTINGS_SK = "SETTINGS"


def cursor_sk(flow: str) -> str:
    return f"CURSOR#{flow}"


def run_sk(started_at_iso: str, run_id: str) -> str:
    return f"RUN#{started_at_iso}#{run_id}"


ERROR_PREFIX = "ERR#"


def error_sk(object_type: str, object_id: str) -> str:
    return f"{ERROR_PREFIX}{object_type}#{object_id}"


def delivery_sk(event_id: str) -> str:
    # An event id is Blixo's text: a long or odd one is kept as a digest (a sort key holds
    # 1 KiB at most), so two ids never share an item.
    if len(event_id) <= 200 and event_id.isascii() and event_id.isprintable():
        return f"DELIVERY#{event_id}"
    return "DELIVERY#sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


EXPECTED_PREFIX = "X#"


def expected_sk(probe: str) -> str:
    """An announced write's probe (a customer and a reference: Intacct's text, and ours)."""
    if len(probe) <= 200 and probe.isascii() and probe.isprintable():
        return f"{EXPECTED_PREFIX}{probe}"
    return EXPECTED_PREFIX + "sha256:" + hashlib.sha256(probe.encode("utf-8", "surrogatepass")).hexdigest()


def slot_sk(n: int) -> str:
    return f"SLOT#{n}"


def mapping_pk(tenant_id: str, object_type: str) -> str:
    return f"TENANT#{tenant_id}#{object_type}"


BLIXO_SIDE_PREFIX = "B#"


def blixo_side_sk(blixo_id: str) -> str:
    return f"{BLIXO_SIDE_PREFIX}{blixo_id}"


def intacct_side_sk(intacct_key: str) -> str:
    return f"I#{intacct_key}"
