"""What each stream must emit, computed from the simulator's truth API, never from the tap's code.

Each stream has an entry in TABLES saying which report lines, API objects, or which array
elements of them become its rows, keyed as the stream's primary key. `rows(sim, days, scopes)`
gives the expected rows of the configured scopes only, so one table serves every mix of
organizations, enterprises and teams. Adding a stream = one entry here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from copilot_devkit.simulator import Simulator

UNKNOWN = "unknown"  # the tap's documented value for a breakdown element without a name

Key = tuple[str, ...]
#: (scope kind, scope name), e.g. ("team", "octo-org/justice-league").
ScopeRef = tuple[str, str]
Rows = dict[Key, dict[str, Any]]


#: Scope settings of each mix the scope-matrix tests run (test_scope_matrix.py, and through
#: Meltano e2e/test_meltano_scope_matrix.py); teams as `org/slug` and as `org/*` (every team of
#: the org).
MIXES: dict[str, dict[str, list[str]]] = {
    "organizations": {"organizations": ["octo-org"], "enterprises": [], "teams": []},
    "enterprises": {"organizations": [], "enterprises": ["octo-ent"], "teams": []},
    "teams-slug": {"organizations": [], "enterprises": [], "teams": ["octo-org/justice-league"]},
    "teams-all": {"organizations": [], "enterprises": [], "teams": ["octo-org/*"]},
    "all-three": {
        "organizations": ["octo-org"],
        "enterprises": ["octo-ent"],
        "teams": ["octo-org/*"],
    },
}


def report_scopes(sim: Simulator) -> list[ScopeRef]:
    """(kind, name) of every organization and enterprise the simulator serves."""
    return [("organization", org) for org in sim.settings.organizations] + [
        ("enterprise", ent) for ent in sim.settings.enterprises
    ]


def configured_scopes(sim: Simulator, config: Mapping[str, Any]) -> list[ScopeRef]:
    """The scopes a tap config names; a team entry `org/*` stands for each team of `org`."""
    scopes: list[ScopeRef] = [("organization", o) for o in config.get("organizations") or ()]
    scopes += [("enterprise", e) for e in config.get("enterprises") or ()]
    for entry in config.get("teams") or ():
        org, _, slug = entry.partition("/")
        slugs = sim.settings.organizations[org] if slug == "*" else [slug]
        scopes += [("team", f"{org}/{team}") for team in slugs]
    return scopes


def days_with_reports(sim: Simulator, kind: str, name: str, days: list[str]) -> list[str]:
    available = set(sim.truth.report_days(kind, name))
    return [day for day in days if day in available]


def iso_days(first: dt.date, last: dt.date) -> list[str]:
    out, day = [], first
    while day <= last:
        out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def _name(value: Any) -> str:
    return str(value) if value not in (None, "") else UNKNOWN


@dataclass(frozen=True)
class ReportTable:
    """A table fed by 1-day reports: one row per line, or per element of an array of a line."""

    reports: Mapping[str, str]  # scope kind -> report name
    line_keys: tuple[str, ...] = ()  # row keys of a line beside scope, scope_name, day
    # Breakdown tables: the array whose elements are rows, `object.array` for an array inside
    # an object; an object (`totals_by_cli`) is one row.
    array: str | None = None
    dimensions: tuple[str, ...] = ()  # breakdown tables: the element's natural key

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("scope", "scope_name", "day", *self.line_keys, *self.dimensions)

    def rows(
        self, sim: Simulator, days: list[str], scopes: Sequence[ScopeRef] | None = None
    ) -> Rows:
        """Expected rows by key (the line, or the array element)."""
        out: Rows = {}
        for kind, name in report_scopes(sim) if scopes is None else scopes:
            if kind not in self.reports:
                continue
            for day in days_with_reports(sim, kind, name, days):
                for line in sim.truth.report_lines(self.reports[kind], kind, name, day):
                    base = (kind, name, day, *(str(line[k]) for k in self.line_keys))
                    for element in self._elements(line):
                        dims = tuple(_name(element.get(d)) for d in self.dimensions)
                        out[(*base, *dims)] = element
        return out

    def _elements(self, line: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if self.array is None:
            yield line
            return
        node: Any = line
        for name in self.array.split("."):
            node = node.get(name) if isinstance(node, dict) else None
        yield from [node] if isinstance(node, dict) else node or ()


@dataclass(frozen=True)
class WindowTable:
    """A figure of a whole 28-day org/enterprise report (`copilot_feature_engagement`), keyed by
    the window's last day: one row per element of `array` inside the wrapper's `field`.

    The tap reads that report only on a backfill of at least 8 days of its window (README,
    `backfill_from_28_day_reports`), and keeps the figure on its last day's row: a run of other
    days has no rows.
    """

    field: str
    array: str
    dimension: str

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("scope", "scope_name", "day", self.dimension)

    def rows(
        self, sim: Simulator, days: list[str], scopes: Sequence[ScopeRef] | None = None
    ) -> Rows:
        out: Rows = {}
        for kind, name in report_scopes(sim) if scopes is None else scopes:
            if kind not in AGGREGATE:
                continue
            report = AGGREGATE[kind].replace("-1-day", "-28-day")
            start, end, wrappers = sim.truth.report_28_day(report, kind, name)
            if end not in days or len([d for d in days if start <= d <= end]) < 8:
                continue
            for wrapper in wrappers:
                figure = wrapper.get(self.field) or {}
                for element in figure.get(self.array) or ():
                    key = (kind, name, end, _name(element.get(self.dimension)))
                    out[key] = {k: v for k, v in figure.items() if k != self.array} | element
        return out


@dataclass(frozen=True)
class MetricsTable:
    """A table fed by the metrics API: one row per day object, or per element of its arrays.

    `path` walks from the day object: a container object, then arrays whose elements' `name`
    becomes each dimension column (editors[].name -> editor).
    """

    container: str | None = None
    path: tuple[tuple[str, str], ...] = ()  # (array, dimension column)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("scope", "scope_name", "date", *(dimension for _, dimension in self.path))

    def rows(
        self, sim: Simulator, days: list[str], scopes: Sequence[ScopeRef] | None = None
    ) -> Rows:
        out: Rows = {}
        wanted = set(days)
        for kind, name in report_scopes(sim) if scopes is None else scopes:
            for day in sim.truth.legacy_metrics(kind, name):
                if day["date"] not in wanted:
                    continue
                root = day.get(self.container) if self.container else day
                for dims, element in self._walk(root, self.path, ()):
                    out[(kind, name, day["date"], *dims)] = element
        return out

    def _walk(
        self, node: Any, path: tuple[tuple[str, str], ...], dims: Key
    ) -> Iterator[tuple[Key, dict[str, Any]]]:
        if not isinstance(node, dict):
            return
        if not path:
            yield dims, node
            return
        (array, _), deeper = path[0], path[1:]
        for element in node.get(array) or ():
            yield from self._walk(element, deeper, (*dims, _name(element.get("name"))))


@dataclass(frozen=True)
class ScopeTable:
    """A table read once per scope, not per day (seats, billing)."""

    key_columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows_of: Callable[[Simulator, str, str], Rows]

    def rows(
        self, sim: Simulator, days: list[str], scopes: Sequence[ScopeRef] | None = None
    ) -> Rows:
        out: Rows = {}
        for kind, name in report_scopes(sim) if scopes is None else scopes:
            if kind in self.kinds:
                out.update(self.rows_of(sim, kind, name))
        return out


@dataclass(frozen=True)
class CostTable:
    """A billing usage report ("ai_credit" | "premium_request"): one row per usage item and
    day, keyed by product, sku and model (`unknown` for an item without a model)."""

    usage: str
    key_columns: tuple[str, ...] = ("scope", "scope_name", "day", "product", "sku", "model")

    def rows(
        self, sim: Simulator, days: list[str], scopes: Sequence[ScopeRef] | None = None
    ) -> Rows:
        out: Rows = {}
        for kind, name in report_scopes(sim) if scopes is None else scopes:
            if kind not in AGGREGATE:
                continue
            for day in days:
                for item in sim.truth.billing_usage(self.usage, kind, name, day):
                    key = (kind, name, day, item["product"], item["sku"], _name(item.get("model")))
                    out[key] = item
        return out


def expected_seat_key(seat: dict[str, Any]) -> str:
    """The seat key as documented (streams/billing.py `seat_key`), computed independently.

    The assignee's login; for a seat without one, `unassigned:<created_at>:<digest>` where the
    digest is the first 12 hex digits of the SHA-256 of the seat's identity as compact JSON
    with sorted keys (UTF-8, null for what is missing).
    """
    assignee = seat.get("assignee")
    if isinstance(assignee, dict) and assignee.get("login"):
        return str(assignee["login"])

    def id_of(field: str) -> Any:
        value = seat.get(field)
        return value.get("id") if isinstance(value, dict) else None

    identity = {
        "organization_id": id_of("organization"),
        "assigning_team_id": id_of("assigning_team"),
        **{
            field: seat.get(field)
            for field in (
                "created_at",
                "last_activity_at",
                "last_activity_editor",
                "last_authenticated_at",
            )
        },
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"unassigned:{seat.get('created_at') or UNKNOWN}:{digest}"


def _seat_rows(sim: Simulator, kind: str, name: str) -> Rows:
    return {(kind, name, expected_seat_key(seat)): seat for seat in sim.truth.seats(kind, name)}


def _billing_rows(sim: Simulator, kind: str, name: str) -> Rows:
    return {(kind, name): sim.truth.billing(name)}


def _seat_snapshot_rows(sim: Simulator, kind: str, name: str) -> Rows:
    """The seats, keyed by the day of the run too: the simulator's today, which the tap shares
    (COPILOT_METRICS_TODAY)."""
    today = sim.settings.today.isoformat()
    return {
        (kind, name, today, *key[2:]): seat for key, seat in _seat_rows(sim, kind, name).items()
    }


def _enterprise_team_rows(sim: Simulator, kind: str, name: str) -> Rows:
    today = sim.settings.today.isoformat()
    return {(kind, name, today, str(team["id"])): team for team in sim.truth.enterprise_teams(name)}


def _enterprise_team_member_rows(sim: Simulator, kind: str, name: str) -> Rows:
    today, rows = sim.settings.today.isoformat(), {}
    for team in sim.truth.enterprise_teams(name):
        for user in sim.truth.enterprise_team_members(name, str(team["id"])):
            rows[(kind, name, today, str(team["id"]), str(user["id"]))] = user
    return rows


AGGREGATE = {"organization": "organization-1-day", "enterprise": "enterprise-1-day"}


def _same_report(name: str) -> dict[str, str]:
    return {"organization": name, "enterprise": name}


USERS = _same_report("users-1-day")
BREAKDOWNS = {
    "by_ide": ("totals_by_ide", ("ide",)),
    "by_feature": ("totals_by_feature", ("feature",)),
    "by_language_feature": ("totals_by_language_feature", ("language", "feature")),
    "by_language_model": ("totals_by_language_model", ("language", "model")),
    "by_model_feature": ("totals_by_model_feature", ("model", "feature")),
    "by_3rd_party_agent": ("totals_by_3rd_party_agent", ("agent_id",)),
    "by_skill": ("totals_by_skill", ("skill",)),
    "by_custom_agent": ("totals_by_custom_agent", ("custom_agent",)),
    "by_mcp": ("totals_by_mcp", ("mcp",)),
    "by_slash_cmd": ("totals_by_slash_cmd", ("slash_cmd",)),
    "by_plugin": ("totals_by_plugin", ("plugin",)),
    # objects: one row per line that has one, keyed by the line
    "cli": ("totals_by_cli", ()),
    "copilot_app": ("totals_by_copilot_app", ()),
    "vscode_agent": ("totals_by_vscode_agent", ()),
}
PULL_REQUESTS = {
    "pull_requests": ("pull_requests", ()),
    "pull_requests_by_comment_type": (
        "pull_requests.copilot_suggestions_by_comment_type",
        ("comment_type",),
    ),
}
AGGREGATE_ONLY = {
    **PULL_REQUESTS,
    "by_ai_adoption_phase": ("totals_by_ai_adoption_phase", ("phase_number",)),
}
USERS_ONLY = {"ai_adoption_phase": ("ai_adoption_phase", ())}
REPOSITORIES = _same_report("repos-1-day")
REPOSITORIES_ONLY = {
    **PULL_REQUESTS,
    "pull_request_review_times": ("pull_request_review_times", ("authored_by", "reviewed_by")),
}

Table = ReportTable | WindowTable | MetricsTable | ScopeTable | CostTable

TABLES: dict[str, Table] = {
    "copilot_usage_daily": ReportTable(AGGREGATE),
    **{
        f"copilot_usage_daily_{suffix}": ReportTable(AGGREGATE, (), array, dims)
        for suffix, (array, dims) in (BREAKDOWNS | AGGREGATE_ONLY).items()
    },
    "copilot_usage_daily_feature_engagement": WindowTable(
        "copilot_feature_engagement", "totals_by_feature", "feature"
    ),
    "copilot_user_usage_daily": ReportTable(USERS, ("user_id",)),
    **{
        f"copilot_user_usage_daily_{suffix}": ReportTable(USERS, ("user_id",), array, dims)
        for suffix, (array, dims) in (BREAKDOWNS | USERS_ONLY).items()
    },
    "copilot_user_teams_daily": ReportTable(
        _same_report("user-teams-1-day"), ("user_id", "team_id")
    ),
    "copilot_repository_usage_daily": ReportTable(REPOSITORIES, ("repo_id",)),
    **{
        f"copilot_repository_usage_daily_{suffix}": ReportTable(
            REPOSITORIES, ("repo_id",), array, dims
        )
        for suffix, (array, dims) in REPOSITORIES_ONLY.items()
    },
    "copilot_seats": ScopeTable(
        ("scope", "scope_name", "seat_key"), ("organization", "enterprise"), _seat_rows
    ),
    "copilot_billing": ScopeTable(("scope", "scope_name"), ("organization",), _billing_rows),
    "copilot_seat_snapshots": ScopeTable(
        ("scope", "scope_name", "snapshot_day", "seat_key"),
        ("organization", "enterprise"),
        _seat_snapshot_rows,
    ),
    "copilot_enterprise_teams": ScopeTable(
        ("scope", "scope_name", "snapshot_day", "team_id"), ("enterprise",), _enterprise_team_rows
    ),
    "copilot_enterprise_team_members": ScopeTable(
        ("scope", "scope_name", "snapshot_day", "team_id", "user_id"),
        ("enterprise",),
        _enterprise_team_member_rows,
    ),
    "copilot_ai_credit_usage": CostTable("ai_credit"),
    "copilot_premium_request_usage": CostTable("premium_request"),
    "copilot_metrics": MetricsTable(),
    "copilot_metrics_ide_code_completions": MetricsTable(
        "copilot_ide_code_completions",
        (("editors", "editor"), ("models", "model"), ("languages", "language")),
    ),
    "copilot_metrics_ide_chat": MetricsTable(
        "copilot_ide_chat", (("editors", "editor"), ("models", "model"))
    ),
    "copilot_metrics_dotcom_chat": MetricsTable("copilot_dotcom_chat", (("models", "model"),)),
    "copilot_metrics_dotcom_pull_requests": MetricsTable(
        "copilot_dotcom_pull_requests", (("repositories", "repository"), ("models", "model"))
    ),
}


def table_spec(table: str) -> Table:
    """The truth of a table; a selected table without one is a test to write, not to skip."""
    if table not in TABLES:
        msg = f"{table} is selected but tests/truth.py has no truth for it"
        raise AssertionError(msg)
    return TABLES[table]


def expected_keys(
    sim: Simulator, table: str, days: list[str], scopes: Iterable[ScopeRef] | None = None
) -> set[Key]:
    return set(table_spec(table).rows(sim, days, None if scopes is None else list(scopes)))
