"""Bad settings stop the tap before any request, with one line naming the setting.

Every case goes through the console entry point (`tap_copilot_metrics.tap:main`) in this process
against a simulator that must see no request; a few also run as the real command in a subprocess
(interpreter start-up costs about a second each). The defaults and limits applied are the ones
the schema declares (config_schema.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.config_schema import CONFIG_SCHEMA
from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.settings import Settings, parse_settings
from tests.metrics_support import STREAM, cli_in_process, metrics_config
from tests.reliability_support import error_line
from tests.tap_runner import TapRun, run_tap, sync_in_process

APP_ID = "4242"
INSTALLATION_ID = "77"
# Distinctive text inside a broken key: it must never be echoed back.
KEY_SENTINEL = "BROKENKEYSENTINEL"
BROKEN_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + KEY_SENTINEL
    + "x" * 40
    + "\n-----END RSA PRIVATE KEY-----\n"
)


@dataclass
class Case:
    """A config change, the setting the error must name, and words the line must contain."""

    change: Callable[[dict[str, Any], str], dict[str, Any]]
    setting: str
    words: list[str] = field(default_factory=list)


def without(*names: str) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    return lambda config, _key: {k: v for k, v in config.items() if k not in names}


def setting(**values: Any) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    return lambda config, _key: {**config, **values}


def app(*, token: bool = False, **values: Any) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """GitHub App settings (`key` stands for the real private key), with or without a token."""

    def change(config: dict[str, Any], key: str) -> dict[str, Any]:
        changed = {k: v for k, v in config.items() if token or k != "auth_token"}
        changed.update({k: (key if v == "key" else v) for k, v in values.items()})
        return changed

    return change


CASES: dict[str, Case] = {
    "missing-auth": Case(without("auth_token"), "auth_token", ["no credentials", "app_id"]),
    "both-auth-methods": Case(
        app(token=True, app_id=APP_ID, app_private_key="key", app_installation_id=INSTALLATION_ID),
        "auth_token",
        ["both", "exactly one auth method"],
    ),
    "partial-app-settings": Case(
        app(app_id=APP_ID), "app_private_key", ["missing: app_private_key, app_installation_id"]
    ),
    "app-without-app-id": Case(
        app(app_private_key="key", app_installation_id=INSTALLATION_ID),
        "app_id",
        ["missing: app_id"],
    ),
    "unreadable-private-key": Case(
        app(app_id=APP_ID, app_private_key=BROKEN_KEY, app_installation_id=INSTALLATION_ID),
        "app_private_key",
        ["not a readable unencrypted PEM private key"],
    ),
    "malformed-start-date": Case(setting(start_date="2025/01/31"), "start_date", ["YYYY-MM-DD"]),
    "impossible-start-date": Case(
        setting(start_date="2025-02-30"), "start_date", ["not a real calendar date"]
    ),
    "malformed-end-date": Case(setting(end_date="yesterday"), "end_date", ["YYYY-MM-DD"]),
    "end-date-before-start-date": Case(
        setting(start_date="2025-03-10", end_date="2025-03-09"),
        "end_date",
        ["2025-03-09 is before start_date 2025-03-10"],
    ),
    "no-scope-at-all": Case(
        setting(organizations=[], enterprises=[], teams=[]),
        "organizations",
        ["`enterprises`", "`teams`"],
    ),
    "team-without-slug": Case(
        setting(teams=["octo-org/justice-league", "octo-org"]),
        "teams",
        ["'octo-org'", "org/team-slug"],
    ),
    "team-with-nested-path": Case(
        setting(teams=["octo-org/justice-league/x"]), "teams", ["org/team-slug"]
    ),
    "malformed-organization": Case(
        setting(organizations=["octo org"]), "organizations", ["'octo org'"]
    ),
    "negative-lookback": Case(setting(lookback_days=-1), "lookback_days", ["between 0 and"]),
    "plain-http-to-a-remote-host": Case(
        setting(api_url="http://api.example.com"), "api_url", ["https", "api.example.com"]
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_setting_is_refused_before_any_request(
    name: str, simulator: Simulator, tmp_path: Path, app_keypair: Any
) -> None:
    case = CASES[name]
    config = case.change(metrics_config(simulator), app_keypair.private_pem)

    run = cli_in_process(config, tmp_path)

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert line.startswith(f"Invalid setting `{case.setting}`: "), line
    for words in case.words:
        assert words in line, line
    assert simulator.requests == []
    assert run.messages == []
    assert_no_secrets(run, config, app_keypair)


def test_the_command_exits_non_zero_with_one_line(
    simulator: Simulator, tmp_path: Path, app_keypair: Any
) -> None:
    """The command itself (a subprocess), as a user or Meltano runs it; one case is enough
    since every case above goes through the same entry point."""
    case = CASES["unreadable-private-key"]
    config = case.change(metrics_config(simulator), app_keypair.private_pem)

    run = run_tap(config, tmp_path=tmp_path)

    assert run.exit_code == 1
    assert error_line(run.stderr).startswith(f"Invalid setting `{case.setting}`: ")
    assert "Traceback" not in run.stderr
    assert simulator.requests == []
    assert_no_secrets(run, config, app_keypair)


def assert_no_secrets(run: TapRun, config: dict[str, Any], app_keypair: Any) -> None:
    """Neither the token nor any part of a key (even a broken one) is echoed back."""
    for secret in (config.get("auth_token"), KEY_SENTINEL, app_keypair.private_pem[40:80]):
        if secret:
            assert secret not in run.stderr
            assert secret not in run.stdout


def test_loopback_http_is_allowed(simulator: Simulator, tmp_path: Path) -> None:
    """Plain http is fine to 127.0.0.1 (the simulator), and to `localhost` too."""
    config = metrics_config(simulator, first_day=2, teams=[], enterprises=[])
    config["api_url"] = config["api_url"].replace("127.0.0.1", "localhost") + "/"
    run = sync_in_process(config, streams=[STREAM])
    assert run.records(STREAM)
    assert simulator.requests
    assert all(r.status == 200 for r in simulator.requests)


def test_a_malformed_pinned_day_is_one_line(simulator: Simulator, tmp_path: Path) -> None:
    """COPILOT_METRICS_TODAY pins the tap's "today"; a value that is not a date stops the run."""
    config = metrics_config(simulator)
    run = run_tap(config, tmp_path=tmp_path, env={"COPILOT_METRICS_TODAY": "2026-02-30"})
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    line = error_line(run.stderr)
    assert "COPILOT_METRICS_TODAY" in line
    assert "YYYY-MM-DD" in line
    assert simulator.requests == []


def test_a_pinned_day_is_said_once_at_info(simulator: Simulator, tmp_path: Path) -> None:
    day = simulator.settings.today
    run = run_tap(metrics_config(simulator), tmp_path=tmp_path, streams=[STREAM])
    assert run.exit_code == 0
    said = [line for line in run.stderr.splitlines() if "today is pinned" in line]
    assert len(said) == 1
    assert f"pinned to {day.isoformat()} by COPILOT_METRICS_TODAY" in said[0]
    assert " INFO " in said[0]


#: The tap's own settings (the SDK adds its own to the schema in place).
DECLARED = {
    attribute.name: CONFIG_SCHEMA["properties"][attribute.name]
    for attribute in fields(Settings)
    if attribute.name in CONFIG_SCHEMA["properties"]
}
MINIMAL = {"auth_token": "ghp_x", "organizations": ["octo-org"]}


def test_defaults_are_the_declared_ones() -> None:
    """parse_settings takes each default from the schema `--about` shows, not from a copy."""
    settings = parse_settings(MINIMAL)
    for name, prop in DECLARED.items():
        if "default" in prop:
            assert getattr(settings, name) == prop["default"], name


@pytest.mark.parametrize("name", [name for name, prop in DECLARED.items() if "minimum" in prop])
def test_limits_are_the_declared_ones(name: str) -> None:
    prop = DECLARED[name]
    step = 1 if "integer" in prop["type"] else 0.01
    for edge, beyond in ((prop["minimum"], -step), (prop.get("maximum"), step)):
        if edge is None:
            continue
        assert getattr(parse_settings({**MINIMAL, name: edge}), name) == edge
        with pytest.raises(ConfigError, match=f"`{name}`: must be .*{edge}"):
            parse_settings({**MINIMAL, name: edge + beyond})
