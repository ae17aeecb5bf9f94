"""Schemas of the lists read as they are on the day of the run: seat history, enterprise teams.

* ``copilot_seat_snapshots``: ``copilot_seats``'s schema (one source) plus ``snapshot_day``.
* ``copilot_enterprise_teams``: GitHub's ``enterprise-team`` plus ``team_id`` (its ``id``, named
  as in ``copilot_user_teams_daily`` for the join).
* ``copilot_enterprise_team_members``: GitHub's ``simple-user`` plus the team it was listed
  for (``team_id``, ``team_slug``) and ``user_id`` (its ``id``, named as in the usage tables).

Both GitHub objects come from the vendored usage-reports OpenAPI, where the seat schema
references them (``assigning_team`` is an ``enterprise-team``; ``nullable-simple-user`` declares
the ``simple-user`` properties).
"""

from __future__ import annotations

from typing import Any

from tap_copilot_metrics.schemas.billing import COPILOT_SEATS_SCHEMA, USAGE_REPORTS_OPENAPI
from tap_copilot_metrics.schemas.common import JSONSchema
from tap_copilot_metrics.schemas.openapi import component_schema

SNAPSHOT_DAY_DESCRIPTION = (
    "The UTC day of the run that read this state (the run's today): GitHub serves these lists "
    "as they are now, so each run's day keeps its own copy."
)


def _keyed(columns: dict[str, Any], github_object: JSONSchema) -> JSONSchema:
    """Scope columns, ``snapshot_day`` and `columns` (all keys but GitHub's), then the object."""
    scope = {name: COPILOT_SEATS_SCHEMA["properties"][name] for name in ("scope", "scope_name")}
    day = {"type": ["string"], "format": "date", "description": SNAPSHOT_DAY_DESCRIPTION}
    head = {**scope, "snapshot_day": day, **columns}
    return {
        "type": "object",
        "properties": {**head, **github_object["properties"]},
        "required": list(head),
        "additionalProperties": True,
    }


def _seat_snapshots_schema() -> JSONSchema:
    seat_key = COPILOT_SEATS_SCHEMA["properties"]["seat_key"]
    return _keyed({"seat_key": seat_key}, COPILOT_SEATS_SCHEMA)


def _enterprise_teams_schema() -> JSONSchema:
    team_id = {"type": ["integer"], "description": "The team's `id`, as in user-teams reports."}
    return _keyed({"team_id": team_id}, component_schema(USAGE_REPORTS_OPENAPI, "enterprise-team"))


def _enterprise_team_members_schema() -> JSONSchema:
    columns = {
        "team_id": {"type": ["integer"], "description": "`id` of the team listed."},
        "user_id": {"type": ["integer"], "description": "The member's `id`, as in usage rows."},
        "team_slug": {"type": ["string", "null"], "description": "`slug` of the team listed."},
    }
    user = component_schema(USAGE_REPORTS_OPENAPI, "nullable-simple-user")
    schema = _keyed(columns, user)
    schema["required"].remove("team_slug")
    return schema


COPILOT_SEAT_SNAPSHOTS_SCHEMA: JSONSchema = _seat_snapshots_schema()
COPILOT_ENTERPRISE_TEAMS_SCHEMA: JSONSchema = _enterprise_teams_schema()
COPILOT_ENTERPRISE_TEAM_MEMBERS_SCHEMA: JSONSchema = _enterprise_team_members_schema()
