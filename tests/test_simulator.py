"""Tests of the GitHub API simulator itself, over real HTTP with `requests`."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from typing import Any

import jwt
import pytest
import requests
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.data import example

WINDOW_KEYS = ("report_start_day", "report_end_day")


def fetch(url: str, method: str = "GET", **kwargs: Any) -> requests.Response:
    """A request without the GitHub token (downloads, control endpoints, auth checks)."""
    return requests.request(method, url, timeout=10, **kwargs)


def session(sim: Simulator, token: str | None = None) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token or sim.settings.token}"
    return s


def yesterday(sim: Simulator) -> str:
    return (sim.settings.today - dt.timedelta(days=1)).isoformat()


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (array items merged), e.g. `totals_by_ide[].ide`."""
    paths: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            paths.add(prefix + k)
            paths |= key_paths(v, prefix + k + ".")
    elif isinstance(obj, list):
        for item in obj:
            paths |= key_paths(item, prefix.rstrip(".") + "[].")
    return paths


def test_auth_is_required_and_rate_limit_headers_count_down(simulator: Simulator) -> None:
    url = simulator.base_url + "/orgs/octo-org/copilot/billing"
    missing = fetch(url)
    assert missing.status_code == 401
    assert set(missing.json()) == {"message", "documentation_url", "status"}
    wrong = fetch(url, headers={"Authorization": "token ghp_wrong"})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
    s = session(simulator)
    first, second = s.get(url), s.get(url)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(second.headers["x-ratelimit-remaining"]) == (
        int(first.headers["x-ratelimit-remaining"]) - 1
    )
    assert s.get(simulator.base_url + "/orgs/nope/copilot/billing").status_code == 404


def test_legacy_metrics_paging_and_since_until(simulator: Simulator) -> None:
    s = session(simulator)
    url = simulator.base_url + "/orgs/octo-org/copilot/metrics"
    truth = simulator.truth.legacy_metrics("organization", "octo-org")
    assert 50 <= len(truth) < 100  # 100 days kept; days with < 5 active users are missing
    pages, page = [], 1
    while True:
        body = s.get(url, params={"per_page": 30, "page": page}).json()
        pages.extend(body)
        if len(body) < 30:
            break
        page += 1
    assert pages == truth
    assert [d["date"] for d in pages] == sorted(d["date"] for d in pages)

    since, until = truth[10]["date"], truth[20]["date"]
    window = s.get(url, params={"since": f"{since}T00:00:00Z", "until": f"{until}T00:00:00Z"})
    assert window.json() == truth[10:21]
    too_old = (simulator.settings.today - dt.timedelta(days=101)).isoformat()
    assert s.get(url, params={"since": too_old}).status_code == 422
    assert s.get(url, params={"per_page": 101}).status_code == 422
    team = s.get(simulator.base_url + "/orgs/octo-org/team/avengers/copilot/metrics").json()
    assert team == simulator.truth.legacy_metrics("team", "octo-org/avengers")
    assert team != truth


def test_legacy_closed_and_policy_disabled(make_simulator: Any) -> None:
    sim = make_simulator(legacy_closed=True, policy_disabled={"acme"})
    s = session(sim)
    assert s.get(sim.base_url + "/orgs/octo-org/copilot/metrics").status_code == 404
    disabled = s.get(sim.base_url + "/orgs/acme/copilot/metrics/reports/organization-28-day/latest")
    assert disabled.status_code == 422
    assert "disabled" in disabled.json()["message"]


def test_report_envelope_and_signed_downloads(make_simulator: Any) -> None:
    # Three files need three active users yesterday, whatever weekday the suite is pinned to.
    sim = make_simulator(files_per_report=3, weekend_activity=1.0)
    s = session(sim)
    day = yesterday(sim)
    envelope = s.get(
        sim.base_url + "/orgs/octo-org/copilot/metrics/reports/users-1-day", params={"day": day}
    ).json()
    assert envelope["report_day"] == day
    assert len(envelope["download_links"]) == 3
    lines = []
    for link in envelope["download_links"]:
        assert link.startswith(sim.base_url + "/_downloads/")
        file = fetch(link)  # no Authorization header, like blob storage wants
        assert file.status_code == 200
        lines += [json.loads(x) for x in file.text.splitlines() if x.strip()]
    assert lines == sim.truth.report_lines("users-1-day", "organization", "octo-org", day)
    assert all(
        isinstance(x["user_id"], int) and isinstance(x["organization_id"], str) for x in lines
    )

    link = envelope["download_links"][0]
    rejected = s.get(link)  # the GitHub token must not reach the blob host
    assert rejected.status_code == 403
    assert "InvalidAuthenticationInfo" in rejected.text
    assert fetch(link.replace("sig=", "sig=0")).status_code == 403

    expired = make_simulator(link_ttl_seconds=-1)
    stale = (
        session(expired)
        .get(
            expired.base_url + "/orgs/octo-org/copilot/metrics/reports/organization-1-day",
            params={"day": day},
        )
        .json()["download_links"][0]
    )
    answer = fetch(stale)
    assert answer.status_code == 403
    assert "Signed expiry time has passed" in answer.text


def test_days_without_report_and_bad_day(make_simulator: Any) -> None:
    today = dt.date(2026, 6, 15)
    missing = dt.date(2026, 6, 10)
    sim = make_simulator(today=today, missing_report_days={missing})
    s = session(sim)
    url = sim.base_url + "/enterprises/octo-ent/copilot/metrics/reports/enterprise-1-day"
    assert s.get(url, params={"day": "2026-06-14"}).status_code == 200
    assert s.get(url, params={"day": "2026-06-15"}).status_code == 204  # not processed yet
    assert s.get(url, params={"day": missing.isoformat()}).status_code == 204
    assert s.get(url, params={"day": "2025-10-09"}).status_code == 204  # before history
    assert s.get(url).status_code == 422
    assert s.get(url, params={"day": "June 1"}).status_code == 400
    assert sim.truth.report_lines("enterprise-1-day", "enterprise", "octo-ent", missing) == []

    bare = make_simulator(today=today, empty_report_style="bare-string")
    answer = session(bare).get(
        bare.base_url + "/orgs/acme/copilot/metrics/reports/users-1-day",
        params={"day": today.isoformat()},
    )
    assert (answer.status_code, answer.json()) == (200, "")


def test_28_day_reports_equal_the_1_day_reports(simulator: Simulator) -> None:
    truth = simulator.truth
    start, end, wrapper_lines = truth.report_28_day("organization-28-day", "organization", "acme")
    days = [(dt.date.fromisoformat(start) + dt.timedelta(days=i)).isoformat() for i in range(28)]
    assert days[-1] == end == yesterday(simulator)
    (wrapper,) = wrapper_lines
    assert isinstance(wrapper["organization_id"], str)
    expected = [
        line
        for d in days
        for line in truth.report_lines("organization-1-day", "organization", "acme", d)
    ]
    assert wrapper["day_totals"] == expected

    _start, _end, user_lines = truth.report_28_day("users-28-day", "organization", "acme")
    assert all((x["report_start_day"], x["report_end_day"]) == (start, end) for x in user_lines)
    stripped = [{k: v for k, v in x.items() if k not in WINDOW_KEYS} for x in user_lines]
    assert stripped == [
        line for d in days for line in truth.report_lines("users-1-day", "organization", "acme", d)
    ]

    s = session(simulator)
    env = s.get(simulator.base_url + "/orgs/acme/copilot/metrics/reports/users-28-day/latest")
    assert (env.json()["report_start_day"], env.json()["report_end_day"]) == (start, end)
    served = [
        json.loads(x)
        for link in env.json()["download_links"]
        for x in fetch(link).text.splitlines()
        if x.strip()
    ]
    assert served == user_lines


@pytest.mark.parametrize("report_format", ["ndjson-gzip", "json-array"])
def test_other_file_formats(make_simulator: Any, report_format: str) -> None:
    sim = make_simulator(report_format=report_format)
    day = yesterday(sim)
    env = (
        session(sim)
        .get(
            sim.base_url + "/orgs/octo-org/copilot/metrics/reports/repos-1-day", params={"day": day}
        )
        .json()
    )
    lines = []
    for link in env["download_links"]:
        body = fetch(link).content
        if report_format == "ndjson-gzip":
            lines += [json.loads(x) for x in gzip.decompress(body).splitlines() if x.strip()]
        else:
            lines += json.loads(body)
    assert lines == sim.truth.report_lines("repos-1-day", "organization", "octo-org", day)


def test_every_documented_field_appears(make_simulator: Any) -> None:
    # Rare fields need a busy day: weekends as busy as weekdays, whatever the pinned weekday.
    sim = make_simulator(users_per_org=200, users_per_enterprise=200, weekend_activity=1.0)
    truth, day = sim.truth, yesterday(sim)
    users = truth.report_lines("users-1-day", "organization", "octo-org", day)
    official = example("reports/secondary/transcribed_example-schema_users-1-day_late2026.json")
    docs = example("reports/docs_example-schema_users-1-day_record.json")
    assert key_paths([official]) | key_paths(docs) <= key_paths(users)
    assert any(u["used_copilot_code_review_active"] is None for u in users)
    assert all(isinstance(u["ai_credits_used"], float) for u in users)

    _s, _e, (wrapper,) = truth.report_28_day("enterprise-28-day", "enterprise", "octo-ent")
    ent_example = example("usage-metrics-enterprise-level-28-day.example.json")["records"]
    assert key_paths(ent_example) <= key_paths([wrapper])
    teams = truth.report_lines("user-teams-1-day", "organization", "octo-org", day)
    team_example = example("reports/docs_team-level-metrics_organization_user_teams_1_day.ndjson")
    assert key_paths(team_example) <= key_paths(teams)
    repos = truth.report_lines("repos-1-day", "enterprise", "octo-ent", day)
    repo_example = example(
        "reports/secondary/transcribed_example-schema_repos-1-day_late2026.ndjson"
    )
    assert key_paths(repo_example) <= key_paths(repos)
    legacy = truth.legacy_metrics("enterprise", "octo-ent")
    assert key_paths(example("legacy-copilot-usage-metrics-for-day.json")) <= key_paths(legacy)
    seats = truth.seats("organization", "octo-org")
    assert key_paths(example("copilot-seats-list.json")["seats"]) <= key_paths(seats)


def test_seats_follow_link_header(simulator: Simulator) -> None:
    s = session(simulator)
    url: str | None = simulator.base_url + "/orgs/octo-org/copilot/billing/seats?per_page=10"
    seats, first = [], None
    while url:
        answer = s.get(url)
        first = first or answer
        seats += answer.json()["seats"]
        url = answer.links.get("next", {}).get("url")
    assert first is not None
    assert 'rel="last"' in first.headers["link"]
    assert first.json()["total_seats"] == len(seats) == simulator.settings.seats_per_org
    assert seats == simulator.truth.seats("organization", "octo-org")
    assert all(seat["assignee"]["login"] for seat in seats)


def test_fault_fires_exactly_times(simulator: Simulator) -> None:
    s = session(simulator)
    url = simulator.base_url + "/orgs/octo-org/copilot/billing"
    fault = simulator.faults.add(path=r"/copilot/billing$", kind="503", times=2, retry_after=3)
    statuses = [s.get(url).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert fault.hits == 2
    simulator.faults.add(path="billing", kind="secondary-403", retry_after=7)
    limited = s.get(url)
    assert (limited.status_code, limited.headers["retry-after"]) == (403, "7")
    assert "secondary rate limit" in limited.json()["message"]

    simulator.faults.add(path="billing", kind="drop")
    with pytest.raises(requests.ConnectionError):
        s.get(url)
    simulator.faults.add(path="billing", kind="truncate")
    with pytest.raises(requests.RequestException):
        s.get(url).json()
    assert s.get(url).status_code == 200
    log = simulator.requests
    assert [(r.status, r.fault) for r in log] == [
        (503, "503"),
        (503, "503"),
        (200, None),
        (403, "secondary-403"),
        (0, "drop"),
        (200, "truncate"),
        (200, None),
    ]
    assert log[0].path == "/orgs/octo-org/copilot/billing"
    assert log[0].headers["authorization"].startswith("Bearer ")


def test_faults_over_http_control_endpoint(simulator: Simulator) -> None:
    control = simulator.base_url + "/_simulator/faults"
    created = fetch(control, "POST", json={"path": "teams", "kind": "html", "times": 1})
    assert created.status_code == 201
    s = session(simulator)
    html = s.get(simulator.base_url + "/orgs/octo-org/teams")
    assert html.headers["content-type"].startswith("text/html")
    assert s.get(simulator.base_url + "/orgs/octo-org/teams").json()[0]["slug"]
    assert fetch(control, "DELETE").status_code == 204
    logged = fetch(simulator.base_url + "/_simulator/requests").json()
    assert [entry["status"] for entry in logged] == [200, 200]


def test_app_installation_tokens(make_simulator: Any, app_keypair: Any) -> None:
    sim = make_simulator(
        app_id=4242, app_public_key_pem=app_keypair.public_pem, app_installation_id=77
    )
    now = int(time.time())
    app_jwt = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": "4242"},
        app_keypair.private_pem,
        algorithm="RS256",
    )
    url = sim.base_url + "/app/installations/77/access_tokens"
    minted = fetch(url, "POST", headers={"Authorization": f"Bearer {app_jwt}"})
    assert minted.status_code == 201
    token = minted.json()["token"]
    assert token.startswith("ghs_")
    assert minted.json()["expires_at"].endswith("Z")
    assert session(sim, token).get(sim.base_url + "/orgs/acme/teams").status_code == 200
    assert len(sim.minted_tokens) == 1

    too_long = jwt.encode(
        {"iat": now, "exp": now + 3600, "iss": "4242"}, app_keypair.private_pem, algorithm="RS256"
    )
    assert fetch(url, "POST", headers={"Authorization": f"Bearer {too_long}"}).status_code == 401
    wrong_app = jwt.encode(
        {"iat": now, "exp": now + 300, "iss": "1"}, app_keypair.private_pem, algorithm="RS256"
    )
    assert fetch(url, "POST", headers={"Authorization": f"Bearer {wrong_app}"}).status_code == 401
    assert session(sim, app_jwt).get(sim.base_url + "/orgs/acme/teams").status_code == 401

    short = make_simulator(
        app_id=4242, app_public_key_pem=app_keypair.public_pem, installation_token_ttl_seconds=0
    )
    stale = fetch(
        short.base_url + "/app/installations/5/access_tokens",
        "POST",
        headers={"Authorization": f"Bearer {app_jwt}"},
    ).json()["token"]
    assert session(short, stale).get(short.base_url + "/orgs/acme/teams").status_code == 401


def test_stop_closes_keep_alive_connections(make_simulator: Any) -> None:
    sim = make_simulator()
    s = session(sim)
    for _ in range(3):
        assert s.get(sim.base_url + "/orgs/acme/teams").status_code == 200
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(requests.ConnectionError):
        s.get(sim.base_url + "/orgs/acme/teams", timeout=2)
