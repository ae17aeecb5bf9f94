"""Hypothesis strategies for GitHub's bodies: odd but valid, from GitHub's own descriptions.

Bodies are generated from GitHub's own schemas (tap_copilot_metrics/openapi/*.openapi.json,
vendored from the shared reference) or, for report files, which have no JSON schema, from GitHub's
example records (the simulator's examples/): nulls wherever allowed, absent fields, empty arrays,
unknown extra fields, unicode text, huge numbers. Used by test_bad_api_bodies.py and
test_bad_report_files.py.

hypothesis-jsonschema is not used for the generation: its latest release (0.23.1) drives
Hypothesis internals that Hypothesis 6.170 removed (`many.more()`), so it fails on every object
schema. `strategy_for` below covers the JSON Schema subset GitHub's descriptions use.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from copilot_devkit.simulator.data import EXAMPLES_DIR
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

import tap_copilot_metrics

OPENAPI_DIR = Path(tap_copilot_metrics.__file__).parent / "openapi"
USERS = "copilot_user_usage_daily"

#: Each example is a run of the tap (0.1-0.3 s). No shrinking: on a failure it would re-run the
#: tap hundreds of times; the failing example is reported as generated.
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

# --- a JSON-schema subset as Hypothesis strategies ----------------------------------------------

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


# --- GitHub's OpenAPI descriptions --------------------------------------------------------------


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


LEGACY = load_spec("legacy-metrics.openapi.json")
REPORTS = load_spec("usage-reports.openapi.json")


def component(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = resolved(spec, {"$ref": f"#/components/schemas/{name}"})
    return schema


def response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema: dict[str, Any] = resolved(spec, content["schema"])
    return schema


# --- report files: GitHub's example records -----------------------------------------------------


def example_records(name: str) -> list[dict[str, Any]]:
    path = EXAMPLES_DIR / name
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    data = json.loads(path.read_text())
    found = data.get("records", data) if isinstance(data, dict) else data
    return found if isinstance(found, list) else [found]


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
