"""Seats (Link-paginated) and billing over real HTTP, equal to the simulator's truth."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.sim_support import MakeSimulator
from tests.tap_runner import KEYS, TapRun, sync_in_process
from tests.truth import report_scopes

SEATS_PER_SCOPE = 230  # three pages of 100
SEAT_KEYS = list(KEYS["copilot_seats"])


def run_streams(sim: Simulator, *streams: str) -> TapRun:
    start = (sim.settings.today - dt.timedelta(days=1)).isoformat()
    cfg = sim.tap_config(start_date=start, teams=[], retry_initial_wait_seconds=0.01)
    return sync_in_process(cfg, streams=list(streams))


def expected_seats(sim: Simulator, scope: str, name: str) -> list[dict[str, Any]]:
    """Truth seats with the scope columns and the seat key (the assignee's login)."""
    return [
        {"scope": scope, "scope_name": name, "seat_key": seat["assignee"]["login"], **seat}
        for seat in sim.truth.seats(scope, name)
    ]


@pytest.fixture
def seats_sim(make_simulator: MakeSimulator) -> Simulator:
    return make_simulator(
        users_per_org=SEATS_PER_SCOPE,
        users_per_enterprise=SEATS_PER_SCOPE,
        seats_per_org=SEATS_PER_SCOPE,
    )


def test_every_seat_once_across_link_pages_for_organizations_and_enterprises(
    seats_sim: Simulator,
) -> None:
    sim = seats_sim
    run = run_streams(sim, "copilot_seats")

    records = run.records("copilot_seats")
    assert all(r["seat_key"] for r in records)
    assert run.duplicate_keys("copilot_seats", SEAT_KEYS) == []
    for scope, name in report_scopes(sim):
        got = [r for r in records if (r["scope"], r["scope_name"]) == (scope, name)]
        want = expected_seats(sim, scope, name)
        assert len(want) == SEATS_PER_SCOPE
        assert got == want, (scope, name)
        # Pages 1..3 of 100, each asked once, following Link rel="next".
        prefix = "/orgs/" if scope == "organization" else "/enterprises/"
        pages = [
            (r.query.get("page"), r.query.get("per_page"))
            for r in sim.requests
            if r.path == f"{prefix}{name}/copilot/billing/seats"
        ]
        assert pages == [("1", "100"), ("2", "100"), ("3", "100")]
    assert len(records) == SEATS_PER_SCOPE * len(report_scopes(sim))


@pytest.mark.parametrize("kind", ["500", "drop", "truncate"])
def test_seat_pages_survive_transient_faults(seats_sim: Simulator, kind: str) -> None:
    sim = seats_sim
    sim.faults.add(path=r"/copilot/billing/seats$", kind=kind, times=2)
    run = run_streams(sim, "copilot_seats")

    assert run.duplicate_keys("copilot_seats", SEAT_KEYS) == []
    for scope, name in report_scopes(sim):
        got = [
            r
            for r in run.records("copilot_seats")
            if (r["scope"], r["scope_name"]) == (scope, name)
        ]
        assert got == expected_seats(sim, scope, name)
    assert Counter(r.fault for r in sim.requests)[kind] == 2


def test_billing_is_one_record_per_organization(make_simulator: MakeSimulator) -> None:
    sim = make_simulator(users_per_org=12, users_per_enterprise=20, seats_per_org=12)
    run = run_streams(sim, "copilot_billing")

    want = [
        {"scope": "organization", "scope_name": org, **sim.truth.billing(org)}
        for org in sim.settings.organizations
    ]
    assert run.records("copilot_billing") == want
    for record in run.records("copilot_billing"):
        seats = sim.truth.seats("organization", record["scope_name"])
        assert record["seat_breakdown"]["total"] == len(seats)
