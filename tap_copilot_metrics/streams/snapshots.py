"""Lists GitHub serves only as they are now, kept as one copy per day of the run.

GitHub keeps no history of seats or of enterprise teams: each list is the state at the moment
of the request. These streams key each row by `snapshot_day`, the UTC day of the run (the run's
`today`, see tap_copilot_metrics.clock), so every day the tap runs adds that day's copy, a second
run the same day replaces it (same keys), and utilization can be followed over time. Each is
incremental on `snapshot_day`: the bookmark of a scope is the last day it was read.

* `copilot_seat_snapshots` is a child of `copilot_seats` made from the seats that stream already
  fetched (tap_copilot_metrics.handoff): no request of its own.
* `copilot_enterprise_teams` lists the teams of each enterprise; its child
  `copilot_enterprise_team_members` lists the members of the teams it was handed, by the team's
  id (GitHub accepts it in place of the slug, and an id needs no escaping nor changes on a
  rename).
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import decoded_json
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.handoff import CollectingStream, Row
from tap_copilot_metrics.schemas.snapshots import (
    COPILOT_ENTERPRISE_TEAM_MEMBERS_SCHEMA,
    COPILOT_ENTERPRISE_TEAMS_SCHEMA,
    COPILOT_SEAT_SNAPSHOTS_SCHEMA,
)
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.streams.billing import CopilotSeatsStream
from tap_copilot_metrics.streams.pages import LinkPagedStream

if TYPE_CHECKING:
    from tap_copilot_metrics.tap import TapCopilotMetrics

SNAPSHOT_DAY = "snapshot_day"

_TEAMS_PERMISSIONS = (
    'a GitHub App needs the enterprise permission "Enterprise teams" (read); a classic token '
    "needs `read:enterprise`; fine-grained tokens cannot read enterprise teams. Without it, "
    "deselect copilot_enterprise_teams and copilot_enterprise_team_members"
)


def snapshot_columns(scope: Scope, today: str) -> Row:
    """The first key columns of every snapshot row."""
    return {"scope": scope.kind.value, "scope_name": scope.name, SNAPSHOT_DAY: today}


class CopilotSeatSnapshotsStream(CollectingStream):
    """The seats of `copilot_seats`, keyed by the day of the run as well (seat history)."""

    name = "copilot_seat_snapshots"
    parent_stream_type = CopilotSeatsStream
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", SNAPSHOT_DAY, "seat_key"]
    replication_key = SNAPSHOT_DAY
    # Every row of a run has the run's day: sorted (and the SDK writes no progress markers).
    is_sorted = True
    # The seats are GitHub's decoded JSON, as the parent emits them (see GitHubStream).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapCopilotMetrics, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("schema", copy.deepcopy(COPILOT_SEAT_SNAPSHOTS_SCHEMA))
        super().__init__(tap, *args, **kwargs)
        self.copilot_tap = tap

    def rows_of(self, record: Row) -> Iterable[Row]:
        """The seat, keyed by the run's day too (a copy: the parent's record is emitted too)."""
        scope = Scope(ScopeKind(record["scope"]), str(record["scope_name"]))
        today = self.copilot_tap.settings.today.isoformat()
        yield {**snapshot_columns(scope, today), **copy.deepcopy(record)}


class EnterpriseTeamsListStream(LinkPagedStream):
    """A list about enterprise teams, one copy per run day, incremental on that day."""

    scope_kinds = (ScopeKind.ENTERPRISE,)
    replication_key = SNAPSHOT_DAY
    is_sorted = True  # every row of a run has the run's day
    # Opt-in: these endpoints need a permission the other enterprise streams do not.
    selected_by_default = False
    required_permissions = _TEAMS_PERMISSIONS

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """A JSON array of GitHub objects, one record each."""
        yield from self.objects(decoded_json(response), "a JSON array of objects")

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Snapshot columns and the columns the stream adds first, GitHub's fields unchanged."""
        scope = Scope.from_context(context)
        if row.get("id") in (None, ""):
            msg = f"{self.endpoint_label} for {scope.label} listed an object without `id`"
            raise TapAPIError(msg)
        today = self.settings.today.isoformat()
        return {**snapshot_columns(scope, today), **self.added_columns(row), **row}

    @abc.abstractmethod
    def added_columns(self, row: Row) -> Row:
        """The key columns after the snapshot columns, from GitHub's object."""


class CopilotEnterpriseTeamsStream(EnterpriseTeamsListStream):
    """The teams of each enterprise (`GET /enterprises/{enterprise}/teams`)."""

    name = "copilot_enterprise_teams"
    path = "/teams"  # under each enterprise; see get_url
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", SNAPSHOT_DAY, "team_id"]
    declared_schema = COPILOT_ENTERPRISE_TEAMS_SCHEMA
    endpoint_label = "the enterprise teams API"

    def get_url(self, context: Context | None) -> str:
        """`/enterprises/{enterprise}/teams`."""
        return f"{self.url_base}{Scope.from_context(context).path_prefix}/teams"

    def added_columns(self, row: Row) -> Row:
        """`team_id`: the team's `id`, named as in copilot_user_teams_daily."""
        return {"team_id": row["id"]}


class CopilotEnterpriseTeamMembersStream(EnterpriseTeamsListStream, CollectingStream):
    """The members of each enterprise team (`…/teams/{team id}/memberships`).

    A child of copilot_enterprise_teams that asks for the members of the teams its parent
    listed: the parent hands its records over (tap_copilot_metrics.handoff, one batch per
    enterprise), then syncs this stream once per enterprise, which reads each team's pages.
    """

    name = "copilot_enterprise_team_members"
    path = "/teams/memberships"  # the endpoint tag of METRIC lines; see get_url
    parent_stream_type = CopilotEnterpriseTeamsStream
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", SNAPSHOT_DAY, "team_id", "user_id"]
    declared_schema = COPILOT_ENTERPRISE_TEAM_MEMBERS_SCHEMA
    endpoint_label = "the enterprise team members API"

    def rows_of(self, record: Row) -> Iterable[Row]:
        """Keeps each team the parent listed, until the parent syncs this stream."""
        yield record

    def scope_records(self, scope: Scope, context: Context) -> Iterator[dict[str, Any]]:
        """The members of every team handed over since the last sync, team by team."""
        for team in list(CollectingStream.get_records(self, context)):
            team_context = {**context, "team_id": team["team_id"]}
            for member in super().scope_records(scope, team_context):
                yield {"team_id": team["team_id"], "team_slug": team.get("slug"), **member}

    def get_url(self, context: Context | None) -> str:
        """`/enterprises/{enterprise}/teams/{team id}/memberships`."""
        prefix = Scope.from_context(context).path_prefix
        return f"{self.url_base}{prefix}/teams/{(context or {})['team_id']}/memberships"

    def added_columns(self, row: Row) -> Row:
        """The team listed, and `user_id`: the member's `id`, named as in the usage tables."""
        return {"team_id": row["team_id"], "user_id": row["id"]}

    def not_found_message(self, scope: Scope, detail: str) -> str:
        """404 for a team listed a moment before: it was deleted in between."""
        return (
            f"Not found (404): {self.endpoint_label} for {scope.label}: a team listed a moment "
            "before is gone (deleted while the tap ran?); run again"
        )


SNAPSHOT_STREAMS: tuple[type[CollectingStream | LinkPagedStream], ...] = (
    CopilotSeatSnapshotsStream,
    CopilotEnterpriseTeamsStream,
    CopilotEnterpriseTeamMembersStream,
)
