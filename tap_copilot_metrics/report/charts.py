"""The report's charts: Vega-Lite specs (through Altair) and the table of numbers under each."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import altair as alt

from tap_copilot_metrics.report.data import Row, ScopeData

#: How a table column is shown: counts, rates (0..1 shown as %), amounts (USD), minutes, text.
Kind = Literal["int", "rate", "usd", "number", "text", "day", "month", "time"]

WIDTH = 680
HEIGHT = 240
#: Lines drawn per breakdown chart (most code generations first); the table lists every one.
TOP_CATEGORIES = 8
DAY_TITLE = "Day (UTC)"


@dataclass(frozen=True)
class Column:
    """One column of a chart's table: mart column, header (with the unit) and kind."""

    field: str
    header: str
    kind: Kind = "int"


@dataclass
class ChartView:
    """One chart of one scope: title, one-line definition, Vega-Lite spec and its numbers."""

    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[Row]
    #: The mart the rows come from, and the column values that select them (besides the scope).
    mart: str
    where: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        """No rows in the marts for this scope: the page says so instead of drawing."""
        return not self.rows


def json_value(value: Any) -> Any:
    """A value as Vega-Lite data: dates as ISO days, timestamps as ISO UTC."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _data(rows: Sequence[Row], fields: Sequence[str]) -> alt.Data:
    """Inline data of a chart: only the fields it draws or shows in tooltips."""
    return alt.Data(values=[{n: json_value(r[n]) for n in fields} for r in rows])


def _finish(chart: alt.Chart | alt.LayerChart, title: str) -> dict[str, Any]:
    """The chart as a Vega-Lite spec (validated); the page's heading is its visible title."""
    spec = (
        chart.properties(width=WIDTH, height=HEIGHT, description=title)
        .configure_view(stroke=None)
        .configure_legend(labelLimit=0)  # whole series names ("Monthly active (28 days)")
        .to_dict(validate=True)
    )
    spec.pop("$schema", None)  # a URL; nothing fetches it, but keep the page free of them
    return spec


def _day_x(name: str = "day", title: str = DAY_TITLE) -> alt.X:
    return alt.X(
        f"{name}:T", timeUnit="utcyearmonthdate", title=title, axis=alt.Axis(format="%b %d")
    )


def _label_expr(labels: dict[str, str], variable: str = "datum.measure") -> str:
    """A Vega expression naming each folded column (`a === 'x' ? 'X' : ...`)."""
    expr = variable
    for key, label in reversed(labels.items()):
        expr = f"{variable} === {json.dumps(key)} ? {json.dumps(label)} : ({expr})"
    return expr


def _folded_lines(
    rows: Sequence[Row],
    columns: Sequence[Column],
    labels: dict[str, str],
    *,
    y_title: str,
    title: str,
    x_field: str = "day",
    x_title: str = DAY_TITLE,
    percent: bool = False,
) -> dict[str, Any]:
    """One line per column of `labels` (wide rows folded to long in the browser)."""
    axis = alt.Axis(format=".0%") if percent else alt.Axis(format="~s")
    chart = (
        alt.Chart(_data(rows, [x_field, *labels]))
        .transform_fold(list(labels), as_=["measure", "value"])
        .transform_calculate(series=_label_expr(labels))
        .mark_line(point=True)
        .encode(
            x=_day_x(x_field, x_title),
            y=alt.Y("value:Q", title=y_title, axis=axis),
            color=alt.Color("series:N", title=None, sort=list(labels.values())),
            tooltip=[
                alt.Tooltip(f"{x_field}:T", title=x_title),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title=y_title, format=".1%" if percent else ","),
            ],
        )
    )
    return _finish(chart, title)


def top_categories(rows: Sequence[Row], category: str, weight: str, n: int) -> list[str]:
    """The `n` categories with the largest total `weight` (ties by name)."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row[category]] += row[weight] or 0
    return sorted(totals, key=lambda c: (-totals[c], c))[:n]


# --- the charts -------------------------------------------------------------------------------


def active_users(scope: ScopeData) -> ChartView:
    """Daily, weekly and monthly active users and engaged users (kpi_daily)."""
    rows = scope.rows("kpi_daily")
    engaged = "engaged_users" if rows and "engaged_users" in rows[0] else "users_with_activity"
    engaged_label = "Engaged" if engaged == "engaged_users" else "With activity"
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("daily_active_users", "Daily active (users)"),
        Column("weekly_active_users", "Weekly active (users)"),
        Column("monthly_active_users", "Monthly active (users)"),
        Column(engaged, f"{engaged_label} (users)"),
    ]
    labels = {
        "daily_active_users": "Daily active",
        "weekly_active_users": "Weekly active (7 days)",
        "monthly_active_users": "Monthly active (28 days)",
        engaged: engaged_label,
    }
    engaged_text = (
        "engaged = accepted code or sent a prompt that day"
        if engaged == "engaged_users"
        else "with activity = users with a row in the per-user report that day"
    )
    view = ChartView(
        "active-users",
        "Active and engaged users",
        "Distinct users who used Copilot that day, in the 7 and 28 days to it (as GitHub "
        f"reports them), and {engaged_text}.",
        columns,
        rows,
        "kpi_daily",
    )
    if rows:
        view.spec = _folded_lines(rows, columns, labels, y_title="Users (count)", title=view.title)
    return view


def acceptance_by(scope: ScopeData, mart: str, category: str, noun: str) -> ChartView:
    """Code acceptance rate over time, one line per language, editor or model."""
    rows = scope.rows(mart)
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column(category, noun.capitalize(), "text"),
        Column("code_generations", "Code generations (count)"),
        Column("code_acceptances", "Code acceptances (count)"),
        Column("code_acceptance_rate", "Acceptance rate (%)", "rate"),
    ]
    view = ChartView(
        f"acceptance-{category}",
        f"Code acceptance rate by {noun}",
        f"Code acceptances / code generations per {noun} and day (no line where there were no "
        "generations).",
        columns,
        rows,
        mart,
    )
    if rows:
        shown = top_categories(rows, category, "code_generations", TOP_CATEGORIES)
        if len(shown) < len({r[category] for r in rows}):
            view.note = (
                f"The chart draws the {len(shown)} {noun}s with the most code generations; "
                "the table lists all."
            )
        chart = (
            alt.Chart(_data(rows, ["day", category, "code_generations", "code_acceptance_rate"]))
            .transform_filter(alt.FieldOneOfPredicate(field=category, oneOf=shown))
            .mark_line(point=True)
            .encode(
                x=_day_x(),
                y=alt.Y(
                    "code_acceptance_rate:Q",
                    title="Acceptance rate (%)",
                    axis=alt.Axis(format=".0%"),
                ),
                color=alt.Color(f"{category}:N", title=noun.capitalize(), sort=shown),
                tooltip=[
                    alt.Tooltip("day:T", title=DAY_TITLE),
                    alt.Tooltip(f"{category}:N", title=noun.capitalize()),
                    alt.Tooltip("code_acceptance_rate:Q", title="Acceptance rate", format=".1%"),
                    alt.Tooltip("code_generations:Q", title="Code generations"),
                ],
            )
        )
        view.spec = _finish(chart, view.title)
    return view


def _heatmap(
    rows: Sequence[Row],
    columns: Sequence[Column],
    *,
    category: str,
    category_title: str,
    value: str,
    value_title: str,
    title: str,
    percent: bool,
    height: int = HEIGHT,
) -> dict[str, Any]:
    chart = (
        alt.Chart(_data(rows, ["day", category, value]))
        .mark_rect()
        .encode(
            x=_day_x(),
            y=alt.Y(f"{category}:N", title=category_title),
            color=alt.Color(
                f"{value}:Q",
                title=value_title,
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=".0%" if percent else "~s"),
            ),
            tooltip=[
                alt.Tooltip("day:T", title=DAY_TITLE),
                alt.Tooltip(f"{category}:N", title=category_title),
                alt.Tooltip(f"{value}:Q", title=value_title, format=".1%" if percent else ","),
            ],
        )
        .properties(height=height)
    )
    spec = _finish(chart, title)
    spec["height"] = height
    return spec


def feature_adoption(scope: ScopeData) -> ChartView:
    """Share of active users using each feature and agent, per day."""
    rows = scope.rows("kpi_feature_adoption_daily")
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("feature", "Feature", "text"),
        Column("users", "Users of the feature (count)"),
        Column("active_users", "Active users (count)"),
        Column("adoption_rate", "Adoption (%)", "rate"),
    ]
    view = ChartView(
        "feature-adoption",
        "Feature and agent adoption",
        "Users who used the feature (chat, agent mode, CLI, coding agent, code review, ...) that "
        "day / users active that day.",
        columns,
        rows,
        "kpi_feature_adoption_daily",
    )
    if rows:
        features = len({r["feature"] for r in rows})
        view.spec = _heatmap(
            rows,
            columns,
            category="feature",
            category_title="Feature",
            value="adoption_rate",
            value_title="Adoption (%)",
            title=view.title,
            percent=True,
            height=max(HEIGHT, 16 * features),
        )
    return view


def adoption_phases(scope: ScopeData) -> ChartView:
    """Users per AI adoption phase (GitHub's 28-day classification), per day."""
    rows = scope.rows("kpi_adoption_phase_daily")
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("phase_number", "Phase (number)"),
        Column("phase", "Phase", "text"),
        Column("users_in_phase_28d", "Users in phase, 28 days (count)"),
        Column("engaged_users", "Engaged users (count)"),
    ]
    view = ChartView(
        "adoption-phases",
        "Adoption phases",
        "Users GitHub places in each AI adoption phase over the 28 days to the day, as reported "
        "(never summed across days).",
        columns,
        rows,
        "kpi_adoption_phase_daily",
    )
    if rows:
        order = [r["phase"] for r in sorted(rows, key=lambda r: r["phase_number"])]
        phases = list(dict.fromkeys(order))
        chart = (
            alt.Chart(_data(rows, ["day", "phase", "users_in_phase_28d", "engaged_users"]))
            .mark_line(point=True)
            .encode(
                x=_day_x(),
                y=alt.Y("users_in_phase_28d:Q", title="Users in phase (count)"),
                color=alt.Color("phase:N", title="Phase", sort=phases),
                tooltip=[
                    alt.Tooltip("day:T", title=DAY_TITLE),
                    alt.Tooltip("phase:N", title="Phase"),
                    alt.Tooltip("users_in_phase_28d:Q", title="Users in phase"),
                    alt.Tooltip("engaged_users:Q", title="Engaged users"),
                ],
            )
        )
        view.spec = _finish(chart, view.title)
    return view


def seat_utilization(scope: ScopeData) -> ChartView:
    """Seats, active and inactive seats per snapshot day."""
    rows = scope.rows("kpi_seat_utilization_daily")
    columns = [
        Column("snapshot_day", "Snapshot day (UTC)", "day"),
        Column("seats", "Seats (count)"),
        Column("active_7d", "Active in 7 days (seats)"),
        Column("active_28d", "Active in 28 days (seats)"),
        Column("inactive_28d", "Inactive 28 days (seats)"),
        Column("never_active", "Never active (seats)"),
        Column("utilization_28d", "Utilization, 28 days (%)", "rate"),
    ]
    labels = {
        "seats": "Seats",
        "active_28d": "Active in 28 days",
        "active_7d": "Active in 7 days",
        "inactive_28d": "Inactive 28 days",
        "never_active": "Never active",
    }
    view = ChartView(
        "seat-utilization",
        "Seat utilization",
        "Assigned seats per daily snapshot; active = last Copilot activity within 7 or 28 days of "
        "the snapshot; utilization = active in 28 days / seats.",
        columns,
        rows,
        "kpi_seat_utilization_daily",
    )
    if rows:
        view.spec = _folded_lines(
            rows,
            columns,
            labels,
            x_field="snapshot_day",
            x_title="Snapshot day (UTC)",
            y_title="Seats (count)",
            title=view.title,
        )
    return view


#: Buckets of the inactive seats chart, in order, and the Vega expression that picks one.
INACTIVE_BUCKETS = ("28-59 days", "60-89 days", "90 days or more", "Never active")
_BUCKET_EXPR = (
    "datum.last_activity_at == null ? 'Never active' : datum.days_inactive >= 90 ? "
    "'90 days or more' : datum.days_inactive >= 60 ? '60-89 days' : '28-59 days'"
)


def inactive_bucket(row: Row) -> str:
    """The chart's bucket of one inactive seat (the same rule as the chart's expression)."""
    if row["last_activity_at"] is None:
        return "Never active"
    days = row["days_inactive"]
    if days >= 90:
        return "90 days or more"
    return "60-89 days" if days >= 60 else "28-59 days"


def inactive_seats(scope: ScopeData) -> ChartView:
    """Seats with no activity for 28 days or more (latest snapshot), by how long."""
    rows = scope.rows("kpi_inactive_seats")
    columns = [
        Column("assignee_login", "Seat (login)", "text"),
        Column("last_activity_at", "Last activity (UTC)", "time"),
        Column("days_inactive", "Days inactive (days)"),
    ]
    snapshot = rows[0]["snapshot_day"] if rows else None
    view = ChartView(
        "inactive-seats",
        "Inactive seats",
        "Seats of the latest snapshot"
        + (f" ({snapshot.isoformat()})" if snapshot else "")
        + " with no Copilot activity for 28 days or more, or never; candidates to reassign.",
        columns,
        rows,
        "kpi_inactive_seats",
    )
    if rows:
        chart = (
            alt.Chart(_data(rows, ["last_activity_at", "days_inactive"]))
            .transform_calculate(bucket=_BUCKET_EXPR)
            .mark_bar()
            .encode(
                x=alt.X("bucket:N", title="Time since last activity", sort=list(INACTIVE_BUCKETS)),
                y=alt.Y("count():Q", title="Seats (count)"),
                tooltip=[
                    alt.Tooltip("bucket:N", title="Inactive for"),
                    alt.Tooltip("count():Q", title="Seats"),
                ],
            )
        )
        view.spec = _finish(chart, view.title)
    return view


def team_adoption(scope: ScopeData) -> ChartView:
    """Active members per team and day."""
    rows = scope.rows("kpi_team_daily")
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("team_slug", "Team", "text"),
        Column("members_active", "Active members (users)"),
    ]
    view = ChartView(
        "team-adoption",
        "Adoption per team",
        "Team members with Copilot activity that day (a user counts in each of their teams).",
        columns,
        rows,
        "kpi_team_daily",
    )
    if rows:
        teams = len({r["team_slug"] for r in rows})
        view.spec = _heatmap(
            rows,
            columns,
            category="team_slug",
            category_title="Team",
            value="members_active",
            value_title="Active members (users)",
            title=view.title,
            percent=False,
            height=max(120, min(16 * teams, 1200)),
        )
    return view


def pull_request_counts(scope: ScopeData) -> ChartView:
    """Pull requests created, merged and reviewed by Copilot, per day."""
    rows = scope.rows("kpi_pull_requests_daily")
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("prs_created_by_copilot", "Created by Copilot (PRs)"),
        Column("prs_merged_created_by_copilot", "Of those merged (PRs)"),
        Column("prs_reviewed_by_copilot", "Reviewed by Copilot (PRs)"),
    ]
    labels = {
        "prs_created_by_copilot": "Created by Copilot",
        "prs_merged_created_by_copilot": "Created by Copilot, merged",
        "prs_reviewed_by_copilot": "Reviewed by Copilot",
    }
    view = ChartView(
        "pull-requests",
        "Pull requests with Copilot",
        "Pull requests the Copilot coding agent created, how many of them were merged, and pull "
        "requests Copilot code review reviewed, per day.",
        columns,
        rows,
        "kpi_pull_requests_daily",
    )
    if rows:
        view.spec = _folded_lines(
            rows, columns, labels, y_title="Pull requests (count)", title=view.title
        )
    return view


def pull_request_outcomes(scope: ScopeData) -> ChartView:
    """Merge rate of Copilot's pull requests and the share of review suggestions applied."""
    rows = scope.rows("kpi_pull_requests_daily")
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("copilot_pr_merge_rate", "Merge rate (%)", "rate"),
        Column("suggestions", "Review suggestions (count)"),
        Column("applied_suggestions", "Applied (count)"),
        Column("applied_suggestion_rate", "Applied (%)", "rate"),
        Column(
            "median_minutes_to_merge_copilot_authored", "Median time to merge (minutes)", "number"
        ),
    ]
    labels = {
        "copilot_pr_merge_rate": "Copilot's PRs merged",
        "applied_suggestion_rate": "Review suggestions applied",
    }
    view = ChartView(
        "pull-request-outcomes",
        "Code review and pull-request outcomes",
        "Merged / created for Copilot-authored pull requests, and applied / made for Copilot code "
        "review suggestions, per day.",
        columns,
        rows,
        "kpi_pull_requests_daily",
    )
    if rows:
        view.spec = _folded_lines(
            rows, columns, labels, y_title="Rate (%)", title=view.title, percent=True
        )
    return view


def cost_by_model(scope: ScopeData, usage_kind: str) -> ChartView:
    """Net cost per day, stacked by model, for AI credits or premium requests."""
    rows = [r for r in scope.rows("kpi_cost_daily") if r["usage_kind"] == usage_kind]
    noun = "AI-credit" if usage_kind == "ai_credits" else "Premium-request"
    columns = [
        Column("day", DAY_TITLE, "day"),
        Column("model", "Model", "text"),
        Column("sku", "SKU", "text"),
        Column("net_quantity", "Net quantity (units)", "number"),
        Column("net_amount", "Net amount (USD)", "usd"),
    ]
    view = ChartView(
        f"cost-{usage_kind.replace('_', '-')}",
        f"{noun} cost by model",
        f"Billed {noun.lower()} usage after discounts (net amount, USD) per day, stacked by model.",
        columns,
        rows,
        "kpi_cost_daily",
        where={"usage_kind": usage_kind},
    )
    if rows:
        chart = (
            alt.Chart(_data(rows, ["day", "model", "net_amount"]))
            .transform_calculate(model_name="datum.model == null ? '(no model)' : datum.model")
            .mark_bar()
            .encode(
                x=_day_x(),
                y=alt.Y(
                    "sum(net_amount):Q", title="Net amount (USD)", axis=alt.Axis(format="$,.2~f")
                ),
                color=alt.Color("model_name:N", title="Model"),
                tooltip=[
                    alt.Tooltip("day:T", title=DAY_TITLE),
                    alt.Tooltip("model_name:N", title="Model"),
                    alt.Tooltip("sum(net_amount):Q", title="Net amount (USD)", format="$,.2f"),
                ],
            )
        )
        view.spec = _finish(chart, view.title)
    return view


def cost_per_active_user(scope: ScopeData) -> ChartView:
    """Monthly total cost (usage and seats) per active user."""
    rows = scope.rows("kpi_cost_per_active_user_monthly")
    columns = [
        Column("month", "Month", "month"),
        Column("usage_net_amount", "Usage, net (USD)", "usd"),
        Column("seats", "Seats (count)"),
        Column("seat_cost", "Seat cost (USD)", "usd"),
        Column("total_cost", "Total cost (USD)", "usd"),
        Column("active_users", "Active users (count)"),
        Column("cost_per_active_user", "Cost per active user (USD)", "usd"),
    ]
    view = ChartView(
        "cost-per-active-user",
        "Cost per active user",
        "(AI-credit and premium-request net usage + seats x seat price) / users active in the "
        "month.",
        columns,
        rows,
        "kpi_cost_per_active_user_monthly",
    )
    if rows:
        chart = (
            alt.Chart(_data(rows, ["month", "cost_per_active_user", "total_cost", "active_users"]))
            .mark_bar()
            .encode(
                x=alt.X("month:O", timeUnit="utcyearmonth", title="Month (UTC)"),
                y=alt.Y(
                    "cost_per_active_user:Q",
                    title="Cost per active user (USD)",
                    axis=alt.Axis(format="$,.2~f"),
                ),
                tooltip=[
                    alt.Tooltip("month:O", timeUnit="utcyearmonth", title="Month"),
                    alt.Tooltip(
                        "cost_per_active_user:Q", title="USD per active user", format="$,.2f"
                    ),
                    alt.Tooltip("total_cost:Q", title="Total cost (USD)", format="$,.2f"),
                    alt.Tooltip("active_users:Q", title="Active users"),
                ],
            )
        )
        view.spec = _finish(chart, view.title)
    return view


#: Every chart, in page order.
CHARTS: tuple[Callable[[ScopeData], ChartView], ...] = (
    active_users,
    lambda s: acceptance_by(s, "kpi_language_daily", "language", "language"),
    lambda s: acceptance_by(s, "kpi_ide_daily", "ide", "editor"),
    lambda s: acceptance_by(s, "kpi_model_daily", "model", "model"),
    feature_adoption,
    adoption_phases,
    seat_utilization,
    inactive_seats,
    team_adoption,
    pull_request_counts,
    pull_request_outcomes,
    lambda s: cost_by_model(s, "ai_credits"),
    lambda s: cost_by_model(s, "premium_requests"),
    cost_per_active_user,
)


def scope_charts(scope: ScopeData) -> list[ChartView]:
    """Every chart of one scope, in page order."""
    return [make(scope) for make in CHARTS]
