"""Bad input: settings refused before any request, and API bodies odd, valid or malformed.

Settings (the cases test_config.py does not cover): each is refused before any request with
one line naming the setting, without echoing a secret.

API bodies are property-based (Hypothesis). Bodies are generated from GitHub's own schemas
(tap_copilot_metrics/openapi/*.openapi.json, vendored from the shared reference) or, for report
files, which have no JSON schema, from GitHub's example records (the simulator's examples/): nulls
wherever allowed, absent fields, empty arrays, unknown extra fields, unicode text, huge numbers. The
simulator serves each body (its "body" fault) to the real tap over HTTP; the records must be
GitHub's values unchanged, plus the scope columns, and validate against the tap's own declared
schema (`tap.streams[name].schema`). Malformed bodies (an HTML page, JSON of the wrong type, a 200
with nothing in it) must end in one clear line, never a traceback.

hypothesis-jsonschema is not used for the generation: its latest release (0.23.1) drives
Hypothesis internals that Hypothesis 6.170 removed (`many.more()`), so it fails on every object
schema. `strategy_for` below covers the JSON Schema subset GitHub's descriptions use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.data import EXAMPLES_DIR
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

import tap_copilot_metrics
from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.reliability_support import (
    QUICK_RETRIES,
    assert_nothing_leaks,
    error_line,
    key_of,
    records,
    run_cli,
    run_sync,
    sentinel_token,
    tail,
    wait_for_tap_threads,
)
from tests.tap_runner import TapRun
from tests.truth import expected_seat_key

OPENAPI_DIR = Path(tap_copilot_metrics.__file__).parent / "openapi"
ORG, TEAM, ENTERPRISE = "octo-org", "octo-org/justice-league", "octo-ent"
PASSWORD_SENTINEL = "hunter2SENTINEL"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(
        token=sentinel_token(),
        organizations={ORG: ["justice-league", "avengers"]},
        enterprises=[ENTERPRISE],
        users_per_org=12,
        users_per_enterprise=20,
        seats_per_org=3,
        files_per_report=1,
    ) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _fresh(sim: Simulator) -> Iterator[None]:
    sim.faults.clear()
    sim.clear_requests()
    yield
    wait_for_tap_threads()


def base_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    """One organization (with a team) and one enterprise, yesterday only."""
    yesterday = sim.settings.today - dt.timedelta(days=1)
    return {
        "api_url": sim.base_url,
        "auth_token": sim.settings.token,
        "organizations": [ORG],
        "enterprises": [ENTERPRISE],
        "teams": [TEAM],
        "start_date": yesterday.isoformat(),
        **QUICK_RETRIES,
        **extra,
    }


# === settings ==================================================================================


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


# === API bodies: a JSON-schema subset as Hypothesis strategies =================================

KEPT_FORMATS = {"date", "date-time"}
#: Values of valid types that are odd: huge, negative, or at the edge of 64-bit integers.
HUGE_INTEGERS = st.sampled_from(
    [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 + 7, 10**30, -(2**63)]
)
INTEGERS = st.one_of(st.integers(min_value=0, max_value=10**6), HUGE_INTEGERS, st.integers())
NUMBERS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), INTEGERS)
UNICODE = st.one_of(
    st.text(max_size=16),
    st.sampled_from(["", " ", "Zoë 🚀", "名前", "مرحبا", "a\u0000b", "\u200b", "x" * 300]),
)
ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), INTEGERS, NUMBERS, UNICODE),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(UNICODE, inner, max_size=2),
    max_leaves=4,
)
#: Names of fields GitHub may add tomorrow (never one the tap or GitHub uses today).
NEW_FIELD = st.text(min_size=1, max_size=10).map(lambda s: f"x_new_{s}")


def load_spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((OPENAPI_DIR / name).read_text())
    return spec


def resolved(spec: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """A schema with `$ref`s inlined, OpenAPI `nullable` as a "null" type, `oneOf` as `anyOf`
    (GitHub's data may match several), and only the keywords the generator reads."""
    if isinstance(node, list):
        return [resolved(spec, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            return {}
        target = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved(
            spec, {**target, **{k: v for k, v in node.items() if k != "$ref"}}, (*seen, ref)
        )
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: resolved(spec, sub, seen) for name, sub in value.items()}
        elif key in ("items", "anyOf", "additionalProperties"):
            out[key] = resolved(spec, value, seen)
        elif key == "oneOf":
            out["anyOf"] = resolved(spec, value, seen)
        elif (key == "format" and value in KEPT_FORMATS) or key in ("type", "required", "enum"):
            out[key] = value
    if node.get("nullable"):
        kinds = out.get("type")
        out["type"] = [*([kinds] if isinstance(kinds, str) else kinds or []), "null"]
    return out


def strategy_for(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values valid for `schema`, leaning on the odd ones.

    Nesting is kept small (GitHub's day objects are five arrays deep): arrays hold at most two
    items near the top and one further down, and new fields appear on the outer two levels.
    """
    if "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return st.one_of(*(strategy_for({**rest, **option}, depth) for option in schema["anyOf"]))
    kinds = schema.get("type")
    if kinds is None:
        kinds = ["object"] if "properties" in schema else []
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not kinds:
        return ANY_JSON
    options = []
    for kind in kinds:
        if kind == "null":
            options.append(st.none())
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "integer":
            options.append(INTEGERS)
        elif kind == "number":
            options.append(NUMBERS)
        elif kind == "string":
            options.append(string_strategy(schema))
        elif kind == "array":
            items = strategy_for(schema.get("items", {}), depth + 1)
            options.append(st.lists(items, max_size=2 if depth < 2 else 1))
        elif kind == "object":
            options.append(object_strategy(schema, depth))
    return st.one_of(*options)


def string_strategy(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date":
        return st.dates().map(dt.date.isoformat)
    if schema.get("format") == "date-time":
        return st.datetimes(timezones=st.just(dt.UTC)).map(
            lambda moment: moment.isoformat().replace("+00:00", "Z")
        )
    if schema.get("enum"):
        # GitHub adds values to its enums; the tap must pass a new one through.
        return st.one_of(st.sampled_from(schema["enum"]), UNICODE)
    return UNICODE


def object_strategy(schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Required properties always, the others sometimes, plus fields GitHub may add."""
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {
            name: strategy_for(sub, depth + 1)
            for name, sub in properties.items()
            if name in required
        },
        optional={
            name: strategy_for(sub, depth + 1)
            for name, sub in properties.items()
            if name not in required
        },
    )
    if schema.get("additionalProperties") is False or depth > 1:
        return fixed
    extra = st.dictionaries(NEW_FIELD, ANY_JSON, max_size=2)
    return st.builds(lambda known, new: {**new, **known}, fixed, extra)


def odd_like(example: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like a GitHub example record: each field kept, made odd, null or absent."""
    if isinstance(example, dict):
        fields = {name: odd_like(value, depth + 1) for name, value in example.items()}
        known = st.fixed_dictionaries({}, optional=fields)
        if depth > 1:
            return known
        return st.builds(
            lambda kept, new: {**new, **kept},
            known,
            st.dictionaries(NEW_FIELD, ANY_JSON, max_size=2),
        )
    if isinstance(example, list):
        if not example:  # nothing says what its items look like
            return st.just([])
        items = [odd_like(item, depth + 1) for item in example[:3]]
        return st.lists(st.one_of(*items), max_size=2 if depth < 2 else 1)
    if isinstance(example, bool):
        return st.one_of(st.booleans(), st.none())
    if isinstance(example, int):
        return st.one_of(INTEGERS, st.none())
    if isinstance(example, float):
        return st.one_of(NUMBERS, st.none())
    if isinstance(example, str):
        return st.one_of(st.just(example), UNICODE, st.none())
    return st.none()  # a null in the example says nothing about the field's type


LEGACY = load_spec("legacy-metrics.openapi.json")
REPORTS = load_spec("usage-reports.openapi.json")


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = resolved(spec, {"$ref": f"#/components/schemas/{name}"})
    return schema


def response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema: dict[str, Any] = resolved(spec, content["schema"])
    return schema


def example_records(name: str) -> list[dict[str, Any]]:
    path = EXAMPLES_DIR / name
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    data = json.loads(path.read_text())
    found = data.get("records", data) if isinstance(data, dict) else data
    return found if isinstance(found, list) else [found]


def assert_valid_for_the_tap(stream: str, found: list[dict[str, Any]]) -> None:
    """Every record validates against the schema the tap declares for the stream."""
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    schema = tap.streams[stream].schema
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    for record in found:
        errors = [
            f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(record)
        ]
        assert not errors, (stream, errors[:5])


#: Each example is a run of the tap (0.1-0.3 s). No shrinking: on a failure it would re-run the
#: tap hundreds of times; the failing example is reported as generated.
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


def serve(sim: Simulator, path: str, **body: Any) -> None:
    """The simulator answers every request to `path` with this body (until cleared)."""
    sim.faults.clear()
    sim.clear_requests()
    sim.faults.add(path=path, kind="body", times=None, **body)


def sync(config: dict[str, Any], stream: str) -> TapRun:
    run = run_sync(config, streams=[stream])
    wait_for_tap_threads()
    return run


# --- the legacy metrics API and the teams list --------------------------------------------------

DAY_SCHEMA = component(LEGACY, "copilot-usage-metrics-day")
TEAM_SCHEMA = component(LEGACY, "team")


@PROPERTY_SETTINGS
@given(days=st.lists(strategy_for(DAY_SCHEMA), max_size=4), data=st.data())
def test_odd_but_valid_metrics_days_reach_the_output_unchanged(
    sim: Simulator, days: list[dict[str, Any]], data: st.DataObject
) -> None:
    window = [(sim.settings.today - dt.timedelta(days=n)).isoformat() for n in range(1, 5)]
    dates = data.draw(
        st.lists(st.sampled_from(window), min_size=len(days), max_size=len(days), unique=True)
    )
    body = [{**day, "date": date} for day, date in zip(days, dates, strict=True)]
    serve(sim, rf"^/orgs/{ORG}/copilot/metrics$", json=body)
    config = base_config(sim, teams=[], enterprises=[], start_date=window[-1])

    found = records(sync(config, "copilot_metrics").messages, "copilot_metrics")

    want = [{"scope": "organization", "scope_name": ORG, **day} for day in body]
    assert found == sorted(want, key=lambda record: record["date"])
    assert_valid_for_the_tap("copilot_metrics", found)


@PROPERTY_SETTINGS
@given(teams=st.lists(strategy_for(TEAM_SCHEMA), max_size=3))
def test_odd_but_valid_team_lists_expand_to_the_named_teams(
    sim: Simulator, teams: list[dict[str, Any]]
) -> None:
    """`org/*`: whatever else a team object holds, its `slug` names the team to read."""
    slugs = ["justice-league", "avengers"]
    body = [{**team, "slug": slugs[i % 2]} for i, team in enumerate(teams)]
    serve(sim, rf"^/orgs/{ORG}/teams$", json=body)
    config = base_config(sim, enterprises=[], teams=[f"{ORG}/*"])

    found = records(sync(config, "copilot_metrics").messages, "copilot_metrics")

    asked = {r.path for r in sim.requests if "/team/" in r.path}
    assert asked == {f"/orgs/{ORG}/team/{team['slug']}/copilot/metrics" for team in body}
    assert {r["scope_name"] for r in found if r["scope"] == "team"} <= {
        f"{ORG}/{team['slug']}" for team in body
    }
    assert_valid_for_the_tap("copilot_metrics", found)


# --- seats and billing --------------------------------------------------------------------------

SEATS_SCHEMA = response_schema(REPORTS, "/orgs/{org}/copilot/billing/seats")
BILLING_SCHEMA = component(REPORTS, "copilot-organization-details")


@PROPERTY_SETTINGS
@given(body=strategy_for(SEATS_SCHEMA))
def test_odd_but_valid_seat_lists_reach_the_output_unchanged(
    sim: Simulator, body: dict[str, Any]
) -> None:
    seats, keys = [], set()
    for index, seat in enumerate(body.get("seats") or []):
        if isinstance(seat.get("assignee"), dict):
            # GitHub's logins are unique; hypothesis' are not.
            seat = {
                **seat,
                "assignee": {
                    **seat["assignee"],
                    "login": f"u{index}-{seat['assignee'].get('login')}",
                },
            }
        if expected_seat_key(seat) not in keys:
            keys.add(expected_seat_key(seat))
            seats.append(seat)
    body = {**body, "seats": seats}
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json=body)
    config = base_config(sim, enterprises=[], teams=[])

    found = records(sync(config, "copilot_seats").messages, "copilot_seats")

    want = [
        {"scope": "organization", "scope_name": ORG, "seat_key": expected_seat_key(seat), **seat}
        for seat in seats
    ]
    assert found == want
    assert_valid_for_the_tap("copilot_seats", found)


SEAT_COLUMNS = {"scope", "scope_name", "seat_key"}


def _unassigned_seat(**fields: Any) -> dict[str, Any]:
    """A seat whose user no longer exists, granted with its team's other members."""
    return {
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T09:00:00Z",
        "pending_cancellation_date": None,
        "last_activity_at": None,
        "last_activity_editor": None,
        "last_authenticated_at": None,
        "plan_type": "business",
        "assignee": None,
        "assigning_team": {"id": 7, "slug": "justice-league", "name": "Justice League"},
        **fields,
    }


def test_unassigned_seats_granted_in_the_same_second_keep_distinct_stable_keys(
    sim: Simulator,
) -> None:
    seats = [
        _unassigned_seat(
            last_activity_at="2026-04-01T10:00:00Z",
            last_activity_editor="vscode/1.98.0/copilot-chat/0.25.0",
            last_authenticated_at="2026-04-01T09:00:00Z",
        ),
        _unassigned_seat(
            last_activity_at="2026-04-03T16:30:00Z",
            last_activity_editor="JetBrains-IC/2024.3/copilot-intellij/1.5.30",
            last_authenticated_at="2026-04-03T16:00:00Z",
        ),
        _unassigned_seat(assigning_team=None),  # granted directly, never used
    ]
    config = base_config(sim, enterprises=[], teams=[])
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json={"total_seats": 3, "seats": seats})

    found = records(sync(config, "copilot_seats").messages, "copilot_seats")

    assert [{k: v for k, v in r.items() if k not in SEAT_COLUMNS} for r in found] == seats
    keys = [r["seat_key"] for r in found]
    assert len(set(keys)) == 3
    assert all(key.startswith("unassigned:2026-03-02T09:00:00Z:") for key in keys)
    assert keys == [expected_seat_key(seat) for seat in seats]

    # The next run: the seats were cancelled, the plan changed, the team renamed. Same seats,
    # same keys.
    changed = [
        {
            **seat,
            "pending_cancellation_date": "2026-05-01",
            "plan_type": "enterprise",
            "assigning_team": seat["assigning_team"]
            and {**seat["assigning_team"], "slug": "jla", "name": "JLA"},
        }
        for seat in seats
    ]
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json={"total_seats": 3, "seats": changed})
    again = records(sync(config, "copilot_seats").messages, "copilot_seats")
    assert [r["seat_key"] for r in again] == keys


@PROPERTY_SETTINGS
@given(body=strategy_for(BILLING_SCHEMA))
def test_odd_but_valid_billing_details_reach_the_output_unchanged(
    sim: Simulator, body: dict[str, Any]
) -> None:
    serve(sim, rf"^/orgs/{ORG}/copilot/billing$", json=body)
    config = base_config(sim, enterprises=[], teams=[])

    found = records(sync(config, "copilot_billing").messages, "copilot_billing")

    assert found == [{"scope": "organization", "scope_name": ORG, **body}]
    assert_valid_for_the_tap("copilot_billing", found)


# --- the reports API: envelopes and files --------------------------------------------------------

ENVELOPE_SCHEMA = component(REPORTS, "copilot-usage-metrics-1-day-report")
USERS = "copilot_user_usage_daily"


@pytest.fixture(scope="module")
def users_day(sim: Simulator) -> tuple[dt.date, list[str], list[dict[str, Any]]]:
    """Yesterday's users report of the organization: its links, and its records."""
    day = sim.settings.today - dt.timedelta(days=1)
    answer = requests.get(
        f"{sim.base_url}/orgs/{ORG}/copilot/metrics/reports/users-1-day",
        params={"day": day.isoformat()},
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    lines = sim.truth.report_lines("users-1-day", "organization", ORG, day)
    want = [{"scope": "organization", "scope_name": ORG, **line} for line in lines]
    return day, answer.json()["download_links"], want


@PROPERTY_SETTINGS
@given(envelope=strategy_for(ENVELOPE_SCHEMA))
def test_odd_but_valid_report_envelopes_lead_to_the_files(
    sim: Simulator,
    users_day: tuple[dt.date, list[str], list[dict[str, Any]]],
    envelope: dict[str, Any],
) -> None:
    """Whatever else the envelope says (report_day, new fields), its links are what counts."""
    day, links, want = users_day
    serve(sim, r"/copilot/metrics/reports/users-1-day$", json={**envelope, "download_links": links})
    config = base_config(sim, enterprises=[], teams=[], start_date=day.isoformat())

    run = sync(config, USERS)

    assert records(run.messages, USERS) == want


LATEST_ENVELOPE_SCHEMA = component(REPORTS, "copilot-usage-metrics-28-day-report")


@pytest.fixture(scope="module")
def users_backfill(sim: Simulator) -> tuple[dt.date, dict[str, Any], list[dict[str, Any]]]:
    """The organization's latest users-28-day envelope, and ten days of users records."""
    first = sim.settings.today - dt.timedelta(days=10)
    answer = requests.get(
        f"{sim.base_url}/orgs/{ORG}/copilot/metrics/reports/users-28-day/latest",
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    want = [
        {"scope": "organization", "scope_name": ORG, **line}
        for n in range(10, 0, -1)
        for line in sim.truth.report_lines(
            "users-1-day", "organization", ORG, sim.settings.today - dt.timedelta(days=n)
        )
    ]
    return first, answer.json(), want


@PROPERTY_SETTINGS
@given(envelope=strategy_for(LATEST_ENVELOPE_SCHEMA))
def test_odd_but_valid_28_day_envelopes_lead_to_the_same_records(
    sim: Simulator,
    users_backfill: tuple[dt.date, dict[str, Any], list[dict[str, Any]]],
    envelope: dict[str, Any],
) -> None:
    """A backfill reads the 28-day report; new fields in its envelope change nothing (its
    links and window are GitHub's own: a window that lied about the files is out of scope)."""
    first, real, want = users_backfill
    fields = ("download_links", "report_start_day", "report_end_day")
    serve(
        sim,
        r"/copilot/metrics/reports/users-28-day/latest$",
        json={**envelope, **{field: real[field] for field in fields}},
    )
    config = base_config(sim, enterprises=[], teams=[], start_date=first.isoformat())

    run = sync(config, USERS)

    assert any(r.path.endswith("/users-28-day/latest") for r in sim.requests)
    assert sorted(records(run.messages, USERS), key=lambda r: (r["day"], r["user_id"])) == sorted(
        want, key=lambda r: (r["day"], r["user_id"])
    )


#: stream -> (report file examples, key fields the generator keeps valid and unique)
FILE_CASES: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]] = {
    "copilot_usage_daily": (
        [
            {**total, "organization_id": "2002"}
            for record in example_records("usage-metrics-enterprise-level-28-day.example.json")
            for total in record["day_totals"]
        ],
        (),
    ),
    USERS: (
        example_records("usage-metrics-user-level-records.example.json")
        + example_records("reports/secondary/transcribed_example-schema_users-1-day_late2026.json"),
        ("user_id",),
    ),
    "copilot_user_teams_daily": (
        example_records("reports/docs_team-level-metrics_organization_user_teams_1_day.ndjson"),
        ("user_id", "team_id"),
    ),
    "copilot_repository_usage_daily": (
        example_records("reports/secondary/transcribed_example-schema_repos-1-day_late2026.ndjson"),
        ("repo_id",),
    ),
}


def file_lines(stream: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lines of one report file: odd versions of GitHub's examples, keys valid and unique."""
    examples, keys = FILE_CASES[stream]
    line = st.one_of(
        *(odd_like({k: v for k, v in ex.items() if k not in ("day", *keys)}) for ex in examples)
    )
    most = 1 if stream == "copilot_usage_daily" else 4  # one line per day for day totals
    return st.lists(line, min_size=1, max_size=most)


def numbered(
    lines: list[dict[str, Any]], keys: tuple[str, ...], day: str, first: int
) -> list[dict[str, Any]]:
    """Each line with the report's day and unique ids (from `first`, possibly huge)."""
    return [
        {**line, "day": day, **{key: first + i for key in keys}} for i, line in enumerate(lines)
    ]


def as_file(lines: list[dict[str, Any]], style: str) -> str:
    if style == "json-array":
        return json.dumps(lines)
    separator = {"ndjson": "\n", "crlf": "\r\n", "blank-lines": "\n\n"}[style]
    return separator.join(json.dumps(line, ensure_ascii=False) for line in lines) + separator


@pytest.mark.parametrize("stream", list(FILE_CASES))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_odd_but_valid_report_files_reach_the_output_unchanged(
    sim: Simulator, stream: str, data: st.DataObject
) -> None:
    day = (sim.settings.today - dt.timedelta(days=1)).isoformat()
    keys = FILE_CASES[stream][1]
    lines = numbered(
        data.draw(file_lines(stream)), keys, day, data.draw(INTEGERS.filter(lambda n: n >= 0))
    )
    style = data.draw(st.sampled_from(["ndjson", "crlf", "blank-lines", "json-array"]))
    serve(sim, r"^/_downloads/", raw=as_file(lines, style))
    config = base_config(sim, enterprises=[], teams=[], start_date=day)

    found = records(sync(config, stream).messages, stream)

    assert found == [{"scope": "organization", "scope_name": ORG, **line} for line in lines]
    assert len({key_of(stream, record) for record in found}) == len(found)
    assert_valid_for_the_tap(stream, found)


def test_an_empty_report_file_is_a_file_without_rows(sim: Simulator, tmp_path: Path) -> None:
    """A 0-byte file from the download host is valid NDJSON with no lines (a report split into
    several files can have an empty one): no records, and the day counts as read."""
    serve(sim, r"^/_downloads/", raw="")
    config = base_config(sim, enterprises=[], teams=[])

    run = run_cli(config, tmp_path, streams=[USERS])

    assert run.exit_code == 0, tail(run.stderr)
    assert records(run.messages, USERS) == []
    assert (
        run.final_state["bookmarks"][USERS]["partitions"][0]["replication_key_value"]
        == config["start_date"]
    )


# === malformed bodies: one clear line, never a traceback =======================================

#: endpoint -> (path, stream, extra config)
BODY_ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "metrics": (rf"^/orgs/{ORG}/copilot/metrics$", "copilot_metrics", {"teams": []}),
    "teams-list": (rf"^/orgs/{ORG}/teams$", "copilot_metrics", {"teams": [f"{ORG}/*"]}),
    "report-call": (r"/copilot/metrics/reports/users-1-day$", USERS, {}),
    "report-download": (r"^/_downloads/", USERS, {}),
    "seats": (rf"^/orgs/{ORG}/copilot/billing/seats$", "copilot_seats", {}),
    "billing": (rf"^/orgs/{ORG}/copilot/billing$", "copilot_billing", {}),
}
#: name -> (fault kind, params): answers that are wrong for every endpoint, on every try.
MALFORMED: dict[str, tuple[str, dict[str, Any]]] = {
    "html-error-page": ("html", {}),
    "json-of-the-wrong-type": ("wrong-type", {}),
    "json-null": ("body", {"json": None}),
    "a-bare-number": ("body", {"json": 42}),
    "200-with-an-empty-body": ("empty", {}),
}
#: What each malformed answer must say, beyond naming where (by default: the endpoint retried
#: it until the budget, or refused its shape).
NOT_AN_ERROR = {("report-download", "200-with-an-empty-body")}  # see the test above


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        pytest.param(endpoint, name, id=f"{endpoint}-{name}")
        for endpoint in BODY_ENDPOINTS
        for name in MALFORMED
        if (endpoint, name) not in NOT_AN_ERROR
    ],
)
def test_a_malformed_body_is_one_clear_line(
    sim: Simulator, tmp_path: Path, endpoint: str, name: str
) -> None:
    path, stream, extra = BODY_ENDPOINTS[endpoint]
    kind, params = MALFORMED[name]
    sim.faults.add(path=path, kind=kind, times=None, **params)
    config = base_config(sim, retry_max_elapsed_seconds=0.3, **extra)

    run = run_cli(config, tmp_path, streams=[stream])

    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    assert len(line) > 40, line
    assert any(word in line for word in (ORG, ENTERPRISE, "API", "report")), line
    assert_nothing_leaks(run, [sim.settings.token])


#: Wrong shapes inside otherwise well-formed JSON; the third item is how each one failed
#: before the tap checked for it (a traceback, or data dropped without a word).
INNER_SHAPES: dict[str, tuple[str, dict[str, Any], str]] = {
    "metrics-array-of-numbers": (
        "metrics",
        {"json": [1, "x"]},
        "metrics.py get_records: a day that is not an object raises AttributeError",
    ),
    "teams-list-entry-without-slug": (
        "teams-list",
        {"json": [{"name": "Justice League", "id": 1}]},
        "metrics.py teams_of: a team without `slug` raises KeyError",
    ),
    "seats-array-of-numbers": (
        "seats",
        {"json": {"total_seats": 1, "seats": [1]}},
        "billing.py: a seat that is not an object raises AttributeError in seat_key/post_process",
    ),
    "report-link-that-is-not-a-url": (
        "report-call",
        {"json": {"download_links": ["not a url?sig=SENTINELSIG"], "report_day": "2025-01-01"}},
        "downloads.py: requests' InvalidURL/MissingSchema escape as a traceback that quotes "
        "the link (a signed URL is a credential)",
    ),
    "report-line-with-day-totals-not-a-list": (
        "report-download",
        {"raw": '{"user_id": 1, "day_totals": 5}'},
        "reports.py rows_of: expand_day_totals' ReportFileError is not turned into "
        "ReportUnreadable, so it escapes main() as a traceback",
    ),
}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        pytest.param(endpoint, body, id=name)
        for name, (endpoint, body, _was_a_bug) in INNER_SHAPES.items()
    ],
)
def test_a_wrong_shape_inside_a_body_is_one_clear_line(
    sim: Simulator, tmp_path: Path, endpoint: str, body: dict[str, Any]
) -> None:
    path, stream, extra = BODY_ENDPOINTS[endpoint]
    sim.faults.add(path=path, kind="body", times=None, **body)

    run = run_cli(base_config(sim, **extra), tmp_path, streams=[stream])

    assert run.exit_code == 1
    error_line(run.stderr)
    assert_nothing_leaks(run, [sim.settings.token, "SENTINELSIG"])


def test_a_metrics_day_without_a_date_is_not_dropped_silently(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(
        path=BODY_ENDPOINTS["metrics"][0], kind="body", times=None, json=[{"total_active_users": 7}]
    )

    run = run_cli(base_config(sim, teams=[]), tmp_path, streams=["copilot_metrics"])

    assert run.exit_code == 1
    assert "date" in error_line(run.stderr)


def test_a_team_slug_from_the_api_cannot_reach_another_endpoint(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(
        path=BODY_ENDPOINTS["teams-list"][0], kind="body", times=None, json=[{"slug": "../../acme"}]
    )

    run = run_cli(base_config(sim, teams=[f"{ORG}/*"]), tmp_path, streams=["copilot_metrics"])

    assert not [r.path for r in sim.requests if not r.path.startswith(f"/orgs/{ORG}/")]
    assert run.exit_code == 1
    assert "slug" in error_line(run.stderr)


def test_property_tests_ran_against_the_tap_schemas(sim: Simulator) -> None:
    """Guard: the streams the property tests validate exist with the declared keys."""
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    for stream in ("copilot_metrics", "copilot_seats", "copilot_billing", *FILE_CASES):
        assert stream in tap.streams
        assert set(tap.streams[stream].primary_keys) <= set(
            tap.streams[stream].schema["properties"]
        )
