"""Pull: what changed in Intacct -> Blixo, per tenant (customers, Order Entry invoices and
returns, A/R payments)."""

from bisync.sync.pull.run import FLOWS, PULL_FLOW, PullReport, PullSession, cursor_flow, pull_report, run_pull

__all__ = ["FLOWS", "PULL_FLOW", "PullReport", "PullSession", "cursor_flow", "pull_report", "run_pull"]
