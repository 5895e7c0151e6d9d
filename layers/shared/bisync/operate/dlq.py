"""Dead letters: read them without consuming them, and move chosen ones back to their queue.

SQS FIFO rules shape this module:
- While any message of a group is in flight, SQS hands out no other message of that group (a
  single receive may return several of one group, up to 10). A listing, which must give every
  message back, therefore sees only the first messages of each group; the later ones appear once
  those leave the queue. A replay walks each group from its head: send, delete, next.
- AWS replaces a FIFO message's deduplication id with its message id when it moves it to the
  DLQ (ministack keeps it). Every producer here derives the id from the job (`to_message()`), so
  a replay sends a job with that id again, and a body that is not a job with the DLQ's.
- A send whose deduplication id the queue saw in the last 5 minutes is accepted and silently
  dropped. A dead letter sent less than 5 minutes ago (SentTimestamp) is held, not replayed,
  unless the caller asks for a new deduplication id.
- Nothing leaves the DLQ before its copy was sent. An interruption leaves a message in the DLQ
  (a later replay moves it), or, between send and delete, in both queues: a second replay within
  5 minutes sends the same deduplication id again, which SQS drops.
Every message this module receives and does not delete is made visible again before it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bisync.settings import TENANT_ID_PATTERN
from bisync.sync.jobs import PullJob, PushJob

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef, MessageTypeDef

QueueKind = Literal["push", "pull"]

DEDUP_WINDOW = timedelta(minutes=5)
# SentTimestamp is SQS's clock, `now` is ours: the margin keeps a small skew from letting a copy
# go out that SQS would still drop.
CLOCK_MARGIN = timedelta(seconds=15)
# `--type malformed` selects the messages whose body is not a job.
MALFORMED = "malformed"
_BATCH = 10
# Short for a listing: if the process dies, what it held is visible again soon.
_PEEK_VISIBILITY_S = 30
# Long enough that a replay's held messages do not come back while it runs.
_REPLAY_VISIBILITY_S = 120


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeadLetter(BaseModel):
    """One message of a DLQ as read, its body parsed when it is a job."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    kind: QueueKind
    group_id: str | None = None
    deduplication_id: str | None = None  # as the DLQ has it
    # The id the job's producer sent it with (None when the body is not a job).
    original_deduplication_id: str | None = None
    sequence_number: str | None = None
    sent_at: datetime | None = None
    receive_count: int = 0
    source_arn: str | None = None
    tenant_id: str | None = None
    event_type: str | None = None  # push: the Blixo event type; pull: the trigger
    subject: str | None = None  # push: the Blixo customer; pull: the hour it was scheduled for
    event_id: str | None = None  # push only
    flows: tuple[str, ...] = ()  # pull: the flows a continuation had left to do
    problem: str | None = None  # why the body is not a job; None when it is one
    body: str

    @property
    def object_type(self) -> str | None:
        if self.problem is not None:
            return None
        if self.kind == "push":
            return (self.event_type or "").split(".", 1)[0]
        return "pull"

    def has_type(self, name: str) -> bool:
        wanted = name.strip().lower()
        if self.problem is not None:
            return wanted == MALFORMED
        if self.kind == "push":
            return wanted in {(self.event_type or "").lower(), self.object_type}
        return wanted in {"pull", (self.event_type or "").lower(), *self.flows}

    def replayable_at(self) -> datetime | None:
        """When SQS no longer drops a copy with this message's deduplication id."""
        return self.sent_at + DEDUP_WINDOW + CLOCK_MARGIN if self.sent_at else None


class Selection(BaseModel):
    """Which dead letters a command is about; None means any."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str | None = None
    type_name: str | None = None
    message_ids: frozenset[str] | None = None

    def matches(self, letter: DeadLetter) -> bool:
        if self.message_ids is not None and letter.message_id not in self.message_ids:
            return False
        if self.tenant_id is not None and letter.tenant_id != self.tenant_id:
            return False
        return self.type_name is None or letter.has_type(self.type_name)


class QueueDepth(BaseModel):
    """SQS's approximate counts (they lag behind by up to a minute in AWS)."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


class Listing(BaseModel):
    kind: QueueKind
    dlq_url: str
    letters: list[DeadLetter]  # the matching ones, each group's in order
    seen: int  # messages received, matching or not
    depth: QueueDepth | None = None  # before the listing
    # Groups that may hold more messages than a listing can see (see the module docstring).
    partial_groups: list[str] = Field(default_factory=list)
    limited: bool = False  # stopped at the limit

    @property
    def hidden(self) -> int:
        """About how many messages of the DLQ the listing did not see."""
        return max(0, self.depth.total - self.seen) if self.depth else 0


class ReplayStatus(StrEnum):
    REPLAYED = "replayed"
    WOULD_REPLAY = "would_replay"  # dry run
    RECENT = "recent"  # within the deduplication window: SQS would drop the copy
    BLOCKED = "blocked"  # an earlier message of its group stays in the DLQ
    FAILED = "failed"  # the send failed: still in the DLQ
    DUPLICATE = "dropped_as_duplicate"  # SQS answered with the original: not delivered, kept
    NOT_DELETED = "sent_not_deleted"  # sent, but the delete failed: in both queues


_DONE = frozenset({ReplayStatus.REPLAYED, ReplayStatus.WOULD_REPLAY})


class ReplayOutcome(BaseModel):
    letter: DeadLetter
    status: ReplayStatus
    deduplication_id: str | None = None  # what was (or would be) sent
    new_message_id: str | None = None
    reason: str = ""


class ReplayReport(BaseModel):
    kind: QueueKind
    source_url: str
    dlq_url: str
    dry_run: bool
    outcomes: list[ReplayOutcome] = Field(default_factory=list)
    missing_ids: list[str] = Field(default_factory=list)  # asked for, never reached
    partial_groups: list[str] = Field(default_factory=list)  # dry run: not seen to the end
    stopped: str | None = None  # why the replay ended early

    def count(self, status: ReplayStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def complete(self) -> bool:
        """Every selected message that was reached moved (or would move), nothing was missing."""
        return self.stopped is None and not self.missing_ids and all(o.status in _DONE for o in self.outcomes)


def read_letter(message: MessageTypeDef, kind: QueueKind) -> DeadLetter:
    """A received message as a dead letter; a body that is not a job is one too, with its problem."""
    attrs: dict[str, str] = {str(k): v for k, v in message.get("Attributes", {}).items()}
    body = message.get("Body", "")
    group = attrs.get("MessageGroupId")
    stamp = attrs.get("SentTimestamp")
    base = DeadLetter(
        message_id=message["MessageId"],
        kind=kind,
        group_id=group,
        deduplication_id=attrs.get("MessageDeduplicationId"),
        sequence_number=attrs.get("SequenceNumber"),
        sent_at=datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp and stamp.isdigit() else None,
        receive_count=int(attrs.get("ApproximateReceiveCount", "0") or 0),
        source_arn=attrs.get("DeadLetterQueueSourceArn"),
        body=body,
    )
    update: dict[str, Any]
    try:
        if kind == "push":
            push = PushJob.model_validate_json(body)
            update = {"tenant_id": push.tenant_id, "event_type": push.event_type}
            update |= {"subject": push.customer_id, "event_id": push.event_id}
            produced = push.to_message()
        else:
            pull = PullJob.model_validate_json(body)
            flows = pull.resume.get("flows")
            update = {"tenant_id": pull.tenant_id, "event_type": pull.trigger}
            update |= {"subject": pull.scheduled_for.isoformat()}
            update["flows"] = tuple(str(f) for f in flows) if isinstance(flows, list) else ()
            produced = pull.to_message()
        update["original_deduplication_id"] = produced.deduplication_id
        update["group_id"] = group or produced.group_id
    except ValidationError as exc:
        update = {"problem": _problem(exc, kind), "tenant_id": _tenant_of_group(group, kind)}
    return base.model_copy(update=update)


def _problem(exc: ValidationError, kind: QueueKind) -> str:
    # Locations and reasons only: the input is the body, shown by `show`, not in every message.
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"not a {kind} job: {where + ': ' if where else ''}{first['msg']}{more}"


def _tenant_of_group(group: str | None, kind: QueueKind) -> str | None:
    """The tenant a group id names (push: tenant:customer, pull: tenant), so filters still work."""
    if not group:
        return None
    candidate = group.split(":", 1)[0] if kind == "push" else group
    return candidate if TENANT_ID_PATTERN.fullmatch(candidate) else None


def queue_depth(sqs: SQSClient, url: str) -> QueueDepth:
    reply = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    attrs: dict[str, str] = {str(k): v for k, v in reply.get("Attributes", {}).items()}
    return QueueDepth(
        visible=int(attrs.get("ApproximateNumberOfMessages", "0")),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", "0")),
        delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", "0")),
    )


@dataclass
class _Reader:
    """Reads a DLQ, holding what it received in flight until it deletes it or `release` makes it
    visible again."""

    sqs: SQSClient
    url: str
    kind: QueueKind
    handles: dict[str, str] = field(default_factory=dict)  # message id -> latest receipt handle
    seen: set[str] = field(default_factory=set)
    # Groups a full batch may have cut short: their next messages stay out of sight while held.
    full_groups: set[str] = field(default_factory=set)

    def walk(self, visibility: int, wait_seconds: int) -> Iterator[tuple[DeadLetter, MessageTypeDef]]:
        """Each message not seen before, in the order SQS hands them out, until a receive is empty."""
        while True:
            reply = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=_BATCH,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch = reply.get("Messages", [])
            if not batch:
                return
            for message in batch:
                # One seen before is back because its visibility ran out: decided, still held.
                self.handles[message["MessageId"]] = message["ReceiptHandle"]
            for message in batch:
                if message["MessageId"] in self.seen:
                    continue
                self.seen.add(message["MessageId"])
                letter = read_letter(message, self.kind)
                if len(batch) == _BATCH and letter.group_id:
                    self.full_groups.add(letter.group_id)
                yield letter, message

    def delete(self, message_id: str) -> None:
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=self.handles[message_id])
        del self.handles[message_id]

    def release(self) -> None:
        items = list(self.handles.values())
        self.handles.clear()
        for start in range(0, len(items), _BATCH):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(items[start : start + _BATCH])
            ]
            try:
                self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError):
                # Nothing is lost: these become visible by themselves when their timeout ends.
                continue


def peek(
    sqs: SQSClient,
    *,
    kind: QueueKind,
    dlq_url: str,
    selection: Selection | None = None,
    limit: int | None = None,
    wait_seconds: int = 1,
) -> Listing:
    """The DLQ's messages that match, without consuming any: each is made visible again."""
    selection = selection or Selection()
    listing = Listing(kind=kind, dlq_url=dlq_url, letters=[], seen=0, depth=queue_depth(sqs, dlq_url))
    reader = _Reader(sqs, dlq_url, kind)
    tenants: dict[str | None, str | None] = {}
    try:
        for letter, _ in reader.walk(_PEEK_VISIBILITY_S, wait_seconds):
            tenants[letter.group_id] = letter.tenant_id
            if selection.matches(letter):
                listing.letters.append(letter)
            if selection.message_ids is not None and selection.message_ids <= reader.seen:
                break
            if limit is not None and len(listing.letters) >= limit:
                listing.limited = True
                break
    finally:
        reader.release()
    listing.seen = len(reader.seen)
    # The selected tenant's groups only: others' hidden messages are not what was asked about.
    listing.partial_groups = sorted(
        g for g in reader.full_groups if selection.tenant_id in (None, tenants.get(g))
    )
    return listing


def replayed_deduplication_id(original: str, message_id: str) -> str:
    """A new id for a recent message: stable per dead letter, so an interrupted replay that sends
    it again within 5 minutes is still dropped as the duplicate it is."""
    digest = hashlib.sha256(f"{original}\n{message_id}".encode()).hexdigest()
    return f"replay-{digest[:40]}"


def replay(
    sqs: SQSClient,
    *,
    kind: QueueKind,
    source_url: str,
    dlq_url: str,
    selection: Selection,
    dry_run: bool = False,
    new_dedup_id: bool = False,
    wait_seconds: int = 1,
    now: Callable[[], datetime] | None = None,
    on_outcome: Callable[[ReplayOutcome], None] | None = None,
) -> ReplayReport:
    """Move the selected dead letters back to their source queue, each group's in order.

    Per group, a letter moves only when every earlier one of that group moved: the first that
    does not (not selected, recent, failed) stops its group, and its later selected ones are
    reported blocked. A failed send or delete stops the whole replay. A dry run sends and
    deletes nothing and reports what would move."""
    report = ReplayReport(kind=kind, source_url=source_url, dlq_url=dlq_url, dry_run=dry_run)
    run = _Replay(_Reader(sqs, dlq_url, kind), report, selection, new_dedup_id, now or _utcnow, on_outcome)
    try:
        for letter, message in run.reader.walk(_REPLAY_VISIBILITY_S, wait_seconds):
            run.step(letter, dict(message.get("MessageAttributes", {})))
            if report.stopped is not None:
                break
    finally:
        run.reader.release()
    if selection.message_ids is not None:
        report.missing_ids = sorted(selection.message_ids - run.reader.seen)
    if dry_run:
        # Held in flight, these groups' later messages never showed; a real replay reaches them.
        reached = {o.letter.group_id for o in report.outcomes}
        report.partial_groups = sorted(run.reader.full_groups & reached)
    return report


@dataclass
class _Replay:
    reader: _Reader
    report: ReplayReport
    selection: Selection
    new_dedup_id: bool
    now: Callable[[], datetime]
    on_outcome: Callable[[ReplayOutcome], None] | None
    # Group -> why its later messages stay in the DLQ.
    stopped_groups: dict[str, str] = field(default_factory=dict)

    def _record(self, letter: DeadLetter, status: ReplayStatus, **fields: Any) -> None:
        outcome = ReplayOutcome(letter=letter, status=status, **fields)
        self.report.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def step(self, letter: DeadLetter, attributes: dict[str, Any]) -> None:
        # Every FIFO message has a group id (SQS refuses a send without one).
        group, selected = letter.group_id or "", self.selection.matches(letter)
        if group in self.stopped_groups:
            if selected:
                self._record(letter, ReplayStatus.BLOCKED, reason=self.stopped_groups[group])
            return
        if not selected:
            self.stopped_groups[group] = f"behind {letter.message_id} of its group, not selected"
            return
        dedup, note = self._deduplication_id(letter)
        if dedup is None:
            self._record(letter, ReplayStatus.RECENT, reason=note)
            self.stopped_groups[group] = (
                f"behind {letter.message_id} of its group, sent less than 5 minutes ago"
            )
            return
        if self.report.dry_run:
            self._record(letter, ReplayStatus.WOULD_REPLAY, deduplication_id=dedup, reason=note)
            return
        self._move(letter, group, dedup, note, attributes)

    def _deduplication_id(self, letter: DeadLetter) -> tuple[str | None, str]:
        """The id to send with, and a note; None when SQS would drop the copy and the caller did
        not ask for a new id."""
        # SQS gives every FIFO message a deduplication id (content-based: the body's SHA-256).
        original = (
            letter.original_deduplication_id
            or letter.deduplication_id
            or hashlib.sha256(letter.body.encode()).hexdigest()
        )
        note = ""
        if letter.deduplication_id not in (None, original):
            note = f"the job's own deduplication id (the DLQ had {letter.deduplication_id})"
        clear_at = letter.replayable_at()
        if clear_at is not None and clear_at <= self.now():
            return original, note
        if not self.new_dedup_id:
            sent = letter.sent_at.isoformat(timespec="seconds") if letter.sent_at else "at an unknown time"
            until = f"until {clear_at.isoformat(timespec='seconds')}" if clear_at else "for 5 minutes"
            return None, (
                f"sent {sent}: SQS would drop a copy with deduplication id {original} {until}; "
                "replay it then, or with a new deduplication id"
            )
        return replayed_deduplication_id(original, letter.message_id), (
            f"sent less than 5 minutes ago: sent with a new deduplication id (was {original})"
        )

    def _move(
        self, letter: DeadLetter, group: str, dedup: str, note: str, attributes: dict[str, Any]
    ) -> None:
        extra: dict[str, Any] = {"MessageAttributes": attributes} if attributes else {}
        try:
            reply = self.reader.sqs.send_message(
                QueueUrl=self.report.source_url,
                MessageBody=letter.body,
                MessageGroupId=group,
                MessageDeduplicationId=dedup,
                **extra,
            )
        except (ClientError, BotoCoreError) as exc:
            self._record(letter, ReplayStatus.FAILED, deduplication_id=dedup, reason=_aws_error(exc))
            self.report.stopped = (
                f"sending {letter.message_id} failed ({_aws_error(exc)}): it and every message not "
                "replayed yet stay in the DLQ"
            )
            return
        if reply["MessageId"] == letter.message_id:
            # SQS answers a deduplicated send with the id of the message it kept, and here that
            # is this very message: its original send still holds the id, the copy was dropped.
            why = "SQS dropped the copy as a duplicate of the original send; it stays in the DLQ"
            self._record(letter, ReplayStatus.DUPLICATE, deduplication_id=dedup, reason=why)
            self.stopped_groups[group] = f"behind {letter.message_id} of its group, dropped as a duplicate"
            return
        sent = {"deduplication_id": dedup, "new_message_id": reply["MessageId"]}
        try:
            self.reader.delete(letter.message_id)
        except (ClientError, BotoCoreError) as exc:
            why = f"sent, but the delete failed ({_aws_error(exc)}): a replay within 5 minutes sends the same id, which SQS drops"
            self._record(letter, ReplayStatus.NOT_DELETED, reason=why, **sent)
            self.report.stopped = f"deleting {letter.message_id} from the DLQ failed ({_aws_error(exc)})"
            return
        self._record(letter, ReplayStatus.REPLAYED, reason=note, **sent)


def _aws_error(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message')}"
    return str(exc)
