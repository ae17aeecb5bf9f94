"""GitHub App auth: a JWT signed with the App's key is exchanged for an installation token.

The simulator verifies the JWT with the App's public key, hands out installation tokens with a
configurable lifetime, and rejects expired ones, so a tap that did not refresh would fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from copilot_devkit.simulator import Simulator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_copilot_metrics.auth import GitHubAuth
from tap_copilot_metrics.settings import parse_settings
from tap_copilot_metrics.streams.metrics import CopilotMetricsStream
from tests.metrics_support import (
    STREAM,
    app_config,
    cli_in_process,
    expected_records,
    metrics_requests,
)
from tests.reliability_support import assert_nothing_leaks, error_line, key_fragments
from tests.sim_support import APP_ID, INSTALLATION_ID, MakeSimulator, app_settings, days_ago
from tests.tap_runner import sync_in_process


def mint_requests(sim: Simulator) -> list[Any]:
    return [r for r in sim.requests if r.path.endswith("/access_tokens")]


def bearer(request: Any) -> str:
    scheme, _, value = request.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    return value


def other_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_installation_token_is_minted_once_and_used(
    app_simulator: Simulator, app_keypair: Any
) -> None:
    sim = app_simulator
    config = app_config(sim, app_keypair.private_pem)

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(sim, config, days_ago(sim, 6))
    [minted] = sim.minted_tokens
    [mint] = mint_requests(sim)
    assert (mint.method, mint.path, mint.status) == (
        "POST",
        f"/app/installations/{INSTALLATION_ID}/access_tokens",
        201,
    )
    claims = jwt.decode(bearer(mint), app_keypair.public_pem, algorithms=["RS256"])
    assert claims["iss"] == str(APP_ID)
    assert claims["exp"] - claims["iat"] <= 600  # GitHub's limit for App JWTs
    assert sim.requests[0] == mint  # minted before the first API call
    calls = metrics_requests(sim)
    first_pages = [r for r in calls if r.query.get("page") == "1"]
    assert len(first_pages) == len(
        config["organizations"] + config["teams"] + config["enterprises"]
    )
    assert {bearer(r) for r in calls} == {minted.token}
    assert {r.status for r in calls} == {200}


def test_installation_token_is_refreshed_before_it_expires(
    make_simulator: MakeSimulator, app_keypair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tokens live 3 s (the tap renews them with a quarter of their life left, at least 0.5 s,
    # far more than the 0.1 s each request takes); small pages over 14 days make enough requests
    # (about 7 per scope, 6 scopes) that the run outlasts the first token whichever days the
    # pinned calendar leaves out. The simulator answers 401 to an expired token.
    sim = make_simulator(
        **app_settings(
            app_keypair.public_pem, installation_token_ttl_seconds=3, latency_seconds=0.1
        )
    )
    monkeypatch.setattr(CopilotMetricsStream, "page_size", 2)
    config = app_config(sim, app_keypair.private_pem, first_day=14)

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(sim, config, days_ago(sim, 14))
    minted = [token.token for token in sim.minted_tokens]
    assert len(minted) >= 2
    calls = metrics_requests(sim)
    assert {r.status for r in calls} == {200}
    used = [bearer(r) for r in calls]
    assert set(used) <= set(minted)
    # Tokens are used in the order they were minted, each until the next one replaces it.
    order = [minted.index(token) for token in used]
    assert order == sorted(order)
    assert len(set(order)) >= 2


def test_token_minting_is_retried_on_a_server_error(
    app_simulator: Simulator, app_keypair: Any
) -> None:
    sim = app_simulator
    sim.faults.add(path=r"/access_tokens$", kind="502", times=1)
    config = app_config(
        sim, app_keypair.private_pem, organizations=["octo-org"], teams=[], enterprises=[]
    )

    run = sync_in_process(config, streams=[STREAM])

    assert [r.status for r in mint_requests(sim)] == [502, 201]
    assert len(sim.minted_tokens) == 1
    assert run.records(STREAM) == expected_records(sim, config, days_ago(sim, 6))


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("wrong-private-key", 401, ["A JSON web token could not be decoded"]),
        ("wrong-installation-id", 404, ["Not Found"]),
    ],
)
def test_refused_minting_is_one_clear_line(
    app_simulator: Simulator,
    app_keypair: Any,
    tmp_path: Path,
    case: str,
    status: int,
    words: list[str],
) -> None:
    sim = app_simulator
    key = other_private_key() if case == "wrong-private-key" else app_keypair.private_pem
    installation = INSTALLATION_ID + 1 if case == "wrong-installation-id" else INSTALLATION_ID
    config = app_config(sim, key, installation_id=installation)

    run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert line.startswith("GitHub App auth failed: minting an installation token answered")
    assert f"answered {status}" in line
    for word in [*words, "`app_id`", "`app_installation_id`", "`app_private_key`"]:
        assert word in line, line
    assert [r.status for r in mint_requests(sim)] == [status]  # not retried
    assert metrics_requests(sim) == []
    assert sim.minted_tokens == []
    assert_nothing_leaks(run, [bearer(mint_requests(sim)[0]), *key_fragments(key)])


def test_401_on_the_api_names_the_app_auth_method(
    app_simulator: Simulator, app_keypair: Any, tmp_path: Path
) -> None:
    sim = app_simulator
    sim.faults.add(path=r"/copilot/metrics$", kind="401", times=1)
    config = app_config(sim, app_keypair.private_pem)

    run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert "Authentication failed (401)" in line
    assert "with GitHub App installation token" in line
    [minted] = sim.minted_tokens
    assert_nothing_leaks(run, [minted.token])


def test_authenticator_is_the_sdks_and_only_sets_the_header() -> None:
    """`GitHubAuth` is an SDK authenticator, built without a stream; it adds the bearer token
    and leaves the URL exactly as given (the base method would re-encode the query string)."""
    settings = parse_settings({"auth_token": "tok-123", "organizations": ["octo-org"]})
    auth = GitHubAuth(settings, requests.Session())
    assert isinstance(auth, APIAuthenticatorBase)
    url = "https://api.github.com/orgs/o/copilot/metrics?since=&per_page=100&x=a%20b"
    request = requests.Request("GET", url).prepare()
    assert auth(request) is request
    assert request.url == url
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert auth.method == settings.auth_method
