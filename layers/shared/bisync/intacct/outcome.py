"""The typed outcome of one function of a gateway request, and how a replayed transaction reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bisync.intacct.errors import BusinessError, IntacctError, is_rollback_only
from bisync.intacct.functions import Function
from bisync.intacct.xml import Record, ResultData


class OutcomeStatus(StrEnum):
    SUCCESS = "success"
    ALREADY_DONE = "already_done"  # uniqueid replay refusal: an earlier attempt committed
    FAILED = "failure"
    ABORTED = "aborted"  # transaction=true: rolled back because another function failed


@dataclass(frozen=True)
class Outcome:
    """The typed result of one function of a request."""

    function: Function
    status: OutcomeStatus
    key: str | None = None
    data: ResultData | None = None
    error: IntacctError | None = None

    @property
    def done(self) -> bool:
        return self.status in (OutcomeStatus.SUCCESS, OutcomeStatus.ALREADY_DONE)

    @property
    def records(self) -> tuple[Record, ...]:
        return self.data.records if self.data else ()

    def raise_for_error(self) -> Outcome:
        if not self.done:
            raise self.error or BusinessError(f"{self.function.name} {self.status}")
        return self


def transaction_replay(outcomes: list[Outcome]) -> list[Outcome]:
    """A replayed transaction: one function is refused as already recorded and the rest are
    rolled back because of it. The earlier attempt committed them all together."""
    if not any(o.status is OutcomeStatus.ALREADY_DONE for o in outcomes):
        return outcomes
    others = [o for o in outcomes if o.status not in (OutcomeStatus.ALREADY_DONE, OutcomeStatus.SUCCESS)]
    if all(o.error is not None and is_rollback_only(o.error.errors) for o in others):
        return [
            o if o.status is OutcomeStatus.SUCCESS else Outcome(o.function, OutcomeStatus.ALREADY_DONE)
            for o in outcomes
        ]
    return outcomes
