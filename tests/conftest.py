"""Shared test fixtures and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The real Intacct responses live beside the repository, never inside it. BLIXO_REFERENCE_XML
# points elsewhere (e.g. at a missing folder, to see what a fresh clone's `make test` does).
_DEFAULT_REFERENCE_XML = ROOT.parent / "shared" / "reference" / "intacct-xml"
REFERENCE_XML = Path(os.environ.get("BLIXO_REFERENCE_XML") or _DEFAULT_REFERENCE_XML)

# For tests that read REFERENCE_XML: a fresh clone without ../shared skips them with one line
# (CI has the folder, so they run there). A mark rather than a fixture, because parametrize
# lists built from the folder are computed at collection time.
needs_reference_xml = pytest.mark.skipif(
    not REFERENCE_XML.is_dir(),
    reason=(
        "needs ../shared/reference/intacct-xml (absent in this checkout)"
        if REFERENCE_XML == _DEFAULT_REFERENCE_XML
        else f"needs BLIXO_REFERENCE_XML={REFERENCE_XML} (absent)"
    ),
)
