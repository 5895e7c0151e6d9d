"""`blixo-intacct dlq list|show|replay`: dead letters, read without consuming them, and moved
back to their source queue (same group and deduplication id; deleted only once sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from bisync.operate import dlq as ops
from blixo_cli.context import target_of
from blixo_cli.output import JSON_OPTION, OperatorError, console, emit

app = typer.Typer(no_args_is_help=True)

# Long polling for the last, empty receive: a short poll may miss messages in AWS (tests set 0).
RECEIVE_WAIT_SECONDS = 1


class Queue(StrEnum):
    PUSH = "push"
    PULL = "pull"


QUEUE = typer.Option(Queue.PUSH, "--queue", help="Which dead-letter queue: push or pull.")
TENANT = typer.Option(None, "--tenant", help="Only this tenant's messages.")
TYPE = typer.Option(
    None,
    "--type",
    help="push: an object (invoice) or event type (invoice.created); pull: a trigger (schedule, "
    "operator, continuation) or flow; `malformed`: bodies that are not jobs.",
)


@contextmanager
def _aws(queue: Queue, url: str) -> Iterator[None]:
    """An AWS failure as one line that names the queue, never a traceback."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise OperatorError(
            f"{queue.value} DLQ {url}: {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise OperatorError(f"{queue.value} DLQ {url}: {exc}") from None


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s ago"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m ago"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h ago"


def _what(letter: ops.DeadLetter) -> str:
    if letter.problem is not None:
        return "malformed"
    if letter.kind == "push":
        return f"{letter.event_type} {letter.event_id}"
    flows = f" ({', '.join(letter.flows)})" if letter.flows else ""
    return f"pull {letter.event_type} {letter.subject}{flows}"


def _letter_json(letter: ops.DeadLetter, *, body: bool = False) -> dict[str, Any]:
    data = letter.model_dump(mode="json", exclude=None if body else {"body"})
    data["object_type"] = letter.object_type
    return data


@app.command("list")
def list_letters(
    ctx: typer.Context,
    queue: Queue = QUEUE,
    tenant: str | None = TENANT,
    type_name: str | None = TYPE,
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many messages."),
    json_output: bool = JSON_OPTION,
) -> None:
    """The dead letters, each group's in order; none is consumed (each is made visible again)."""
    target = target_of(ctx)
    _, dlq_url = target.queue_urls(queue.value)
    with _aws(queue, dlq_url):
        listing = ops.peek(
            target.client("sqs"),
            kind=queue.value,
            dlq_url=dlq_url,
            selection=ops.Selection(tenant_id=tenant, type_name=type_name),
            limit=limit,
            wait_seconds=RECEIVE_WAIT_SECONDS,
        )
    data = {
        **listing.model_dump(mode="json", exclude={"letters"}),
        "hidden": listing.hidden,
        "letters": [_letter_json(letter) for letter in listing.letters],
    }
    emit(data, json_output, lambda c: _list_table(c, listing))


def _list_table(out: Console, listing: ops.Listing) -> None:
    if not listing.letters:
        out.print(f"no matching messages in the {listing.kind} DLQ ({listing.seen} seen)")
    else:
        table = Table(title=f"{listing.kind} DLQ: {len(listing.letters)} message(s)", title_justify="left")
        # Ids whole on one line: they are what `show` and `replay` take.
        table.add_column("message id", no_wrap=True)
        for column in ("group", "what", "sent", "receives", "note"):
            table.add_column(column, overflow="fold")
        partial = set(listing.partial_groups)
        for letter in listing.letters:
            group = (letter.group_id or "") + (" +" if letter.group_id in partial else "")
            table.add_row(
                Text(letter.message_id),
                Text(group),
                Text(_what(letter)),
                _ago(letter.sent_at),
                str(letter.receive_count),
                Text(letter.problem or ""),
            )
        out.print(table)
    if listing.limited:
        out.print(f"stopped at --limit {len(listing.letters)}: there may be more")
    if listing.partial_groups:
        out.print(
            "groups marked + may hold more messages: SQS shows a FIFO group's later messages only "
            "after its first ones leave the queue (replay them, then list again)"
        )
    if listing.hidden:
        out.print(f"about {listing.hidden} more message(s) in the DLQ were not shown")


@app.command("show")
def show(
    ctx: typer.Context,
    message_id: str = typer.Argument(..., metavar="MESSAGE_ID"),
    queue: Queue = QUEUE,
    json_output: bool = JSON_OPTION,
) -> None:
    """One dead letter in full: attributes, and the job (or the raw body when it is not one)."""
    target = target_of(ctx)
    _, dlq_url = target.queue_urls(queue.value)
    with _aws(queue, dlq_url):
        listing = ops.peek(
            target.client("sqs"),
            kind=queue.value,
            dlq_url=dlq_url,
            selection=ops.Selection(message_ids=frozenset({message_id})),
            wait_seconds=RECEIVE_WAIT_SECONDS,
        )
    if not listing.letters:
        raise OperatorError(
            f"no message {message_id} in the {queue.value} DLQ (see `dlq list`; the other queue is "
            "`--queue push|pull`; a FIFO group's later messages show only after its first ones leave)"
        )
    letter = listing.letters[0]
    emit(_letter_json(letter, body=True), json_output, lambda c: _show(c, letter))


def _show(out: Console, letter: ops.DeadLetter) -> None:
    rows = _letter_json(letter)
    rows["sent_at"] = f"{rows['sent_at']} ({_ago(letter.sent_at)})"
    for key, value in rows.items():
        if value not in (None, "", []):
            out.print(f"[bold]{key}[/]: {escape(str(value))}", highlight=False)
    body = letter.body
    try:
        # A push job carries the Blixo event as text: show that as JSON too.
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("event_json"), str):
            parsed["event_json"] = json.loads(parsed["event_json"])
        out.print("[bold]body[/]:")
        out.print_json(json.dumps(parsed))
    except ValueError:
        out.print("[bold]body[/] (not JSON):")
        out.print(Text(body))


@app.command("replay")
def replay(
    ctx: typer.Context,
    message_ids: list[str] = typer.Argument(None, metavar="[MESSAGE_ID]...", help="Only these messages."),
    all_messages: bool = typer.Option(False, "--all", help="Every message matching the filters."),
    queue: Queue = QUEUE,
    tenant: str | None = TENANT,
    type_name: str | None = TYPE,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would move; move nothing."),
    new_dedup_id: bool = typer.Option(
        False,
        "--new-dedup-id",
        help="Replay messages sent less than 5 minutes ago with a new deduplication id (SQS would "
        "drop a copy with the original one); they are held otherwise.",
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Move dead letters back to their source queue, in order per group, each deleted once sent.

    Same group and deduplication ids. Exit 1 when a selected message stays in the DLQ."""
    if message_ids and all_messages:
        raise OperatorError("name message ids or pass --all, not both")
    if not (message_ids or all_messages or tenant or type_name):
        raise OperatorError("say what to replay: MESSAGE_ID..., --tenant, --type, or --all")
    target = target_of(ctx)
    source_url, dlq_url = target.queue_urls(queue.value)
    sqs = target.client("sqs")
    selection = ops.Selection(
        tenant_id=tenant, type_name=type_name, message_ids=frozenset(message_ids) if message_ids else None
    )
    done: list[ops.ReplayOutcome] = []
    with _aws(queue, dlq_url), _progress(not json_output) as tick:

        def on_outcome(outcome: ops.ReplayOutcome) -> None:
            done.append(outcome)
            tick(outcome)

        try:
            report = ops.replay(
                sqs,
                kind=queue.value,
                source_url=source_url,
                dlq_url=dlq_url,
                selection=selection,
                dry_run=dry_run,
                new_dedup_id=new_dedup_id,
                wait_seconds=RECEIVE_WAIT_SECONDS,
                on_outcome=on_outcome,
            )
        except KeyboardInterrupt:
            moved = sum(1 for o in done if o.status is ops.ReplayStatus.REPLAYED)
            raise OperatorError(
                f"interrupted after {moved} replayed: nothing was lost, the rest stay in the DLQ; run "
                "the same replay again to finish (a message caught between send and delete is sent "
                "again with the same deduplication id, which SQS drops within 5 minutes)"
            ) from None
    data = report.model_dump(mode="json", exclude={"outcomes": {"__all__": {"letter": {"body"}}}})
    data["complete"] = report.complete
    emit(data, json_output, lambda c: _replay_summary(c, report))
    if not report.complete:
        raise OperatorError(_shortfall(report))


@contextmanager
def _progress(show: bool) -> Iterator[Any]:
    """A progress bar on the console (not with --json: stdout is the document)."""
    if not show:
        yield lambda _outcome: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("replaying", total=None)

        def tick(outcome: ops.ReplayOutcome) -> None:
            progress.update(
                task, advance=1, description=f"{outcome.status.value} {outcome.letter.message_id}"
            )

        yield tick


def _replay_summary(out: Console, report: ops.ReplayReport) -> None:
    verb = "would replay" if report.dry_run else "replayed"
    moved = report.count(ops.ReplayStatus.WOULD_REPLAY if report.dry_run else ops.ReplayStatus.REPLAYED)
    if report.outcomes:
        table = Table(title=f"{report.kind} DLQ -> {report.kind} queue", title_justify="left")
        table.add_column("message id", no_wrap=True)
        for column in ("group", "what", "outcome", "deduplication id", "reason"):
            table.add_column(column, overflow="fold")
        for o in report.outcomes:
            table.add_row(
                Text(o.letter.message_id),
                Text(o.letter.group_id or ""),
                Text(_what(o.letter)),
                o.status.value,
                Text(o.deduplication_id or ""),
                Text(o.reason),
            )
        out.print(table)
    out.print(f"{verb} {moved} of {len(report.outcomes)} selected message(s) reached")
    if report.partial_groups:
        out.print(
            f"{len(report.partial_groups)} group(s) have later messages a dry run cannot see (held "
            "while their first ones are, SQS FIFO shows no more of a group)"
        )


def _shortfall(report: ops.ReplayReport) -> str:
    lines = []
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    stays = [
        o
        for o in report.outcomes
        if o.status not in (ops.ReplayStatus.REPLAYED, ops.ReplayStatus.WOULD_REPLAY)
    ]
    if stays:
        by_status: dict[str, int] = {}
        for o in stays:
            by_status[o.status.value] = by_status.get(o.status.value, 0) + 1
        counts = ", ".join(f"{n} {status}" for status, n in by_status.items())
        lines.append(f"{len(stays)} selected message(s) stay in the DLQ ({counts})")
    if any(o.status is ops.ReplayStatus.RECENT for o in stays):
        lines.append("recent ones: replay after 5 minutes, or now with --new-dedup-id")
    if report.missing_ids:
        lines.append(
            "not found: " + ", ".join(report.missing_ids) + " (not in this DLQ, or behind earlier "
            "messages of their group that were not replayed)"
        )
    return "\n  ".join(lines)
