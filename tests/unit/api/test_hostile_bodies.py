"""Bodies no client should send are refused before routing, with a 4xx and nothing saved."""

from __future__ import annotations

from tests.unit.api.conftest import TENANT, Call, World

SETTINGS = f"/tenants/{TENANT}/settings"


def test_hostile_bodies_are_4xx_and_change_nothing(call: Call, world: World) -> None:
    before = world.store.get_tenant(TENANT)
    cases = {
        '{"name": "\\ud800"}': 400,  # a lone surrogate
        "[" * 10_000 + "]" * 10_000: 400,  # nesting far past any settings document
        '{"name": "a", "name": "b"}': 400,  # a duplicate key: which one is meant?
        '{"name": "' + "x" * 70_000 + '"}': 413,
    }
    for body, status in cases.items():
        reply = call("PATCH", SETTINGS, raw_body=body)
        assert reply.status == status, (body[:40], reply.raw)
    assert world.store.get_tenant(TENANT) == before
