"""The KPI marts (transform/, issue 13), computed in Python from the simulator's truth.

Each function returns the rows a mart must hold, keyed like the mart, with the mart's column
names; the definitions are the ones transform/models/marts/_marts.yml documents, written again
here from the report lines the simulator serves, never from the dbt project's SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from copilot_devkit.simulator import Simulator

from tests.truth import AGGREGATE, UNKNOWN, days_with_reports, report_scopes

Key = tuple[Any, ...]
Row = dict[str, Any]
Mart = dict[Key, Row]

#: The `used_*` flags of the users report, as kpi_feature_adoption_daily names them.
USED_FEATURES = (
    "chat",
    "agent",
    "cli",
    "copilot_coding_agent",
    "copilot_cloud_agent",
    "copilot_code_review_active",
    "copilot_code_review_passive",
    "copilot_app",
    "vscode_agent",
)


def rate(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, None when the denominator is 0 or missing (as the marts)."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


def _lines(
    sim: Simulator, days: list[str], report: str | None
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(scope, scope_name, day, line) of a 1-day report (None: the aggregate report)."""
    for kind, name in report_scopes(sim):
        for day in days_with_reports(sim, kind, name, days):
            for line in sim.truth.report_lines(report or AGGREGATE[kind], kind, name, day):
                yield kind, name, day, line


def kpi_daily(sim: Simulator, days: list[str]) -> Mart:
    users: dict[Key, set[int]] = defaultdict(set)
    engaged: dict[Key, set[int]] = defaultdict(set)
    for kind, name, day, line in _lines(sim, days, "users-1-day"):
        users[(kind, name, day)].add(line["user_id"])
        if line.get("user_initiated_interaction_count") or line.get(
            "code_acceptance_activity_count"
        ):
            engaged[(kind, name, day)].add(line["user_id"])
    out: Mart = {}
    for kind, name, day, line in _lines(sim, days, None):
        key = (kind, name, day)
        generations = line.get("code_generation_activity_count")
        acceptances = line.get("code_acceptance_activity_count")
        out[key] = {
            "daily_active_users": line.get("daily_active_users"),
            "weekly_active_users": line.get("weekly_active_users"),
            "monthly_active_users": line.get("monthly_active_users"),
            "code_generations": generations,
            "code_acceptances": acceptances,
            "code_acceptance_rate": rate(acceptances, generations),
            "loc_suggested": line.get("loc_suggested_to_add_sum"),
            "loc_added": line.get("loc_added_sum"),
            "users_with_activity": len(users[key]),
            "engaged_users": len(engaged[key]),
            "interactions": line.get("user_initiated_interaction_count"),
        }
    return out


def kpi_language_daily(sim: Simulator, days: list[str]) -> Mart:
    sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for kind, name, day, line in _lines(sim, days, None):
        for element in line.get("totals_by_language_feature") or ():
            key = (kind, name, day, element.get("language") or UNKNOWN)
            sums[key][0] += element.get("code_generation_activity_count") or 0
            sums[key][1] += element.get("code_acceptance_activity_count") or 0
    return {
        key: {
            "code_generations": generations,
            "code_acceptances": acceptances,
            "code_acceptance_rate": rate(acceptances, generations),
        }
        for key, (generations, acceptances) in sums.items()
    }


def _breakdown(sim: Simulator, days: list[str], array: str, dimension: str) -> Mart:
    """An aggregate breakdown array summed per scope, day and `dimension` (over the others)."""
    sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for kind, name, day, line in _lines(sim, days, None):
        for element in line.get(array) or ():
            key = (kind, name, day, element.get(dimension) or UNKNOWN)
            sums[key][0] += element.get("code_generation_activity_count") or 0
            sums[key][1] += element.get("code_acceptance_activity_count") or 0
            sums[key][2] += element.get("user_initiated_interaction_count") or 0
    return {
        key: {
            "code_generations": generations,
            "code_acceptances": acceptances,
            "code_acceptance_rate": rate(acceptances, generations),
            "interactions": interactions,
        }
        for key, (generations, acceptances, interactions) in sums.items()
    }


def kpi_ide_daily(sim: Simulator, days: list[str]) -> Mart:
    return _breakdown(sim, days, "totals_by_ide", "ide")


def kpi_model_daily(sim: Simulator, days: list[str]) -> Mart:
    return _breakdown(sim, days, "totals_by_model_feature", "model")


def kpi_adoption_phase_daily(sim: Simulator, days: list[str]) -> Mart:
    out: Mart = {}
    for kind, name, day, line in _lines(sim, days, None):
        for element in line.get("totals_by_ai_adoption_phase") or ():
            out[(kind, name, day, element["phase_number"])] = {
                "phase": element.get("phase"),
                "engaged_users": element.get("total_engaged_users"),
                "users_in_phase_28d": element.get("users_in_phase_28d"),
            }
    return out


REVIEW_STEPS = ("ready_to_first_review", "first_to_final_review", "final_review_to_merge")


def kpi_review_times_daily(sim: Simulator, days: list[str]) -> Mart:
    """Per scope, day, authored_by and reviewed_by: each repository's median weighted by its
    merged pull requests (repositories without the median left out of that step)."""
    groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for kind, name, day, line in _lines(sim, days, "repos-1-day"):
        for element in line.get("pull_request_review_times") or ():
            key = (
                kind,
                name,
                day,
                element.get("authored_by") or UNKNOWN,
                element.get("reviewed_by") or UNKNOWN,
            )
            groups[key].append({**element, "repo_id": line["repo_id"]})
    out: Mart = {}
    for key, elements in groups.items():
        row: Row = {
            "repositories": len({e["repo_id"] for e in elements}),
            "prs_merged": sum(e.get("total_merged") or 0 for e in elements),
        }
        for step in REVIEW_STEPS:
            timed = [e for e in elements if e.get(f"median_minutes_{step}") is not None]
            weight = sum(e.get("total_merged") or 0 for e in timed)
            total = sum(e[f"median_minutes_{step}"] * (e.get("total_merged") or 0) for e in timed)
            row[f"weighted_median_minutes_{step}"] = total / weight if weight else None
        out[key] = row
    return out


def kpi_user_activity(sim: Simulator, days: list[str]) -> Mart:
    per_user: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for kind, name, _, line in _lines(sim, days, "users-1-day"):
        per_user[(kind, name, line["user_id"])].append(line)
    out: Mart = {}
    for key, lines in per_user.items():
        active = sorted({line["day"] for line in lines})
        newest = max(lines, key=lambda line: line["day"])
        generations = sum(line.get("code_generation_activity_count") or 0 for line in lines)
        acceptances = sum(line.get("code_acceptance_activity_count") or 0 for line in lines)
        out[key] = {
            "user_login": newest["user_login"],
            "first_active_day": active[0],
            "last_active_day": active[-1],
            "active_days": len(active),
            "code_acceptances": acceptances,
            "interactions": sum(
                line.get("user_initiated_interaction_count") or 0 for line in lines
            ),
            "code_generations": generations,
            "code_acceptance_rate": rate(acceptances, generations),
        }
    return out


def kpi_feature_adoption_daily(sim: Simulator, days: list[str]) -> Mart:
    active: dict[Key, set[int]] = defaultdict(set)
    using: dict[Key, set[int]] = defaultdict(set)
    for kind, name, day, line in _lines(sim, days, "users-1-day"):
        active[(kind, name, day)].add(line["user_id"])
        for feature in USED_FEATURES:
            if line.get(f"used_{feature}") is True:
                using[(kind, name, day, feature)].add(line["user_id"])
    out: Mart = {}
    for (kind, name, day), users in active.items():
        for feature in USED_FEATURES:
            count = len(using[(kind, name, day, feature)])
            out[(kind, name, day, feature)] = {
                "users": count,
                "active_users": len(users),
                "adoption_rate": rate(count, len(users)),
            }
    return out


def kpi_team_daily(sim: Simulator, days: list[str]) -> Mart:
    activity = {
        (kind, name, day, line["user_id"]): line
        for kind, name, day, line in _lines(sim, days, "users-1-day")
    }
    members: dict[Key, set[int]] = defaultdict(set)
    slugs: dict[Key, str] = {}
    for kind, name, day, member in _lines(sim, days, "user-teams-1-day"):
        key = (kind, name, day, member["team_id"])
        members[key].add(member["user_id"])
        slugs[key] = member["slug"]
    out: Mart = {}
    for key, users in members.items():
        kind, name, day, _ = key
        lines = [activity[(kind, name, day, u)] for u in users if (kind, name, day, u) in activity]
        generations = sum(line.get("code_generation_activity_count") or 0 for line in lines)
        acceptances = sum(line.get("code_acceptance_activity_count") or 0 for line in lines)
        out[key] = {
            "team_slug": slugs[key],
            "members": len(users),
            "members_active": len(lines),
            "code_generations": generations,
            "code_acceptances": acceptances,
            "code_acceptance_rate": rate(acceptances, generations),
            "interactions": sum(
                line.get("user_initiated_interaction_count") or 0 for line in lines
            ),
        }
    return out


def kpi_pull_requests_daily(sim: Simulator, days: list[str]) -> Mart:
    out: Mart = {}
    for kind, name, day, line in _lines(sim, days, None):
        prs = line.get("pull_requests")
        if not isinstance(prs, dict):
            continue
        created, merged = (
            prs.get("total_created_by_copilot"),
            prs.get("total_merged_created_by_copilot"),
        )
        suggestions, applied = (
            prs.get("total_copilot_suggestions"),
            prs.get("total_copilot_applied_suggestions"),
        )
        out[(kind, name, day)] = {
            "prs_created_by_copilot": created,
            "prs_merged_created_by_copilot": merged,
            "copilot_pr_merge_rate": rate(merged, created),
            "suggestions": suggestions,
            "applied_suggestions": applied,
            "applied_suggestion_rate": rate(applied, suggestions),
            "median_minutes_to_merge_copilot_authored": prs.get(
                "median_minutes_to_merge_copilot_authored"
            ),
            "prs_reviewed_by_copilot": prs.get("total_reviewed_by_copilot"),
        }
    return out


def kpi_seat_utilization_daily(sim: Simulator, days: list[str]) -> Mart:
    """The seat list as the tap reads it on the simulator's today (its only snapshot)."""
    del days
    today = sim.settings.today
    day_end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
    out: Mart = {}
    for kind, name in report_scopes(sim):
        seats = sim.truth.seats(kind, name)
        last = [
            dt.datetime.fromisoformat(s["last_activity_at"].replace("Z", "+00:00"))
            if s.get("last_activity_at")
            else None
            for s in seats
        ]
        active = {
            n: sum(1 for t in last if t is not None and t >= day_end - dt.timedelta(days=n))
            for n in (7, 14, 28)
        }
        out[(kind, name, today.isoformat())] = {
            "seats": len(seats),
            **{f"active_{n}d": active[n] for n in active},
            **{f"inactive_{n}d": len(seats) - active[n] for n in active},
            "never_active": sum(1 for t in last if t is None),
            "utilization_28d": rate(active[28], len(seats)),
        }
    return out


def kpi_cost_daily(sim: Simulator, days: list[str]) -> Mart:
    sums: dict[Key, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for kind, name in report_scopes(sim):
        for usage, usage_kind in (
            ("ai_credit", "ai_credits"),
            ("premium_request", "premium_requests"),
        ):
            for day in days:
                for item in sim.truth.billing_usage(usage, kind, name, day):
                    key = (
                        kind,
                        name,
                        day,
                        usage_kind,
                        item["product"],
                        item["sku"],
                        item.get("model") or UNKNOWN,
                    )
                    for field, column in (
                        ("grossQuantity", "gross_quantity"),
                        ("grossAmount", "gross_amount"),
                        ("discountAmount", "discount_amount"),
                        ("netQuantity", "net_quantity"),
                        ("netAmount", "net_amount"),
                    ):
                        sums[key][column] += item.get(field) or 0
    return {key: dict(values) for key, values in sums.items()}


#: Mart name -> (key columns, truth function).
MARTS = {
    "kpi_daily": (("scope", "scope_name", "day"), kpi_daily),
    "kpi_language_daily": (("scope", "scope_name", "day", "language"), kpi_language_daily),
    "kpi_user_activity": (("scope", "scope_name", "user_id"), kpi_user_activity),
    "kpi_ide_daily": (("scope", "scope_name", "day", "ide"), kpi_ide_daily),
    "kpi_model_daily": (("scope", "scope_name", "day", "model"), kpi_model_daily),
    "kpi_adoption_phase_daily": (
        ("scope", "scope_name", "day", "phase_number"),
        kpi_adoption_phase_daily,
    ),
    "kpi_review_times_daily": (
        ("scope", "scope_name", "day", "authored_by", "reviewed_by"),
        kpi_review_times_daily,
    ),
    "kpi_feature_adoption_daily": (
        ("scope", "scope_name", "day", "feature"),
        kpi_feature_adoption_daily,
    ),
    "kpi_team_daily": (("scope", "scope_name", "day", "team_id"), kpi_team_daily),
    "kpi_pull_requests_daily": (("scope", "scope_name", "day"), kpi_pull_requests_daily),
    "kpi_seat_utilization_daily": (
        ("scope", "scope_name", "snapshot_day"),
        kpi_seat_utilization_daily,
    ),
    "kpi_cost_daily": (
        ("scope", "scope_name", "day", "usage_kind", "product", "sku", "model"),
        kpi_cost_daily,
    ),
}


def kpi_cost_per_active_user_monthly(
    sim: Simulator, days: list[str], prices: dict[str, float]
) -> Mart:
    """`prices`: seat price per plan_type ("business", "enterprise")."""
    usage: dict[Key, float] = defaultdict(float)
    for (kind, name, day, *_), row in kpi_cost_daily(sim, days).items():
        usage[(kind, name, day[:7] + "-01")] += row["net_amount"]
    active: dict[Key, set[int]] = defaultdict(set)
    for kind, name, day, line in _lines(sim, days, "users-1-day"):
        active[(kind, name, day[:7] + "-01")].add(line["user_id"])
    seats: dict[Key, tuple[int | None, float | None]] = {}
    month = sim.settings.today.isoformat()[:7] + "-01"
    for kind, name in report_scopes(sim):
        listed = sim.truth.seats(kind, name)
        price = sum(
            prices["enterprise"] if s.get("plan_type") == "enterprise" else prices["business"]
            for s in listed
        )
        seats[(kind, name, month)] = (len(listed), float(price))
    out: Mart = {}
    for key in set(usage) | set(active) | set(seats):
        count, cost = seats.get(key, (None, None))
        total = None if cost is None else usage.get(key, 0.0) + cost
        users = len(active.get(key, ()))
        out[key] = {
            "usage_net_amount": usage.get(key, 0.0),
            "seats": count,
            "seat_cost": cost,
            "total_cost": total,
            "active_users": users,
            "cost_per_active_user": None if total is None or not users else total / users,
        }
    return out
