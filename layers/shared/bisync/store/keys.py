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


def _text_sk(prefix: str, text: str) -> str:
    # Someone else's text (Blixo's event id, Intacct's reference): a long or odd one is kept as
    # a digest (a sort key holds 1 KiB at most), so two texts never share an item.
    if len(text) <= 200 and text.isascii() and text.isprintable():
        return f"{prefix}{text}"
    return f"{prefix}sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def delivery_sk(event_id: str) -> str:
    return _text_sk("DELIVERY#", event_id)


def expected_sk(probe: str) -> str:
    """An announced write's probe (a customer and a reference: Intacct's text, and ours)."""
    return _text_sk("X#", probe)


def slot_sk(n: int) -> str:
    return f"SLOT#{n}"


def mapping_pk(tenant_id: str, object_type: str) -> str:
    return f"TENANT#{tenant_id}#{object_type}"


BLIXO_SIDE_PREFIX = "B#"


def blixo_side_sk(blixo_id: str) -> str:
    return f"{BLIXO_SIDE_PREFIX}{blixo_id}"


def intacct_side_sk(intacct_key: str) -> str:
    return f"I#{intacct_key}"
