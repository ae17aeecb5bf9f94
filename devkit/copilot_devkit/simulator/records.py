"""Shared report vocabulary and the small report kinds (user-teams, repos).

Row builders return JSON-ready dicts with GitHub's field names, key order (alphabetical, as in
the docs examples) and types: entity ids are strings, user/team/repo ids integers, medians and
review times floats. Shapes follow `examples/docs_team-level-metrics_*` and the late-2026
repos example; `pull_requests{}` drops its medians when nothing merged, as documented.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from copilot_devkit.simulator.entities import (
    Entity,
    Repo,
    Team,
    World,
    unit,
)

# Vector positions of the "activity block", in the alphabetical order GitHub prints them.
ACC, GEN, ADDED, DELETED, SUGG_ADD, SUGG_DEL, UIIC = range(7)
FEATURES = (
    "code_completion",
    "chat_inline",
    "chat_panel_ask_mode",
    "chat_panel_edit_mode",
    "chat_panel_agent_mode",
    "chat_panel_plan_mode",
    "chat_panel_custom_mode",
    "chat_panel_unknown_mode",
    "agent_edit",
    "copilot_cli",
    "copilot_app",
    "others",
)
CHAT_MODES = (
    "chat_panel_agent_mode",
    "chat_panel_ask_mode",
    "chat_panel_custom_mode",
    "chat_panel_edit_mode",
    "chat_panel_plan_mode",
    "chat_panel_unknown_mode",
)
NON_IDE_FEATURES = ("copilot_cli", "copilot_app")
CUSTOMIZATIONS = {  # array name -> (key field, value pool)
    "totals_by_custom_agent": ("custom_agent", ("general-purpose", "reviewer", "other")),
    "totals_by_mcp": ("mcp", ("github-mcp-server", "playwright", "other")),
    "totals_by_plugin": ("plugin", ("code-review", "other")),
    "totals_by_skill": ("skill", ("code-review", "testing", "docs", "other")),
    "totals_by_slash_cmd": ("slash_cmd", ("/plan", "/explain", "/fix", "/tests", "custom")),
}
DISTINCT_COUNTS = {
    "totals_by_custom_agent": "distinct_custom_agent_use_count",
    "totals_by_mcp": "distinct_mcp_use_count",
    "totals_by_plugin": "distinct_plugin_use_count",
    "totals_by_skill": "distinct_skill_use_count",
    "totals_by_slash_cmd": "distinct_slash_cmd_use_count",
}
COMMENT_TYPES = ("security", "bug_risk", "performance", "maintainability")
ETL_ID = "green"
PR_COUNT_FIELDS = (
    "total_applied_suggestions",
    "total_copilot_applied_suggestions",
    "total_copilot_suggestions",
    "total_created",
    "total_created_by_copilot",
    "total_merged",
    "total_merged_created_by_copilot",
    "total_merged_reviewed_by_copilot",
    "total_reviewed",
    "total_reviewed_by_copilot",
    "total_suggestions",
)

Vector = list[int]


def block(v: Vector, key: str, value: str) -> dict[str, Any]:
    """A full activity block with its key field (totals_by_feature / totals_by_ide rows)."""
    return {
        "code_acceptance_activity_count": v[ACC],
        "code_generation_activity_count": v[GEN],
        key: value,
        "loc_added_sum": v[ADDED],
        "loc_deleted_sum": v[DELETED],
        "loc_suggested_to_add_sum": v[SUGG_ADD],
        "loc_suggested_to_delete_sum": v[SUGG_DEL],
        "user_initiated_interaction_count": v[UIIC],
    }


def language_feature_row(v: Vector, language: str, feature: str) -> dict[str, Any]:
    return {
        "code_acceptance_activity_count": v[ACC],
        "code_generation_activity_count": v[GEN],
        "feature": feature,
        "language": language,
        "loc_added_sum": v[ADDED],
        "loc_deleted_sum": v[DELETED],
        "loc_suggested_to_add_sum": v[SUGG_ADD],
        "loc_suggested_to_delete_sum": v[SUGG_DEL],
    }


def language_model_row(v: Vector, language: str, model: str) -> dict[str, Any]:
    return {
        "code_acceptance_activity_count": v[ACC],
        "code_generation_activity_count": v[GEN],
        "language": language,
        "loc_added_sum": v[ADDED],
        "loc_deleted_sum": v[DELETED],
        "loc_suggested_to_add_sum": v[SUGG_ADD],
        "loc_suggested_to_delete_sum": v[SUGG_DEL],
        "model": model,
    }


def model_feature_row(v: Vector, model: str, feature: str) -> dict[str, Any]:
    return {
        "code_acceptance_activity_count": v[ACC],
        "code_generation_activity_count": v[GEN],
        "feature": feature,
        "loc_added_sum": v[ADDED],
        "loc_deleted_sum": v[DELETED],
        "loc_suggested_to_add_sum": v[SUGG_ADD],
        "loc_suggested_to_delete_sum": v[SUGG_DEL],
        "model": model,
        "user_initiated_interaction_count": v[UIIC],
    }


def entity_ids(entity: Entity, world: World) -> dict[str, str]:
    """`enterprise_id` / `organization_id` (strings) as they appear on lines of this scope."""
    ids: dict[str, str] = {}
    if entity.enterprise_id is not None:
        ids["enterprise_id"] = str(entity.enterprise_id)
    if entity.kind == "organization":
        ids["organization_id"] = str(entity.id)
    return ids


def user_team_records(world: World, entity: Entity, day: dt.date) -> list[dict[str, Any]]:
    """user-teams-1-day lines: every membership of teams with at least 5 members."""
    ds = day.isoformat()
    if entity.kind == "organization":
        id_field = {"organization_id": str(entity.id)}
    else:
        id_field = {"enterprise_id": str(entity.id)}
    pairs: list[tuple[int, Team]] = []
    for team in entity.teams:
        if len(team.members) < 5:
            continue
        pairs.extend((gi, team) for gi in team.members)
    pairs.sort(key=lambda pair: (pair[0], pair[1].id))
    lines = []
    for gi, team in pairs:
        p = world.persona(gi)
        lines.append(
            {
                "user_id": p.user_id,
                "user_login": p.login,
                "day": ds,
                **id_field,
                "team_id": team.id,
                "slug": team.slug,
            }
        )
    return lines


def _pull_request_counts(r: Any) -> dict[str, int]:
    created = int(r() * 4)
    reviewed = int(r() * 5)
    merged = int(r() * 4)
    if created + reviewed + merged == 0:
        created = 1
    created_by_copilot = int(created * r())
    reviewed_by_copilot = int(reviewed * r() * 1.2)
    suggestions = int(r() * 6)
    copilot_suggestions = int(r() * 5)
    return {
        "total_applied_suggestions": int(suggestions * r()),
        "total_copilot_applied_suggestions": int(copilot_suggestions * r()),
        "total_copilot_suggestions": copilot_suggestions,
        "total_created": created,
        "total_created_by_copilot": created_by_copilot,
        "total_merged": merged,
        "total_merged_created_by_copilot": min(merged, created_by_copilot),
        "total_merged_reviewed_by_copilot": min(merged, reviewed_by_copilot),
        "total_reviewed": reviewed,
        "total_reviewed_by_copilot": min(reviewed, reviewed_by_copilot),
        "total_suggestions": suggestions,
    }


def pull_requests_block(
    counts: dict[str, int], by_comment_type: list[dict[str, Any]], r: Any
) -> dict[str, Any]:
    """`pull_requests{}`: medians only when something merged (absent otherwise, as documented)."""
    out: dict[str, Any] = {"copilot_suggestions_by_comment_type": by_comment_type}
    if counts["total_merged"]:
        out["median_minutes_to_merge"] = round(5 + r() * 900, 2)
        if counts["total_merged_created_by_copilot"]:
            out["median_minutes_to_merge_copilot_authored"] = round(5 + r() * 600, 2)
        if counts["total_merged_reviewed_by_copilot"]:
            out["median_minutes_to_merge_copilot_reviewed"] = round(5 + r() * 700, 2)
    out.update(counts)
    return out


def _by_comment_type(r: Any, copilot_suggestions: int, applied: int) -> list[dict[str, Any]]:
    if not copilot_suggestions:
        return []
    types = [t for t in COMMENT_TYPES if r() < 0.5] or [COMMENT_TYPES[0]]
    rows = []
    left_s, left_a = copilot_suggestions, applied
    for i, comment_type in enumerate(types):
        s = left_s if i == len(types) - 1 else int(left_s * r())
        a = min(s, left_a)
        left_s -= s
        left_a -= a
        rows.append(
            {
                "comment_type": comment_type,
                "total_copilot_applied_suggestions": a,
                "total_copilot_suggestions": s,
            }
        )
    return rows


def _review_times(r: Any, merged: int) -> list[dict[str, Any]]:
    if not merged:
        return []
    single_review = r() < 0.3
    return [
        {
            "authored_by": "human",
            "reviewed_by": "human",
            "total_merged": merged,
            "median_minutes_ready_to_first_review": round(2 + r() * 300, 2),
            "p90_minutes_ready_to_first_review": round(300 + r() * 900, 2),
            "median_minutes_first_to_final_review": 0.0 if single_review else round(r() * 400, 2),
            "p90_minutes_first_to_final_review": 0.0
            if single_review
            else round(400 + r() * 900, 2),
            "median_minutes_final_review_to_merge": round(1 + r() * 200, 2),
            "p90_minutes_final_review_to_merge": round(200 + r() * 600, 2),
        }
    ]


def repo_records(
    world: World, entity: Entity, repos: list[Repo], day: dt.date
) -> list[dict[str, Any]]:
    """repos-1-day lines: one per repository with pull-request activity that day."""
    ds = day.isoformat()
    ordinal = day.toordinal()
    chance = 0.12 if day.weekday() >= 5 else 0.4
    lines = []
    for repo in repos:
        if unit(world.seed, repo.id, ordinal) >= chance:
            continue
        rng = random.Random((world.seed << 96) | (repo.id << 32) | ordinal)
        r = rng.random
        counts = _pull_request_counts(r)
        by_type = _by_comment_type(
            r, counts["total_copilot_suggestions"], counts["total_copilot_applied_suggestions"]
        )
        line: dict[str, Any] = {"day": ds}
        if entity.enterprise_id is not None:
            line["enterprise_id"] = str(entity.enterprise_id)
        line["organization_id"] = str(repo.owner_id)
        line.update(
            {
                "repo_id": repo.id,
                "repo_owner_name": repo.owner,
                "repo_name": repo.name,
                "repo_visibility": repo.visibility,
                "pull_requests": pull_requests_block(counts, by_type, r),
                "pull_request_review_times": _review_times(r, counts["total_merged"]),
            }
        )
        lines.append(line)
    return lines
