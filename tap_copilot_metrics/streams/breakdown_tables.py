"""Which breakdown tables exist: per parent stream, the arrays and objects that become tables.

How a breakdown's rows and schema are made is streams/breakdowns.py; this module only lists them.
A table is named `<parent>_<suffix>`; its key is the parent's key, then the element's natural
key (its dimensions), e.g. `copilot_usage_daily_by_skill`: `scope, scope_name, day, skill`.

Objects of a report record (`totals_by_cli`, `totals_by_copilot_app`, `totals_by_vscode_agent`,
`pull_requests`, `ai_adoption_phase`) become typed flat columns in tables of their own, one row
per parent record that carries the object, keyed by the parent's key, e.g.
`copilot_usage_daily_cli`: `session_count, ..., token_usage__output_tokens_sum`. Not columns on
the parent's table, because:

* a parent record is GitHub's line unchanged (plus the scope columns): adding flat copies next to
  the nested object would hold every number twice;
* a target that flattens objects itself (target-postgres, target-snowflake with flattening on)
  turns `totals_by_cli.session_count` into `totals_by_cli__session_count`, the very name a flat
  column on the parent would have: the two would collide;
* GitHub omits `totals_by_cli`, `totals_by_copilot_app` and `totals_by_vscode_agent` on days
  without such use; in a table of their own that is simply no row, as for users without activity.

The 28-day feature engagement (`copilot_feature_engagement`) describes a whole 28-day window, not a
day. The tap keeps it on the record of the window's last day only (reportfiles.expand_day_totals,
reportdays.LatestReport), so its table is keyed by that day: `day` is the last day of the window,
`feature` the feature; `active_user_count` (the window's active users) is repeated on each
feature's row. It reaches the tap only in a 28-day report, which the tap reads on a backfill of
recent weeks; runs that read day by day give it no rows (reading the 28-day report for it alone
would be an extra request).
"""

from __future__ import annotations

from tap_copilot_metrics.streams.breakdowns import (
    Breakdown,
    BreakdownStream,
    Level,
    breakdown_stream,
)
from tap_copilot_metrics.streams.metrics import CopilotMetricsStream
from tap_copilot_metrics.streams.reports import (
    CopilotRepositoryUsageDailyStream,
    CopilotUsageDailyStream,
    CopilotUserUsageDailyStream,
)

#: (table suffix, breakdown)
Spec = tuple[str, Breakdown]


def _array(array: str, *dimensions: str, container: str | None = None) -> Breakdown:
    """One row per element of `array` (inside the object `container`, if given)."""
    return Breakdown(container, (Level(array),), dimensions)


def _object(name: str) -> Breakdown:
    """The object `name` as flat columns: one row per parent record that carries it."""
    return Breakdown(None, (Level(name),), ())


_LEGACY: tuple[Spec, ...] = (
    (
        "ide_code_completions",
        Breakdown(
            "copilot_ide_code_completions",
            (Level("editors", "editor"), Level("models", "model"), Level("languages", "language")),
            ("editor", "model", "language"),
        ),
    ),
    (
        "ide_chat",
        Breakdown(
            "copilot_ide_chat",
            (Level("editors", "editor"), Level("models", "model")),
            ("editor", "model"),
        ),
    ),
    ("dotcom_chat", Breakdown("copilot_dotcom_chat", (Level("models", "model"),), ("model",))),
    (
        "dotcom_pull_requests",
        Breakdown(
            "copilot_dotcom_pull_requests",
            (Level("repositories", "repository"), Level("models", "model")),
            ("repository", "model"),
        ),
    ),
)

#: Arrays and objects of both the organization/enterprise and the per-user reports.
_SHARED: tuple[Spec, ...] = (
    ("by_ide", _array("totals_by_ide", "ide")),
    ("by_feature", _array("totals_by_feature", "feature")),
    ("by_language_feature", _array("totals_by_language_feature", "language", "feature")),
    ("by_language_model", _array("totals_by_language_model", "language", "model")),
    ("by_model_feature", _array("totals_by_model_feature", "model", "feature")),
    ("by_3rd_party_agent", _array("totals_by_3rd_party_agent", "agent_id")),
    ("by_skill", _array("totals_by_skill", "skill")),
    ("by_custom_agent", _array("totals_by_custom_agent", "custom_agent")),
    ("by_mcp", _array("totals_by_mcp", "mcp")),
    ("by_slash_cmd", _array("totals_by_slash_cmd", "slash_cmd")),
    ("by_plugin", _array("totals_by_plugin", "plugin")),
    ("cli", _object("totals_by_cli")),
    ("copilot_app", _object("totals_by_copilot_app")),
    ("vscode_agent", _object("totals_by_vscode_agent")),
)

#: `pull_requests{}` of organization/enterprise days and of repositories.
_PULL_REQUESTS: tuple[Spec, ...] = (
    ("pull_requests", _object("pull_requests")),
    (
        "pull_requests_by_comment_type",
        _array("copilot_suggestions_by_comment_type", "comment_type", container="pull_requests"),
    ),
)

_REPORT_TABLES = (
    (
        CopilotUsageDailyStream,
        (
            *_SHARED,
            ("by_ai_adoption_phase", _array("totals_by_ai_adoption_phase", "phase_number")),
            *_PULL_REQUESTS,
            (
                "feature_engagement",
                Breakdown(
                    None,
                    (Level("copilot_feature_engagement"), Level("totals_by_feature")),
                    ("feature",),
                ),
            ),
        ),
    ),
    (CopilotUserUsageDailyStream, (*_SHARED, ("ai_adoption_phase", _object("ai_adoption_phase")))),
    (
        CopilotRepositoryUsageDailyStream,
        (
            *_PULL_REQUESTS,
            (
                "pull_request_review_times",
                _array("pull_request_review_times", "authored_by", "reviewed_by"),
            ),
        ),
    ),
)


def _doc(parent: str, breakdown: Breakdown) -> str:
    path = ".".join(
        name for name in (breakdown.container, *(level.array for level in breakdown.levels)) if name
    )
    if not breakdown.dimensions:
        return f"`{path}` of {parent} as flat columns, one row per record that has it."
    return f"`{path}` of {parent}, one row per element ({', '.join(breakdown.dimensions)})."


BREAKDOWN_STREAMS: tuple[type[BreakdownStream], ...] = tuple(
    breakdown_stream(f"{parent.name}_{suffix}", parent, breakdown, _doc(parent.name, breakdown))
    for parent, specs in ((CopilotMetricsStream, _LEGACY), *_REPORT_TABLES)
    for suffix, breakdown in specs
)
