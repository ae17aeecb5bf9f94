"""A GitHub API simulator for the Copilot endpoints, served over real HTTP on 127.0.0.1.

Used by the tap's tests (in-process), the demo (`copilot-api-simulator`) and benchmarks:

    with Simulator(SimulatorSettings(users_per_org=5000)) as sim:
        sim.base_url, sim.settings.token
        sim.faults.add(path=r"/users-1-day$", kind="503", times=2)
        sim.truth.report_lines("users-1-day", "organization", "octo-org", "2026-01-05")
        sim.restate(["2026-01-05"])  # GitHub restates a day: same rows, new numbers
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any

from copilot_devkit.simulator import costs, enterprise_teams
from copilot_devkit.simulator.auth import MintedToken
from copilot_devkit.simulator.data import (
    LATEST_REPORTS,
    ONE_DAY_REPORTS,
    report_kind,
    scope_kind,
)
from copilot_devkit.simulator.faults import Fault, FaultRegistry
from copilot_devkit.simulator.responses import RequestLog
from copilot_devkit.simulator.server import SimulatorServer, State, make_server
from copilot_devkit.simulator.settings import SimulatorSettings

__all__ = [
    "Fault",
    "FaultRegistry",
    "MintedToken",
    "RequestLog",
    "Simulator",
    "SimulatorSettings",
    "Truth",
]


def _report_key(report: str) -> tuple[str, bool]:
    return report_kind(report), report.endswith("-28-day")


def _day(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)


class Truth:
    """What the server serves, as Python objects (deep copies), for comparing with tap output.

    Scope kinds are "organization", "team" ("org/team-slug") or "enterprise"; report names are
    the URL names ("users-1-day", "organization-28-day", ...). The truth ignores access
    switches (forbidden, policy_disabled, legacy_closed) and faults: it is the data itself.
    """

    def __init__(self, state: State) -> None:
        self._state = state

    def _entity(self, scope: Any, scope_name: str) -> Any:
        return self._state.dataset.require(scope_kind(scope), scope_name)

    def legacy_metrics(self, scope: Any, scope_name: str) -> list[dict[str, Any]]:
        """Every day object the legacy API returns for the scope (ascending by date)."""
        return copy.deepcopy(self._state.dataset.legacy_days(scope_kind(scope), scope_name))

    def report_lines(
        self, report: str, scope: Any, scope_name: str, day: dt.date | str
    ) -> list[dict[str, Any]]:
        """The lines of a 1-day report as downloaded (all files, in link order); [] if none."""
        store = self._state.reports
        files = store.one_day(report, self._entity(scope, scope_name), _day(day))
        if files is None:
            return []
        return [line for body in files.files for line in store.decode(body)]

    def report_files(
        self, report: str, scope: Any, scope_name: str, day: dt.date | str | None = None
    ) -> list[bytes]:
        """The raw bytes of each file (1-day with `day`, else the latest 28-day report)."""
        store = self._state.reports
        entity = self._entity(scope, scope_name)
        files = (
            store.latest(report, entity)
            if day is None
            else store.one_day(report, entity, _day(day))
        )
        return list(files.files) if files else []

    def report_28_day(
        self, report: str, scope: Any, scope_name: str
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """(report_start_day, report_end_day, lines) of the latest 28-day report.

        For organization-/enterprise-28-day the single line is the wrapper with day_totals[];
        for users-28-day the lines are user x day records carrying the window.
        """
        store = self._state.reports
        entity = self._entity(scope, scope_name)
        files = store.latest(report, entity)
        end = self._state.settings.ready_through
        start = end - dt.timedelta(days=27)
        if files is None:
            return start.isoformat(), end.isoformat(), []
        lines = [line for body in files.files for line in store.decode(body)]
        return files.envelope["report_start_day"], files.envelope["report_end_day"], lines

    def report_days(self, scope: Any, scope_name: str) -> list[str]:
        """Days (ascending) for which 1-day reports exist."""
        entity = self._entity(scope, scope_name)
        s = self._state.settings
        day, out = s.oldest_report_day(entity.kind), []
        while day <= s.ready_through:
            if self._state.dataset.has_report(entity, day):
                out.append(day.isoformat())
            day += dt.timedelta(days=1)
        return out

    def seats(self, scope: Any, scope_name: str) -> list[dict[str, Any]]:
        return self._state.dataset.seats(self._entity(scope, scope_name))

    def billing(self, org: str) -> dict[str, Any]:
        return self._state.dataset.billing(self._entity("organization", org))

    def billing_usage(
        self, usage: str, scope: Any, scope_name: str, day: dt.date | str
    ) -> list[dict[str, Any]]:
        """`usageItems` of one complete day ("ai_credit" | "premium_request"), as served."""
        entity = self._entity(scope, scope_name)
        return costs.day_items(self._state.dataset, entity, usage, _day(day))

    def teams(self, org: str) -> list[dict[str, Any]]:
        return self._state.dataset.teams(self._entity("organization", org))

    def enterprise_teams(self, enterprise: str) -> list[dict[str, Any]]:
        """`GET /enterprises/{enterprise}/teams`, every page, in order."""
        return enterprise_teams.teams(self._entity("enterprise", enterprise))

    def enterprise_team_members(self, enterprise: str, team: str) -> list[dict[str, Any]]:
        """The memberships list of one team (`team`: its slug or id), every page, in order."""
        entity = self._entity("enterprise", enterprise)
        found = enterprise_teams.find_team(entity, team)
        if found is None:
            msg = f"no team {team!r} in enterprise {enterprise!r}"
            raise KeyError(msg)
        return enterprise_teams.members(self._state.dataset, found)


class Simulator:
    """Start/stop facade over the server, its data, faults and request log."""

    def __init__(self, settings: SimulatorSettings | None = None, **overrides: Any) -> None:
        if settings is None:
            settings = SimulatorSettings(**overrides)
        elif overrides:
            if "today" in overrides and "reports_ready_through" not in overrides:
                overrides["reports_ready_through"] = None
            settings = dataclasses.replace(settings, **overrides)
        self.settings = settings
        self.faults = FaultRegistry()
        self._state = State(settings, self.faults)
        self.truth = Truth(self._state)
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def start(self) -> str:
        """Bind and serve in a background thread; returns the base URL."""
        if self._server is not None:
            return self.base_url
        self._state.stopping.clear()
        self._server = make_server(self._state)
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="copilot-api-simulator",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._state.stopping.set()  # wakes handlers sleeping on latency/slow faults
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (still known after `stop()`)."""
        if self._port is None:
            msg = "simulator was never started"
            raise RuntimeError(msg)
        return self._port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash)."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def requests(self) -> list[RequestLog]:
        """A snapshot of the request log (control endpoints excluded)."""
        with self._state.log_lock:
            return list(self._state.log)

    def clear_requests(self) -> None:
        with self._state.log_lock:
            self._state.log.clear()

    def restate(self, days: Iterable[dt.date | str], revision: int | None = None) -> None:
        """GitHub restates these report days: same rows (keys), new numbers.

        Sets each day's `restated_days` revision (default: one more than now); the server and
        the truth API serve the new numbers from the next request on.
        """
        restated = self.settings.restated_days
        for day in days:
            d = _day(day)
            restated[d] = restated.get(d, 0) + 1 if revision is None else revision
        if any(value < 0 for value in restated.values()):
            msg = "a revision must be 0 or more"
            raise ValueError(msg)

    @property
    def minted_tokens(self) -> list[MintedToken]:
        """Installation tokens handed out so far (GitHub App auth)."""
        return list(self._state.credentials.minted)

    def warm(self, days: int = 28, reports: Iterable[str] | None = None) -> int:
        """Generate and cache report files ahead of time; returns the bytes cached.

        Benchmarks call this first so they time serving, not generation. `reports` filters by
        URL name ("users-1-day", "organization-28-day", ...; organization-* and enterprise-*
        are interchangeable); default all. Covers the last `days` days with reports.
        """
        wanted = None if reports is None else {_report_key(r) for r in reports}
        state, s = self._state, self.settings
        for kind, table in (("organization", s.organizations), ("enterprise", s.enterprises)):
            for name in table:
                entity = state.dataset.require(kind, name)
                for report in ONE_DAY_REPORTS[kind]:
                    if wanted is None or _report_key(report) in wanted:
                        for i in range(days):
                            state.reports.one_day(
                                report, entity, s.ready_through - dt.timedelta(days=i)
                            )
                for report in LATEST_REPORTS[kind]:
                    if wanted is None or _report_key(report) in wanted:
                        state.reports.latest(report, entity)
        return state.dataset.cache.bytes

    def tap_config(self, start_date: str | None = None, **extra: Any) -> dict[str, Any]:
        """A tap config pointing at this simulator with every configured scope."""
        s = self.settings
        start = start_date or (s.ready_through - dt.timedelta(days=27)).isoformat()
        config: dict[str, Any] = {
            "api_url": self.base_url,
            "auth_token": s.token,
            "organizations": list(s.organizations),
            "enterprises": list(s.enterprises),
            "teams": [f"{org}/{team}" for org, teams in s.organizations.items() for team in teams],
            "start_date": start,
        }
        config.update(extra)
        return config
