"""Who exists in the simulated GitHub: organizations, enterprises, teams, users and repositories.

Everything is derived from the seed and names with stable hashes (never Python's randomized
`hash()` of strings), so two simulators with equal settings agree byte for byte.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass

from copilot_devkit.simulator.settings import SimulatorSettings

_M64 = (1 << 64) - 1

IDES = ("vscode", "vscode", "vscode", "intellij", "visualstudio", "pycharm", "neovim", "xcode")
IDE_VERSIONS = {
    "vscode": ("1.104.2", "copilot-chat", "0.31.3"),
    "intellij": ("2025.2.1", "copilot-intellij", "1.5.57"),
    "visualstudio": ("17.14.9", "copilot-vs", "17.14.878"),
    "pycharm": ("2025.2.2", "copilot-intellij", "1.5.57"),
    "neovim": ("0.11.4", "copilot.vim", "1.52.0"),
    "xcode": ("26.0.1", "copilot-xcode", "0.44.0"),
}
LANGUAGES = ("python", "typescript", "javascript", "go", "java", "ruby", "csharp", "markdown")
COMPLETION_MODELS = ("gpt-4o-copilot", "gpt-4o-copilot", "unknown")
CHAT_MODELS = ("claude-sonnet-4.5", "gpt-5", "gpt-4.1", "gemini-2.5-pro", "auto")
CLI_VERSIONS = ("1.0.8", "1.0.9", "1.1.0")
THIRD_PARTY_AGENTS = (("2246796", "Claude (Anthropic)"), ("2248422", "Codex (OpenAI)"))
LOGIN_STEMS = ("mona", "hubot", "octocat", "codercat", "jetpack", "stormtrooper", "inflatocat")
REPO_WORDS = ("api", "web", "billing", "search", "mobile", "infra", "docs", "auth", "data", "ml")
REPO_VISIBILITY = ("PRIVATE", "PRIVATE", "INTERNAL", "INTERNAL", "PUBLIC")
ENTERPRISE_USER_BASE = 1_000_000
USER_ID_BASE = 100_000


def stable_int(*parts: object, modulo: int = 1 << 62) -> int:
    """A stable non-negative integer from arbitrary parts (sha256 of their text)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") % modulo


def unit(a: int, b: int, c: int) -> float:
    """A cheap, stable pseudo-random number in [0, 1) from three integers (splitmix64)."""
    x = (a * 0x9E3779B97F4A7C15 + b * 0xBF58476D1CE4E5B9 + c * 0x94D049BB133111EB) & _M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return x / 18446744073709551616.0


@dataclass(frozen=True)
class Persona:
    """A user's stable habits; daily numbers vary around them."""

    index: int
    user_id: int
    login: str
    activity: float  # chance of being active on a weekday; 0 = seated but never active
    ides: tuple[str, ...]
    languages: tuple[str, ...]
    completion_model: str
    chat_model: str
    cli_version: str
    phase: int
    chat: bool
    agent: bool
    cli: bool
    app: bool
    cloud_agent: bool
    reviewer: bool
    vscode_agent: bool
    third_party: bool
    customizer: bool


@dataclass(frozen=True)
class Team:
    """An organization or enterprise team and its members (global user indices)."""

    owner: str
    slug: str
    id: int
    members: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.slug.replace("-", " ").title()


@dataclass(frozen=True)
class Repo:
    """A repository that can show pull-request activity in repos reports."""

    id: int
    owner: str
    owner_id: int
    name: str
    visibility: str


@dataclass(frozen=True)
class Entity:
    """An organization or an enterprise: the scope of reports, seats and legacy metrics."""

    kind: str  # "organization" | "enterprise"
    name: str
    id: int
    user_base: int
    user_count: int
    teams: tuple[Team, ...]
    enterprise_id: int | None  # the parent enterprise of an organization

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def user_index(self, i: int) -> int:
        """Global index of this entity's i-th user (may run past user_count for extra seats)."""
        return self.user_base + i

    @property
    def users(self) -> range:
        return range(self.user_base, self.user_base + self.user_count)


class World:
    """The registry of entities and the cache of personas."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.seed = settings.seed
        self._personas: dict[int, Persona] = {}
        self._repos: dict[tuple[str, str], list[Repo]] = {}
        self._lock = threading.Lock()
        first_enterprise = settings.enterprises[0] if settings.enterprises else None
        self.enterprise_ids = {
            e: 10_000 + stable_int("enterprise", e, modulo=90_000) for e in settings.enterprises
        }
        self.orgs: dict[str, Entity] = {}
        for j, org in enumerate(settings.organizations):
            base = j * settings.users_per_org
            users = range(base, base + settings.users_per_org)
            self.orgs[org.lower()] = Entity(
                kind="organization",
                name=org,
                id=10_000_000 + stable_int("org", org, modulo=90_000_000),
                user_base=base,
                user_count=settings.users_per_org,
                teams=tuple(self._team(org, s, users) for s in settings.organizations[org]),
                enterprise_id=self.enterprise_ids[first_enterprise] if first_enterprise else None,
            )
        self.enterprises: dict[str, Entity] = {}
        for k, ent in enumerate(settings.enterprises):
            base = 0 if k == 0 else ENTERPRISE_USER_BASE * k
            users = range(base, base + settings.users_per_enterprise)
            slugs = settings.enterprise_teams.get(ent, [])
            self.enterprises[ent.lower()] = Entity(
                kind="enterprise",
                name=ent,
                id=self.enterprise_ids[ent],
                user_base=base,
                user_count=settings.users_per_enterprise,
                teams=tuple(self._team(ent, s, users) for s in slugs),
                enterprise_id=self.enterprise_ids[ent],
            )

    def _team(self, owner: str, slug: str, users: range) -> Team:
        rng = random.Random(f"{self.seed}:team:{owner}/{slug}")
        share = 0.35 + 0.3 * rng.random()
        members = tuple(u for u in users if rng.random() < share)
        return Team(
            owner, slug, 1_000_000 + stable_int("team", owner, slug, modulo=9_000_000), members
        )

    def entity(self, kind: str, name: str) -> Entity | None:
        """Look an organization/enterprise up case-insensitively, like GitHub."""
        table = self.orgs if kind == "organization" else self.enterprises
        return table.get(name.lower())

    def team(self, entity: Entity, slug: str) -> Team | None:
        for team in entity.teams:
            if team.slug.lower() == slug.lower():
                return team
        return None

    def org_of_user(self, gi: int) -> Entity | None:
        """The organization a user belongs to (used to place enterprise repos and seats)."""
        for org in self.orgs.values():
            if gi in org.users:
                return org
        return None

    def persona(self, gi: int) -> Persona:
        found = self._personas.get(gi)
        if found is not None:
            return found
        rng = random.Random(f"{self.seed}:persona:{gi}")
        r = rng.random
        n_ides = 2 if r() < 0.15 else 1
        ides = tuple(dict.fromkeys(rng.choice(IDES) for _ in range(n_ides)))
        x = r()
        n_langs = 1 if x < 0.55 else 2 if x < 0.9 else 3
        langs = tuple(dict.fromkeys(rng.choice(LANGUAGES) for _ in range(n_langs)))
        persona = Persona(
            index=gi,
            user_id=USER_ID_BASE + gi,
            login=f"{LOGIN_STEMS[gi % len(LOGIN_STEMS)]}-{gi:05d}",
            activity=0.0 if r() < 0.06 else 0.7 + 0.3 * r(),
            ides=ides,
            languages=langs,
            completion_model=rng.choice(COMPLETION_MODELS),
            chat_model=rng.choice(CHAT_MODELS),
            cli_version=rng.choice(CLI_VERSIONS),
            phase=int(r() * 4),
            chat=r() < 0.75,
            agent=r() < 0.5,
            cli=r() < 0.3,
            app=r() < 0.15,
            cloud_agent=r() < 0.2,
            reviewer=r() < 0.4,
            vscode_agent=r() < 0.1,
            third_party=r() < 0.1,
            customizer=r() < 0.3,
        )
        with self._lock:
            self._personas[gi] = persona
        return persona

    def is_active(self, gi: int, ordinal: int) -> bool:
        """Whether a user did anything on a day (same answer in every scope)."""
        p = self.persona(gi).activity
        if p == 0.0:
            return False
        if (ordinal + 6) % 7 >= 5:  # Saturday or Sunday (date.weekday() from the ordinal)
            p *= self.settings.weekend_activity
        return unit(self.seed, gi, ordinal) < p

    def repos(self, entity: Entity) -> list[Repo]:
        """Repositories of an organization, or of all organizations of an enterprise."""
        found = self._repos.get(entity.key)
        if found is None:
            found = self._repos[entity.key] = self._make_repos(entity)
        return found

    def _make_repos(self, entity: Entity) -> list[Repo]:
        if entity.kind == "organization":
            owners = [(entity.name, entity.id, entity.user_count)]
        else:
            owners = [
                (o.name, o.id, o.user_count)
                for o in self.orgs.values()
                if o.enterprise_id == entity.id
            ]
            if not owners:
                owner = f"{entity.name}-org"
                owners = [
                    (
                        owner,
                        10_000_000 + stable_int("org", owner, modulo=90_000_000),
                        entity.user_count,
                    )
                ]
        repos = []
        for owner, owner_id, users in owners:
            for i in range(max(4, min(users // 2, 2_000))):
                word = REPO_WORDS[i % len(REPO_WORDS)]
                name = f"{word}-service" if i < len(REPO_WORDS) else f"{word}-service-{i}"
                repos.append(
                    Repo(
                        id=900_000_000 + stable_int("repo", owner, name, modulo=90_000_000),
                        owner=owner,
                        owner_id=owner_id,
                        name=name,
                        visibility=REPO_VISIBILITY[stable_int("vis", owner, name, modulo=5)],
                    )
                )
        return repos
