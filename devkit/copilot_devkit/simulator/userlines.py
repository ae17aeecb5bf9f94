"""users-1-day lines, rendered straight to JSON text.

User reports are the bulk of the data (5,000 users x 30 days is ~120,000 lines of ~3 KB), so a
line is rendered from templates instead of building a dict and calling `json.dumps`, which is
about three times faster. The shape follows the docs' user record examples
(`examples/docs_example-schema_users-1-day_record.json` and the late-2026 transcription):
alphabetical keys, internal partition fields last, `ai_credits_used` a decimal, the code-review
flags sometimes null, `totals_by_cli` / `totals_by_copilot_app` / `totals_by_3rd_party_agent` /
`totals_by_vscode_agent` omitted when unused. Numbers depend on (seed, user, day) only, so a
user's line is the same in organization and enterprise files except for the ids.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable
from typing import Any

from copilot_devkit.simulator.entities import (
    IDE_VERSIONS,
    THIRD_PARTY_AGENTS,
    Entity,
    Persona,
    World,
)
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
    NON_IDE_FEATURES,
    SUGG_ADD,
    SUGG_DEL,
    UIIC,
    Vector,
)

_HEAD = '{"code_acceptance_activity_count":%d,"code_generation_activity_count":%d,'
_LOC = (
    '"loc_added_sum":%d,"loc_deleted_sum":%d,"loc_suggested_to_add_sum":%d,'
    '"loc_suggested_to_delete_sum":%d'
)
FEATURE_ROW = _HEAD + '"feature":"%s",' + _LOC + ',"user_initiated_interaction_count":%d}'
IDE_ROW = (
    _HEAD + '"ide":"%s","last_known_ide_version":{"ide_version":"%s","sampled_at":"%s"},'
    '"last_known_plugin_version":{"plugin":"%s","plugin_version":"%s","sampled_at":"%s"},'
    + _LOC
    + ',"user_initiated_interaction_count":%d}'
)
LANGUAGE_FEATURE_ROW = _HEAD + '"feature":"%s","language":"%s",' + _LOC + "}"
LANGUAGE_MODEL_ROW = _HEAD + '"language":"%s",' + _LOC + ',"model":"%s"}'
MODEL_FEATURE_ROW = (
    _HEAD + '"feature":"%s",' + _LOC + ',"model":"%s","user_initiated_interaction_count":%d}'
)
USAGE_BLOCK = (
    '"prompt_count":%d,"request_count":%d,"session_count":%d,"token_usage":'
    '{"avg_tokens_per_request":%r,"output_tokens_sum":%d,"prompt_tokens_sum":%d}}'
)
_JSON = {True: "true", False: "false", None: "null"}
# Every top-level key a user line can carry (for extra_user_fields that replace one).
USER_KEYS = frozenset(
    {
        "ai_adoption_phase",
        "ai_credits_used",
        *CHAT_MODES,
        "code_acceptance_activity_count",
        "code_generation_activity_count",
        "day",
        *DISTINCT_COUNTS.values(),
        "enterprise_id",
        "loc_added_sum",
        "loc_deleted_sum",
        "loc_suggested_to_add_sum",
        "loc_suggested_to_delete_sum",
        "organization_id",
        "totals_by_3rd_party_agent",
        "totals_by_cli",
        "totals_by_copilot_app",
        *CUSTOMIZATIONS,
        "totals_by_feature",
        "totals_by_ide",
        "totals_by_language_feature",
        "totals_by_language_model",
        "totals_by_model_feature",
        "totals_by_vscode_agent",
        "used_agent",
        "used_chat",
        "used_cli",
        "used_copilot_app",
        "used_copilot_cloud_agent",
        "used_copilot_code_review_active",
        "used_copilot_code_review_passive",
        "used_copilot_coding_agent",
        "used_vscode_agent",
        "user_id",
        "user_login",
        "user_initiated_interaction_count",
        "etl_id",
        "day_partition",
        "entity_id_partition",
    }
)


def _split(v: Vector, cumulative: Iterable[float]) -> list[Vector]:
    """Split a vector into integer parts at cumulative fractions (the last one is 1.0)."""
    parts = []
    prev = [0] * 7
    for c in cumulative:
        cur = v if c >= 1.0 else [int(x * c) for x in v]
        parts.append([a - b for a, b in zip(cur, prev, strict=True)])
        prev = cur
    return parts


def _cumulative(r: Any, n: int) -> list[float]:
    if n == 1:
        return [1.0]
    weights = [0.3 + r() for _ in range(n)]
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights[:-1]:
        acc += w / total
        out.append(acc)
    out.append(1.0)
    return out


def _activity(feature: str, r: Any, scale: float) -> Vector:
    """One feature's activity block for one user and day."""
    if feature == "code_completion":
        gen = 1 + int(r() * 120 * scale)
        acc = int(gen * (0.15 + 0.35 * r()))
        sugg_add = gen * (1 + int(r() * 4))
        return [
            acc,
            gen,
            acc * (1 + int(r() * 3)),
            int(acc * 0.2 * r()),
            sugg_add,
            int(gen * 0.1 * r()),
            0,
        ]
    if feature == "agent_edit":  # agent edits write files: LoC added, nothing "suggested"
        gen = 1 + int(r() * 60 * scale)
        added = gen * (2 + int(r() * 10))
        return [0, gen, added, int(added * 0.4 * r()), 0, 0, 0]
    uiic = 1 + int(r() * 15 * scale)
    gen = int(uiic * 2 * r())
    acc = int(gen * r())
    sugg_add = gen * (2 + int(r() * 12))
    sugg_del = int(sugg_add * 0.2 * r())
    return [
        acc,
        gen,
        int(sugg_add * 0.6 * r()) if acc else 0,
        int(sugg_del * r()),
        sugg_add,
        sugg_del,
        uiic,
    ]


def _features_used(p: Persona, r: Any) -> list[str]:
    agent_mode = p.agent and r() < 0.5
    chances = {
        "code_completion": r() < 0.9,
        "chat_inline": p.chat and r() < 0.15,
        "chat_panel_ask_mode": p.chat and r() < 0.45,
        "chat_panel_edit_mode": p.chat and r() < 0.08,
        "chat_panel_agent_mode": agent_mode,
        "chat_panel_plan_mode": p.chat and r() < 0.04,
        "chat_panel_custom_mode": p.chat and p.customizer and r() < 0.1,
        "chat_panel_unknown_mode": p.chat and r() < 0.02,
        "agent_edit": agent_mode and r() < 0.7,
        "copilot_cli": p.cli and r() < 0.4,
        "copilot_app": p.app and r() < 0.4,
        "others": r() < 0.03,
    }
    return [f for f in FEATURES if chances[f]]


def _stamp(day: str, r: Any) -> str:
    return f"{day}T{int(r() * 24):02d}:{int(r() * 60):02d}:{int(r() * 60):02d}.000Z"


def _token_block(r: Any, prompts: int, sessions_max: int) -> str:
    requests = prompts * (1 + int(r() * 4))
    out_tokens = requests * (500 + int(r() * 2500))
    prompt_tokens = requests * (400 + int(r() * 2600))
    sessions = 1 + int(r() * min(prompts, sessions_max))
    avg = round((out_tokens + prompt_tokens) / requests, 1)
    return USAGE_BLOCK % (prompts, requests, sessions, avg, out_tokens, prompt_tokens)


def _customization(r: Any, array: str) -> list[tuple[str, int]]:
    _key, pool = CUSTOMIZATIONS[array]
    return [(name, 1 + int(r() * 8)) for name in pool if r() < 0.45]


def _custom_rows(key: str, rows: list[tuple[str, int]]) -> str:
    if key < "interaction_count":  # GitHub's alphabetical key order
        items = [f'{{"{key}":"{name}","interaction_count":{n}}}' for name, n in rows]
    else:
        items = [f'{{"interaction_count":{n},"{key}":"{name}"}}' for name, n in rows]
    return "[" + ",".join(items) + "]"


def render_extra(extra: dict[str, Any]) -> str:
    """`extra_user_fields` as JSON members appended to every user line ("" if none)."""
    return "".join(
        f",{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in extra.items()
    )


def user_line(world: World, entity: Entity, gi: int, day: dt.date, extra: str = "") -> str:
    """One users-1-day line (JSON text) for a user active on that day."""
    p = world.persona(gi)
    rng = random.Random((world.seed << 64) | (gi << 32) | day.toordinal())
    r = rng.random
    ds = day.isoformat()
    scale = (0.3 if day.weekday() >= 5 else 1.0) * (0.4 + p.activity * 0.6)
    server_side_only = r() < 0.03  # seen by server-side telemetry only: no breakdowns
    features = [] if server_side_only else _features_used(p, r)
    vectors = {f: _activity(f, r, scale) for f in features}
    total = [0] * 7
    ide_total = [0] * 7
    for f, v in vectors.items():
        for i in range(7):
            total[i] += v[i]
        if f not in NON_IDE_FEATURES:
            for i in range(7):
                ide_total[i] += v[i]

    ide_rows = []
    if any(ide_total):
        for ide, v in zip(p.ides, _split(ide_total, _cumulative(r, len(p.ides))), strict=True):
            if any(v):
                version, plugin, plugin_version = IDE_VERSIONS[ide]
                stamp = _stamp(ds, r)
                ide_rows.append(
                    IDE_ROW
                    % (
                        v[ACC],
                        v[GEN],
                        ide,
                        version,
                        stamp,
                        plugin,
                        plugin_version,
                        stamp,
                        v[ADDED],
                        v[DELETED],
                        v[SUGG_ADD],
                        v[SUGG_DEL],
                        v[UIIC],
                    )
                )

    # Completions spread over the user's languages; other features land in one language.
    lang_cum = _cumulative(r, len(p.languages))
    feature_rows, lang_feature_rows, model_rows = [], [], []
    lang_model: dict[tuple[str, str], Vector] = {}
    for f, v in vectors.items():
        model = p.completion_model if f == "code_completion" else p.chat_model
        feature_rows.append(
            FEATURE_ROW
            % (v[ACC], v[GEN], f, v[ADDED], v[DELETED], v[SUGG_ADD], v[SUGG_DEL], v[UIIC])
        )
        model_rows.append(
            MODEL_FEATURE_ROW
            % (v[ACC], v[GEN], f, v[ADDED], v[DELETED], v[SUGG_ADD], v[SUGG_DEL], model, v[UIIC])
        )
        if f == "code_completion":
            split = list(zip(p.languages, _split(v, lang_cum), strict=True))
        else:
            split = [(p.languages[0] if r() < 0.7 else rng.choice(p.languages), v)]
        for lang, part in split:
            if not any(part[:UIIC]):
                continue
            lang_feature_rows.append(
                LANGUAGE_FEATURE_ROW
                % (
                    part[ACC],
                    part[GEN],
                    f,
                    lang,
                    part[ADDED],
                    part[DELETED],
                    part[SUGG_ADD],
                    part[SUGG_DEL],
                )
            )
            acc = lang_model.setdefault((lang, model), [0] * 7)
            for i in range(6):
                acc[i] += part[i]
    lang_model_rows = [
        LANGUAGE_MODEL_ROW
        % (v[ACC], v[GEN], lang, v[ADDED], v[DELETED], v[SUGG_ADD], v[SUGG_DEL], model)
        for (lang, model), v in lang_model.items()
    ]

    customize = p.customizer and any(
        f in vectors for f in ("chat_panel_agent_mode", "chat_panel_custom_mode", "copilot_cli")
    )
    custom = {a: (_customization(r, a) if customize else []) for a in CUSTOMIZATIONS}
    credits = int(total[UIIC] + total[GEN] * 0.05 + r() * 4) / 2.0

    parts = [
        f'{{"ai_adoption_phase":{{"phase":"Phase {p.phase}","phase_number":{p.phase},'
        f'"version":"v1"}}',
        f'"ai_credits_used":{credits!r}',
    ]
    parts.extend(f'"{mode}":{vectors[mode][UIIC] if mode in vectors else 0}' for mode in CHAT_MODES)
    parts.append(
        f'"code_acceptance_activity_count":{total[ACC]},'
        f'"code_generation_activity_count":{total[GEN]},"day":"{ds}"'
    )
    for array, field in DISTINCT_COUNTS.items():
        rows = custom[array]
        folded = any(name in ("other", "custom") for name, _n in rows)
        parts.append(f'"{field}":{len(rows) + (1 + int(r() * 2) if folded else 0)}')
    if entity.enterprise_id is not None:
        parts.append(f'"enterprise_id":"{entity.enterprise_id}"')
    parts.append(
        f'"loc_added_sum":{total[ADDED]},"loc_deleted_sum":{total[DELETED]},'
        f'"loc_suggested_to_add_sum":{total[SUGG_ADD]},'
        f'"loc_suggested_to_delete_sum":{total[SUGG_DEL]}'
    )
    if entity.kind == "organization":
        parts.append(f'"organization_id":"{entity.id}"')
    if p.third_party and not server_side_only and r() < 0.5:
        agents = [(a, name) for a, name in THIRD_PARTY_AGENTS if r() < 0.7] or [
            THIRD_PARTY_AGENTS[0]
        ]
        parts.append(
            '"totals_by_3rd_party_agent":['
            + ",".join(
                f'{{"agent_id":"{a}","agent_name":"{name}",'
                f'"user_initiated_interaction_count":{1 + int(r() * 5)}}}'
                for a, name in agents
            )
            + "]"
        )
    if "copilot_cli" in vectors:
        stamp = _stamp(ds, r)
        parts.append(
            f'"totals_by_cli":{{"last_known_cli_version":{{"cli_version":'
            f'"{p.cli_version}","sampled_at":"{stamp}"}},'
            + _token_block(r, max(1, vectors["copilot_cli"][UIIC]), 3)
        )
    if "copilot_app" in vectors:
        parts.append(
            '"totals_by_copilot_app":{' + _token_block(r, max(1, vectors["copilot_app"][UIIC]), 2)
        )
    parts.append(
        '"totals_by_custom_agent":' + _custom_rows("custom_agent", custom["totals_by_custom_agent"])
    )
    parts.append('"totals_by_feature":[' + ",".join(feature_rows) + "]")
    parts.append('"totals_by_ide":[' + ",".join(ide_rows) + "]")
    parts.append('"totals_by_language_feature":[' + ",".join(lang_feature_rows) + "]")
    parts.append('"totals_by_language_model":[' + ",".join(lang_model_rows) + "]")
    parts.append('"totals_by_mcp":' + _custom_rows("mcp", custom["totals_by_mcp"]))
    parts.append('"totals_by_model_feature":[' + ",".join(model_rows) + "]")
    for array in ("totals_by_plugin", "totals_by_skill", "totals_by_slash_cmd"):
        parts.append(f'"{array}":' + _custom_rows(CUSTOMIZATIONS[array][0], custom[array]))
    vscode_agent = p.vscode_agent and not server_side_only and r() < 0.5
    if vscode_agent:
        parts.append(
            f'"totals_by_vscode_agent":{{"session_count":{1 + int(r() * 3)},'
            f'"total_user_messages":{1 + int(r() * 20)}}}'
        )
    cloud_agent = p.cloud_agent and r() < 0.3
    review_unknown = r() < 0.12  # the docs example has both code-review flags null
    review_active = None if review_unknown else p.reviewer and r() < 0.3
    review_passive = None if review_unknown else r() < 0.4
    parts.append(
        f'"used_agent":{_JSON["chat_panel_agent_mode" in vectors or "agent_edit" in vectors]},'
        f'"used_chat":{_JSON[any(f.startswith("chat_") for f in vectors)]},'
        f'"used_cli":{_JSON["copilot_cli" in vectors]},'
        f'"used_copilot_app":{_JSON["copilot_app" in vectors]},'
        f'"used_copilot_cloud_agent":{_JSON[cloud_agent]},'
        f'"used_copilot_code_review_active":{_JSON[review_active]},'
        f'"used_copilot_code_review_passive":{_JSON[review_passive]},'
        f'"used_copilot_coding_agent":{_JSON[cloud_agent]},'
        f'"used_vscode_agent":{_JSON[vscode_agent]},'
        f'"user_id":{p.user_id},"user_login":"{p.login}",'
        f'"user_initiated_interaction_count":{total[UIIC]},'
        f'"etl_id":"{ETL_ID}","day_partition":"{ds}","entity_id_partition":{entity.id}'
        f"{extra}}}"
    )
    return ",".join(parts)
