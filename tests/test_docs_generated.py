"""The generated parts of docs/ say what the tap's own commands say now.

`python -m copilot_devkit.docs --check` runs `tap-copilot-metrics --about` and `--discover` and
compares the settings table (docs/settings.md), the stream table (docs/streams.md) and the column
tables (docs/columns.md) with what they print, and meltano.yml's `select`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_up_to_date() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "copilot_devkit.docs", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_stream_of_the_catalog_has_its_columns_documented() -> None:
    """A stream added to the tap shows up in docs/columns.md and docs/streams.md by name."""
    catalog = subprocess.run(
        [sys.executable, "-m", "tap_copilot_metrics", "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    names = {entry["tap_stream_id"] for entry in json.loads(catalog)["streams"]}
    columns = (ROOT / "docs" / "columns.md").read_text(encoding="utf-8")
    streams = (ROOT / "docs" / "streams.md").read_text(encoding="utf-8")
    for name in names:
        assert f"### `{name}`" in columns, name
        assert f"| `{name}` |" in streams, name
