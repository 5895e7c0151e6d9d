"""Run many writers at once, merging their Intacct calls into shared gateway requests.

A writer is a generator: it yields a step (the functions it needs run next, reads or
writes) and receives their outcomes, until it returns its result. Writers of one group (one
FIFO message group: one customer) run one after the other, in order, except for runs of
writes that cannot depend on each other (a customer's distinct invoices); writers of different
groups are independent, so each round sends the current step of every running writer in one
request (Intacct runs the functions of a request independently unless transaction=true). Ten
events of ten customers, or of two customers with four invoices each, cost a few requests.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bisync.intacct.functions import Function
from bisync.intacct.outcome import Outcome
from bisync.sync.failures import BusinessSyncError, SyncFailure, TransientSyncError, classify

R = TypeVar("R")
Step = list[Function]
Writer = Generator[Step, list[Outcome], R]
Execute = Callable[[Sequence[Function]], list[Outcome]]
# Functions per gateway request (Intacct documents no cap; this keeps one response small).
MAX_FUNCTIONS_PER_REQUEST = 50


@dataclass
class Task(Generic[R]):
    """One message's writer. `result` or `failure` is set when it ends."""

    task_id: str
    group: str
    writer: Writer[R]
    result: R | None = None
    failure: SyncFailure | None = None
    done: bool = False
    step: Step = field(default_factory=list)
    # Tasks of one group run one after the other, except that a run of tasks with distinct
    # keys set here (writes that cannot depend on each other) runs side by side.
    parallel_key: str | None = None


@dataclass
class RoundStats:
    requests: int = 0
    functions: int = 0
    rounds: int = 0


def _advance(task: Task[Any], outcomes: list[Outcome] | None) -> None:
    """Move a writer to its next step (or its end), recording how it ended."""
    failure: SyncFailure | None = None
    try:
        task.step = next(task.writer) if outcomes is None else task.writer.send(outcomes)
    except StopIteration as stop:
        task.result = stop.value
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
    else:
        if not task.step:
            raise RuntimeError("a writer yielded an empty step")
        return
    task.failure = failure
    task.done = True
    task.step = []


def _next_stage(queue: list[Task[Any]]) -> list[Task[Any]]:
    """Pop the tasks that start together: a task without a `parallel_key` alone, else the
    leading run of tasks whose keys are set and distinct."""
    first = queue.pop(0)
    stage = [first]
    if first.parallel_key is None:
        return stage
    keys = {first.parallel_key}
    while queue and queue[0].parallel_key is not None and queue[0].parallel_key not in keys:
        keys.add(queue[0].parallel_key)
        stage.append(queue.pop(0))
    return stage


def run_rounds(
    groups: Sequence[Sequence[Task[Any]]],
    execute: Execute,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
) -> RoundStats:
    """Run every task; on return each is done. A group runs in stages (see `Task.parallel_key`),
    one after the other. A transient failure fails its task and every task of its group's later
    stages (their order must hold); a business failure fails only its task. Once `out_of_time()`
    says so, no further round starts: the unfinished tasks fail as transient (their messages
    come back; what they wrote is found again by its controlid), rather than the whole
    invocation being cut off by its time limit."""
    stats = RoundStats()
    queues = [list(group) for group in groups]
    active: list[list[Task[Any]]] = [[] for _ in queues]

    def hold_rest(i: int, failure: SyncFailure) -> None:
        for task in queues[i]:
            task.failure = TransientSyncError(f"held back: an earlier event of its group failed ({failure})")
            task.done = True
            task.writer.close()
        queues[i] = []

    def finished(i: int, task: Task[Any]) -> None:
        active[i].remove(task)
        if isinstance(task.failure, TransientSyncError):
            hold_rest(i, task.failure)

    def start_stage(i: int) -> None:
        while queues[i] and not active[i]:
            for task in _next_stage(queues[i]):
                _advance(task, None)
                active[i].append(task)
                if task.done:
                    finished(i, task)

    for i in range(len(queues)):
        start_stage(i)
    while any(active):
        if out_of_time():
            late = TransientSyncError("out of time in this invocation: retried from where it stopped")
            for i, tasks in enumerate(active):
                for task in list(tasks):
                    task.failure, task.done = late, True
                    task.writer.close()
                    finished(i, task)
            break
        running = [(i, t) for i, tasks in enumerate(active) for t in tasks]
        stats.rounds += 1
        results, failure = _execute_all([f for _, t in running for f in t.step], execute, stats)
        if isinstance(failure, BusinessSyncError) and len(running) > 1:
            # A refusal of the whole request (a schema error, say) names no function: run each
            # writer's step alone so only the culprit fails.
            results, failure = {}, None
            for _, task in running:
                alone, task_failure = _execute_all(task.step, execute, stats)
                results.update(alone)
                if task_failure is not None:
                    task.failure = task_failure
        for i, task in running:
            if not all(f.controlid in results for f in task.step):
                task.failure = task.failure or failure or TransientSyncError("no outcome for a function")
                task.done = True
                task.writer.close()
            else:
                _advance(task, [results[f.controlid] for f in task.step])
            if task.done:
                finished(i, task)
        for i in range(len(queues)):
            start_stage(i)
    return stats


def _execute_all(
    step: Sequence[Function], execute: Execute, stats: RoundStats
) -> tuple[dict[str, Outcome], SyncFailure | None]:
    """Outcomes by controlid (the same call asked twice runs once), in requests of at most
    MAX_FUNCTIONS_PER_REQUEST; stops at the first request that fails as a whole."""
    unique: dict[str, Function] = {}
    for function in step:
        unique.setdefault(function.controlid, function)
    functions = list(unique.values())
    results: dict[str, Outcome] = {}
    for start in range(0, len(functions), MAX_FUNCTIONS_PER_REQUEST):
        chunk = functions[start : start + MAX_FUNCTIONS_PER_REQUEST]
        stats.requests += 1
        stats.functions += len(chunk)
        try:
            outcomes = execute(chunk)
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            return results, failure
        for outcome in outcomes:
            results[outcome.function.controlid] = outcome
    return results, None
