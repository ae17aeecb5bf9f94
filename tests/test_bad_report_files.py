"""Report files odd but valid: what the download host may serve, and the tap must pass through.

Report files have no JSON schema: their lines are generated (Hypothesis) from GitHub's example
records (the simulator's examples/, see tests/body_strategies.py), with nulls, absent fields,
unknown extra fields, unicode text and huge ids, in every line format a file may use (NDJSON,
CRLF, blank lines, a JSON array). The simulator serves each file (its "body" fault) to the real
tap over HTTP; the records must be GitHub's values unchanged, plus the scope columns, with no key
twice, and validate against the tap's own declared schema. An empty file is a file without rows.
Malformed files are in test_bad_api_bodies.py (the "report-download" endpoint).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from hypothesis import given
from hypothesis import strategies as st

from tests.bad_input_support import (
    assert_valid_for_the_tap,
    base_config,
    serve,
    simulator_marks,
    sync,
)
from tests.body_strategies import FILE_CASES, INTEGERS, PROPERTY_SETTINGS, USERS, file_lines
from tests.reliability_support import (
    ORG,
    key_of,
    records,
    run_cli,
    tail,
)

pytestmark = simulator_marks()


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
