"""Shared test fixtures and paths."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The real Intacct responses live beside the repository, never inside it.
REFERENCE_XML = ROOT.parent / "shared" / "reference" / "intacct-xml"
