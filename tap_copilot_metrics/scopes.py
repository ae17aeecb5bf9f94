"""The organizations, teams and enterprises the tap reads, and where their endpoints live."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from singer_sdk.helpers.types import Context


class ScopeKind(enum.StrEnum):
    """What a record's numbers cover; the value lands in every record's `scope` column."""

    ORGANIZATION = "organization"
    TEAM = "team"
    ENTERPRISE = "enterprise"

    @property
    def setting(self) -> str:
        """The setting that lists scopes of this kind (`organizations`, `teams`, ...)."""
        return {"organization": "organizations", "team": "teams", "enterprise": "enterprises"}[
            self.value
        ]


@dataclass(frozen=True, order=True)
class Scope:
    """One organization, team (`org/team-slug`) or enterprise, as configured.

    `name` is kept exactly as the user wrote it: it becomes the `scope_name` key column, so it
    must stay stable from run to run.
    """

    kind: ScopeKind
    name: str

    @property
    def path_prefix(self) -> str:
        """URL path under which this scope's Copilot endpoints live."""
        if self.kind is ScopeKind.ORGANIZATION:
            return f"/orgs/{self.name}"
        if self.kind is ScopeKind.ENTERPRISE:
            return f"/enterprises/{self.name}"
        org, team_slug = self.name.split("/", 1)
        return f"/orgs/{org}/team/{team_slug}"

    @property
    def label(self) -> str:
        """Human wording for messages, e.g. `organization 'octo-org'`."""
        return f"{self.kind.value} '{self.name}'"

    @property
    def context(self) -> dict[str, str]:
        """The stream partition (and state partition) for this scope."""
        return {"scope": self.kind.value, "scope_name": self.name}

    @classmethod
    def from_context(cls, context: Context | None) -> Scope:
        """Rebuild the scope of a stream partition."""
        if not context:
            msg = "stream partition has no scope"
            raise ValueError(msg)
        return cls(ScopeKind(context["scope"]), str(context["scope_name"]))
