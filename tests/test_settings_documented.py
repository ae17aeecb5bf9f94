"""Every setting is declared once, in the tap's schema; meltano.yml and the README copy it.

`--about` (the tap's `config_jsonschema`, from the real command) is the source. meltano.yml's
inline settings must match it in names, kinds, defaults (`value`), secret flags (`sensitive`) and,
for the tap's own settings, descriptions; the README's settings table in names, types (with their
limits and secret flags) and defaults.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: JSON-schema type (and format) -> Meltano setting kind.
MELTANO_KIND = {
    ("string", None): "string",
    ("string", "date"): "date_iso8601",
    ("integer", None): "integer",
    ("number", None): "decimal",
    ("boolean", None): "boolean",
    ("array", None): "array",
    ("object", None): "object",
}
#: Settings every SDK tap has; meltano.yml and the README list those users are pointed to.
SDK_SETTINGS = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
}


@pytest.fixture(scope="module")
def about() -> dict[str, dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "tap_copilot_metrics", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(completed.stdout)["settings"]["properties"]


def json_type(prop: dict[str, Any]) -> str:
    return next(t for t in prop["type"] if t != "null")


def meltano_kind(prop: dict[str, Any]) -> str:
    return MELTANO_KIND[(json_type(prop), prop.get("format"))]


def readme_type(prop: dict[str, Any]) -> str:
    """The README's type cell: `integer, 0 to 365`, `number, at least 0.1`, `string, secret`."""
    kind = prop.get("format") or json_type(prop)
    if kind == "array":
        kind = f"list of {json_type(prop['items'])}s"
    parts = [kind]
    if "minimum" in prop:
        limit = f"{prop['minimum']} to {prop['maximum']}" if "maximum" in prop else "at least {}"
        parts.append(limit.format(prop["minimum"]))
    if prop.get("secret"):
        parts.append("secret")
    return ", ".join(parts)


def shown(value: Any) -> str:
    """A default as the README writes it (`true`, not `True`)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def meltano_settings() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in config["plugins"]["extractors"] if p["name"] == "tap-copilot-metrics")
    return {setting["name"]: setting for setting in plugin["settings"]}


def readme_table() -> dict[str, tuple[str, str]]:
    """Setting name -> (type, default) cells of the README's settings table."""
    section = (ROOT / "README.md").read_text().split("\n## Settings\n", 1)[1].split("\n#", 1)[0]
    table: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z0-9_]+`", cells[0]):
            table[cells[0].strip("`")] = (cells[1], cells[2])
    return table


def test_meltano_yml_declares_every_setting_as_the_tap_does(
    about: dict[str, dict[str, Any]],
) -> None:
    declared = meltano_settings()
    tap_settings = set(about) - SDK_SETTINGS
    assert tap_settings <= set(declared), sorted(tap_settings - set(declared))
    assert set(declared) <= set(about), sorted(set(declared) - set(about))
    for name, setting in declared.items():
        prop = about[name]
        assert setting["kind"] == meltano_kind(prop), name
        assert setting.get("sensitive", False) == prop.get("secret", False), name
        assert setting.get("value") == prop.get("default"), name
        if name in tap_settings:
            assert setting["description"] == prop["description"], name


def test_the_readme_table_lists_every_setting_as_the_tap_does(
    about: dict[str, dict[str, Any]],
) -> None:
    table = readme_table()
    assert set(table) == set(about) - SDK_SETTINGS
    for name, (type_cell, default_cell) in table.items():
        prop = about[name]
        assert type_cell == readme_type(prop), name
        if "default" in prop:
            assert default_cell == f"`{shown(prop['default'])}`", name
        else:
            # What applies without a value is said in words, never as a literal value.
            assert not re.fullmatch(r"`[^`]*`", default_cell), name
