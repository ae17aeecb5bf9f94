"""Benchmark: the tap against a hand-written export, on the simulator, measured in one run.

    python -m copilot_devkit.benchmark            # full workloads (several minutes)
    python -m copilot_devkit.benchmark --smoke    # tiny workloads, for CI

The simulator runs in this process (a thread); the tap and the baseline each run as a child
process with stdout to /dev/null, so wall time, CPU time and peak RSS are theirs alone
(`os.wait4`). The baseline is what a hand-written export costs: `requests` downloads the same
files one after another and does `json.loads` + `json.dumps` per line. Figures, not assertions:
ratios are computed against the baseline measured in the same run, on the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tap_copilot_metrics.clock import utc_today

# --- the baseline: a hand-written export ------------------------------------------------------


def baseline_reports(config: dict[str, Any], report: str) -> int:
    """Fetch each day's report files one after another; json.loads + json.dumps per line."""
    api, headers = config["api_url"], {"Authorization": f"Bearer {config['auth_token']}"}
    api_session, download_session = requests.Session(), requests.Session()
    day = dt.date.fromisoformat(config["start_date"])
    end = dt.date.fromisoformat(config["end_date"])
    lines = 0
    with open(os.devnull, "w") as sink:
        while day <= end:
            for org in config["organizations"]:
                url = f"{api}/orgs/{org}/copilot/metrics/reports/{report}"
                answer = api_session.get(url, params={"day": day.isoformat()}, headers=headers)
                if answer.status_code != 200:
                    continue
                for link in answer.json()["download_links"]:
                    for line in download_session.get(link).content.splitlines():
                        if line.strip():
                            sink.write(json.dumps(json.loads(line)) + "\n")
                            lines += 1
            day += dt.timedelta(days=1)
    return lines


def baseline_metrics(config: dict[str, Any]) -> int:
    """Page through the metrics API for each team; json.dumps per day object."""
    api, headers = config["api_url"], {"Authorization": f"Bearer {config['auth_token']}"}
    session = requests.Session()
    days = 0
    with open(os.devnull, "w") as sink:
        for team in config["teams"]:
            org, slug = team.split("/")
            page = 1
            while True:
                answer = session.get(
                    f"{api}/orgs/{org}/team/{slug}/copilot/metrics",
                    params={  # type: ignore[arg-type]
                        "since": f"{config['start_date']}T00:00:00Z",
                        "until": f"{config['end_date']}T23:59:59Z",
                        "per_page": 100,
                        "page": page,
                    },
                    headers=headers,
                )
                body = json.loads(answer.content)
                for day in body:
                    sink.write(json.dumps(day) + "\n")
                days += len(body)
                if len(body) < 100:
                    break
                page += 1
    return days


# --- measuring a child process -----------------------------------------------------------------


@dataclass
class Measured:
    """What one child process cost."""

    label: str
    wall: float
    cpu: float
    peak_rss_mb: float
    records: int
    requests: int
    downloaded_mb: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.wall if self.wall else 0.0


def run_child(args: list[str], *, stdout: Any = subprocess.DEVNULL) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of a child process."""
    started = time.monotonic()
    child = subprocess.Popen(args, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        msg = f"{' '.join(args[:4])} … exited {child.returncode}"
        raise RuntimeError(msg)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def count_records(path: Path) -> int:
    """RECORD messages in a tap's output file."""
    with path.open("rb") as output:
        return sum(1 for line in output if line.startswith(b'{"type":"RECORD"'))


def selecting(config_path: str, streams: list[str]) -> dict[str, Any]:
    """The tap's catalog (`--discover`, in a child process) with exactly `streams` selected."""
    discovered = subprocess.run(
        [sys.executable, "-m", "tap_copilot_metrics", "--config", config_path, "--discover"],
        capture_output=True,
        check=True,
    )
    catalog: dict[str, Any] = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


class Bench:
    """One simulator, its request log, and the tap and the baselines run against it."""

    def __init__(self, sim: SimulatorProcess, workdir: Path) -> None:
        self.sim = sim
        self.workdir = workdir
        self.last_requests: list[RequestRecord] = []

    def _traffic(self) -> tuple[int, float]:
        self.last_requests = self.sim.requests
        self.sim.clear_requests()
        return len(self.last_requests), sum(r.body_bytes for r in self.last_requests) / 1e6

    def tap(
        self, label: str, config: dict[str, Any], streams: list[str], state: Any = None
    ) -> Measured:
        """Run `tap-copilot-metrics` as a child process, output to a file."""
        config_path = self._write("config.json", config)
        args = [sys.executable, "-m", "tap_copilot_metrics", "--config", config_path]
        args += ["--catalog", self._write("catalog.json", selecting(config_path, streams))]
        if state is not None:
            args += ["--state", self._write("state.json", state)]
        output = self.workdir / "out.jsonl"
        self._traffic()
        with output.open("wb") as sink:
            wall, cpu, rss = run_child(args, stdout=sink)
        requests_made, megabytes = self._traffic()
        return Measured(label, wall, cpu, rss, count_records(output), requests_made, megabytes)

    def baseline(self, label: str, kind: str, config: dict[str, Any], report: str = "") -> Measured:
        """Run the hand-written export as a child process."""
        result = self.workdir / "baseline-count.txt"
        args = [sys.executable, "-m", "copilot_devkit.benchmark", "--baseline", kind]
        args += [self._write("baseline-config.json", config), str(result), report]
        self._traffic()
        wall, cpu, rss = run_child(args)
        requests_made, megabytes = self._traffic()
        return Measured(label, wall, cpu, rss, int(result.read_text()), requests_made, megabytes)

    def report_calls(self) -> Counter[str]:
        """Report API calls (not downloads) of the last run, per report path."""
        return Counter(r.path for r in self.last_requests if "/copilot/metrics/reports/" in r.path)

    def _write(self, name: str, data: Any) -> str:
        path = self.workdir / name
        path.write_text(json.dumps(data))
        return str(path)


# --- the workloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How big each workload is."""

    users: int
    days: int
    files: int
    teams: int
    metrics_days: int
    memory_days: int
    latency_days: int
    latency_users: int


FULL = Sizes(
    users=5000,
    days=30,
    files=4,
    teams=50,
    metrics_days=100,
    memory_days=5,
    latency_days=90,
    latency_users=100,
)
SMOKE = Sizes(
    users=200,
    days=3,
    files=2,
    teams=3,
    metrics_days=10,
    memory_days=2,
    latency_days=6,
    latency_users=20,
)
USERS = "copilot_user_usage_daily"
METRICS_STREAMS = [
    "copilot_metrics",
    "copilot_metrics_ide_code_completions",
    "copilot_metrics_ide_chat",
    "copilot_metrics_dotcom_chat",
    "copilot_metrics_dotcom_pull_requests",
]


@dataclass
class SimulatorProcess:
    """The simulator in a process of its own, reached over HTTP like the tap reaches it.

    Not a thread of this process: a child's peak RSS (`ru_maxrss`) starts from its parent's at
    fork time, so this process must stay small for the children's figures to be theirs.
    """

    process: subprocess.Popen[str]
    base_url: str
    token: str
    today: dt.date

    @property
    def requests(self) -> list[RequestRecord]:
        entries = requests.get(f"{self.base_url}/_simulator/requests", timeout=60).json()
        return [RequestRecord(e["path"], int(e.get("body_bytes", 0))) for e in entries]

    def clear_requests(self) -> None:
        requests.delete(f"{self.base_url}/_simulator/requests", timeout=60)

    def tap_config(self, **settings: Any) -> dict[str, Any]:
        return {"api_url": self.base_url, "auth_token": self.token, **settings}


@dataclass(frozen=True)
class RequestRecord:
    """What the benchmark needs of one request the simulator saw."""

    path: str
    body_bytes: int


@contextmanager
def simulator(*options: str, warm_days: int = 0) -> Iterator[SimulatorProcess]:
    """`copilot-api-simulator` started with `options` on a free port, stopped afterwards."""
    args = [sys.executable, "-m", "copilot_devkit.simulator", "--port", "0"]
    args += ["--enterprises", "", *options]
    if warm_days:
        args += ["--warm", str(warm_days)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (\S+) \(token: ([^)]+)\)", line)
        if not match:
            msg = f"the simulator did not start: {line!r}"
            raise RuntimeError(msg)
        today = utc_today()
        yield SimulatorProcess(process, match[1], match[2], today)
    finally:
        process.terminate()
        process.wait(timeout=30)


def window(sim: SimulatorProcess, days: int) -> tuple[str, str]:
    """The last `days` days before today."""
    end = sim.today - dt.timedelta(days=1)
    return (end - dt.timedelta(days=days - 1)).isoformat(), end.isoformat()


def users_config(sim: SimulatorProcess, days: int) -> dict[str, Any]:
    start, end = window(sim, days)
    return sim.tap_config(organizations=["bench-org"], start_date=start, end_date=end)


def workload_users(sizes: Sizes, workdir: Path) -> list[str]:
    """Workload U: users-1-day, throughput against the baseline, and a nightly run's calls."""
    lines: list[str] = []
    options = ["--orgs", "bench-org", "--files-per-report", str(sizes.files)]
    with simulator(*options, "--users", str(sizes.users), warm_days=sizes.days) as sim:
        bench = Bench(sim, workdir)
        config = users_config(sim, sizes.days)
        base = bench.baseline("U baseline (requests + json)", "reports", config, "users-1-day")
        tap = bench.tap("U tap", config, [USERS])
        lines += [row(base), row(tap), f"U: tap / baseline wall time = {tap.wall / base.wall:.2f}"]
        if tap.records != base.records:
            lines.append(f"U: RECORD COUNT MISMATCH tap {tap.records} != baseline {base.records}")
        # A nightly run: the bookmark is yesterday, lookback_days = 3.
        state = {
            "bookmarks": {
                USERS: {
                    "partitions": [
                        {
                            "context": {"scope": "organization", "scope_name": "bench-org"},
                            "replication_key": "day",
                            "replication_key_value": config["end_date"],
                        }
                    ]
                }
            }
        }
        nightly = bench.tap("U nightly (bookmark = yesterday)", config, [USERS], state)
        calls = bench.report_calls()
        lines += [row(nightly), f"U nightly: report calls per report and scope: {dict(calls)}"]
    return lines


def workload_memory(sizes: Sizes, workdir: Path) -> list[str]:
    """Peak RSS with per-day files of size S and 2S (twice the users)."""
    results = []
    for users in (sizes.users, sizes.users * 2):
        options = ["--orgs", "bench-org", "--files-per-report", str(sizes.files)]
        with simulator(*options, "--users", str(users), warm_days=sizes.memory_days) as sim:
            bench = Bench(sim, workdir)
            label = f"Memory: {users} users x {sizes.memory_days} days"
            results.append(bench.tap(label, users_config(sim, sizes.memory_days), [USERS]))
    small, large = results
    growth = large.peak_rss_mb / small.peak_rss_mb - 1
    return [row(small), row(large), f"Memory: peak RSS change when files double = {growth:+.1%}"]


def workload_latency(sizes: Sizes, workdir: Path) -> list[str]:
    """With 100 ms per request: concurrent prefetch against one file after another."""
    options = ["--orgs", "bench-org", "--files-per-report", str(sizes.files), "--latency", "0.1"]
    with simulator(
        *options, "--users", str(sizes.latency_users), warm_days=sizes.latency_days
    ) as sim:
        bench = Bench(sim, workdir)
        config = users_config(sim, sizes.latency_days)
        sequential = bench.baseline("L one file after another", "reports", config, "users-1-day")
        tap = bench.tap("L tap (download_concurrency=4)", config, [USERS])
    share = tap.wall / sequential.wall
    return [row(sequential), row(tap), f"L: tap / sequential wall time = {share:.0%}"]


def workload_metrics(sizes: Sizes, workdir: Path) -> list[str]:
    """Workload M: copilot_metrics for many teams x 100 days, with its breakdown streams."""
    teams = [f"team-{index:02d}" for index in range(sizes.teams)]
    with simulator("--orgs", f"bench-org:{','.join(teams)}", "--users", "400") as sim:
        bench = Bench(sim, workdir)
        start, end = window(sim, sizes.metrics_days)
        config = sim.tap_config(
            start_date=start,
            end_date=end,
            organizations=["bench-org"],
            teams=[f"bench-org/{team}" for team in teams],
            enterprises=[],
        )
        base = bench.baseline("M baseline (requests + json)", "metrics", config)
        tap = bench.tap("M tap (+ 4 breakdown streams)", config, METRICS_STREAMS)
    return [row(base), row(tap), f"M: tap / baseline wall time = {tap.wall / base.wall:.2f}"]


HEADER = (
    "| run | wall s | records | records/s | CPU s | peak RSS MB | requests | downloaded MB |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def row(m: Measured) -> str:
    return (
        f"| {m.label} | {m.wall:.1f} | {m.records:,} | {m.records_per_second:,.0f} | "
        f"{m.cpu:.1f} | {m.peak_rss_mb:.0f} | {m.requests:,} | {m.downloaded_mb:.1f} |"
    )


def run_workloads(*, smoke: bool) -> None:
    """Every workload, then one table."""
    sizes = SMOKE if smoke else FULL
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"tap-copilot-metrics benchmark ({'smoke' if smoke else 'full'}) on {machine}")
    print(f"sizes: {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        workdir = Path(tmp)
        lines: list[str] = []
        for workload in (workload_users, workload_memory, workload_latency, workload_metrics):
            lines += workload(sizes, workdir)
    table = [line for line in lines if line.startswith("|")]
    notes = [line for line in lines if not line.startswith("|")]
    print(HEADER)
    print("\n".join(table))
    print("\n".join(notes))


def main(argv: list[str] | None = None) -> None:
    """Run the workloads and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny workloads (CI)")
    parser.add_argument("--baseline", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        kind, config_path, result_path, *extra = args.baseline
        config = json.loads(Path(config_path).read_text())
        count = (
            baseline_reports(config, extra[0]) if kind == "reports" else baseline_metrics(config)
        )
        Path(result_path).write_text(str(count))
        return
    run_workloads(smoke=args.smoke)


if __name__ == "__main__":
    main()
