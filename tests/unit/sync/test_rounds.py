"""run_rounds: writers of different groups share requests; a group keeps its order; failures
stay where they belong."""

from __future__ import annotations

from collections.abc import Generator, Sequence

import pytest

from bisync.intacct.errors import BusinessError, ErrorDetail, TransientError
from bisync.intacct.functions import Function
from bisync.intacct.outcome import Outcome, OutcomeStatus
from bisync.sync.failures import BusinessSyncError, TransientSyncError
from bisync.sync.push.context import ok
from bisync.sync.rounds import MAX_FUNCTIONS_PER_REQUEST, Task, run_rounds


class Gateway:
    """Answers every function with success (key = its controlid) unless told otherwise."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []
        self.refuse: set[str] = set()
        self.raise_on: set[str] = set()
        self.whole_request_refused: set[str] = set()

    def __call__(self, functions: Sequence[Function]) -> list[Outcome]:
        ids = [f.controlid for f in functions]
        self.requests.append(ids)
        if self.raise_on & set(ids):
            raise TransientError("Intacct server error (HTTP 503)")
        if self.whole_request_refused & set(ids) and len(ids) > 1:
            raise BusinessError("XL03000003: schema error somewhere in the request")
        if self.whole_request_refused & set(ids):
            raise BusinessError("XL03000003: schema error in this function")
        return [
            Outcome(
                f,
                OutcomeStatus.FAILED,
                error=BusinessError("BL01001973: no", errors=[ErrorDetail(errorno="BL01001973")]),
            )
            if f.controlid in self.refuse
            else Outcome(f, OutcomeStatus.SUCCESS, key=f.controlid)
            for f in functions
        ]


def call(cid: str) -> Function:
    return Function("create", cid, {}, is_write=True)


def writer(*steps: str, log: list[str] | None = None) -> Generator[list[Function], list[Outcome], list[str]]:
    keys: list[str] = []
    for step in steps:
        outcomes = yield [call(c) for c in step.split("+")]
        for outcome in outcomes:
            keys.append(ok(outcome).key or "")
        if log is not None:
            log.append(step)
    return keys


def test_independent_groups_share_each_round() -> None:
    gateway = Gateway()
    groups = [[Task(f"t{i}", f"g{i}", writer(f"c{i}", f"i{i}"))] for i in range(10)]
    stats = run_rounds(groups, gateway)
    assert stats.rounds == 2
    assert gateway.requests == [[f"c{i}" for i in range(10)], [f"i{i}" for i in range(10)]]
    assert [g[0].result for g in groups] == [[f"c{i}", f"i{i}"] for i in range(10)]


def test_a_group_runs_its_tasks_in_order() -> None:
    log: list[str] = []
    gateway = Gateway()
    group = [Task("a", "g", writer("a1", "a2", log=log)), Task("b", "g", writer("b1", log=log))]
    run_rounds([group], gateway)
    assert log == ["a1", "a2", "b1"]
    assert gateway.requests == [["a1"], ["a2"], ["b1"]]


def test_the_same_call_asked_twice_runs_once() -> None:
    gateway = Gateway()
    groups = [[Task("a", "g1", writer("read"))], [Task("b", "g2", writer("read"))]]
    run_rounds(groups, gateway)
    assert gateway.requests == [["read"]]
    assert groups[0][0].result == groups[1][0].result == ["read"]


def test_a_business_refusal_fails_only_its_task_and_the_group_goes_on() -> None:
    gateway = Gateway()
    gateway.refuse = {"bad"}
    group = [Task("a", "g", writer("bad")), Task("b", "g", writer("fine"))]
    run_rounds([group], gateway)
    assert isinstance(group[0].failure, BusinessSyncError)
    assert group[0].failure.errorno == "BL01001973"
    assert group[1].result == ["fine"]


def test_a_transient_failure_fails_its_round_and_holds_back_its_groups() -> None:
    gateway = Gateway()
    gateway.raise_on = {"x2"}
    g1 = [Task("a", "g1", writer("x1", "x2")), Task("b", "g1", writer("later"))]
    g2 = [Task("c", "g2", writer("y1"))]
    run_rounds([g1, g2], gateway)
    assert isinstance(g1[0].failure, TransientSyncError)
    assert isinstance(g1[1].failure, TransientSyncError)  # held back, never ran
    assert "later" not in [c for r in gateway.requests for c in r]
    assert g2[0].result == ["y1"]


def test_a_whole_request_refusal_is_split_so_only_the_culprit_fails() -> None:
    gateway = Gateway()
    gateway.whole_request_refused = {"schema-bad"}
    groups = [[Task("a", "g1", writer("schema-bad"))], [Task("b", "g2", writer("ok"))]]
    run_rounds(groups, gateway)
    assert isinstance(groups[0][0].failure, BusinessSyncError)
    assert groups[1][0].result == ["ok"]


def test_many_functions_are_split_into_requests_of_the_cap() -> None:
    gateway = Gateway()
    n = MAX_FUNCTIONS_PER_REQUEST + 5
    groups = [[Task(f"t{i}", f"g{i}", writer(f"c{i}"))] for i in range(n)]
    stats = run_rounds(groups, gateway)
    assert [len(r) for r in gateway.requests] == [MAX_FUNCTIONS_PER_REQUEST, 5]
    assert stats.requests == 2


def test_a_bug_in_a_writer_is_not_swallowed() -> None:
    def broken() -> Generator[list[Function], list[Outcome], None]:
        yield [call("x")]
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_rounds([[Task("a", "g", broken())]], Gateway())


def test_out_of_time_starts_no_further_round_and_fails_the_rest_as_transient() -> None:
    gateway = Gateway()
    rounds_left = iter([False, False, True])
    first = [Task("a", "g1", writer("a1", "a2", "a3")), Task("b", "g1", writer("b1"))]
    second = [Task("c", "g2", writer("c1"))]
    stats = run_rounds([first, second], gateway, out_of_time=lambda: next(rounds_left))
    assert gateway.requests == [["a1", "c1"], ["a2"]]  # a3 and b1 never sent
    assert stats.rounds == 2
    assert second[0].result == ["c1"]
    assert all(t.done for t in first)
    assert [type(t.failure) for t in first] == [TransientSyncError, TransientSyncError]
    assert "out of time" in str(first[0].failure)


def test_a_run_of_distinct_parallel_keys_shares_rounds_after_the_task_before_it() -> None:
    log: list[str] = []
    gateway = Gateway()
    group = [
        Task("cust", "g", writer("c-read", "c-create", log=log)),
        *(Task(f"i{n}", "g", writer(f"inv{n}", log=log), parallel_key=f"invoice:{n}") for n in range(4)),
        Task("pay", "g", writer("pay", log=log)),
    ]
    stats = run_rounds([group], gateway)
    assert gateway.requests == [["c-read"], ["c-create"], ["inv0", "inv1", "inv2", "inv3"], ["pay"]]
    assert stats.rounds == 4
    assert [t.result for t in group[1:5]] == [[f"inv{n}"] for n in range(4)]


def test_the_same_parallel_key_twice_runs_in_order() -> None:
    gateway = Gateway()
    group = [
        Task("a", "g", writer("a1", "a2"), parallel_key="invoice:1"),
        Task("b", "g", writer("b1"), parallel_key="invoice:2"),
        Task("c", "g", writer("c1"), parallel_key="invoice:1"),  # the same invoice again: after both
    ]
    run_rounds([group], gateway)
    assert gateway.requests == [["a1", "b1"], ["a2"], ["c1"]]


def test_a_transient_failure_in_a_stage_keeps_what_its_peers_did_and_holds_back_later_stages() -> None:
    gateway = Gateway()
    gateway.raise_on = {"bad"}
    group = [
        Task("a", "g", writer("a1", "bad"), parallel_key="invoice:1"),
        Task("b", "g", writer("b1"), parallel_key="invoice:2"),
        Task("c", "g", writer("after")),
    ]
    run_rounds([group], gateway)
    assert gateway.requests == [["a1", "b1"], ["bad"]]
    assert isinstance(group[0].failure, TransientSyncError)
    assert group[1].result == ["b1"]  # done before the failure: its message succeeds
    assert isinstance(group[2].failure, TransientSyncError)
    assert "held back" in str(group[2].failure)


def test_a_business_refusal_in_a_stage_fails_only_that_task() -> None:
    gateway = Gateway()
    gateway.refuse = {"bad"}
    group = [
        Task("a", "g", writer("bad"), parallel_key="invoice:1"),
        Task("b", "g", writer("b1", "b2"), parallel_key="invoice:2"),
        Task("c", "g", writer("after")),
    ]
    run_rounds([group], gateway)
    assert isinstance(group[0].failure, BusinessSyncError)
    assert group[1].result == ["b1", "b2"]
    assert group[2].result == ["after"]
    assert gateway.requests == [["bad", "b1"], ["b2"], ["after"]]
