"""Enterprise teams and their members: `GET /enterprises/{enterprise}/teams` and
`GET /enterprises/{enterprise}/teams/{enterprise-team}/memberships`, both paged by `Link`.

The teams are the enterprise's simulated teams (settings `enterprise_teams`), the same ids the
enterprise's `user-teams-1-day` report lines carry, so every team of those lines has a name
here. Shapes follow GitHub's examples (`examples/billing/`); slugs carry GitHub's `ent:` prefix
(GitHub docs, "Get an enterprise team"), which report lines do not: join on the id. The
`{enterprise-team}` path segment takes the slug (with or without the prefix) or, as GitHub
documents, the team's id.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from copilot_devkit.simulator.data import Dataset, example, simple_user
from copilot_devkit.simulator.entities import Entity, Team
from copilot_devkit.simulator.responses import Response, error

if TYPE_CHECKING:
    from copilot_devkit.simulator.server import Handler

DOCS_ENTERPRISE_TEAMS = (
    "https://docs.github.com/enterprise-cloud@latest/rest/enterprise-teams/enterprise-teams"
)
#: GitHub's default page size for both lists (at most 100).
DEFAULT_PER_PAGE = 30
SLUG_PREFIX = "ent:"


def team_object(entity: Entity, team: Team) -> dict[str, Any]:
    """One `enterprise-team`, shaped like GitHub's example."""
    slug = f"{SLUG_PREFIX}{team.slug}"
    api = f"https://api.github.com/enterprises/{entity.name}/teams/{slug}"
    # Teams synced from an identity provider carry its group id; about half are.
    synced = team.id % 2 == 0
    return {
        **example("billing/enterprise-teams-list.200.json")[0],
        "id": team.id,
        "name": team.name,
        "description": f"The {team.name} team.",
        "slug": slug,
        "url": api,
        "group_id": str(uuid.UUID(int=team.id * 7919)) if synced else None,
        "html_url": f"https://github.com/enterprises/{entity.name}/teams/{slug}",
        "members_url": f"{api}/members{{/member}}",
    }


def teams(entity: Entity) -> list[dict[str, Any]]:
    """Every team of an enterprise, in the order GitHub lists them."""
    return [team_object(entity, team) for team in entity.teams]


def find_team(entity: Entity, ref: str) -> Team | None:
    """The team a `{enterprise-team}` path segment names: slug (prefixed or not) or id."""
    wanted = unquote(ref).lower().removeprefix(SLUG_PREFIX)
    for team in entity.teams:
        if wanted in (team.slug.lower(), str(team.id)):
            return team
    return None


def members(dataset: Dataset, team: Team) -> list[dict[str, Any]]:
    """The members of a team as `simple-user` objects, ordered by user id."""
    template = example("billing/enterprise-team-members-list.200.json")[0]
    return [simple_user(dataset.world.persona(gi), template) for gi in sorted(team.members)]


def _enterprise(handler: Handler, name: str) -> Entity | Response:
    return handler._scope("enterprise", name, False, DOCS_ENTERPRISE_TEAMS)


def list_teams(handler: Handler, query: dict[str, str], name: str) -> Response:
    """`GET /enterprises/{enterprise}/teams`."""
    entity = _enterprise(handler, name)
    if isinstance(entity, Response):
        return entity
    return handler._paged(query, teams(entity), DEFAULT_PER_PAGE, lambda page: page)


def list_members(handler: Handler, query: dict[str, str], name: str, team: str) -> Response:
    """`GET /enterprises/{enterprise}/teams/{enterprise-team}/memberships`."""
    entity = _enterprise(handler, name)
    if isinstance(entity, Response):
        return entity
    found = find_team(entity, team)
    if found is None:
        return error(404, doc=DOCS_ENTERPRISE_TEAMS)
    users = members(handler.state.dataset, found)
    return handler._paged(query, users, DEFAULT_PER_PAGE, lambda page: page)
