"""The simulator's billing usage endpoints against the project's reference (billing-usage.md).

Day, month and year periods (a month or a year is the sum of its days), the defaults of `year` and
`month`, 400 for an impossible date and for a period older than 24 months, today incomplete, the
`product`/`model` filters, bodies shaped like GitHub's examples, 403/404 scenario settings, and the
truth API (`sim.truth.billing_usage`) equal to what is served. Pure HTTP: no tap here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.costs import (
    AI_CREDITS_SINCE,
    QUANTITY_FIELDS,
    TODAY_SHARE,
    USAGES,
    window_start,
)
from copilot_devkit.simulator.data import example

from tests.reliability_support import ENTERPRISE, ORG
from tests.sim_support import MakeSimulator, days_ago

SIMULATOR: dict[str, Any] = {
    "organizations": {ORG: []},
    "enterprises": [ENTERPRISE],
    "users_per_org": 6,
    "users_per_enterprise": 6,
}
pytestmark = pytest.mark.simulator(**SIMULATOR)
PREFIX = {"organization": f"/organizations/{ORG}", "enterprise": f"/enterprises/{ENTERPRISE}"}


def get(sim: Simulator, usage: str, scope: str = "organization", **params: Any) -> Any:
    return requests.get(
        f"{sim.base_url}{PREFIX[scope]}/settings/billing/{usage}/usage",
        params=params,
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )


def of_day(day: dt.date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def summed(sim: Simulator, usage: str, days: list[dt.date]) -> dict[str, dict[str, float]]:
    """Quantities per model over `days`, from the truth of each day."""
    totals: dict[str, dict[str, float]] = {}
    for day in days:
        for item in sim.truth.billing_usage(usage, "organization", ORG, day):
            total = totals.setdefault(item["model"], dict.fromkeys(QUANTITY_FIELDS, 0.0))
            for name in QUANTITY_FIELDS:
                total[name] += item[name]
    return totals


def assert_sums(items: list[dict[str, Any]], want: dict[str, dict[str, float]]) -> None:
    assert {item["model"] for item in items} == set(want)
    for item in items:
        for name in QUANTITY_FIELDS:
            assert item[name] == pytest.approx(want[item["model"]][name], abs=1e-6)
            amount = name.replace("Quantity", "Amount")
            assert item[amount] == pytest.approx(item[name] * item["pricePerUnit"], abs=1e-8)


@pytest.mark.parametrize("usage", USAGES)
@pytest.mark.parametrize("scope", list(PREFIX))
def test_a_day_is_its_truth_in_the_shape_of_githubs_example(
    sim: Simulator, usage: str, scope: str
) -> None:
    day = days_ago(sim, 1)
    response = get(sim, usage, scope, **of_day(day))
    assert response.status_code == 200
    body = response.json()
    name = ORG if scope == "organization" else ENTERPRISE
    assert body == {
        "timePeriod": of_day(day),
        scope: name,
        "usageItems": sim.truth.billing_usage(usage, scope, name, day),
    }
    official = example(f"billing/{'org' if scope == 'organization' else scope}-"
                       f"{usage.replace('_', '-')}-usage.200.json")  # fmt: skip
    assert list(body) == list(official)
    assert body["usageItems"], "no items: the comparison proves nothing"
    for item in body["usageItems"]:
        assert list(item) == list(official["usageItems"][0])


def test_a_month_and_a_year_are_the_sums_of_their_days(sim: Simulator) -> None:
    last_month = sim.settings.today.replace(day=1) - dt.timedelta(days=1)
    days = [last_month.replace(day=n) for n in range(1, last_month.day + 1)]
    month = get(sim, "ai_credit", year=last_month.year, month=last_month.month).json()
    assert month["timePeriod"] == {"year": last_month.year, "month": last_month.month}
    assert_sums(month["usageItems"], summed(sim, "ai_credit", days))

    year = sim.settings.today.year - 1
    first = max(dt.date(year, 1, 1), window_start(sim.settings.today))
    days = [first + dt.timedelta(days=n) for n in range((dt.date(year, 12, 31) - first).days + 1)]
    body = get(sim, "premium_request", year=year).json()
    assert body["timePeriod"] == {"year": year}
    assert_sums(body["usageItems"], summed(sim, "premium_request", days))


def test_month_defaults_to_the_current_one_and_today_is_incomplete(sim: Simulator) -> None:
    today = sim.settings.today
    assert get(sim, "ai_credit").json()["timePeriod"] == {"year": today.year, "month": today.month}
    partial = get(sim, "ai_credit", day=today.day).json()
    assert partial["timePeriod"] == of_day(today)
    full = summed(sim, "ai_credit", [today])
    share = {m: {n: v * TODAY_SHARE for n, v in q.items()} for m, q in full.items()}
    assert_sums(partial["usageItems"], share)
    tomorrow = today + dt.timedelta(days=1)
    assert get(sim, "ai_credit", **of_day(tomorrow)).json()["usageItems"] == []


def test_ai_credits_start_on_the_switch_and_premium_requests_thin_out(sim: Simulator) -> None:
    before = AI_CREDITS_SINCE - dt.timedelta(days=1)
    assert sim.truth.billing_usage("ai_credit", "organization", ORG, before) == []
    assert sim.truth.billing_usage("ai_credit", "organization", ORG, AI_CREDITS_SINCE)
    old = sim.truth.billing_usage("premium_request", "organization", ORG, before)
    new = sim.truth.billing_usage("premium_request", "organization", ORG, AI_CREDITS_SINCE)
    assert len(new) < len(old)


def test_filters_select_and_echo(sim: Simulator) -> None:
    day = days_ago(sim, 1)
    body = get(sim, "ai_credit", model="gpt-5", product="COPILOT", **of_day(day)).json()
    assert body["model"] == "gpt-5"
    assert body["product"] == "COPILOT"
    assert [item["model"] for item in body["usageItems"]] == ["GPT-5"]


@pytest.mark.parametrize(
    "params",
    [
        {"year": 2026, "month": 2, "day": 30},
        {"year": 2027, "month": 4, "day": 31},
        {"year": 2026, "month": 13},
        {"year": 2026, "month": 1, "day": 0},
        {"year": "2026x"},
    ],
    ids=["february-30", "april-31", "month-13", "day-0", "not-a-number"],
)
def test_an_impossible_period_is_400(sim: Simulator, params: dict[str, Any]) -> None:
    response = get(sim, "ai_credit", **params)
    assert response.status_code == 400
    assert set(response.json()) == {"message", "documentation_url", "status"}


def test_24_months_back_is_the_oldest_day_served(sim: Simulator) -> None:
    oldest = window_start(sim.settings.today)
    assert (oldest.month, oldest.year) == (sim.settings.today.month, sim.settings.today.year - 2)
    assert get(sim, "premium_request", **of_day(oldest)).status_code == 200
    older = oldest - dt.timedelta(days=1)
    response = get(sim, "premium_request", **of_day(older))
    assert response.status_code == 400
    assert "24 months" in response.json()["message"]


def test_the_window_edge_on_29_february() -> None:
    assert window_start(dt.date(2028, 2, 29)) == dt.date(2026, 2, 28)
    assert window_start(dt.date(2027, 3, 1)) == dt.date(2025, 3, 1)


def test_access_scenarios_and_unknown_scopes(make_simulator: MakeSimulator) -> None:
    sim = make_simulator(
        **SIMULATOR, billing_forbidden={ORG.upper()}, billing_unavailable={ENTERPRISE}
    )
    day = of_day(days_ago(sim, 1))
    assert get(sim, "ai_credit", "organization", **day).status_code == 403
    assert get(sim, "premium_request", "enterprise", **day).status_code == 404
    unknown = requests.get(
        f"{sim.base_url}/organizations/nobody/settings/billing/ai_credit/usage",
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    assert unknown.status_code == 404
    # The metrics endpoints of the same organization still answer.
    seats = requests.get(
        f"{sim.base_url}/orgs/{ORG}/copilot/billing/seats",
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    assert seats.status_code == 200
