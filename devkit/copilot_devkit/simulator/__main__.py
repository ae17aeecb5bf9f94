"""`copilot-api-simulator` / `python -m copilot_devkit.simulator`: serve until stopped.

Prints one line, `copilot-api-simulator listening on http://HOST:PORT (token: ...)`, then serves
until SIGINT or SIGTERM. `--write-config PATH` writes a tap config pointing at the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from copilot_devkit.simulator import Simulator, SimulatorSettings
from copilot_devkit.simulator.faults import KINDS
from copilot_devkit.simulator.settings import EMPTY_REPORT_STYLES, REPORT_FORMATS


def _org(spec: str) -> tuple[str, list[str]]:
    name, _, teams = spec.partition(":")
    return name, [t for t in teams.split(",") if t]


def _fault(spec: str) -> tuple[str, str, int]:
    """`PATH_REGEX:KIND[:TIMES]`, e.g. `users-1-day:503:2`."""
    head, _, last = spec.rpartition(":")
    times = 1
    if last.isdigit() and head.rpartition(":")[2] in KINDS:
        head, _, kind = head.rpartition(":")
        times = int(last)
    else:
        kind = last
    if not head or kind not in KINDS:
        msg = f"bad --fault {spec!r}: expected PATH_REGEX:KIND[:TIMES], KIND in {sorted(KINDS)}"
        raise argparse.ArgumentTypeError(msg)
    return head, kind, times


def _ready_through(value: str) -> dt.date | int:
    """A date (YYYY-MM-DD) or a number of days before today."""
    return int(value) if value.isdigit() else dt.date.fromisoformat(value)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="copilot-api-simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--today", type=dt.date.fromisoformat, help="pretend today is this date")
    p.add_argument("--users", type=int, help="users per organization and per enterprise")
    p.add_argument("--enterprise-users", type=int, help="users per enterprise")
    p.add_argument("--seats", type=int, help="Copilot seats per organization/enterprise")
    p.add_argument(
        "--orgs",
        action="append",
        type=_org,
        metavar="ORG[:TEAM,TEAM]",
        help="organization and its teams (repeatable; replaces the defaults)",
    )
    p.add_argument(
        "--enterprises",
        action="append",
        metavar="ENT[,ENT]",
        help="enterprise slugs (repeatable; '' for none)",
    )
    p.add_argument("--days", type=int, help="days of report history kept (default 365)")
    p.add_argument(
        "--days-ready-through",
        type=_ready_through,
        metavar="DATE|N",
        help="last day with reports: a date, or N days before today",
    )
    p.add_argument("--files-per-report", type=int)
    p.add_argument("--format", choices=REPORT_FORMATS, dest="report_format")
    p.add_argument("--empty-report-style", choices=EMPTY_REPORT_STYLES)
    p.add_argument("--link-ttl", type=int, help="download link lifetime in seconds")
    p.add_argument("--latency", type=float, help="seconds added to every request")
    p.add_argument(
        "--legacy-closed",
        action="store_true",
        help="legacy /copilot/metrics answers 404 (github.com since 2026-04-02)",
    )
    p.add_argument(
        "--legacy-max-days-per-page",
        type=int,
        metavar="N",
        help="legacy /copilot/metrics serves at most N days per page, whatever per_page asks",
    )
    p.add_argument("--policy-disabled", action="append", default=[], metavar="NAME")
    p.add_argument("--forbidden", action="append", default=[], metavar="NAME")
    p.add_argument("--token", help="the personal access token to accept")
    p.add_argument("--app-id", type=int)
    p.add_argument("--app-public-key", type=Path, metavar="PEM_FILE")
    p.add_argument("--app-installation-id", type=int)
    p.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="PATH_REGEX:KIND[:TIMES]",
        help="arm a fault (repeatable)",
    )
    p.add_argument(
        "--warm",
        type=int,
        metavar="DAYS",
        help="generate the last DAYS days of reports before serving",
    )
    p.add_argument(
        "--write-config",
        type=Path,
        metavar="PATH",
        help="write a tap config JSON pointing at this simulator",
    )
    return p


def settings_from_args(args: argparse.Namespace) -> SimulatorSettings:
    kwargs: dict[str, Any] = {"host": args.host, "port": args.port, "seed": args.seed}
    if args.today:
        kwargs["today"] = args.today
    if args.users is not None:
        kwargs["users_per_org"] = args.users
        kwargs["users_per_enterprise"] = args.users
    if args.enterprise_users is not None:
        kwargs["users_per_enterprise"] = args.enterprise_users
    if args.seats is not None:
        kwargs["seats_per_org"] = args.seats
    if args.orgs:
        kwargs["organizations"] = dict(args.orgs)
    if args.enterprises is not None:
        kwargs["enterprises"] = [e for spec in args.enterprises for e in spec.split(",") if e]
    if args.days is not None:
        kwargs["history_days"] = args.days
    if args.files_per_report is not None:
        kwargs["files_per_report"] = args.files_per_report
    for name in ("report_format", "empty_report_style", "token", "app_id", "app_installation_id"):
        if getattr(args, name) is not None:
            kwargs[name] = getattr(args, name)
    if args.link_ttl is not None:
        kwargs["link_ttl_seconds"] = args.link_ttl
    if args.latency is not None:
        kwargs["latency_seconds"] = args.latency
    if args.app_public_key:
        kwargs["app_public_key_pem"] = args.app_public_key.read_text()
    kwargs["legacy_closed"] = args.legacy_closed
    if args.legacy_max_days_per_page is not None:
        kwargs["legacy_max_days_per_page"] = args.legacy_max_days_per_page
    kwargs["policy_disabled"] = set(args.policy_disabled)
    kwargs["forbidden"] = set(args.forbidden)
    settings = SimulatorSettings(**kwargs)
    ready = args.days_ready_through
    if isinstance(ready, int):
        settings.reports_ready_through = settings.today - dt.timedelta(days=ready)
    elif ready is not None:
        settings.reports_ready_through = ready
    return settings


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sim = Simulator(settings_from_args(args))
    for path, kind, times in args.fault:
        sim.faults.add(path=path, kind=kind, times=times)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if args.warm:
        sim.warm(days=args.warm)
    sim.start()
    try:
        if args.write_config:
            # Written whole, then renamed: a script waiting for the file never reads half of it.
            partial = args.write_config.with_name(args.write_config.name + ".partial")
            partial.write_text(json.dumps(sim.tap_config(), indent=2) + "\n")
            partial.replace(args.write_config)
        print(
            f"copilot-api-simulator listening on {sim.base_url} (token: {sim.settings.token})",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
