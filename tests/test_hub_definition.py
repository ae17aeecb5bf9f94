"""The Meltano Hub definition is what the tap says of itself, in the Hub's format.

docs/meltano-hub/ mirrors the Hub repository's layout (`extractors/<name>/<variant>.yml`), so
submitting the definition is a copy. It is generated (`python -m copilot_devkit.hub_definition`)
and held here equal to a fresh generation, then checked item by item against `--about` and
`--discover` of the real command, and against the Hub's plugin format.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import yaml
from copilot_devkit import hub_definition
from copilot_devkit.hub_definition import meltano_kind

#: The Hub's extractor definition format (its plugin schema, restated): required keys, the keys
#: an extractor may have, and the values its settings' `kind` and `capabilities` may take.
SETTING_KINDS = [
    "oauth", "hidden", "password", "date_iso8601", "file", "email", "integer", "decimal",
    "options", "object", "array", "boolean", "string",
]  # fmt: skip
CAPABILITIES = [
    "properties", "catalog", "discover", "state", "about", "stream-maps", "schema-flattening",
    "activate-version", "batch", "test", "log-based", "structured-logging",
]  # fmt: skip
HUB_EXTRACTOR_FORMAT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "namespace", "variant", "label"],
    "additionalProperties": False,
    "properties": {
        **{
            key: {"type": "string", "minLength": 1}
            for key in ("name", "namespace", "variant", "label", "description", "pip_url")
        },
        "executable": {"type": "string", "minLength": 1},
        **{
            key: {"type": "string", "pattern": "^https://"}
            for key in ("repo", "docs", "domain_url")
        },
        "logo_url": {"type": "string"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "maintenance_status": {"enum": ["active", "beta", "development", "inactive", "unknown"]},
        "capabilities": {"type": "array", "items": {"enum": CAPABILITIES}, "uniqueItems": True},
        "settings_group_validation": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}},
        },
        "select": {"type": "array", "items": {"type": "string"}},
        "settings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "kind", "label", "description"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    "label": {"type": "string", "minLength": 1},
                    "kind": {"enum": SETTING_KINDS},
                    "description": {"type": "string", "minLength": 1},
                    "value": {},
                    "sensitive": {"const": True},
                    "options": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["label", "value"],
                            "additionalProperties": False,
                            "properties": {
                                "label": {"type": "string"},
                                "value": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def about() -> dict[str, Any]:
    return hub_definition.tap_json("--about", "--format", "json")


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return hub_definition.tap_json("--discover")


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    path = hub_definition.definition_path()
    assert path.is_file(), f"{path} is missing: run `python -m copilot_devkit.hub_definition`"
    return yaml.safe_load(path.read_text())


def test_the_definition_is_the_generated_one(
    about: dict[str, Any], catalog: dict[str, Any]
) -> None:
    text = hub_definition.definition_path().read_text()
    fresh = hub_definition.render(hub_definition.build(about, catalog))
    assert text == fresh, "out of date: run `python -m copilot_devkit.hub_definition`"


def test_the_definition_has_the_hubs_format(definition: dict[str, Any]) -> None:
    jsonschema.validate(definition, HUB_EXTRACTOR_FORMAT)
    path = hub_definition.definition_path().relative_to(hub_definition.HUB_DIR)
    assert path.parts == ("extractors", definition["name"], f"{definition['variant']}.yml")


def test_every_setting_is_the_taps(definition: dict[str, Any], about: dict[str, Any]) -> None:
    properties = about["settings"]["properties"]
    settings = {s["name"]: s for s in definition["settings"]}
    assert list(settings) == list(properties)
    labels = {s["name"]: s.get("label") for s in hub_definition.meltano_plugin()["settings"]}
    for name, prop in properties.items():
        setting = settings[name]
        assert setting["description"] == prop["description"], name
        assert setting.get("sensitive", False) == prop.get("secret", False), name
        assert setting.get("value") == prop.get("default"), name
        assert setting["label"] == (prop.get("title") or labels[name]), name
        if "enum" in prop:
            assert setting["kind"] == "options", name
            assert [option["value"] for option in setting["options"]] == prop["enum"], name
        else:
            assert setting["kind"] == meltano_kind(prop), name
    assert any(s.get("sensitive") for s in settings.values())


def test_capabilities_are_the_taps(definition: dict[str, Any], about: dict[str, Any]) -> None:
    assert sorted(definition["capabilities"]) == sorted(about["capabilities"])


def test_settings_groups_name_settings_of_the_tap(
    definition: dict[str, Any], about: dict[str, Any]
) -> None:
    names = set(about["settings"]["properties"])
    groups = definition["settings_group_validation"]
    assert groups
    assert all(set(group) <= names for group in groups), groups


def test_select_picks_what_the_tap_selects_by_default(
    definition: dict[str, Any], catalog: dict[str, Any]
) -> None:
    streams = hub_definition.all_streams(catalog)
    expected = hub_definition.selected_by_default(catalog)
    assert hub_definition.selected_by(definition["select"], streams) == expected
    assert "copilot_usage_daily" in expected
    assert "copilot_metrics" not in expected


def test_the_package_it_installs_is_this_one(definition: dict[str, Any]) -> None:
    project = hub_definition.pyproject()
    assert definition["pip_url"] == project["name"] == definition["name"]
    assert definition["executable"] in project["scripts"]
    assert definition["namespace"] == definition["name"].replace("-", "_")
    repo = project["urls"]["Repository"]
    assert definition["repo"] == repo
    assert re.fullmatch(rf"https://github\.com/{definition['variant']}/[\w.-]+", repo, re.I)
