"""Pull: one tenant's run of "what changed in Intacct" towards Blixo.

The per-object readers and writers arrive with the sync-engine issue; the run bookkeeping
(one run record per job, the flow status) is the frame they fill.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bisync.store.models import RunOutcome, SyncRun
from bisync.sync.jobs import PullJob
from bisync.sync.ports import PullStore

PULL_FLOW = "pull"


def run_pull(
    job: PullJob, store: PullStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> SyncRun:
    started = now()
    settings = store.get_tenant(job.tenant_id)
    run = SyncRun(
        tenant_id=settings.tenant_id,
        run_id=uuid.uuid4().hex,
        kind=PULL_FLOW,
        started_at=started,
        trigger=f"{job.trigger}:{job.scheduled_for.isoformat()}",
    )
    run.finished_at = now()
    if not settings.pull_enabled:
        # Queued before an operator switched pulls off, or replayed from the DLQ: nothing is
        # read or written, and the run says so.
        run.outcome = RunOutcome.SKIPPED
        store.put_run(run)
        return run
    run.outcome = RunOutcome.SUCCEEDED
    store.put_run(run)
    store.record_flow_activity(
        settings.tenant_id,
        PULL_FLOW,
        started=started,
        finished=run.finished_at,
        outcome=run.outcome,
        processed=0,
    )
    return run
