"""The `blixo-intacct` command: global options choose the stack; each group lives in commands/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from typer._click.core import Context
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from bisync.store import TenantNotFoundError
from blixo_cli import target as targets
from blixo_cli.commands import dlq, errors, reconcile, status, sync, tenant
from blixo_cli.context import Options
from blixo_cli.output import OperatorError


class _Group(TyperGroup):
    """Turns the failures an operator can hit into one clear message and exit code 1."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ClickException, typer.Exit, typer.Abort):
            raise
        except targets.TargetError as exc:
            raise OperatorError(str(exc)) from None
        except TenantNotFoundError as exc:
            raise OperatorError(
                f"unknown tenant {exc.args[0] if exc.args else ''}: onboard it with `tenant connect`"
            ) from None
        except ValidationError as exc:
            raise OperatorError(_validation_message(exc)) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise OperatorError(
                f"AWS {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise OperatorError(f"AWS: {exc}") from None


def _validation_message(exc: ValidationError) -> str:
    """Field paths and reasons only: the input may hold a secret, so it is never echoed."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "value"
        lines.append(f"{where}: {error['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)


app = typer.Typer(
    cls=_Group,
    name="blixo-intacct",
    help="Operate the Blixo <-> Sage Intacct sync: tenants, sync timing, errors, dead letters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Errors print as one plain line (stderr), not a panel that wraps the message.
    rich_markup_mode=None,
)


@app.callback()
def _options(
    ctx: typer.Context,
    stack: str | None = typer.Option(
        None, "--stack", envvar="BLIXO_INTACCT_STACK", help="CloudFormation stack of a deployed stage."
    ),
    stack_file: Path | None = typer.Option(
        None, "--stack-file", help="A stack document (default: .local/stack.json from `make up`)."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", envvar="AWS_ENDPOINT_URL", help="AWS endpoint (ministack, say)."
    ),
    region: str | None = typer.Option(None, "--region", envvar="AWS_REGION", help="AWS region."),
    profile: str | None = typer.Option(None, "--profile", envvar="AWS_PROFILE", help="AWS profile."),
) -> None:
    if isinstance(ctx.obj, targets.Target):
        return  # a caller (a test, the demo) chose the stack already
    # Resolved on first use, so `--help` works without a stack.
    ctx.obj = Options(stack=stack, stack_file=stack_file, endpoint=endpoint, region=region, profile=profile)


app.add_typer(tenant.app, name="tenant", help="Connect, show and change a tenant.")
app.add_typer(sync.app, name="sync", help="Queue a pull now, or backfill the push from Blixo.")
app.add_typer(errors.app, name="errors", help="Open sync errors: list, show, retry, ignore.")
app.add_typer(dlq.app, name="dlq", help="Dead letters: list, show, replay to their source queue.")
app.command("status")(status.status)
app.command("reconcile")(reconcile.reconcile)


def main() -> None:
    app(prog_name="blixo-intacct")
