"""The README's shell examples run as written (not only the two commands the e2e tests run)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def bash_block_after(heading: str, first_line: str) -> str:
    """The ```bash block of a README section that starts with `first_line`."""
    section = README.split(heading, 1)[1]
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
        if block.startswith(first_line):
            return block
    msg = f"README section {heading!r} has no bash block starting with {first_line!r}"
    raise AssertionError(msg)


def test_the_simulator_example_runs_as_written(tmp_path: Path) -> None:
    """Simulator in the background, the tap against it, the simulator stopped: one shell."""
    script = bash_block_after("## The GitHub API simulator", "rm -f sim-config.json")
    # The example runs from the project directory, where the README's commands made `.venv`.
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    messages = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert any(m["type"] == "RECORD" for m in messages)
    assert messages[-1]["type"] == "STATE"
    assert "listening on http://127.0.0.1:" in (tmp_path / "simulator.log").read_text()
