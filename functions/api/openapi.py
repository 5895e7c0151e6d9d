"""Writes (or checks) docs/openapi.json, the Accounting Sync API's document, from the routes.

python -m functions.api.openapi          # regenerate docs/openapi.json
python -m functions.api.openapi --check  # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from functions.api.app import openapi_document

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def render() -> str:
    return openapi_document() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only compare; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT} is out of date: run `python -m functions.api.openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
