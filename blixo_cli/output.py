"""How commands print: rich tables for people, `--json` for scripts, errors without tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console

# typer carries its own copy of click: its ClickException is what its commands print and exit on.
from typer._click.exceptions import ClickException

# Piped output (a log, a CI step) is not cut to 80 columns: tables stay one row per record.
console = Console(width=None if sys.stdout.isatty() else 160)
# Errors are not wrapped: a script (or a test) reads the message whole.
err_console = Console(stderr=True, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")


class OperatorError(ClickException):
    """A failure the operator can act on: printed as one message, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        err_console.print(f"[bold red]error:[/] {self.format_message()}", highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "get_secret_value"):
        return "**********"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, sort_keys=False)


def emit(data: Any, as_json: bool, render: Callable[[Console], None]) -> None:
    """One result: JSON on stdout for scripts, or `render` for people."""
    if as_json:
        typer.echo(to_json(data))
    else:
        render(console)


def when(moment: datetime | None) -> str:
    """A moment for a table cell: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%m-%d %H:%M:%SZ") if moment else "never"
