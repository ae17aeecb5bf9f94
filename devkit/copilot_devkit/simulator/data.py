"""The simulated GitHub's data: the single source of truth for the server and the truth API.

Everything is a pure function of the settings (seed, names, day), computed lazily and cached,
so tests can ask for what the server serves without touching HTTP.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from copilot_devkit.simulator import aggregate, legacy, records, userlines
from copilot_devkit.simulator.cache import ByteLRU
from copilot_devkit.simulator.entities import Entity, Persona, Team, World, stable_int, unit
from copilot_devkit.simulator.settings import SimulatorSettings

T = TypeVar("T")

ONE_DAY_REPORTS = {
    "organization": ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
    "enterprise": ("enterprise-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
}
LATEST_REPORTS = {
    "organization": ("organization-28-day", "users-28-day"),
    "enterprise": ("enterprise-28-day", "users-28-day"),
}
# Reports whose lines are spread over `files_per_report` files.
SPLIT_REPORTS = ("users", "user-teams", "repos")


def dumps(obj: Any) -> bytes:
    """Compact JSON, as report files carry it."""
    return json.dumps(obj, separators=(",", ":")).encode()


def restate(obj: Any, revision: int) -> Any:
    """`obj` (a report line, changed in place) with `revision` added to every positive count.

    Counts are integers named `*_count` or `total_*`; ids, days, names and nulls stay, so the
    line's rows keep their keys and only their numbers change.
    """
    if isinstance(obj, dict):
        for key, value in obj.items():
            if (
                type(value) is int
                and value > 0
                and (key.endswith("_count") or key.startswith("total_"))
            ):
                obj[key] = value + revision
            else:
                restate(value, revision)
    elif isinstance(obj, list):
        for element in obj:
            restate(element, revision)
    return obj


def _lines_size(lines: tuple[bytes, ...]) -> int:
    return sum(len(line) for line in lines) + 40 * len(lines)


#: GitHub's example bodies, the repository's one copy of them (tests read them here too);
#: provenance in `examples/README.md` and `examples/reports/README.md`.
EXAMPLES_DIR = Path(__file__).parent / "examples"


@cache
def example(name: str) -> Any:
    """An official example file from `EXAMPLES_DIR` (parsed JSON), e.g. `reports/...ndjson`."""
    text = (EXAMPLES_DIR / name).read_text(encoding="utf-8")
    if name.endswith(".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def report_kind(report: str) -> str:
    """'users-1-day' -> 'users'; 'organization-28-day' -> 'aggregate'."""
    base = report.removesuffix("-1-day").removesuffix("-28-day")
    return "aggregate" if base in ("organization", "enterprise") else base


def scope_kind(scope: Any) -> str:
    """Accept 'organization' | 'team' | 'enterprise' as str or as a str-valued enum."""
    value = str(getattr(scope, "value", scope))
    return {"org": "organization", "orgs": "organization", "enterprises": "enterprise"}.get(
        value, value
    )


def simple_user(p: Persona, template: dict[str, Any]) -> dict[str, Any]:
    """A persona as GitHub's `simple-user` (seat assignees, enterprise team members), shaped
    like `template`, one of GitHub's examples."""
    login, uid = p.login, p.user_id
    api = f"https://api.github.com/users/{login}"
    return {
        **template,
        "login": login,
        "id": uid,
        "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "user_view_type": "public",
    }


class _Memo:
    """A small thread-safe LRU for day-level intermediate results (never mutated by callers)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]  # type: ignore[no-any-return,unused-ignore]
        value = build()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


class Dataset:
    """Deterministic data for every scope and day."""

    def __init__(self, settings: SimulatorSettings, cache: ByteLRU | None = None) -> None:
        self.settings = settings
        self.world = World(settings)
        self.cache = cache or ByteLRU(settings.cache_max_bytes)
        extra = settings.extra_user_fields
        # Extra fields are appended to the rendered line; ones that replace a documented
        # field go through a parse/update/dump round trip instead (slower, still correct).
        self._extra_replaces = bool(set(extra) & userlines.USER_KEYS)
        self._extra = "" if self._extra_replaces else userlines.render_extra(extra)
        self._active = _Memo(256)
        self._aggregates = _Memo(256)
        self._repos = _Memo(64)
        self._legacy = _Memo(8192)

    # -- scopes ---------------------------------------------------------------------------

    def entity(self, kind: str, name: str) -> Entity | None:
        return self.world.entity(scope_kind(kind), name)

    def require(self, kind: str, name: str) -> Entity:
        entity = self.entity(kind, name)
        if entity is None:
            msg = f"no {scope_kind(kind)} named {name!r} in this simulator"
            raise KeyError(msg)
        return entity

    # -- legacy metrics API ---------------------------------------------------------------

    def legacy_scope(self, kind: str, name: str) -> tuple[str, Sequence[int], list[str]] | None:
        """(scope key, members, repository names) of a legacy scope, None if unknown.

        kind is organization | enterprise | team; a team name is "owner/slug" where the owner
        is an organization or, failing that, an enterprise.
        """
        kind = scope_kind(kind)
        if kind == "team":
            owner, _, slug = name.partition("/")
            entity = self.entity("organization", owner) or self.entity("enterprise", owner)
            team = self.world.team(entity, slug) if entity else None
            if entity is None or team is None:
                return None
            return (
                f"team:{entity.kind}:{entity.name}/{team.slug}",
                team.members,
                self._repo_names(entity),
            )
        entity = self.entity(kind, name)
        if entity is None:
            return None
        return f"{entity.kind}:{entity.name}", entity.users, self._repo_names(entity)

    def _repo_names(self, entity: Entity) -> list[str]:
        return [f"{r.owner}/{r.name}" for r in self.world.repos(entity)[:8]]

    def _legacy_day(
        self, key: str, day: dt.date, members: Sequence[int], repos: list[str]
    ) -> dict[str, Any] | None:
        def build() -> dict[str, Any] | None:
            ordinal = day.toordinal()
            active = sum(1 for gi in members if self.world.is_active(gi, ordinal))
            return legacy.legacy_day(self.settings.seed, key, day, active, repos)

        return self._legacy.get((key, day), build)

    def legacy_days(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Every published day object (ascending) of the legacy API's 100-day window."""
        scope = self.legacy_scope(kind, name)
        if scope is None:
            msg = f"unknown legacy scope {kind}/{name}"
            raise KeyError(msg)
        key, members, repos = scope
        days = []
        day = self.settings.legacy_first_day
        while day <= self.settings.legacy_last_day:
            obj = self._legacy_day(key, day, members, repos)
            if obj is not None:
                days.append(obj)
            day += dt.timedelta(days=1)
        return days

    # -- usage reports ----------------------------------------------------------------------

    def has_report(self, entity: Entity, day: dt.date) -> bool:
        """Whether a 1-day report exists for that day (else the API says "no report")."""
        s = self.settings
        return (
            s.oldest_report_day(entity.kind) <= day <= s.ready_through
            and day not in s.missing_report_days
        )

    def window_28_day(self, entity: Entity) -> tuple[dt.date, dt.date, list[dt.date]] | None:
        """(start, end, days with data) of the latest 28-day report, None if it has no day."""
        end = self.settings.ready_through
        start = end - dt.timedelta(days=27)
        days = [start + dt.timedelta(days=i) for i in range(28)]
        days = [d for d in days if self.has_report(entity, d)]
        return (start, end, days) if days else None

    def active_users(self, entity: Entity, day: dt.date) -> frozenset[int]:
        ordinal = day.toordinal()
        return self._active.get(
            (entity.key, ordinal),
            lambda: frozenset(gi for gi in entity.users if self.world.is_active(gi, ordinal)),
        )

    def _active_since(self, entity: Entity, day: dt.date, days: int) -> set[int]:
        out: set[int] = set()
        for i in range(days):
            out |= self.active_users(entity, day - dt.timedelta(days=i))
        return out

    def user_lines(self, entity: Entity, day: dt.date) -> tuple[bytes, ...]:
        """users-1-day lines (JSON bytes, one per active user), cached."""

        revision = self.settings.revision(day)

        def build() -> tuple[bytes, ...]:
            out = []
            extra = self.settings.extra_user_fields
            for gi in sorted(self.active_users(entity, day)):
                text = userlines.user_line(self.world, entity, gi, day, self._extra)
                if self._extra_replaces or revision:
                    obj = json.loads(text)
                    if self._extra_replaces:
                        obj.update(extra)
                    out.append(dumps(restate(obj, revision) if revision else obj))
                else:
                    out.append(text.encode())
            return tuple(out)

        return self.cache.get(("user-lines", entity.key, day, revision), build, _lines_size)

    def user_records(self, entity: Entity, day: dt.date) -> list[dict[str, Any]]:
        """users-1-day lines as fresh dicts (parsed from the served bytes)."""
        return [json.loads(line) for line in self.user_lines(entity, day)]

    def repo_records(self, entity: Entity, day: dt.date) -> list[dict[str, Any]]:
        revision = self.settings.revision(day)
        return self._repos.get(
            (entity.key, day, revision),
            lambda: restate(
                records.repo_records(self.world, entity, self.world.repos(entity), day), revision
            ),
        )

    def aggregate_record(self, entity: Entity, day: dt.date) -> dict[str, Any]:
        """organization-1-day / enterprise-1-day line (= a `day_totals[]` element)."""
        return self._aggregates.get(
            ("aggregate", entity.key, day, self.settings.revision(day)),
            lambda: aggregate.aggregate_record(
                self.world,
                entity,
                day,
                self.user_records(entity, day),
                self.repo_records(entity, day),
                self._active_since(entity, day, 7),
                self._active_since(entity, day, 28),
            ),
        )

    def one_day_lines(self, report: str, entity: Entity, day: dt.date) -> tuple[bytes, ...]:
        """The lines of a 1-day report (JSON bytes, before file encoding)."""
        kind = report_kind(report)
        if kind == "users":
            return self.user_lines(entity, day)
        if kind == "aggregate":
            return (dumps(self.aggregate_record(entity, day)),)
        if kind == "user-teams":
            return tuple(dumps(x) for x in records.user_team_records(self.world, entity, day))
        if kind == "repos":
            return tuple(dumps(x) for x in self.repo_records(entity, day))
        msg = f"unknown report {report!r}"
        raise KeyError(msg)

    def wrapper_28_day(self, entity: Entity) -> dict[str, Any] | None:
        window = self.window_28_day(entity)
        if window is None:
            return None
        start, end, days = window
        return aggregate.wrapper_28_day(
            self.world,
            entity,
            start,
            end,
            [self.aggregate_record(entity, d) for d in days],
            self._active_since(entity, end, 28),
        )

    # -- seats, billing, teams ------------------------------------------------------------

    def team_object(self, entity: Entity, team: Team) -> dict[str, Any]:
        """A team shaped like the official `GET /orgs/{org}/teams` example."""
        obj = copy.deepcopy(example("legacy-team-items.json")[0])
        node = base64.b64encode(f"04:Team{team.id}".encode()).decode()
        obj.update(
            {
                "id": team.id,
                "node_id": node,
                "url": f"https://api.github.com/teams/{team.id}",
                "html_url": f"https://github.com/orgs/{entity.name}/teams/{team.slug}",
                "name": team.name,
                "slug": team.slug,
                "description": f"The {team.name} team.",
                "permission": "pull",
                "members_url": f"https://api.github.com/teams/{team.id}/members{{/member}}",
                "repositories_url": f"https://api.github.com/teams/{team.id}/repos",
            }
        )
        obj["type"] = "organization" if entity.kind == "organization" else "enterprise"
        return obj

    def teams(self, entity: Entity) -> list[dict[str, Any]]:
        return [self.team_object(entity, t) for t in entity.teams]

    def seats(self, entity: Entity) -> list[dict[str, Any]]:
        """Seat assignments shaped like the official seats example.

        Every seat has an assignee (the stable key the tap needs); GitHub's schema allows a
        null assignee, but such a seat would carry no stable identifier, so none is simulated.
        """
        template = example("copilot-seats-list.json")["seats"][0]
        today = self.settings.today
        seats = []
        for i in range(self.settings.seats_per_org):
            gi = entity.user_index(i)
            p = self.world.persona(gi)
            r = [unit(self.settings.seed, gi, 7_000 + k) for k in range(6)]
            created = today - dt.timedelta(days=20 + int(r[0] * 400))
            seat: dict[str, Any] = {
                "created_at": f"{created}T{int(r[1] * 24):02d}:00:00Z",
                "updated_at": f"{created}T{int(r[1] * 24):02d}:00:00Z",
                "pending_cancellation_date": (
                    (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1).isoformat()
                    if r[2] < 0.08
                    else None
                ),
            }
            if p.activity == 0.0:
                seat.update(last_activity_at=None, last_activity_editor=None)
            else:
                last = today - dt.timedelta(days=1 + int(r[3] * 4))
                ide = p.ides[0]
                seat.update(
                    last_activity_at=f"{last}T{int(r[4] * 24):02d}:53:32-06:00",
                    last_activity_editor=f"{ide}/1.104.2/copilot/1.86.82",
                )
            seat["last_authenticated_at"] = (
                f"{today - dt.timedelta(days=int(r[5] * 3) + 1)}T00:53:32-06:00"
            )
            seat["plan_type"] = "business" if entity.kind == "organization" else "enterprise"
            seat["assignee"] = simple_user(p, template["assignee"])
            via = [t for t in entity.teams if gi in t.members]
            if via and i % 3 != 0:
                seat["assigning_team"] = self.team_object(entity, via[0])
            if entity.kind == "enterprise":
                org = self.world.org_of_user(gi)
                seat["organization"] = self._org_simple(org.name if org else entity.name)
            seats.append(seat)
        return seats

    def _org_simple(self, login: str) -> dict[str, Any]:
        org_id = 10_000_000 + stable_int("org", login, modulo=90_000_000)
        api = f"https://api.github.com/orgs/{login}"
        return {
            "login": login,
            "id": org_id,
            "node_id": base64.b64encode(f"04:Organization{org_id}".encode()).decode(),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{org_id}?v=4",
            "description": None,
        }

    def billing(self, entity: Entity) -> dict[str, Any]:
        """`GET /orgs/{org}/copilot/billing`, shaped like the official example."""
        seats = self.seats(entity)
        month = self.settings.today.isoformat()[:7]
        active = sum(1 for s in seats if (s["last_activity_at"] or "").startswith(month))
        obj = copy.deepcopy(example("copilot-organization-details.json"))
        obj["seat_breakdown"] = {
            "total": len(seats),
            "added_this_cycle": sum(1 for s in seats if s["created_at"].startswith(month)),
            "pending_invitation": 0,
            "pending_cancellation": sum(1 for s in seats if s["pending_cancellation_date"]),
            "active_this_cycle": active,
            "inactive_this_cycle": len(seats) - active,
        }
        return obj
