"""The benchmark's arithmetic and report, from figures alone (speed itself is measured by
`make bench`, never asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench.pull import Data, Latency, lower_bound
from bench.report import markdown

COUNTS = {
    "customers": 2000,
    "invoices": 10_000,
    "invoice_lines": 30_000,
    "returns": 1000,
    "return_lines": 1000,
    "payments": 5000,
    "payment_applications": 5000,
}


def test_the_lower_bound_is_a_session_and_one_request_per_full_page_of_each_kind() -> None:
    bound = lower_bound(COUNTS, Latency())
    # 1 session + 1 + 5 + 15 + 1 + 1 + 3 + 3 pages of 2000
    assert bound["intacct_requests"] == 30
    assert bound["blixo_requests"] == 2000 + 10_000 + 1000 + 5000
    assert bound["intacct_s"] == pytest.approx(30 * 0.150 / 2)
    assert bound["blixo_s"] == pytest.approx(18_000 * 0.050 / 20)
    assert bound["wall_s"] == pytest.approx(45.0)


def test_an_empty_kind_needs_no_request() -> None:
    counts = dict.fromkeys(COUNTS, 0) | {"customers": 1}
    assert lower_bound(counts, Latency())["intacct_requests"] == 2


def test_sizes_scale_and_never_vanish() -> None:
    assert Data().times(0.1) == Data(customers=200, orders=1000, returns=100, order_payments=500)
    assert Data().times(0.00001).orders == 1


def test_a_target_says_whether_it_is_met_either_way() -> None:
    assert bench_main._target(0.8, 1.2)["met"] is True
    assert bench_main._target(2.71, 1.5) == {
        "value": "2.71\u00d7",
        "target": "\u2264 1.5\u00d7",
        "met": False,
    }
    assert bench_main._target(24.8, 10, at_least=True)["met"] is True


def test_the_table_is_written_from_the_result_files() -> None:
    results = Path(__file__).resolve().parents[3] / "bench" / "results"
    if not (results / "pull.json").exists():
        pytest.skip("no bench/results/pull.json: run `make bench` first")
    pull, push, cold = (
        json.loads((results / f"{n}.json").read_text()) for n in ("pull", "push", "coldstart")
    )
    text = markdown(pull, push, cold)
    assert f"| lower bound | {pull['intacct_requests_lower_bound']} |" in text
    assert f"| batch size 10 | {push['events_per_s']} |" in text
    assert all(f"| {name} | " in text for name in cold["handlers"])
    assert text.count("| NO |") == sum(1 for t in pull["targets"].values() if not t["met"])
