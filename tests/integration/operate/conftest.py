"""The reconciliation in process: the push/pull test world (moto, both sandboxes) and the
Intacct seeder of the pull tests."""

from __future__ import annotations

import pytest

from bisync.operate.reconcile import Reconciliation, reconcile
from tests.integration.foundation.conftest import _fast_moto_transactions, aws, aws_env, table  # noqa: F401 - fixtures
from tests.integration.pull.conftest import Seeder
from tests.integration.push.conftest import TENANT, World, blixo_sandbox, intacct_sandbox, world  # noqa: F401 - fixtures

__all__ = ["TENANT", "Seeder", "World", "reconciled"]


@pytest.fixture
def seed(world: World) -> Seeder:  # noqa: F811 - the fixture above
    return Seeder(world)


def reconciled(world: World) -> Reconciliation:  # noqa: F811
    """The tenant's reconciliation, read the way the command reads it."""
    store = world.aws.store
    return reconcile(world.settings, world.blixo, world.intacct, store.mappings, store.errors.list(TENANT))
