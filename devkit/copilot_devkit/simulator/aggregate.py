"""Organization / enterprise day records and the 28-day wrapper.

The day record (an `organization-1-day` / `enterprise-1-day` line, and each `day_totals[]`
element of the 28-day report) is computed from the same day's user and repository lines, so
sums reconcile: activity counts add up over users, `pull_requests` over repositories. Distinct
user counts (weekly/monthly) come from the users active in the trailing 7/28 days.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from copilot_devkit.simulator.entities import Entity, World, unit
from copilot_devkit.simulator.records import (
    ACC,
    ADDED,
    CHAT_MODES,
    CUSTOMIZATIONS,
    DELETED,
    DISTINCT_COUNTS,
    ETL_ID,
    FEATURES,
    GEN,
    PR_COUNT_FIELDS,
    SUGG_ADD,
    SUGG_DEL,
    UIIC,
    Vector,
    block,
    entity_ids,
    language_feature_row,
    language_model_row,
    model_feature_row,
    pull_requests_block,
)


def _custom_row(key: str, name: str, count: int) -> dict[str, Any]:
    if key < "interaction_count":  # keep GitHub's alphabetical key order
        return {key: name, "interaction_count": count}
    return {"interaction_count": count, key: name}


def _add(acc: dict[Any, Vector], key: Any, row: dict[str, Any]) -> None:
    v = acc.get(key)
    if v is None:
        v = acc[key] = [0] * 7
    v[ACC] += row["code_acceptance_activity_count"]
    v[GEN] += row["code_generation_activity_count"]
    v[ADDED] += row["loc_added_sum"]
    v[DELETED] += row["loc_deleted_sum"]
    v[SUGG_ADD] += row["loc_suggested_to_add_sum"]
    v[SUGG_DEL] += row["loc_suggested_to_delete_sum"]
    v[UIIC] += row.get("user_initiated_interaction_count", 0)


def _top5(counts: dict[str, int], key: str) -> list[dict[str, Any]]:
    """Customization arrays are top-5 lists (by interaction count)."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return [_custom_row(key, name, n) for name, n in top]


def _sum_token_blocks(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    prompts = sum(b["prompt_count"] for b in blocks)
    requests = sum(b["request_count"] for b in blocks)
    out_tokens = sum(b["token_usage"]["output_tokens_sum"] for b in blocks)
    prompt_tokens = sum(b["token_usage"]["prompt_tokens_sum"] for b in blocks)
    return {
        "prompt_count": prompts,
        "request_count": requests,
        "session_count": sum(b["session_count"] for b in blocks),
        "token_usage": {
            "avg_tokens_per_request": round((out_tokens + prompt_tokens) / max(requests, 1), 1),
            "output_tokens_sum": out_tokens,
            "prompt_tokens_sum": prompt_tokens,
        },
    }


def _adoption_phases(
    world: World, users: list[dict[str, Any]], monthly: set[int], r: Any
) -> list[dict[str, Any]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for u in users:
        groups.setdefault(u["ai_adoption_phase"]["phase_number"], []).append(u)
    in_phase_28d: dict[int, int] = {}
    for gi in monthly:
        phase = world.persona(gi).phase
        in_phase_28d[phase] = in_phase_28d.get(phase, 0) + 1
    rows = []
    for phase in sorted(groups):
        members = groups[phase]
        n = len(members)

        def avg(field: str, rows_: list[dict[str, Any]] = members, n_: int = n) -> float:
            return round(sum(u[field] for u in rows_) / n_, 2)

        merged = int(n * r() * 0.6)
        row: dict[str, Any] = {
            "avg_code_acceptance_activities": avg("code_acceptance_activity_count"),
            "avg_code_generation_activities": avg("code_generation_activity_count"),
            "avg_loc_added": avg("loc_added_sum"),
            "avg_loc_deleted": avg("loc_deleted_sum"),
            "avg_pull_requests_created": round(r() * 1.5, 2),
            "avg_pull_requests_median_minutes_to_merge": round(30 + r() * 600, 2),
            "avg_pull_requests_merged": round(merged / n, 2),
            "avg_pull_requests_minutes_to_review": round(10 + r() * 300, 2),
            "avg_pull_requests_review_cycles": round(1 + r() * 2, 2),
            "avg_pull_requests_reviewed": round(r() * 2, 2),
            "avg_user_initiated_interactions": avg("user_initiated_interaction_count"),
            "phase": f"Phase {phase}",
            "phase_number": phase,
            "total_engaged_users": n,
            "total_pull_requests_merged": merged,
        }
        if phase != 0:  # absent = not measured (documented); phase 0 shows that state
            row["users_in_phase_28d"] = in_phase_28d.get(phase, n)
        row["version"] = "v1"
        rows.append(row)
    return rows


def aggregate_record(
    world: World,
    entity: Entity,
    day: dt.date,
    users: list[dict[str, Any]],
    repos: list[dict[str, Any]],
    weekly: set[int],
    monthly: set[int],
) -> dict[str, Any]:
    """One organization-1-day / enterprise-1-day line (= one `day_totals[]` element)."""
    ordinal = day.toordinal()
    rng = random.Random(f"{world.seed}:aggregate:{entity.kind}:{entity.name}:{day}")
    r = rng.random
    features: dict[str, Vector] = {}
    ides: dict[str, Vector] = {}
    lang_feature: dict[tuple[str, str], Vector] = {}
    lang_model: dict[tuple[str, str], Vector] = {}
    model_feature: dict[tuple[str, str], Vector] = {}
    third_party: dict[tuple[str, str], list[int]] = {}
    custom: dict[str, dict[str, int]] = {a: {} for a in CUSTOMIZATIONS}
    cli_blocks, app_blocks, vscode_blocks = [], [], []
    modes = dict.fromkeys(CHAT_MODES, 0)
    cloud = review_active = review_passive = 0
    for u in users:
        for row in u["totals_by_feature"]:
            _add(features, row["feature"], row)
        for row in u["totals_by_ide"]:
            _add(ides, row["ide"], row)
        for row in u["totals_by_language_feature"]:
            _add(lang_feature, (row["language"], row["feature"]), row)
        for row in u["totals_by_language_model"]:
            _add(lang_model, (row["language"], row["model"]), row)
        for row in u["totals_by_model_feature"]:
            _add(model_feature, (row["model"], row["feature"]), row)
        for row in u.get("totals_by_3rd_party_agent", ()):
            agg = third_party.setdefault((row["agent_id"], row["agent_name"]), [0, 0])
            agg[0] += 1
            agg[1] += row["user_initiated_interaction_count"]
        for array, (key, _pool) in CUSTOMIZATIONS.items():
            for row in u[array]:
                counts = custom[array]
                counts[row[key]] = counts.get(row[key], 0) + row["interaction_count"]
        if "totals_by_cli" in u:
            cli_blocks.append(u["totals_by_cli"])
        if "totals_by_copilot_app" in u:
            app_blocks.append(u["totals_by_copilot_app"])
        if "totals_by_vscode_agent" in u:
            vscode_blocks.append(u["totals_by_vscode_agent"])
        for mode in CHAT_MODES:
            modes[mode] += u[mode]
        cloud += bool(u["used_copilot_cloud_agent"])
        review_active += bool(u["used_copilot_code_review_active"])
        review_passive += bool(u["used_copilot_code_review_passive"])
    total = [0] * 7
    for v in features.values():
        for i in range(7):
            total[i] += v[i]

    def personas_with(flag: str, among: set[int]) -> int:
        return sum(1 for gi in among if getattr(world.persona(gi), flag))

    cloud_known = unit(world.seed, entity.id, ordinal) >= 0.15  # null = "no data" (documented)
    pr_rows = [line["pull_requests"] for line in repos]
    counts = {k: sum(p[k] for p in pr_rows) for k in PR_COUNT_FIELDS}
    by_type: dict[str, list[int]] = {}
    for p in pr_rows:
        for row in p["copilot_suggestions_by_comment_type"]:
            agg = by_type.setdefault(row["comment_type"], [0, 0])
            agg[0] += row["total_copilot_applied_suggestions"]
            agg[1] += row["total_copilot_suggestions"]

    rec: dict[str, Any] = dict(modes)
    rec["code_acceptance_activity_count"] = total[ACC]
    rec["code_generation_activity_count"] = total[GEN]
    if cli_blocks:
        rec["daily_active_cli_users"] = len(cli_blocks)
    rec["daily_active_copilot_app_users"] = len(app_blocks)
    rec["daily_active_copilot_cloud_agent_users"] = cloud if cloud_known else None
    rec["daily_active_copilot_code_review_users"] = review_active
    rec["daily_active_users"] = len(users)
    rec["daily_active_vscode_agent_users"] = len(vscode_blocks)
    rec["daily_passive_copilot_code_review_users"] = review_passive
    rec["day"] = day.isoformat()
    for array, field in DISTINCT_COUNTS.items():
        names = custom[array]
        folded = any(n in ("other", "custom") for n in names)
        rec[field] = len(names) + (2 if folded else 0)
    rec.update(entity_ids(entity, world))
    rec["loc_added_sum"] = total[ADDED]
    rec["loc_deleted_sum"] = total[DELETED]
    rec["loc_suggested_to_add_sum"] = total[SUGG_ADD]
    rec["loc_suggested_to_delete_sum"] = total[SUGG_DEL]
    rec["monthly_active_agent_users"] = personas_with("agent", monthly)
    rec["monthly_active_chat_users"] = personas_with("chat", monthly)
    rec["monthly_active_copilot_cloud_agent_users"] = (
        personas_with("cloud_agent", monthly) if cloud_known else None
    )
    rec["monthly_active_copilot_code_review_users"] = personas_with("reviewer", monthly)
    rec["monthly_active_users"] = len(monthly)
    rec["monthly_passive_copilot_code_review_users"] = int(len(monthly) * 0.4)
    if "organization_id" in rec:
        rec["organization_id"] = rec.pop("organization_id")
    rec["pull_requests"] = pull_requests_block(
        counts,
        [
            {
                "comment_type": t,
                "total_copilot_applied_suggestions": a,
                "total_copilot_suggestions": s,
            }
            for t, (a, s) in sorted(by_type.items())
        ],
        r,
    )
    if third_party:
        rec["totals_by_3rd_party_agent"] = [
            {
                "agent_id": agent_id,
                "agent_name": name,
                "session_count": n_users + int(r() * 3),
                "user_initiated_interaction_count": uiic,
            }
            for (agent_id, name), (n_users, uiic) in sorted(third_party.items())
        ]
    rec["totals_by_ai_adoption_phase"] = _adoption_phases(world, users, monthly, r)
    if cli_blocks:
        rec["totals_by_cli"] = _sum_token_blocks(cli_blocks)
    if app_blocks:
        rec["totals_by_copilot_app"] = _sum_token_blocks(app_blocks)
    top = {array: _top5(custom[array], key) for array, (key, _pool) in CUSTOMIZATIONS.items()}
    rec["totals_by_custom_agent"] = top["totals_by_custom_agent"]
    rec["totals_by_feature"] = [block(features[f], "feature", f) for f in FEATURES if f in features]
    rec["totals_by_ide"] = [block(v, "ide", k) for k, v in sorted(ides.items())]
    rec["totals_by_language_feature"] = [
        language_feature_row(v, lang, f) for (lang, f), v in sorted(lang_feature.items())
    ]
    rec["totals_by_language_model"] = [
        language_model_row(v, lang, m) for (lang, m), v in sorted(lang_model.items())
    ]
    rec["totals_by_mcp"] = top["totals_by_mcp"]
    rec["totals_by_model_feature"] = [
        model_feature_row(v, m, f) for (m, f), v in sorted(model_feature.items())
    ]
    rec["totals_by_plugin"] = top["totals_by_plugin"]
    rec["totals_by_skill"] = top["totals_by_skill"]
    rec["totals_by_slash_cmd"] = top["totals_by_slash_cmd"]
    if vscode_blocks:
        rec["totals_by_vscode_agent"] = {
            "session_count": sum(b["session_count"] for b in vscode_blocks),
            "total_user_messages": sum(b["total_user_messages"] for b in vscode_blocks),
        }
    rec["user_initiated_interaction_count"] = total[UIIC]
    rec["weekly_active_copilot_cloud_agent_users"] = (
        personas_with("cloud_agent", weekly) if cloud_known else None
    )
    rec["weekly_active_copilot_code_review_users"] = personas_with("reviewer", weekly)
    rec["weekly_active_users"] = len(weekly)
    rec["weekly_passive_copilot_code_review_users"] = int(len(weekly) * 0.4)
    return rec


FEATURE_ENGAGEMENT = (
    ("code_completion", None),
    ("agent_edit", "agent"),
    ("copilot_code_review_active", "reviewer"),
    ("copilot_code_review_passive", None),
    ("copilot_cloud_agent", "cloud_agent"),
    ("copilot_cli", "cli"),
    ("copilot_app", "app"),
)


def wrapper_28_day(
    world: World,
    entity: Entity,
    start: dt.date,
    end: dt.date,
    day_totals: list[dict[str, Any]],
    monthly: set[int],
) -> dict[str, Any]:
    """The single line of organization-28-day / enterprise-28-day files."""
    rng = random.Random(f"{world.seed}:wrapper:{entity.kind}:{entity.name}:{end}")
    r = rng.random
    engaged = []
    for feature, flag in FEATURE_ENGAGEMENT:
        count = sum(1 for gi in monthly if flag is None or getattr(world.persona(gi), flag))
        engaged.append({"engaged_user_count": int(count * (0.6 + 0.3 * r())), "feature": feature})
    created = end + dt.timedelta(days=1)
    wrapper: dict[str, Any] = {
        "copilot_feature_engagement": {
            "active_user_count": len(monthly),
            "totals_by_feature": engaged,
        },
        "created_at": f"{created}T0{int(r() * 9)}:{int(r() * 60):02d}:{int(r() * 60):02d}Z",
        "day_totals": day_totals,
    }
    wrapper.update(entity_ids(entity, world))
    wrapper.update(
        {
            "report_end_day": end.isoformat(),
            "report_start_day": start.isoformat(),
            "etl_id": ETL_ID,
            "day_partition": end.isoformat(),
            "entity_id_partition": entity.id,
        }
    )
    return wrapper
