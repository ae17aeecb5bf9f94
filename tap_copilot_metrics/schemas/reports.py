"""Schemas of usage-metrics report file lines (no OpenAPI exists for the files).

Sources: GitHub's reference of the report fields,
https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics, its
example records, https://docs.github.com/en/copilot/reference/copilot-usage-metrics/example-schema
(copied, with their provenance, into ``devkit/copilot_devkit/simulator/examples/``), and the REST
reference of the report endpoints, https://docs.github.com/en/rest/copilot/copilot-usage-metrics.
Types follow GitHub exactly: ``enterprise_id``, ``organization_id`` and ``agent_id`` are JSON
strings; ``user_id``, ``team_id``, ``repo_id`` and ``entity_id_partition`` are integers;
``ai_credits_used``, ``avg_*``, ``median_*``, ``p90_*`` and ``avg_tokens_per_request`` are
decimals; every other count is an integer.

Breakdown item objects are shared between user and aggregate rows and declare the union of
what either carries (e.g. ``last_known_*`` versions are documented on user rows only,
``session_count`` of 3rd-party agents on aggregate rows only): a declared-but-always-null
column costs nothing, an undeclared one is lost by flattening targets.
"""

from __future__ import annotations

from singer_sdk import typing as th

from tap_copilot_metrics.schemas.common import (
    JSONSchema,
    array_of,
    booleans,
    dates,
    datetimes,
    ints,
    key,
    numbers,
    obj,
    record_schema,
    scope_columns,
    strings,
)

# --- the activity block -----------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)
CHAT_PANEL_FIELDS = (
    "chat_panel_ask_mode",
    "chat_panel_edit_mode",
    "chat_panel_agent_mode",
    "chat_panel_custom_mode",
    "chat_panel_unknown_mode",
    "chat_panel_plan_mode",
)
DISTINCT_USE_FIELDS = (
    "distinct_skill_use_count",
    "distinct_custom_agent_use_count",
    "distinct_mcp_use_count",
    "distinct_slash_cmd_use_count",
    "distinct_plugin_use_count",
)


def activity() -> list[th.Property]:
    """The seven additive activity counters."""
    return ints(*ACTIVITY_FIELDS)


def token_usage() -> th.Property:
    """``token_usage`` of the CLI and the Copilot app."""
    return obj(
        "token_usage",
        ints("output_tokens_sum", "prompt_tokens_sum"),
        numbers("avg_tokens_per_request"),
    )


def breakdown_arrays() -> list[th.Property]:
    """``totals_by_*`` arrays and blocks shared by aggregate and user rows."""
    # The language arrays are documented without user_initiated_interaction_count; the
    # full block is declared anyway (nullable), so a later addition is not lost.
    return [
        array_of(
            "totals_by_ide",
            strings("ide"),
            activity(),
            # user rows only
            obj("last_known_ide_version", strings("ide_version"), datetimes("sampled_at")),
            obj(
                "last_known_plugin_version",
                strings("plugin", "plugin_version"),
                datetimes("sampled_at"),
            ),
        ),
        array_of("totals_by_feature", strings("feature"), activity()),
        array_of("totals_by_language_feature", strings("language", "feature"), activity()),
        array_of("totals_by_language_model", strings("language", "model"), activity()),
        array_of("totals_by_model_feature", strings("model", "feature"), activity()),
        obj(
            "totals_by_cli",
            ints("session_count", "request_count", "prompt_count"),
            token_usage(),
            # user rows only; an object (devlake's string type is wrong)
            obj("last_known_cli_version", strings("cli_version"), datetimes("sampled_at")),
            description="Omitted when there was no CLI use that day.",
        ),
        obj(
            "totals_by_copilot_app",
            ints("session_count", "request_count", "prompt_count"),
            token_usage(),
            description="Omitted when there was no Copilot app use that day.",
        ),
        obj(
            "totals_by_vscode_agent",
            ints("session_count", "total_user_messages"),
            description="The dedicated VS Code Agents window only (not in-editor agent mode).",
        ),
        array_of(
            "totals_by_3rd_party_agent",
            # agent_id is a string of digits; agent_name is display text and can change
            strings("agent_id", "agent_name"),
            # job starts, not prompts; session_count on aggregate rows only
            ints("user_initiated_interaction_count", "session_count"),
        ),
        # Customization top-5 lists (2026-09-17); null/absent = no data, [] = no activity.
        array_of("totals_by_skill", strings("skill"), ints("interaction_count")),
        array_of("totals_by_custom_agent", strings("custom_agent"), ints("interaction_count")),
        array_of("totals_by_mcp", strings("mcp"), ints("interaction_count")),
        array_of("totals_by_slash_cmd", strings("slash_cmd"), ints("interaction_count")),
        array_of("totals_by_plugin", strings("plugin"), ints("interaction_count")),
        *ints(*DISTINCT_USE_FIELDS),
    ]


def pull_requests() -> th.Property:
    """``pull_requests`` of aggregate day records and repository rows."""
    return obj(
        "pull_requests",
        ints(
            "total_created",
            "total_reviewed",
            "total_merged",
            "total_suggestions",
            "total_applied_suggestions",
            "total_created_by_copilot",
            "total_reviewed_by_copilot",
            "total_merged_created_by_copilot",
            "total_merged_reviewed_by_copilot",
            "total_copilot_suggestions",
            "total_copilot_applied_suggestions",
        ),
        # absent when nothing merged
        numbers(
            "median_minutes_to_merge",
            "median_minutes_to_merge_copilot_authored",
            "median_minutes_to_merge_copilot_reviewed",
        ),
        array_of(
            "copilot_suggestions_by_comment_type",
            strings("comment_type"),
            ints("total_copilot_suggestions", "total_copilot_applied_suggestions"),
        ),
    )


def internal_partition_fields() -> list[th.Property]:
    """Internal fields that leak into GitHub's files; never keys."""
    # day_partition is a date string in every example; declared as a plain string because
    # it is internal and GitHub promises nothing about it.
    return [*strings("etl_id", "day_partition"), *ints("entity_id_partition")]


def entity_ids() -> list[th.Property]:
    """GitHub's entity ids: JSON strings, kept as sent."""
    return strings("enterprise_id", "organization_id")


def report_window() -> list[th.Property]:
    """Window of a 28-day report (on wrapper lines, copied onto expanded rows)."""
    return dates("report_start_day", "report_end_day")


# --- organization / enterprise day record ----------------------------------------------------

COPILOT_USAGE_DAILY_SCHEMA: JSONSchema = record_schema(
    scope_columns(),
    key("day", th.DateType, "The UTC day the record describes."),
    entity_ids(),
    # Wrapper fields of 28-day files, copied onto each day_totals row (reportfiles.py).
    report_window(),
    datetimes("created_at"),
    ints(
        # Distinct users: never sum across days.
        "daily_active_users",
        "weekly_active_users",
        "monthly_active_users",
        "monthly_active_chat_users",
        "monthly_active_agent_users",
        "daily_active_cli_users",
        "daily_active_copilot_cloud_agent_users",  # null = no data
        "weekly_active_copilot_cloud_agent_users",
        "monthly_active_copilot_cloud_agent_users",
        "daily_active_copilot_code_review_users",
        "weekly_active_copilot_code_review_users",
        "monthly_active_copilot_code_review_users",
        "daily_passive_copilot_code_review_users",
        "weekly_passive_copilot_code_review_users",
        "monthly_passive_copilot_code_review_users",
        "daily_active_copilot_app_users",
        "daily_active_vscode_agent_users",
        # Expected by some consumers, no official source found [C]; declared so that they
        # are typed if GitHub does send them.
        "weekly_active_cli_users",
        "monthly_active_cli_users",
        "weekly_active_copilot_app_users",
        "monthly_active_copilot_app_users",
        "weekly_active_vscode_agent_users",
        "monthly_active_vscode_agent_users",
    ),
    activity(),
    ints(*CHAT_PANEL_FIELDS),
    breakdown_arrays(),
    pull_requests(),
    array_of(
        "totals_by_ai_adoption_phase",
        ints("phase_number"),  # 0-3, the natural key
        strings("phase", "version"),
        # total_engaged_users: phase members active that day; users_in_phase_28d: absent
        # when not measured, 0 = measured and empty.
        ints("total_engaged_users", "users_in_phase_28d", "total_pull_requests_merged"),
        numbers(
            "avg_user_initiated_interactions",
            "avg_code_generation_activities",
            "avg_code_acceptance_activities",
            "avg_loc_added",
            "avg_loc_deleted",
            "avg_pull_requests_created",
            "avg_pull_requests_merged",
            "avg_pull_requests_reviewed",
            "avg_pull_requests_median_minutes_to_merge",
            "avg_pull_requests_minutes_to_review",
            "avg_pull_requests_review_cycles",
        ),
    ),
    # 28-day wrapper field (2026-09-17): a 28-day window measure ("engaged" = used on >= 2 of
    # the 28 days), put on the row of report_end_day only (see reportfiles.expand_day_totals).
    obj(
        "copilot_feature_engagement",
        ints("active_user_count"),
        array_of("totals_by_feature", strings("feature"), ints("engaged_user_count")),
        description="28-day window engagement as of report_end_day; on that day's row only.",
    ),
    internal_partition_fields(),
)


# --- users-1-day / users-28-day line ---------------------------------------------------------

COPILOT_USER_USAGE_DAILY_SCHEMA: JSONSchema = record_schema(
    scope_columns(),
    key("day", th.DateType, "The UTC day the record describes."),
    key("user_id", th.IntegerType, "GitHub user id."),
    strings("user_login"),
    entity_ids(),
    report_window(),  # repeated on users-28-day lines
    activity(),
    ints(*CHAT_PANEL_FIELDS),
    breakdown_arrays(),
    booleans(
        "used_chat",
        "used_agent",
        "used_cli",
        "used_copilot_coding_agent",
        "used_copilot_cloud_agent",
        "used_copilot_code_review_active",
        "used_copilot_code_review_passive",
        "used_copilot_app",
        "used_vscode_agent",
    ),
    numbers("ai_credits_used"),
    obj("ai_adoption_phase", strings("phase"), ints("phase_number"), strings("version")),
    internal_partition_fields(),
)


# --- user-teams-1-day line -------------------------------------------------------------------

COPILOT_USER_TEAMS_DAILY_SCHEMA: JSONSchema = record_schema(
    scope_columns(),
    key("day", th.DateType, "The UTC day the membership was observed."),
    key("user_id", th.IntegerType, "GitHub user id."),
    key("team_id", th.IntegerType, "GitHub team id."),
    strings("user_login", "slug"),
    entity_ids(),
    internal_partition_fields(),  # not seen in the examples; declared in case they leak here too
)


# --- repos-1-day line ------------------------------------------------------------------------

COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA: JSONSchema = record_schema(
    scope_columns(),
    key("day", th.DateType, "The UTC day the record describes."),
    key("repo_id", th.IntegerType, "GitHub repository id."),
    entity_ids(),
    strings("repo_owner_name", "repo_name", "repo_visibility"),  # PUBLIC | INTERNAL | PRIVATE
    pull_requests(),
    array_of(
        "pull_request_review_times",
        strings("authored_by", "reviewed_by"),  # the natural key; both "human" so far
        ints("total_merged"),
        numbers(
            "median_minutes_ready_to_first_review",
            "p90_minutes_ready_to_first_review",
            "median_minutes_first_to_final_review",  # 0 when a PR had one review
            "p90_minutes_first_to_final_review",
            "median_minutes_final_review_to_merge",
            "p90_minutes_final_review_to_merge",
        ),
    ),
    internal_partition_fields(),
)
