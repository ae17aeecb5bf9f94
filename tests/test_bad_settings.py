"""Bad settings: each is refused before any request with one line naming the setting, without
echoing a secret (the cases test_config.py does not cover); a config file that is not a JSON
object is one line too.

Runs go through the console entry point in this process, against a simulator that must see no
request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.bad_input_support import base_config, simulator_marks
from tests.reliability_support import (
    ORG,
    assert_nothing_leaks,
    error_line,
    records,
    run_cli,
    run_sync,
    tail,
)

pytestmark = simulator_marks()

PASSWORD_SENTINEL = "hunter2SENTINEL"


def pem(key: Any, *, password: bytes | None = None, public: bool = False) -> str:
    if public:
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    """Private keys GitHub App auth cannot use, and a good one."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = pem(rsa_key)
    return {
        "good": good,
        "encrypted": pem(rsa_key, password=b"secret"),
        "public-key": pem(rsa_key, public=True),
        "ec-key": pem(ec.generate_private_key(ec.SECP256R1())),
        "cut-in-half": good[: len(good) // 2],
    }


def app(key: str, **extra: Any) -> dict[str, Any]:
    """GitHub App settings instead of the token (`key` names one of the `keys`)."""
    return {
        "auth_token": None,
        "app_id": "4242",
        "app_private_key": key,
        "app_installation_id": "77",
        **extra,
    }


#: name -> (config changes, the setting named, words of the line). A `None` value removes it;
#: an `app_private_key` value names one of the `keys`.
SETTINGS_CASES: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "impossible-end-date": ({"end_date": "2025-13-01"}, "end_date", ("not a real calendar date",)),
    "end-date-29-feb-of-a-common-year": (
        {"end_date": "2025-02-29"},
        "end_date",
        ("not a real calendar date",),
    ),
    "start-date-with-a-garbage-time": (
        {"start_date": "2025-01-01Tnoon"},
        "start_date",
        ("YYYY-MM-DD",),
    ),
    "start-date-as-a-number": ({"start_date": 20250101}, "start_date", ("must be of type",)),
    "start-date-after-the-default-end-date": (
        {"start_date": "2999-01-01"},
        "start_date",
        ("2999-01-01", "yesterday"),
    ),
    "scope-lists-missing-entirely": (
        {"organizations": None, "enterprises": None, "teams": None},
        "organizations",
        ("`enterprises`",),
    ),
    "empty-organization-entry": ({"organizations": [ORG, ""]}, "organizations", ("empty",)),
    "blank-enterprise-entry": ({"enterprises": ["  "]}, "enterprises", ("empty",)),
    "organizations-not-a-list": ({"organizations": {ORG: True}}, "organizations", ("array",)),
    "malformed-enterprise": ({"enterprises": ["octo ent"]}, "enterprises", ("'octo ent'",)),
    "team-with-empty-slug": ({"teams": ["octo-org/"]}, "teams", ("org/team-slug",)),
    "team-with-empty-org": ({"teams": ["/justice-league"]}, "teams", ("org/team-slug",)),
    "team-with-a-space": ({"teams": ["octo-org/justice league"]}, "teams", ("org/team-slug",)),
    "team-as-a-number": ({"teams": [42]}, "teams.0", ("must be of type",)),
    "encrypted-private-key": (app("encrypted"), "app_private_key", ("unencrypted PEM",)),
    "public-key-instead-of-private": (app("public-key"), "app_private_key", ("PEM private key",)),
    "ec-private-key": (app("ec-key"), "app_private_key", ("RSA",)),
    "private-key-cut-in-half": (app("cut-in-half"), "app_private_key", ("PEM private key",)),
    "installation-id-not-a-number": (
        app("good", app_installation_id="../../orgs/x"),
        "app_installation_id",
        ("numeric id",),
    ),
    "http-to-a-private-address": (
        {"api_url": "http://10.0.0.7/api/v3"},
        "api_url",
        ("https", "clear text"),
    ),
    "http-to-a-lookalike-of-localhost": (
        {"api_url": "http://localhost.example.com"},
        "api_url",
        ("https", "localhost.example.com"),
    ),
    "http-to-all-interfaces": ({"api_url": "http://0.0.0.0:8080"}, "api_url", ("https",)),
    "another-scheme-with-a-password": (
        {"api_url": f"ftp://user:{PASSWORD_SENTINEL}@example.com"},
        "api_url",
        ("credentials",),
    ),
    "https-with-a-password": (
        {"api_url": f"https://user:{PASSWORD_SENTINEL}@api.github.com"},
        "api_url",
        ("credentials",),
    ),
    "url-without-a-scheme": ({"api_url": "api.github.com"}, "api_url", ("http(s) URL",)),
    "url-with-a-space": ({"api_url": "https://api.github.com/ v3"}, "api_url", ("spaces",)),
    "url-with-a-broken-ipv6-host": ({"api_url": "https://[::1"}, "api_url", ("valid URL",)),
    "token-with-a-line-break-inside": (
        {"auth_token": "SENTINEL_TOKEN_PART1\nSENTINEL_TOKEN_PART2"},
        "auth_token",
        ("line breaks",),
    ),
    "token-with-a-space-inside": (
        {"auth_token": "SENTINEL_TOKEN_PART1 SENTINEL_TOKEN_PART2"},
        "auth_token",
        ("spaces",),
    ),
    "user-agent-with-a-header-injection": (
        {"user_agent": "my-etl\r\nX-Injected: 1"},
        "user_agent",
        ("line breaks",),
    ),
    "api-version-with-a-line-break": (
        {"api_version": "2026-03-10\nX-Injected: 1"},
        "api_version",
        ("line breaks",),
    ),
    "lookback-beyond-a-year": ({"lookback_days": 366}, "lookback_days", ("between 0 and 365",)),
    "lookback-not-whole": ({"lookback_days": 2.5}, "lookback_days", ("integer",)),
    "timeout-zero": ({"request_timeout_seconds": 0}, "request_timeout_seconds", ("at least",)),
    "retry-budget-negative": (
        {"retry_max_elapsed_seconds": -1},
        "retry_max_elapsed_seconds",
        ("at least 0",),
    ),
    "download-concurrency-zero": (
        {"download_concurrency": 0},
        "download_concurrency",
        ("between 1 and 32",),
    ),
}


def changed(config: dict[str, Any], change: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    out = dict(config)
    for name, value in change.items():
        if value is None:
            out.pop(name, None)
        elif name == "app_private_key":
            out[name] = keys[value]
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("name", list(SETTINGS_CASES))
def test_a_bad_setting_is_one_line_naming_it_before_any_request(
    sim: Simulator, keys: dict[str, str], tmp_path: Path, name: str
) -> None:
    change, setting, words = SETTINGS_CASES[name]
    config = changed(base_config(sim), change, keys)

    run = run_cli(config, tmp_path)

    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    assert line.startswith(f"Invalid setting `{setting}`: "), line
    for text in words:
        assert text in line, line
    assert sim.requests == []
    assert run.messages == []
    secrets_ = [
        sim.settings.token,
        PASSWORD_SENTINEL,
        "SENTINEL_TOKEN_PART",
        *(text for key in keys.values() for text in key.splitlines() if "-----" not in text),
    ]
    assert_nothing_leaks(run, secrets_)


def test_loopback_addresses_other_than_127_0_0_1_may_use_http(sim: Simulator) -> None:
    """The refusal is about leaving the machine: 127.x.y.z and localhost stay on it."""
    for host in ("127.0.0.1", "localhost"):
        config = base_config(sim, api_url=sim.base_url.replace("127.0.0.1", host))
        run = run_sync(config, streams=["copilot_billing"])
        assert records(run.messages, "copilot_billing")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"auth_token": ', id="not-json"),
        pytest.param('["auth_token", "x"]', id="a-json-list"),
        pytest.param("", id="empty-file"),
    ],
)
def test_a_config_file_that_is_not_a_json_object_is_one_line(
    sim: Simulator, tmp_path: Path, text: str
) -> None:
    run = run_cli({}, tmp_path, config_text=text)

    assert run.exit_code == 1
    assert "config" in error_line(run.stderr)
    assert sim.requests == []
