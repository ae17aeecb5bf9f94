"""The tap's Meltano Hub definition, made from what the tap says of itself.

    python -m copilot_devkit.hub_definition   # (re)writes docs/meltano-hub/extractors/...

Sources, each fact from one place: `tap-copilot-metrics --about` (settings: names, kinds,
descriptions, defaults, secrets, labels where the tap has a title; capabilities), `--discover`
(which streams are selected by default -> `select`), pyproject.toml (distribution name for
`pip_url`, the repository whose owner is the variant, the documentation URL, the development
status -> `maintenance_status`) and meltano.yml (namespace, executable, settings groups, and the
labels of the tap's own settings, which the tap's schema does not carry). Kinds are mapped by
`meltano_kind`, as meltano.yml declares them (tests/test_settings_documented.py); a setting with a
fixed list of values becomes `kind: options`. tests/test_hub_definition.py holds the file equal to
this output.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from copilot_devkit.demo import find_project

ROOT = find_project().root
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
HUB_DIR = ROOT / "docs" / "meltano-hub"


def json_type(prop: dict[str, Any]) -> str:
    """A setting's JSON-schema type, without "null"."""
    return next(t for t in prop["type"] if t != "null")


def meltano_kind(prop: dict[str, Any]) -> str:
    """The Meltano setting kind of a setting's JSON schema."""
    return MELTANO_KIND[(json_type(prop), prop.get("format"))]


#: What the Hub shows of the source (the tap's own description is `--about`'s).
LABEL = "GitHub Copilot Metrics"
DESCRIPTION = "GitHub Copilot usage metrics, seats and billing"
DOMAIN_URL = "https://docs.github.com/en/rest/copilot"
#: The GitHub logo the Hub already holds (its other GitHub extractors use it).
LOGO_URL = "/assets/logos/extractors/github.png"
KEYWORDS = ["api", "meltano_sdk"]
#: The package's "Development Status" classifier -> the Hub's maintenance_status.
MAINTENANCE_STATUS = {
    "Development Status :: 1 - Planning": "development",
    "Development Status :: 2 - Pre-Alpha": "development",
    "Development Status :: 3 - Alpha": "development",
    "Development Status :: 4 - Beta": "beta",
    "Development Status :: 5 - Production/Stable": "active",
    "Development Status :: 6 - Mature": "active",
    "Development Status :: 7 - Inactive": "inactive",
}


def tap_json(*args: str) -> Any:
    """The tap's JSON answer to `args`, from this tree's tap."""
    completed = subprocess.run(
        [sys.executable, "-m", "tap_copilot_metrics", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return json.loads(completed.stdout)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def meltano_plugin() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "meltano.yml").read_text())
    name = pyproject()["name"]
    return next(p for p in config["plugins"]["extractors"] if p["name"] == name)


def variant() -> str:
    """The Hub names a variant after the owner of its repository."""
    return urlparse(pyproject()["urls"]["Repository"]).path.strip("/").split("/")[0].lower()


def definition_path() -> Path:
    return HUB_DIR / "extractors" / pyproject()["name"] / f"{variant()}.yml"


def setting(name: str, prop: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    label = prop.get("title") or labels.get(name)
    if not label:
        msg = f"setting {name}: --about has no title, and meltano.yml no label"
        raise ValueError(msg)
    if not prop.get("description"):
        msg = f"setting {name}: --about has no description"
        raise ValueError(msg)
    entry: dict[str, Any] = {"name": name, "label": label}
    if "enum" in prop:
        entry["kind"] = "options"
        entry["options"] = [{"label": str(v).capitalize(), "value": v} for v in prop["enum"]]
    else:
        entry["kind"] = meltano_kind(prop)
    entry["description"] = prop["description"]
    if "default" in prop:
        entry["value"] = prop["default"]
    if prop.get("secret"):
        entry["sensitive"] = True
    return entry


def select_rules(catalog: dict[str, Any]) -> list[str]:
    """Everything but what the tap leaves unselected by default (`selected-by-default`)."""
    return [
        "*.*",
        *(
            f"!{stream}.*"
            for stream in sorted(set(all_streams(catalog)) - set(selected_by_default(catalog)))
        ),
    ]


def all_streams(catalog: dict[str, Any]) -> list[str]:
    return [stream["tap_stream_id"] for stream in catalog["streams"]]


def selected_by_default(catalog: dict[str, Any]) -> list[str]:
    def top(stream: dict[str, Any]) -> dict[str, Any]:
        return next(m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == [])

    return [s["tap_stream_id"] for s in catalog["streams"] if top(s).get("selected-by-default")]


def selected_by(rules: list[str], streams: list[str]) -> list[str]:
    """The streams Meltano's `select` rules pick (`!` excludes); properties are all `*` here."""
    picked = []
    for stream in streams:
        included = any(fnmatch.fnmatchcase(stream, r.split(".")[0]) for r in rules if r[0] != "!")
        excluded = any(
            fnmatch.fnmatchcase(stream, r[1:].split(".")[0]) for r in rules if r[0] == "!"
        )
        if included and not excluded:
            picked.append(stream)
    return picked


def build(about: dict[str, Any], catalog: dict[str, Any]) -> dict[str, Any]:
    project = pyproject()
    plugin = meltano_plugin()
    labels = {s["name"]: s["label"] for s in plugin["settings"] if "label" in s}
    (status,) = [MAINTENANCE_STATUS[c] for c in project["classifiers"] if c in MAINTENANCE_STATUS]
    return {
        "name": project["name"],
        "variant": variant(),
        "label": LABEL,
        "description": DESCRIPTION,
        "namespace": plugin["namespace"],
        "pip_url": project["name"],
        "executable": plugin["executable"],
        "repo": project["urls"]["Repository"],
        "docs": project["urls"]["Documentation"],
        "domain_url": DOMAIN_URL,
        "logo_url": LOGO_URL,
        "keywords": KEYWORDS,
        "maintenance_status": status,
        "capabilities": sorted(about["capabilities"]),
        "settings_group_validation": plugin["settings_group_validation"],
        "settings": [
            setting(name, prop, labels) for name, prop in about["settings"]["properties"].items()
        ],
        "select": select_rules(catalog),
    }


def render(definition: dict[str, Any]) -> str:
    return yaml.safe_dump(definition, sort_keys=False, width=100, allow_unicode=True)


def generate() -> str:
    return render(build(tap_json("--about", "--format", "json"), tap_json("--discover")))


def main() -> None:
    path = definition_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate())
    print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
