"""Shared helpers of the reliability suite (issue 5): run the tap, read what it printed, check it.

The checks here are the properties the suite proves for every stream, whatever went wrong:
records keyed by the stream's primary key (docs/streams.md) with no key twice, STATE lines
that never claim a day whose records did not come before them, and no secret anywhere in what the
tap printed. Runs go through the console entry point (`tap_copilot_metrics.tap:main`), in this
process or as the real command in a subprocess.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import secrets
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import TapCopilotMetrics, main
from tests.tap_runner import KEYS, TapRun, catalog_selecting

#: The day column (and replication key) of the day-keyed streams.
DAY_FIELD: dict[str, str] = {
    "copilot_metrics": "date",
    "copilot_usage_daily": "day",
    "copilot_user_usage_daily": "day",
    "copilot_user_teams_daily": "day",
    "copilot_repository_usage_daily": "day",
    "copilot_ai_credit_usage": "day",
    "copilot_premium_request_usage": "day",
}
ERROR_PREFIX = "tap-copilot-metrics: error: "
#: Environment that switches the tap's logging to DEBUG (the SDK reads `<PLUGIN>_LOGLEVEL`,
#: then `LOGLEVEL`); both are set so either spelling is exercised.
DEBUG_ENV = {"TAP_COPILOT_METRICS_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"}
#: Quick retries for tests: faults are answered within milliseconds, not minutes.
QUICK_RETRIES: dict[str, Any] = {
    "retry_initial_wait_seconds": 0.01,
    "secondary_rate_limit_wait_seconds": 0.05,
    "retry_max_elapsed_seconds": 10,
    "request_timeout_seconds": 10,
}

#: The organization (with a team) and the enterprise the fault and bad-input suites read.
ORG, TEAM, ENTERPRISE = "octo-org", "octo-org/justice-league", "octo-ent"

Key = tuple[Any, ...]
Partition = tuple[str, str, str]  # (stream, scope, scope_name)


def sentinel_token() -> str:
    """A PAT-shaped token nobody could mistake for anything else in the output."""
    return "ghp_SENTINEL" + secrets.token_hex(16)


def quick_config(
    sim: Simulator, *, days: int, teams: Iterable[str] = (), **extra: Any
) -> dict[str, Any]:
    """A tap config for `sim`: ORG, ENTERPRISE and `teams`, from `days` days before today,
    quick retries; `extra` overrides any of it."""
    start = sim.settings.today - dt.timedelta(days=days)
    return {
        "api_url": sim.base_url,
        "auth_token": sim.settings.token,
        "organizations": [ORG],
        "enterprises": [ENTERPRISE],
        "teams": list(teams),
        "start_date": start.isoformat(),
        **QUICK_RETRIES,
        **extra,
    }


# --- running the tap ---------------------------------------------------------------------------


def run_cli(
    config: dict[str, Any],
    tmp_path: Path,
    *,
    streams: Iterable[str] | None = None,
    state: Any = None,
    state_text: str | None = None,
    config_text: str | None = None,
) -> TapRun:
    """The console entry point called in this process, as the command would run it.

    Like the command, an exception that escapes `main` is printed as a traceback on stderr with
    exit code 1 (Python's own behaviour), so tests can assert there is none; its text is part of
    stderr, so secret checks cover exception messages too.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    config_path = tmp_path / "config.json"
    config_path.write_text(config_text if config_text is not None else json.dumps(config))
    argv = ["--config", str(config_path)]
    if streams is not None:
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_selecting(config, list(streams))))
        argv += ["--catalog", str(catalog_path)]
    if state is not None or state_text is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(state_text if state_text is not None else json.dumps(state))
        argv += ["--state", str(state_path)]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return parse_run(code, out.getvalue(), err.getvalue())


def parse_run(exit_code: int, stdout: str, stderr: str) -> TapRun:
    """A TapRun from raw output; a torn last line (a killed run) is left out of `messages`."""
    return TapRun(exit_code, stdout, stderr, complete_messages(stdout))


def complete_messages(stdout: str) -> list[dict[str, Any]]:
    """Singer messages of every complete line; only the last line may be torn, and is dropped."""
    lines = stdout.split("\n")
    messages = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            assert index == len(lines) - 1, f"a torn line that is not the last: {line[:200]!r}"
    return messages


def error_line(stderr: str, *, last: bool = True) -> str:
    """The one fatal line: with the CLI's prefix, only one such, and no traceback.

    `last`: it is also the last line of stderr, where a user (or Meltano's log tail) looks.
    Runs of the command in a subprocess pass `last=False`: see
    test_reliability_matrix.py::test_a_failed_run_stops_its_background_fetches_at_once.
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    found = [line for line in lines if line.startswith(ERROR_PREFIX)]
    assert len(found) == 1, lines[-8:]
    if last:
        assert lines[-1] == found[0], lines[-8:]
    return found[0].removeprefix(ERROR_PREFIX)


def tail(text: str, lines: int = 15) -> str:
    """The end of a long output, for assertion messages."""
    return "\n".join(text.splitlines()[-lines:])


# --- records and keys --------------------------------------------------------------------------


def key_of(stream: str, record: Mapping[str, Any]) -> Key:
    """A record's primary key (docs/streams.md)."""
    return tuple(record[name] for name in KEYS[stream])


def records(messages: Iterable[Mapping[str, Any]], stream: str) -> list[dict[str, Any]]:
    """RECORD bodies of one stream, in output order."""
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def keyed(messages: Iterable[Mapping[str, Any]], stream: str) -> dict[Key, dict[str, Any]]:
    """One stream's records by primary key; a key seen twice fails the test."""
    found = records(messages, stream)
    counts = Counter(key_of(stream, record) for record in found)
    doubled = [key for key, count in counts.items() if count > 1]
    assert not doubled, f"{stream}: {len(doubled)} keys emitted twice, e.g. {doubled[:3]}"
    return {key_of(stream, record): record for record in found}


def all_keys(messages: Iterable[Mapping[str, Any]]) -> set[tuple[str, Key]]:
    """(stream, key) of every record of the streams with a primary key."""
    return {
        (m["stream"], key_of(m["stream"], m["record"]))
        for m in messages
        if m["type"] == "RECORD" and m["stream"] in KEYS
    }


def states(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every STATE value, in output order."""
    return [m["value"] for m in messages if m["type"] == "STATE"]


def partition_bookmarks(state: Mapping[str, Any]) -> dict[Partition, str]:
    """(stream, scope, scope_name) -> bookmark, for every partition that has one."""
    found: dict[Partition, str] = {}
    for stream, stream_state in (state.get("bookmarks") or {}).items():
        for partition in stream_state.get("partitions") or []:
            context = partition.get("context") or {}
            value = partition.get("replication_key_value")
            if value not in (None, "") and {"scope", "scope_name"} <= set(context):
                found[(stream, context["scope"], context["scope_name"])] = str(value)
    return found


def state_with(bookmarks: Mapping[Partition, Any]) -> dict[str, Any]:
    """A state holding these partition bookmarks, as the tap writes them (the replication key
    is the stream's day field): the inverse of `partition_bookmarks`."""
    state: dict[str, Any] = {"bookmarks": {}}
    for (stream, scope, name), value in bookmarks.items():
        stream_state = state["bookmarks"].setdefault(stream, {"partitions": []})
        stream_state["partitions"].append(
            {
                "context": {"scope": scope, "scope_name": name},
                "replication_key": DAY_FIELD[stream],
                "replication_key_value": value,
            }
        )
    return state


def normalized_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state with each stream's partitions in a stable order (targets ignore the order)."""
    out = json.loads(json.dumps(state))
    for stream_state in (out.get("bookmarks") or {}).values():
        if isinstance(stream_state.get("partitions"), list):
            stream_state["partitions"].sort(
                key=lambda p: json.dumps(p.get("context"), sort_keys=True)
            )
    return out


def assert_states_never_ahead(
    messages: Iterable[Mapping[str, Any]],
    truth: Mapping[str, list[dict[str, Any]]],
    *,
    resumed_from: Mapping[Partition, str] | None = None,
) -> None:
    """Every STATE claims only days whose records all came before it on stdout.

    `truth` holds, per day-keyed stream, every record a clean run emits. For each bookmark B of
    a STATE line, every truth record of that partition with a day up to B (and after the
    bookmark the run resumed from, if any) must have been emitted before that line: a target
    that stored the STATE and crashed right after would otherwise never get those records.
    """
    emitted: set[tuple[str, Key]] = set()
    since = dict(resumed_from or {})
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] in KEYS:
            emitted.add((message["stream"], key_of(message["stream"], message["record"])))
            continue
        if message["type"] != "STATE":
            continue
        for (stream, scope, name), mark in partition_bookmarks(message["value"]).items():
            if stream not in truth or stream not in DAY_FIELD:
                continue
            day_field, floor = DAY_FIELD[stream], since.get((stream, scope, name))
            missing = [
                key_of(stream, record)
                for record in truth[stream]
                if (record["scope"], record["scope_name"]) == (scope, name)
                and str(record[day_field]) <= mark[:10]
                and (floor is None or str(record[day_field]) > floor[:10])
                and (stream, key_of(stream, record)) not in emitted
            ]
            assert not missing, (
                f"a STATE claims {stream} {scope} {name} up to {mark} before emitting "
                f"{len(missing)} of its records, e.g. {missing[:3]}"
            )


# --- secrets -----------------------------------------------------------------------------------


def signed_query_values(sim: Simulator) -> list[str]:
    """The `sig` of every signed download URL the simulator was asked for."""
    return sorted(
        {
            r.query["sig"]
            for r in sim.requests
            if r.path.startswith("/_downloads/") and r.query.get("sig")
        }
    )


def authorization_values(sim: Simulator) -> list[str]:
    """Every credential sent in an Authorization header (tokens, App JWTs)."""
    return sorted(
        {
            r.headers["authorization"].split(" ", 1)[-1]
            for r in sim.requests
            if r.headers.get("authorization")
        }
    )


def key_fragments(private_pem: str) -> list[str]:
    """Every base64 line of a PEM body: any of them in the output is a leak."""
    return [line for line in private_pem.splitlines() if line and not line.startswith("-----")]


def assert_nothing_leaks(run: TapRun, secret_values: Iterable[str], *extra_texts: str) -> None:
    """No secret in stdout, stderr (logs, tracebacks), any STATE, or the extra texts given.

    Signed download URLs are caught by their `sig` values and by the `sig=` marker itself.
    """
    texts = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "state": json.dumps(states(run.messages)),
        **{f"extra {i}": text for i, text in enumerate(extra_texts)},
    }
    values = list(secret_values)
    for value in values:
        assert value, "an empty secret: nothing to look for"
    for where, text in texts.items():
        for value in values:
            assert value not in text, f"a secret ({value[:12]}...) appears in {where}"
        assert "sig=" not in text, f"a signed URL query appears in {where}"


def every_secret(sim: Simulator, private_pem: str | None = None) -> list[str]:
    """The PAT, every credential sent (JWTs, installation tokens), key lines, `sig` values."""
    values = [
        sim.settings.token,
        *authorization_values(sim),
        *(minted.token for minted in sim.minted_tokens),
        *signed_query_values(sim),
    ]
    if private_pem:
        values += key_fragments(private_pem)
    return values


def assert_debug_logging_was_on(run: TapRun) -> None:
    assert "| DEBUG " in run.stderr, "debug logging did not switch on"


# --- simulator helpers -------------------------------------------------------------------------


def download_paths(
    sim: Simulator, report: str, scope: str, name: str, day: dt.date | None
) -> list[str]:
    """URL paths of a report's files (stable across link refreshes; the query is not): a
    1-day report of `day`, or the latest 28-day report (`report` like "users-28-day").

    Asked over HTTP like the tap does, so a fault can target exactly one file; the request is
    then dropped from the simulator's log, which keeps the tap's requests only.
    """
    prefix = "orgs" if scope == "organization" else "enterprises"
    report_path = f"/{prefix}/{name}/copilot/metrics/reports/{report}"
    if day is None:
        report_path += "/latest"
    response = requests.get(
        f"{sim.base_url}{report_path}",
        params={"day": day.isoformat()} if day else None,
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    response.raise_for_status()
    deadline = time.monotonic() + 5
    while not any(r.path == report_path for r in sim.requests) and time.monotonic() < deadline:
        time.sleep(0.005)
    sim.clear_requests()
    return [urlsplit(link).path for link in response.json()["download_links"]]


def run_sync(
    config: dict[str, Any], *, streams: Iterable[str], state: dict[str, Any] | None = None
) -> TapRun:
    """The tap's sync in this process, its output read like a target reads it.

    Unlike `tap_runner.sync_in_process`, lines are split on "\\n" only: JSON may carry U+0085
    or U+2028 unescaped, which `str.splitlines()` would take for line ends.
    """
    catalog = catalog_selecting(config, list(streams))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        TapCopilotMetrics(config=config, state=state, catalog=catalog).sync_all()
    return parse_run(0, out.getvalue(), err.getvalue())
