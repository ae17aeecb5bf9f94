"""Stream schemas against GitHub's own example bodies and the rules of docs/streams.md.

The examples are the simulator's (devkit/copilot_devkit/simulator/examples, see its README). For
each example record (with the columns the tap adds), the record must validate (Draft 7, formats
checked) and every field at every nesting level must be declared, so nothing is lost when a target
flattens.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator.data import EXAMPLES_DIR
from jsonschema import Draft7Validator, FormatChecker
from singer_sdk.helpers._flattening import flatten_record, flatten_schema
from singer_sdk.schema.source import OpenAPISchema

from tap_copilot_metrics.reportfiles import expand_day_totals
from tap_copilot_metrics.schemas import (
    COPILOT_AI_CREDIT_USAGE_SCHEMA,
    COPILOT_BILLING_SCHEMA,
    COPILOT_METRICS_SCHEMA,
    COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA,
    COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA,
    COPILOT_SEATS_SCHEMA,
    COPILOT_USAGE_DAILY_SCHEMA,
    COPILOT_USER_TEAMS_DAILY_SCHEMA,
    COPILOT_USER_USAGE_DAILY_SCHEMA,
)
from tap_copilot_metrics.schemas.openapi import SingerNormalizer
from tests.report_support import REPORT_STREAMS

EXAMPLES = EXAMPLES_DIR
OPENAPI = Path(__file__).parent.parent / "tap_copilot_metrics" / "openapi"

SCHEMAS: dict[str, dict[str, Any]] = {
    "copilot_metrics": COPILOT_METRICS_SCHEMA,
    "copilot_usage_daily": COPILOT_USAGE_DAILY_SCHEMA,
    "copilot_user_usage_daily": COPILOT_USER_USAGE_DAILY_SCHEMA,
    "copilot_user_teams_daily": COPILOT_USER_TEAMS_DAILY_SCHEMA,
    "copilot_repository_usage_daily": COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA,
    "copilot_seats": COPILOT_SEATS_SCHEMA,
    "copilot_billing": COPILOT_BILLING_SCHEMA,
    "copilot_ai_credit_usage": COPILOT_AI_CREDIT_USAGE_SCHEMA,
    "copilot_premium_request_usage": COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA,
}
# docs/streams.md: the keys
KEYS: dict[str, tuple[str, ...]] = {
    "copilot_metrics": ("scope", "scope_name", "date"),
    "copilot_usage_daily": ("scope", "scope_name", "day"),
    "copilot_user_usage_daily": ("scope", "scope_name", "day", "user_id"),
    "copilot_user_teams_daily": ("scope", "scope_name", "day", "user_id", "team_id"),
    "copilot_repository_usage_daily": ("scope", "scope_name", "day", "repo_id"),
    "copilot_seats": ("scope", "scope_name", "seat_key"),
    "copilot_billing": ("scope", "scope_name"),
    "copilot_ai_credit_usage": ("scope", "scope_name", "day", "product", "sku", "model"),
    "copilot_premium_request_usage": ("scope", "scope_name", "day", "product", "sku", "model"),
}

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    # jsonschema only checks date-time when rfc3339-validator is installed; check it here.
    if not isinstance(value, str):
        return True
    parsed = datetime.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value.upper()


# --- loading the examples -------------------------------------------------------------------


def _json(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _ndjson(name: str) -> list[dict[str, Any]]:
    lines = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _scoped(record: dict[str, Any], scope: str = "enterprise", name: str = "octo-ent") -> dict:
    return {"scope": scope, "scope_name": name, **record}


def _day_rows(wrappers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for wrapper in wrappers:
        rows.extend(_scoped(row) for row in expand_day_totals(wrapper))
    return rows


def _seat_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for seat in _json("copilot-seats-list.json")["seats"]:
        seat_key = seat["assignee"]["login"]
        rows.append(
            {"scope": "organization", "scope_name": "octo-org", "seat_key": seat_key, **seat}
        )
    return rows


def _example_cases() -> list[Any]:
    cases: list[Any] = []

    def add(stream: str, label: str, records: list[dict[str, Any]]) -> None:
        assert records, label
        for i, record in enumerate(records):
            cases.append(pytest.param(stream, record, id=f"{stream}-{label}-{i}"))

    legacy = _json("legacy-copilot-usage-metrics-for-day.json")
    add("copilot_metrics", "legacy-day", [_scoped(d, "organization", "octo-org") for d in legacy])

    add(
        "copilot_user_usage_daily",
        "users-json",
        [_scoped(r) for r in _json("usage-metrics-user-level-records.example.json")["records"]],
    )
    add(
        "copilot_user_usage_daily",
        "users-ndjson",
        [_scoped(r) for r in _ndjson("usage-metrics-user-level-records.example.ndjson")],
    )
    add(
        "copilot_user_usage_daily",
        "users-docs",
        [_scoped(r) for r in _json("reports/docs_example-schema_users-1-day_record.json")],
    )
    add(
        "copilot_user_usage_daily",
        "users-late2026",
        [_scoped(_json("reports/secondary/transcribed_example-schema_users-1-day_late2026.json"))],
    )

    add(
        "copilot_usage_daily",
        "enterprise-28-day-json",
        _day_rows(_json("usage-metrics-enterprise-level-28-day.example.json")["records"]),
    )
    add(
        "copilot_usage_daily",
        "enterprise-28-day-ndjson",
        _day_rows(_ndjson("usage-metrics-enterprise-level-28-day.example.ndjson")),
    )
    for rev in ("0afe69c", "66e9f1d"):
        wrappers = _json(f"reports/docs_example-schema_enterprise-28-day_{rev}.json")
        add("copilot_usage_daily", f"enterprise-28-day-{rev}", _day_rows(wrappers))
        # a 1-day line is a bare day_totals element
        elements = [_scoped(e) for w in wrappers for e in w["day_totals"]]
        add("copilot_usage_daily", f"enterprise-1-day-{rev}", elements)

    add(
        "copilot_user_teams_daily",
        "user-teams",
        [
            _scoped(r, "organization", "octo-org")
            for r in _ndjson("reports/docs_team-level-metrics_organization_user_teams_1_day.ndjson")
        ],
    )
    add(
        "copilot_repository_usage_daily",
        "repos-late2026",
        [
            _scoped(r)
            for r in _ndjson(
                "reports/secondary/transcribed_example-schema_repos-1-day_late2026.ndjson"
            )
        ],
    )
    add("copilot_seats", "seats", _seat_rows())
    add(
        "copilot_billing",
        "org-details",
        [_scoped(_json("copilot-organization-details.json"), "organization", "octo-org")],
    )
    # Billing usage: one record per usage item, with the day asked for.
    observed = "billing/third-party/org-ai-credit-usage.observed-go-github-issue-4262.json"
    for stream, name in (
        ("copilot_ai_credit_usage", "billing/org-ai-credit-usage.200.json"),
        ("copilot_ai_credit_usage", "billing/enterprise-ai-credit-usage.200.json"),
        ("copilot_ai_credit_usage", observed),
        ("copilot_premium_request_usage", "billing/org-premium-request-usage.200.json"),
        ("copilot_premium_request_usage", "billing/enterprise-premium-request-usage.200.json"),
    ):
        items = _json(name)["usageItems"]
        add(stream, name.rsplit("/", 1)[-1], [_scoped({"day": "2026-06-01", **i}) for i in items])
    return cases


EXAMPLE_CASES = _example_cases()


# --- schema walkers (independent of the code under test) -----------------------------------


def _types(schema: dict[str, Any]) -> list[str]:
    raw = schema.get("type", [])
    return [raw] if isinstance(raw, str) else list(raw)


def _undeclared(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every field of ``value`` missing from ``schema``, at any depth (arrays included)."""
    missing: list[str] = []
    if isinstance(value, dict):
        assert "object" in _types(schema), f"{path} is an object, schema says {_types(schema)}"
        properties = schema.get("properties", {})
        for name, child in value.items():
            if name not in properties:
                missing.append(f"{path}.{name}")
            else:
                missing.extend(_undeclared(child, properties[name], f"{path}.{name}"))
    elif isinstance(value, list):
        assert "array" in _types(schema), f"{path} is an array, schema says {_types(schema)}"
        for i, element in enumerate(value):
            missing.extend(_undeclared(element, schema["items"], f"{path}[{i}]"))
    return missing


def _object_nodes(schema: dict[str, Any], path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    nodes = []
    if "object" in _types(schema):
        nodes.append((path, schema))
        for name, child in schema.get("properties", {}).items():
            nodes.extend(_object_nodes(child, f"{path}.{name}"))
    if "array" in _types(schema):
        nodes.extend(_object_nodes(schema["items"], f"{path}[]"))
    return nodes


def _properties(schema: dict[str, Any], path: str = "$") -> list[tuple[str, str, dict]]:
    """(path, name, schema) of every property at every level."""
    found = []
    for name, child in schema.get("properties", {}).items():
        found.append((path, name, child))
        found.extend(_properties(child, f"{path}.{name}"))
    if "items" in schema:
        found.extend(_properties(schema["items"], f"{path}[]"))
    return found


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = []
    if isinstance(value, dict):
        for name, child in value.items():
            paths.append((*path, name))
            paths.extend(_leaf_paths(child, (*path, name)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            paths.extend(_leaf_paths(child, (*path, i)))
    return paths


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=FORMATS)


# --- the examples --------------------------------------------------------------------------


@pytest.mark.parametrize(("stream", "record"), EXAMPLE_CASES)
def test_example_validates(stream: str, record: dict[str, Any]) -> None:
    errors = sorted(_validator(SCHEMAS[stream]).iter_errors(record), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(("stream", "record"), EXAMPLE_CASES)
def test_example_fields_all_declared(stream: str, record: dict[str, Any]) -> None:
    schema = SCHEMAS[stream]
    assert _undeclared(record, schema) == []
    # What a flattening target does (SDK flattening, deep): no key without a column.
    flat_schema = flatten_schema(schema, max_level=20)
    flat_record = flatten_record(record, flat_schema, max_level=20)
    columns = set(flat_schema["properties"])
    for name, value in flat_record.items():
        if name in columns:
            continue
        # The SDK keeps a null object as one key; its declared sub-columns simply stay null.
        assert value is None, f"{name} has no column"
        assert any(column.startswith(f"{name}__") for column in columns), name


@pytest.mark.parametrize(("stream", "record"), EXAMPLE_CASES)
def test_example_nulls_accepted_everywhere_but_keys(stream: str, record: dict[str, Any]) -> None:
    """Null any one non-key field of the example, at any depth: the record stays valid."""
    validator = _validator(SCHEMAS[stream])
    for path in _leaf_paths(record):
        if len(path) == 1 and path[0] in KEYS[stream]:
            continue
        if isinstance(path[-1], int):
            continue  # array elements are not properties
        nulled = copy.deepcopy(record)
        target = nulled
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = None
        errors = [e.message for e in validator.iter_errors(nulled)]
        assert not errors, (path, errors)


def test_examples_cover_every_stream() -> None:
    assert {case.values[0] for case in EXAMPLE_CASES} == set(SCHEMAS)


def test_enterprise_28_day_rows_use_every_day_totals_element() -> None:
    wrappers = _json("reports/docs_example-schema_enterprise-28-day_0afe69c.json")
    rows = _day_rows(wrappers)
    assert len(rows) == sum(len(w["day_totals"]) for w in wrappers)
    assert [r["report_start_day"] for r in rows] == ["2025-09-04"] * len(rows)


# --- structural rules ----------------------------------------------------------------------


@pytest.mark.parametrize("stream", SCHEMAS)
def test_schema_is_valid_draft7(stream: str) -> None:
    Draft7Validator.check_schema(SCHEMAS[stream])
    json.dumps(SCHEMAS[stream])  # plain data, serialisable into a Singer SCHEMA message


@pytest.mark.parametrize("stream", SCHEMAS)
def test_every_object_declares_properties_and_stays_open(stream: str) -> None:
    nodes = _object_nodes(SCHEMAS[stream])
    assert nodes
    for path, node in nodes:
        assert node.get("properties"), f"{stream}: {path} declares no properties"
        assert node.get("additionalProperties") is True, f"{stream}: {path} is closed"


@pytest.mark.parametrize("stream", SCHEMAS)
def test_keys_non_null_everything_else_nullable(stream: str) -> None:
    schema = SCHEMAS[stream]
    keys = KEYS[stream]
    assert schema["type"] in ("object", ["object"])
    assert set(keys) <= set(schema["properties"])
    assert set(schema.get("required", [])) == set(keys)
    for name in keys:
        assert "null" not in _types(schema["properties"][name]), name
    for path, name, prop in _properties(schema):
        if path == "$" and name in keys:
            continue
        assert "null" in _types(prop), f"{stream}: {path}.{name} is not nullable"


@pytest.mark.parametrize("stream", SCHEMAS)
def test_key_columns_reject_null_and_missing(stream: str) -> None:
    schema = SCHEMAS[stream]
    validator = _validator(schema)
    record = next(case.values[1] for case in EXAMPLE_CASES if case.values[0] == stream)
    for name in KEYS[stream]:
        assert not validator.is_valid({**record, name: None}), name
        assert not validator.is_valid({k: v for k, v in record.items() if k != name}), name


@pytest.mark.parametrize("stream", SCHEMAS)
def test_unknown_fields_are_accepted_and_reported(stream: str) -> None:
    schema = SCHEMAS[stream]
    record = next(case.values[1] for case in EXAMPLE_CASES if case.values[0] == stream)
    newer = {**record, "field_added_tomorrow": {"x": 1}}
    assert _validator(schema).is_valid(newer)
    assert "field_added_tomorrow" not in schema["properties"]
    assert _undeclared(newer, schema) == ["$.field_added_tomorrow"]


def test_date_keys_are_dates() -> None:
    assert COPILOT_METRICS_SCHEMA["properties"]["date"] == {
        "type": "string",
        "format": "date",
        "description": COPILOT_METRICS_SCHEMA["properties"]["date"]["description"],
    }
    for stream in REPORT_STREAMS:
        day = SCHEMAS[stream]["properties"]["day"]
        assert day["format"] == "date"
        assert _types(day) == ["string"]


# --- report-line types (GitHub docs, Copilot usage metrics fields) ------------------------------

DECIMAL_NAME = re.compile(r"^(ai_credits_used|avg_.*|median_.*|p90_.*)$")
STRING_IDS = {"enterprise_id", "organization_id", "agent_id"}
INTEGER_IDS = {"user_id", "team_id", "repo_id", "entity_id_partition"}


@pytest.mark.parametrize("stream", REPORT_STREAMS)
def test_report_numbers_are_integers_except_decimals(stream: str) -> None:
    numeric = 0
    for path, name, prop in _properties(SCHEMAS[stream]):
        types = set(_types(prop)) - {"null"}
        if DECIMAL_NAME.match(name) or name == "avg_tokens_per_request":
            assert types == {"number"}, f"{path}.{name}"
        elif types & {"number", "integer"}:
            numeric += 1
            assert types == {"integer"}, f"{path}.{name} should be an integer"
        if name in STRING_IDS:
            assert types == {"string"}, f"{path}.{name}"
        if name in INTEGER_IDS:
            assert types == {"integer"}, f"{path}.{name}"
        if name.startswith("used_"):
            assert _types(prop) == ["boolean", "null"], f"{path}.{name}"
    assert numeric > 0


def test_report_ids_reject_the_wrong_json_type() -> None:
    validator = _validator(COPILOT_USER_USAGE_DAILY_SCHEMA)
    record = next(c.values[1] for c in EXAMPLE_CASES if c.values[0] == "copilot_user_usage_daily")
    assert validator.is_valid(record)
    assert not validator.is_valid({**record, "enterprise_id": 1})
    assert not validator.is_valid({**record, "user_id": "1"})
    assert not validator.is_valid({**record, "loc_added_sum": 1.5})
    assert not validator.is_valid({**record, "day": "2025-13-40"})
    assert validator.is_valid({**record, "user_id": 2**70})  # big ids stay integers


def test_documented_report_fields_are_declared() -> None:
    """Spot-check fields GitHub's field reference documents but no example carries."""
    day = COPILOT_USAGE_DAILY_SCHEMA["properties"]
    assert {
        "daily_active_copilot_cloud_agent_users",
        "monthly_passive_copilot_code_review_users",
        "daily_active_vscode_agent_users",
        "chat_panel_plan_mode",
        "totals_by_ai_adoption_phase",
        "copilot_feature_engagement",
        "created_at",
        "report_end_day",
    } <= set(day)
    phase = day["totals_by_ai_adoption_phase"]["items"]["properties"]
    assert {
        "phase_number",
        "phase",
        "users_in_phase_28d",
        "avg_pull_requests_review_cycles",
    } <= set(phase)
    prs = day["pull_requests"]["properties"]
    comment = prs["copilot_suggestions_by_comment_type"]["items"]["properties"]
    assert set(comment) == {
        "comment_type",
        "total_copilot_suggestions",
        "total_copilot_applied_suggestions",
    }
    engagement = day["copilot_feature_engagement"]["properties"]
    assert set(engagement["totals_by_feature"]["items"]["properties"]) == {
        "feature",
        "engaged_user_count",
    }
    cli = day["totals_by_cli"]["properties"]
    assert set(cli["token_usage"]["properties"]) == {
        "output_tokens_sum",
        "prompt_tokens_sum",
        "avg_tokens_per_request",
    }
    assert set(cli["last_known_cli_version"]["properties"]) == {"cli_version", "sampled_at"}
    repo = COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA["properties"]
    review = repo["pull_request_review_times"]["items"]["properties"]
    assert len([n for n in review if n.startswith(("median_", "p90_"))]) == 6
    user = COPILOT_USER_USAGE_DAILY_SCHEMA["properties"]
    assert len([n for n in user if n.startswith("used_")]) == 9
    assert set(user["ai_adoption_phase"]["properties"]) == {"phase", "phase_number", "version"}


def test_truncated_docs_rows_use_declared_names() -> None:
    """The docs' per-user/team rows end in "..." (not JSON): their field names must be declared."""
    text = EXAMPLES / "reports/docs_team-level-metrics_organization_users_1_day_TRUNCATED.txt"
    names = set(re.findall(r'"([a-z_0-9]+)":', text.read_text(encoding="utf-8")))
    assert len(names) > 10
    assert names <= set(COPILOT_USER_USAGE_DAILY_SCHEMA["properties"])


def test_lines_of_code_fragment_items_are_declared() -> None:
    text = (
        EXAMPLES / "reports/docs_lines-of-code-metrics_totals_by_language_feature.jsonc"
    ).read_text(encoding="utf-8")
    fragment = json.loads("{" + re.sub(r"//[^\n]*", "", text) + "}")
    items = fragment["totals_by_language_feature"]
    for stream in ("copilot_usage_daily", "copilot_user_usage_daily"):
        item_schema = SCHEMAS[stream]["properties"]["totals_by_language_feature"]["items"]
        for item in items:
            assert _undeclared(item, item_schema) == []
            assert _validator(item_schema).is_valid(item)


# --- OpenAPI-derived schemas ---------------------------------------------------------------


def _openapi(name: str) -> dict[str, Any]:
    return json.loads((OPENAPI / name).read_text(encoding="utf-8"))


def _spec_paths(node: dict[str, Any], components: dict[str, Any], path: str = "") -> set[str]:
    """Every property path the OpenAPI component tree describes (refs and unions followed)."""
    if "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[1]]
    found: set[str] = set()
    for alternative in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
        found |= _spec_paths(alternative, components, path)
    for name, child in node.get("properties", {}).items():
        found.add(f"{path}.{name}")
        found |= _spec_paths(child, components, f"{path}.{name}")
    if "items" in node:
        found |= _spec_paths(node["items"], components, f"{path}[]")
    return found


def _schema_paths(schema: dict[str, Any], path: str = "") -> set[str]:
    return {f"{p}.{name}".replace("$", "", 1) for p, name, _ in _properties(schema)}


@pytest.mark.parametrize(
    ("stream", "spec", "component", "added"),
    [
        (
            "copilot_metrics",
            "legacy-metrics.openapi.json",
            "copilot-usage-metrics-day",
            {"scope", "scope_name"},
        ),
        (
            "copilot_seats",
            "usage-reports.openapi.json",
            "copilot-seat-details",
            {"scope", "scope_name", "seat_key"},
        ),
        (
            "copilot_billing",
            "usage-reports.openapi.json",
            "copilot-organization-details",
            {"scope", "scope_name"},
        ),
    ],
)
def test_openapi_schemas_declare_exactly_what_github_describes(
    stream: str, spec: str, component: str, added: set[str]
) -> None:
    components = _openapi(spec)["components"]["schemas"]
    described = _spec_paths(components[component], components)
    declared = _schema_paths(SCHEMAS[stream])
    assert declared == described | {f".{name}" for name in added}


def test_assigning_team_declares_union_of_team_and_enterprise_team() -> None:
    components = _openapi("usage-reports.openapi.json")["components"]["schemas"]
    union = set(components["team"]["properties"]) | set(components["enterprise-team"]["properties"])
    team = COPILOT_SEATS_SCHEMA["properties"]["assigning_team"]
    assert set(team["properties"]) == union
    assert _types(team) == ["object", "null"]
    # nullable-team-simple "parent" is itself fully declared
    assert "slug" in team["properties"]["parent"]["properties"]
    enterprise_team = {
        "id": 7,
        "name": "Ent team",
        "slug": "ent-team",
        "url": "https://api.github.com/enterprises/e/teams/7",
        "html_url": "https://github.com/enterprises/e/teams/ent-team",
        "members_url": "https://api.github.com/enterprises/e/teams/7/members{/member}",
        "group_id": None,
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
    }
    seat = {**_seat_rows()[0], "assigning_team": enterprise_team}
    assert _validator(COPILOT_SEATS_SCHEMA).is_valid(seat)
    assert _undeclared(seat, COPILOT_SEATS_SCHEMA) == []


def test_openapi_formats_and_nullability_carried_over() -> None:
    seat = COPILOT_SEATS_SCHEMA["properties"]
    assert seat["pending_cancellation_date"]["format"] == "date"
    assert seat["last_activity_at"]["format"] == "date-time"
    assert _types(seat["assignee"]) == ["object", "null"]
    assert seat["updated_at"].get("deprecated") is True
    assert "Known values: business, enterprise, unknown." in seat["plan_type"]["description"]
    assert "enum" not in json.dumps(COPILOT_SEATS_SCHEMA)
    legacy = COPILOT_METRICS_SCHEMA["properties"]
    models = legacy["copilot_ide_chat"]["properties"]["editors"]["items"]["properties"]["models"]
    training_date = models["items"]["properties"]["custom_model_training_date"]
    assert _types(training_date) == ["string", "null"]
    assert "format" not in training_date
    assert _validator(COPILOT_SEATS_SCHEMA).is_valid({**_seat_rows()[0], "last_activity_at": None})
    assert not _validator(COPILOT_SEATS_SCHEMA).is_valid(
        {**_seat_rows()[0], "last_activity_at": "yesterday"}
    )


def test_openapi_conversion_rules_through_the_sdk(tmp_path: Path) -> None:
    """Pins what `SingerNormalizer` adds to the SDK's OpenAPI source, on a tiny spec: an SDK
    upgrade that changes the order or meaning of the normalizer hooks fails here, by rule."""
    spec = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "thing": {
                    "type": "object",
                    "title": "Thing",
                    "required": ["id"],
                    "additionalProperties": False,
                    "x-github": {"a": 1},
                    "properties": {
                        "id": {"type": "integer", "format": "int64", "example": 1},
                        "day": {"type": "string", "format": "date"},
                        "url": {"type": "string", "format": "uri", "pattern": "^https"},
                        "kind": {"type": "string", "enum": ["a", "b", None], "description": "K"},
                        "old": {"type": ["null", "boolean"], "deprecated": True},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "owner": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/u"}]},
                        "either": {
                            "description": "Union",
                            "oneOf": [
                                {"$ref": "#/components/schemas/u"},
                                {"$ref": "#/components/schemas/v"},
                            ],
                        },
                    },
                },
                "u": {
                    "type": "object",
                    "properties": {"login": {"type": "string"}, "n": {"type": "integer"}},
                },
                "v": {
                    "type": "object",
                    "nullable": True,
                    "properties": {"n": {"type": "number"}, "slug": {"type": "string"}},
                },
            }
        },
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    source = OpenAPISchema(tmp_path / "spec.json", preprocessor=SingerNormalizer())

    def obj(props: dict[str, Any], *types: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": ["object", *types],
            "properties": props,
            "additionalProperties": True,
            **extra,
        }

    nullable_str = {"type": ["string", "null"]}
    assert source.get_schema("thing") == obj(
        {
            "id": {"type": ["integer", "null"]},
            "day": {"type": ["string", "null"], "format": "date"},
            "url": nullable_str,
            "kind": {"type": ["string", "null"], "description": "K. Known values: a, b."},
            "old": {"type": ["boolean", "null"], "deprecated": True},
            "tags": {"type": ["array", "null"], "items": {"type": ["string"]}},
            "owner": obj({"login": nullable_str, "n": {"type": ["integer", "null"]}}, "null"),
            "either": obj(
                {
                    "login": nullable_str,
                    "n": {"type": ["integer", "number", "null"]},
                    "slug": nullable_str,
                },
                "null",
                description="Union",
            ),
        }
    )
    assert source.get_schema("thing") is not source.get_schema("thing")  # fresh copies
