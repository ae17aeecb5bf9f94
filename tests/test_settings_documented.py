"""Every setting the tap declares is declared the same way in meltano.yml and the README.

`--about` (the tap's `config_jsonschema`) is the source; meltano.yml's inline settings and the
README's settings table are checked against it: names, kinds, defaults and secret flags.
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


def kind_of(prop: dict[str, Any]) -> str:
    types = [t for t in prop["type"] if t != "null"]
    return MELTANO_KIND[(types[0], prop.get("format"))]


def meltano_settings() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in config["plugins"]["extractors"] if p["name"] == "tap-copilot-metrics")
    return {setting["name"]: setting for setting in plugin["settings"]}


def readme_settings() -> dict[str, str]:
    """Setting name -> the default column of the README's settings table."""
    section = (ROOT / "README.md").read_text().split("\n## Settings\n", 1)[1].split("\n#", 1)[0]
    table: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
            table[name] = cells[2]
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
        assert setting["kind"] == kind_of(prop), name
        assert bool(setting.get("sensitive")) == bool(prop.get("secret")), name
        if "value" in setting:
            assert setting["value"] == prop.get("default"), name
        elif prop.get("default") is not None:
            # Descriptions say the default, as the tap applies it when nothing is set.
            default = prop["default"]
            text = str(default).lower() if isinstance(default, bool) else str(default)
            assert f"default {text}" in setting["description"].lower(), name


def test_the_readme_table_lists_every_setting_with_its_default(
    about: dict[str, dict[str, Any]],
) -> None:
    table = readme_settings()
    tap_settings = set(about) - SDK_SETTINGS
    assert set(table) == tap_settings
    for name in tap_settings:
        default = about[name].get("default")
        if default is None:
            continue
        text = str(default).lower() if isinstance(default, bool) else str(default)
        assert f"`{text}`" in table[name], (name, table[name])
