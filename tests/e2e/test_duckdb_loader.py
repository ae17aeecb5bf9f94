"""target-duckdb (vendor/target-duckdb, see its VENDORED.md) loads every row the tap sends.

target-duckdb 0.8.0 let DuckDB's CSV sniffer guess a header in each batch file and lost the
first row of some batches (new rows and updates alike) while still emitting STATE. Here every
stream meltano.yml selects, plus `copilot_metrics` (its `date` column) and a stream of only
string columns (a stream map over copilot_user_teams_daily), goes through the real loader with
`batch_size_rows` 1, 7 and the default, and the DuckDB file is checked row by row, never by exit
codes:

- the tap runs twice through Meltano (`meltano invoke tap-copilot-metrics`), its Singer output
  kept in files: the first run, then a second one from the first run's state after the simulator
  restated the lookback days (same keys, new numbers);
- each batch size replays both files into a new DuckDB file through the loader Meltano
  installed from meltano.yml, with the config `meltano invoke --dump=config target-duckdb` gives
  (`TARGET_DUCKDB_BATCH_SIZE_ROWS` included), so the tap runs once for all batch sizes;
- the rows loaded are the distinct keys sent, the values are the last ones sent (the restated
  numbers, which equal the simulator's new truth), date columns are DATE, and the states the
  target emits are the tap's.

The fixture prints rows sent and loaded per stream and batch size, and the time of each step
(`pytest -rP`; also `summary.txt` in its temporary directory).

`test_target_duckdb_release` asks the package index whether upstream released the fix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from copilot_devkit import demo
from copilot_devkit.simulator import Simulator
from packaging.version import InvalidVersion, Version

from tests.e2e.e2e_support import PROJECT, Key, Meltano, iso_days, selected_tables, table_spec
from tests.truth import MetricsTable, ReportTable, ScopeRef, configured_scopes

#: Newest target-duckdb on the package index when vendor/target-duckdb was made.
RELEASED = "0.8.0"
PYPI_JSON = "https://pypi.org/pypi/target-duckdb/json"

DAYS = 3
LOOKBACK_DAYS = 1
#: target-duckdb's `batch_size_rows`; None leaves its default (100000: one batch per stream).
BATCH_SIZES = (1, 7, None)
#: The legacy metrics stream (opt-in in meltano.yml): its key column is `date`.
LEGACY = "copilot_metrics"
#: A stream of string columns only (DuckDB's sniffer found headers in such batches from 1.1.0).
STRINGS = "copilot_user_teams_daily_text"
STREAM_MAPS = {
    STRINGS: {
        "__source__": "copilot_user_teams_daily",
        "__key_properties__": ["membership"],
        "__else__": None,
        "membership": "scope_name + '/' + slug + '/' + str(user_id) + '/' + str(day)",
        "scope": "scope",
        "scope_name": "scope_name",
        "slug": "slug",
        "user_login": "user_login",
        "day_text": "str(day)",
    }
}
STREAMS = [*selected_tables(), LEGACY, STRINGS]

pytestmark = [
    pytest.mark.duckdb,
    # Small, so that batch size 1 stays quick, yet rows of every stream (require_rows_sent):
    # - seed 195 gives two of octo-org's 16 users 3rd-party agents (`totals_by_3rd_party_agent`,
    #   a persona habit used on about half of a user's active days; at seed 1 no user below 26
    #   has it), and users for the other rare breakdowns (cli, copilot_app, vscode_agent, the
    #   customization arrays), for about as many rows in all as seed 1;
    # - an enterprise over octo-org for copilot_enterprise_teams and its members, with 1 user
    #   (an enterprise's users are octo-org's first ones, so few more lines): at seed 195 that
    #   user is in copilot-champions.
    pytest.mark.simulator(
        seed=195,
        organizations={"octo-org": ["justice-league", "avengers"]},
        enterprises=["octo-ent"],
        enterprise_teams={"octo-ent": ["copilot-champions"]},
        users_per_org=16,
        users_per_enterprise=1,
        seats_per_org=8,
        weekend_activity=1.0,
    ),
]


# --- upstream's release ---------------------------------------------------------------------


def index_versions() -> tuple[list[str] | None, str]:
    """target-duckdb's release versions on the package index, or None and why not."""
    try:
        with urllib.request.urlopen(PYPI_JSON, timeout=30) as response:
            releases = json.load(response)["releases"]
    except (OSError, ValueError, KeyError) as exc:
        json_error = f"{PYPI_JSON}: {exc}"
    else:
        return [v for v, files in releases.items() if any(not f["yanked"] for f in files)], ""
    # The venv's pip, with whatever index it is configured for.
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "target-duckdb"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.partition(":")[2].split(",")], ""
    pip_error = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"{json_error}; pip index versions: {pip_error[0]}"


def newer_releases(versions: list[str], than: str = RELEASED) -> list[Version]:
    out = []
    for text in versions:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version > Version(than) and not version.is_prerelease and not version.is_devrelease:
            out.append(version)
    return sorted(out)


def test_newer_releases_ignores_pre_releases_and_junk() -> None:
    assert newer_releases(["0.7.0", "0.8.0", "0.8.1rc1", "junk", "0.9.0", "0.8.1"]) == [
        Version("0.8.1"),
        Version("0.9.0"),
    ]


def test_target_duckdb_release() -> None:
    """Fails once upstream releases a version after 0.8.0: then drop vendor/target-duckdb."""
    versions, why = index_versions()
    if versions is None:
        reason = f"the package index is unreachable, cannot check target-duckdb releases ({why})"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert RELEASED in versions, f"target-duckdb {RELEASED} not on the index: {versions}"
    newer = newer_releases(versions)
    if newer:
        latest = newer[-1]
        pytest.fail(
            f"target-duckdb {latest} is released: replace vendor/target-duckdb with "
            f"target-duckdb=={latest} in meltano.yml (vendor/target-duckdb/VENDORED.md, "
            "'How to drop it')"
        )


# --- the simulator's restatement (the second run's new numbers) ---------------------------


def test_restating_a_day_keeps_its_rows_and_changes_their_counts(make_simulator) -> None:
    sim = make_simulator(
        organizations={"octo-org": ["justice-league"]},
        enterprises=[],
        enterprise_teams={},
        weekend_activity=1.0,
    )
    day = sim.settings.ready_through
    reports = ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day")
    before = {r: sim.truth.report_lines(r, "organization", "octo-org", day) for r in reports}
    wrapper_before = sim.truth.report_28_day("organization-28-day", "organization", "octo-org")
    sim.restate([day])
    after = {r: sim.truth.report_lines(r, "organization", "octo-org", day) for r in reports}
    wrapper = sim.truth.report_28_day("organization-28-day", "organization", "octo-org")
    assert sim.settings.revision(day) == 1
    assert before["users-1-day"], "no users active that day: the test would prove nothing"
    for report in reports:
        assert len(after[report]) == len(before[report]), report
    assert after["user-teams-1-day"] == before["user-teams-1-day"]  # ids only: nothing to restate
    for old, new in zip(before["users-1-day"], after["users-1-day"], strict=True):
        assert old["user_id"] == new["user_id"]
        assert [e["ide"] for e in old["totals_by_ide"]] == [e["ide"] for e in new["totals_by_ide"]]
        for name, value in old.items():
            if name.endswith("_count") and type(value) is int:
                assert new[name] == value + (1 if value > 0 else 0), name
    assert after["organization-1-day"] != before["organization-1-day"]
    # the 28-day report carries the restated day too
    assert wrapper_before[2][0]["day_totals"][-1] == before["organization-1-day"][0]
    assert wrapper[2][0]["day_totals"][-1] == after["organization-1-day"][0]


# --- what the tap sent ----------------------------------------------------------------------


@dataclass
class Sent:
    """One tap run's Singer messages: each stream's schema, keys, records, and the last state."""

    path: Path
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_properties: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state(self) -> dict[str, Any] | None:
        """The last state the tap emitted."""
        return self.states[-1] if self.states else None

    @classmethod
    def read(cls, path: Path) -> Sent:
        sent = cls(path)
        for number, line in enumerate(path.read_text().splitlines(), 1):
            message = json.loads(line)  # a line that is not JSON fails here, with its number
            kind, stream = message["type"], message.get("stream")
            if kind == "SCHEMA":
                sent.schemas[stream] = message["schema"]
                sent.key_properties[stream] = message["key_properties"]
            elif kind == "RECORD":
                assert stream in sent.schemas, f"{path}:{number}: RECORD before SCHEMA"
                sent.records.setdefault(stream, []).append(message["record"])
            elif kind == "STATE":
                sent.states.append(message["value"])
        return sent

    def key(self, stream: str, record: dict[str, Any]) -> Key:
        return tuple(str(record[k]) for k in self.key_properties[stream])

    def last_by_key(self, stream: str) -> dict[Key, dict[str, Any]]:
        return {self.key(stream, r): r for r in self.records.get(stream, [])}


def run_logged(
    command: list[str], workdir: Path, name: str, env: dict[str, str], stdin: Path | None = None
) -> Path:
    """Run a command: stdout to NAME.jsonl, stderr to NAME.log; fails unless it exits 0."""
    out, log = workdir / f"{name}.jsonl", workdir / f"{name}.log"
    with (
        (stdin or Path(os.devnull)).open("rb") as source,
        out.open("wb") as sink,
        log.open("wb") as errors,
    ):
        completed = subprocess.run(
            command,
            cwd=PROJECT.root,
            env=env,
            stdin=source,
            stdout=sink,
            stderr=errors,
            timeout=900,
            check=False,
        )
    if completed.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        pytest.fail(f"`{' '.join(command)}` exited {completed.returncode}: {log}\n{tail}")
    return out


def invoke(
    meltano: Meltano, workdir: Path, name: str, args: list[str], env: dict[str, str]
) -> Path:
    """`meltano invoke ARGS` in the project, its output kept in the workdir."""
    return run_logged([str(meltano.executable), "invoke", *args], workdir, name, env)


# --- what DuckDB holds ----------------------------------------------------------------------


@dataclass
class Table:
    """A loaded table: column types (information_schema) and rows by the stream's key."""

    types: dict[str, str]
    rows: dict[Key, dict[str, Any]]
    count: int


def read_tables(database: Path, key_properties: dict[str, list[str]]) -> dict[str, Table]:
    tables = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for stream in STREAMS:
            types = dict(
                con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'copilot' and table_name = ? order by ordinal_position",
                    [stream],
                ).fetchall()
            )
            if not types:
                continue
            cursor = con.execute(f"select * from copilot.{stream}")  # noqa: S608
            names = [c[0] for c in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            keys = key_properties[stream]
            by_key = {tuple(str(row[k]) for k in keys): row for row in rows}
            tables[stream] = Table(types, by_key, len(rows))
    return tables


@dataclass
class Load:
    """Both tap runs replayed into one DuckDB file at one batch size."""

    batch: int | None
    database: Path
    after: list[dict[str, Table]]  # the tables after each replayed run
    states: list[dict[str, Any] | None]  # the last STATE the target emitted for each run


@dataclass
class Runs:
    """The two tap runs and one load per batch size."""

    sim: Simulator
    scopes: list[ScopeRef]  # what the tap config names (organization, its teams)
    workdir: Path
    sent: list[Sent]
    window: list[str]  # the restated lookback days the second run re-read
    truth_before: dict[str, dict[Key, dict[str, Any]]]  # report tables' window rows, pre-restate
    loads: dict[int | None, Load]
    seconds: dict[str, float]

    @property
    def days(self) -> list[str]:
        """Every day the first run read."""
        end = self.sim.settings.ready_through
        return iso_days(end - dt.timedelta(days=DAYS - 1), end)


def last_state(path: Path) -> dict[str, Any] | None:
    states = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return states[-1] if states else None


def loader_config(meltano: Meltano, workdir: Path) -> dict[str, Any]:
    """target-duckdb's config as Meltano hands it over (meltano.yml plus the environment)."""
    env = meltano.env(workdir / "meltano.db", {"TARGET_DUCKDB_BATCH_SIZE_ROWS": "7"})
    dumped = invoke(meltano, workdir, "target-config", ["--dump=config", "target-duckdb"], env)
    config = json.loads(dumped.read_text())
    assert config["batch_size_rows"] == 7, "TARGET_DUCKDB_BATCH_SIZE_ROWS does not reach it"
    assert config["default_target_schema"] == "copilot"
    return config


def load(
    meltano: Meltano, config: dict[str, Any], workdir: Path, batch: int | None, sent: list[Sent]
) -> Load:
    """Both runs into a new file through the installed loader (Meltano's config and venv).

    The executable is called directly with the config `meltano invoke` hands over, which
    saves Meltano's start-up (a few seconds) on each of the six loads.
    """
    database = workdir / batch_id(batch) / "copilot_metrics.duckdb"
    database.parent.mkdir()
    config = {**config, "filepath": str(database)}
    config.pop("batch_size_rows")
    if batch is not None:
        config["batch_size_rows"] = batch
    config_path = database.parent / "config.json"
    config_path.write_text(json.dumps(config))
    executable = meltano.sys_dir / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb"
    env = meltano.env(workdir / "meltano.db", {})
    result = Load(batch, database, [], [])
    key_properties: dict[str, list[str]] = {}
    for number, run in enumerate(sent, 1):
        command = [str(executable), "--config", str(config_path)]
        states = run_logged(command, database.parent, f"target-run-{number}", env, run.path)
        result.states.append(last_state(states))
        key_properties.update(run.key_properties)
        result.after.append(read_tables(database, key_properties))
    return result


@pytest.fixture(scope="module")
def runs(meltano: Meltano, sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    workdir = tmp_path_factory.mktemp("duckdb-loader")
    seconds: dict[str, float] = {}
    end = sim.settings.ready_through
    start = end - dt.timedelta(days=DAYS - 1)
    config = sim.tap_config(
        start_date=start.isoformat(), end_date=end.isoformat(), stream_maps=STREAM_MAPS
    )
    env = meltano.env(
        workdir / "meltano.db",
        {
            **demo.tap_settings_env(config),
            "TAP_COPILOT_METRICS_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
            "TAP_COPILOT_METRICS__SELECT": json.dumps(
                [f"{s}.*" for s in (*selected_tables(), LEGACY)]
            ),
        },
    )
    clock = Clock(seconds)
    with clock("tap run 1"):
        first = Sent.read(invoke(meltano, workdir, "tap-run-1", ["tap-copilot-metrics"], env))
    state = workdir / "state-1.json"
    state.write_text(json.dumps(first.state))
    window = iso_days(end - dt.timedelta(days=LOOKBACK_DAYS), end)
    reports = [t for t in selected_tables() if isinstance(table_spec(t), ReportTable)]
    truth_before = {t: table_spec(t).rows(sim, window) for t in reports}
    sim.restate(window)
    with clock("tap run 2"):
        args = ["tap-copilot-metrics", "--state", str(state)]
        second = Sent.read(invoke(meltano, workdir, "tap-run-2", args, env))
    loads = {}
    target_config = loader_config(meltano, workdir)
    for batch in BATCH_SIZES:
        with clock(f"target-duckdb, batch_size_rows {batch or 'default'} (both runs)"):
            loads[batch] = load(meltano, target_config, workdir, batch, [first, second])
    scopes = configured_scopes(sim, config)
    result = Runs(sim, scopes, workdir, [first, second], window, truth_before, loads, seconds)
    (workdir / "summary.txt").write_text(summary(result))
    print(summary(result))
    return result


@dataclass
class Clock:
    """Seconds each step took, for the summary."""

    seconds: dict[str, float]

    @contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        yield
        self.seconds[what] = time.monotonic() - started


def summary(runs: Runs) -> str:
    """Rows sent and loaded per stream and batch size (the fixture prints it; see -rP)."""
    first, second = runs.sent
    sizes = [b or "default" for b in BATCH_SIZES]
    head = ["stream", "sent 1", "keys 1", "sent 2", "keys 1+2"]
    head += [f"loaded {s} (1/1+2)" for s in sizes]
    lines = [" | ".join(head)]
    for stream in STREAMS:
        keys = set(first.last_by_key(stream)) | set(second.last_by_key(stream))
        cells = [
            stream,
            str(len(first.records.get(stream, []))),
            str(len(first.last_by_key(stream))),
            str(len(second.records.get(stream, []))),
            str(len(keys)),
        ]
        for batch in BATCH_SIZES:
            after = runs.loads[batch].after
            counts = [a[stream].count if stream in a else 0 for a in after]
            cells.append("/".join(str(c) for c in counts))
        lines.append(" | ".join(cells))
    lines += [f"{what}: {took:.1f} s" for what, took in runs.seconds.items()]
    return "\n".join(lines)


# --- rows: what was sent is what is loaded --------------------------------------------------


def batch_id(batch: int | None) -> str:
    return f"batch-{batch or 'default'}"


@pytest.fixture(params=BATCH_SIZES, ids=batch_id)
def loaded(request: pytest.FixtureRequest, runs: Runs) -> Load:
    return runs.loads[request.param]


@pytest.mark.parametrize("stream", STREAMS)
def test_the_tap_sent_the_truth(runs: Runs, stream: str) -> None:
    """The first run sent every day's rows, the second the restated lookback days' rows."""
    first, second = runs.sent
    assert set(first.last_by_key(stream)) == truth_keys(runs, stream, runs.days)
    if stream == STRINGS or isinstance(table_spec(stream), ReportTable):
        assert set(second.last_by_key(stream)) == truth_keys(runs, stream, runs.window)


def truth_keys(runs: Runs, stream: str, days: list[str]) -> set[Key]:
    """The keys the simulator's truth says a stream has over `days`."""
    if stream != STRINGS:
        return set(table_spec(stream).rows(runs.sim, days, runs.scopes))
    # STREAM_MAPS: one row per team membership and day, keyed by "org/team/user id/day".
    teams = table_spec("copilot_user_teams_daily").rows(runs.sim, days, runs.scopes)
    return {
        (f"{key[1]}/{row['slug']}/{row['user_id']}/{row['day']}",) for key, row in teams.items()
    }


def require_rows_sent(runs: Runs, stream: str) -> None:
    """A stream the tap sent no rows of would load nothing and prove nothing: an error.

    The module's simulator (`pytestmark`) is sized so that every stream has rows; a stream
    without any means those settings (or the simulator) no longer produce it.
    """
    if not any(run.records.get(stream) for run in runs.sent):
        pytest.fail(
            f"the tap sent no {stream} rows in either run, so loading it proves nothing: "
            "give the module's pytest.mark.simulator settings what produces them",
            pytrace=False,
        )


@pytest.mark.parametrize("stream", STREAMS)
def test_every_row_sent_is_loaded(loaded: Load, runs: Runs, stream: str) -> None:
    """Rows in DuckDB = distinct keys sent, after the first run and after the second."""
    require_rows_sent(runs, stream)
    sent_keys: set[Key] = set()
    for number, (run, tables) in enumerate(zip(runs.sent, loaded.after, strict=True), 1):
        sent_keys |= set(run.last_by_key(stream))
        table = tables[stream]
        where = f"{stream} after run {number}, {batch_id(loaded.batch)}"
        assert table.count == len(sent_keys), f"{where}: rows sent != rows loaded"
        assert set(table.rows) == sent_keys, where


@pytest.mark.parametrize("stream", STREAMS)
def test_loaded_values_are_the_last_sent(loaded: Load, runs: Runs, stream: str) -> None:
    """Every column of every row holds the last value sent for its key: updates applied."""
    require_rows_sent(runs, stream)
    first, second = runs.sent
    expected = {**first.last_by_key(stream), **second.last_by_key(stream)}
    table = loaded.after[-1][stream]
    properties = {
        **first.schemas.get(stream, {}).get("properties", {}),
        **second.schemas.get(stream, {}).get("properties", {}),
    }
    properties = {name.lower(): schema for name, schema in properties.items()}
    mismatches = []
    for key, record in expected.items():
        row = table.rows.get(key)
        assert row is not None, f"{stream} {key} not loaded"
        values = {name.lower(): value for name, value in record.items()}  # columns are lowercase
        for column, column_type in table.types.items():
            want = expected_value(values.get(column), properties.get(column, {}))
            got = loaded_value(row[column], column_type)
            if want != got:
                mismatches.append((key, column, want, got))
    assert not mismatches, f"{len(mismatches)} values differ, e.g. {mismatches[:3]}"


def expected_value(value: Any, schema: dict[str, Any]) -> Any:
    """A sent value as target-duckdb stores it (empty strings become NULL, as in 0.8.0)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and schema.get("format") == "date":
        return dt.date.fromisoformat(value)
    if isinstance(value, str) and schema.get("format") == "date-time":
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:  # stored as UTC wall time (TIMESTAMP)
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment
    return value


def loaded_value(value: Any, column_type: str) -> Any:
    if column_type == "JSON" and value is not None:
        return json.loads(value)
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: Tables whose numbers the restatement must change (it adds to the users' counts).
RESTATED = ("copilot_usage_daily", "copilot_user_usage_daily", "copilot_user_usage_daily_by_ide")


def test_restated_values_are_loaded(loaded: Load, runs: Runs) -> None:
    """Numbers the simulator restated are loaded as restated (the new truth), not as before."""
    changed = set()
    for stream, before in runs.truth_before.items():
        after = table_spec(stream).rows(runs.sim, runs.window)
        assert set(after) == set(before), f"restating changed the keys of {stream}"
        table = loaded.after[-1][stream]
        for key, element in after.items():
            row = table.rows[key]
            for name, value in element.items():
                if name in row and is_number(value) and value != before[key].get(name):
                    assert row[name] == value, (stream, key, name, before[key].get(name))
                    changed.add(stream)
    missing = [stream for stream in RESTATED if stream not in changed]
    assert not missing, f"restating changed no loaded number of {missing}"


# --- types and state ------------------------------------------------------------------------


def test_dates_land_as_date(runs: Runs) -> None:
    """`format: date` -> DATE (`day`, `date` in copilot_metrics), date-time -> TIMESTAMP."""
    tables = runs.loads[None].after[-1]
    for stream in STREAMS:
        properties = {
            name: schema
            for run in runs.sent
            for name, schema in run.schemas.get(stream, {}).get("properties", {}).items()
        }
        if stream not in tables:
            assert not properties, f"{stream} was sent but has no table"
            continue
        types = tables[stream].types
        for name, schema in properties.items():
            wanted = {"date": "DATE", "date-time": "TIMESTAMP"}.get(schema.get("format", ""))
            if wanted:
                assert types[name.lower()] == wanted, (stream, name, types[name.lower()])
    for stream in selected_tables():
        if isinstance(table_spec(stream), ReportTable):
            assert tables[stream].types["day"] == "DATE", stream
    assert isinstance(table_spec(LEGACY), MetricsTable)
    assert tables[LEGACY].types["date"] == "DATE"
    assert set(tables[STRINGS].types.values()) == {"VARCHAR"}, tables[STRINGS].types


def test_target_emits_only_the_tap_states(loaded: Load, runs: Runs) -> None:
    """The target passes on the tap's state, never a bookmark the tap did not send.

    With the default batch size every stream is flushed at the end, so the last state the
    target emits is the tap's last. With smaller batches target-duckdb emits each stream's
    bookmark as of that stream's last flush: it can lag the tap's last state (the next run
    re-reads a little more), but is always one the tap sent.
    """
    for run, emitted in zip(runs.sent, loaded.states, strict=True):
        assert emitted is not None
        if loaded.batch is None:
            assert emitted == run.state
            continue
        for stream, bookmark in emitted["bookmarks"].items():
            sent = [state["bookmarks"].get(stream) for state in run.states]
            assert bookmark in sent, (stream, bookmark)
