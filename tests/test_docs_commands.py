"""Every command block of README.md and docs/ runs as written, on a fresh copy of the project.

The convention (docs/development.md, "How the docs are tested"):

- A ```bash (or ```sh) block is commands; a ```crontab block is crontab lines, whose command is
  run the way cron runs it (`/bin/sh`, from `$HOME`, a minimal environment). Every other fence
  (yaml, dotenv, sql, text, mermaid, ...) is shown, never run; ```shell, ```console and ```zsh are
  refused, so no command escapes the test by its fence.
- Each Markdown file is one terminal session: its blocks run in order in one bash
  (`set -euo pipefail`), so what a block exports or writes is there for the next one, in a fresh
  copy of the working tree (its tracked and its untracked, not ignored files) with `.venv`
  already made (the README's commands make it: here a link to the venv the tests run in).
- A GitHub API simulator serves `my-org` and `my-enterprise`, the names the docs use, for the
  session: `$SIMULATOR_URL`, `$SIMULATOR_TOKEN` and `$SIMULATOR_CONFIG` (a tap config file).
- An HTML comment right before a block speaks to this test:
  `<!-- docs-test setup: SHELL -->` runs SHELL just before the block, in the same session (how the
  test points a block at the simulator, in plain view of the reader);
  `<!-- docs-test covered-by: PATH -->` does not run the block here, because PATH runs it (the
  README's two commands, each minutes long); a check of this module says how PATH does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from copilot_devkit.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
RUN = frozenset({"bash", "sh"})
CRONTAB = "crontab"
#: Fences that look like commands but follow no convention of this test.
REFUSED = frozenset({"shell", "console", "zsh", "shell-session", "shellsession"})
DIRECTIVE = re.compile(
    r"^<!--\s*docs-test\s+(setup|covered-by):\s*(.*?)\s*-->", re.DOTALL | re.MULTILINE
)
#: The names the docs use for the organization and the enterprise.
ORGANIZATION, ENTERPRISE = "my-org", "my-enterprise"


@dataclass(frozen=True)
class Block:
    """A fenced block of a Markdown file, with the directive right before it (if any)."""

    path: Path
    line: int
    info: str
    text: str
    directive: tuple[str, str] | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^(`{3,})\s*([\w-]*)", lines[index])
        if not fence:
            index += 1
            continue
        start = index
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith(fence.group(1))),
            len(lines),
        )
        before = "\n".join(lines[:start]).rstrip()
        found = [m for m in DIRECTIVE.finditer(before) if m.end() == len(before)]
        directive = (found[0].group(1), found[0].group(2)) if found else None
        text = "\n".join(lines[start + 1 : end]) + "\n"
        yield Block(path, start + 1, fence.group(2).lower(), text, directive)
        index = end + 1


ALL_BLOCKS = [block for path in doc_files() for block in blocks(path)]


def runnable(block: Block) -> bool:
    covered = block.directive is not None and block.directive[0] == "covered-by"
    return block.info in RUN | {CRONTAB} and not covered


# --- the convention itself -----------------------------------------------------------------


def test_no_command_escapes_by_its_fence() -> None:
    refused = [b.where for b in ALL_BLOCKS if b.info in REFUSED]
    assert not refused, f"use ```bash (run by this test) or a config fence: {refused}"


def test_directives_stand_before_command_blocks() -> None:
    misplaced = [b.where for b in ALL_BLOCKS if b.directive and b.info not in RUN | {CRONTAB}]
    assert not misplaced, misplaced
    everywhere = sum(len(DIRECTIVE.findall(p.read_text(encoding="utf-8"))) for p in doc_files())
    assert everywhere == sum(1 for b in ALL_BLOCKS if b.directive), "a directive before no block"


# --- the blocks other tests run --------------------------------------------------------------


def commands(text: str) -> list[str]:
    """The commands of a block: lines and `&&` steps, without comments."""
    steps = []
    for line in text.splitlines():
        steps += [s.strip() for s in line.split("#", 1)[0].split("&&") if s.strip()]
    return steps


def ci_lines() -> set[str]:
    """Lines of .ci/run, as commands (its `--quiet` is only less output)."""
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    return {" ".join(line.replace(" --quiet", "").split()) for line in text.splitlines()}


def check_ci(block: Block) -> None:
    """.ci/run runs each command of the block, as written (the README's test command)."""
    missing = [step for step in commands(block.text) if " ".join(step.split()) not in ci_lines()]
    assert not missing, f"{block.where}: .ci/run does not run {missing}"


def check_demo(block: Block) -> None:
    """The demo command: CI makes `.venv` with at least its packages; test_demo runs the demo."""
    make_venv, install, demo = commands(block.text)
    assert make_venv in ci_lines(), make_venv
    wanted = shlex.split(install.removeprefix(".venv/bin/pip install"))
    ci_install = next(line for line in ci_lines() if line.startswith(".venv/bin/pip install -e"))
    given = [arg.replace(".[test]", ".") for arg in shlex.split(ci_install)]
    assert all(arg in given for arg in wanted), (install, ci_install)
    assert demo == ".venv/bin/python -m copilot_devkit.demo", demo
    source = " ".join((ROOT / "tests/e2e/test_demo.py").read_text(encoding="utf-8").split())
    assert 'sys.executable, "-m", "copilot_devkit.demo",' in source


def check_stream_maps(block: Block) -> None:
    """tests/e2e/test_stream_maps.py runs the pseudonymized variant with a salt, through Meltano."""
    assert "meltano run tap-copilot-metrics-pseudonymized target-duckdb" in block.text
    source = (ROOT / "tests/e2e/test_stream_maps.py").read_text(encoding="utf-8")
    assert "tap-copilot-metrics-pseudonymized" in source
    assert "COPILOT_LOGIN_SALT" in source


def check_dbt(block: Block) -> None:
    """tests/e2e/test_dbt_duckdb.py installs dbt-duckdb and runs the block's pipeline."""
    assert "meltano run tap-copilot-metrics target-duckdb dbt-duckdb:build" in block.text
    source = (ROOT / "tests/e2e/test_dbt_duckdb.py").read_text(encoding="utf-8")
    assert 'TRANSFORMER = "dbt-duckdb"' in source
    assert "install_transformers(meltano, workdir, TRANSFORMER)" in source
    assert 'run_with_blocks(pipeline, f"{TRANSFORMER}:build")' in source


COVERED_BY: dict[str, Callable[[Block], None]] = {
    ".ci/run": check_ci,
    "tests/e2e/test_dbt_duckdb.py": check_dbt,
    "tests/e2e/test_demo.py": check_demo,
    "tests/e2e/test_stream_maps.py": check_stream_maps,
}


@pytest.mark.parametrize(
    "block",
    [b for b in ALL_BLOCKS if b.directive and b.directive[0] == "covered-by"],
    ids=lambda b: b.where,
)
def test_covered_blocks_are_run_where_they_say(block: Block) -> None:
    assert block.directive is not None
    check = COVERED_BY.get(block.directive[1])
    assert check is not None, f"{block.where}: no check says how {block.directive[1]} runs it"
    check(block)


# --- the blocks run here ---------------------------------------------------------------------


def fresh_copy(destination: Path) -> Path:
    """The working tree as a clone would have it: tracked and untracked, not ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def cron_command(line: str) -> str | None:
    """A crontab line's command, run as cron does; None for comments and blank lines."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    command = line.split(None, 5)[5]
    env = 'env -i HOME="$DOCS_TEST_HOME" PATH=/usr/bin:/bin LANG=C.UTF-8'
    env += ' COPILOT_METRICS_TODAY="$COPILOT_METRICS_TODAY"'
    return f'(cd "$DOCS_TEST_HOME" && {env} /bin/sh -c {shlex.quote(command)})'


def session_script(session: list[Block]) -> str:
    parts = ["set -euo pipefail"]
    for block in session:
        parts.append(f"echo '=== docs-test: {block.where}' >&2")
        if block.directive and block.directive[0] == "setup":
            parts.append(block.directive[1])
        if block.info == CRONTAB:
            parts += [c for c in map(cron_command, block.text.splitlines()) if c]
        else:
            parts.append(block.text)
    return "\n".join(parts) + "\n"


SESSIONS = {
    path: session
    for path in doc_files()
    if (session := [b for b in blocks(path) if b.path == path and runnable(b)])
}


@pytest.mark.parametrize(
    "path", list(SESSIONS), ids=lambda p: str(p.relative_to(ROOT)).replace("/", "_")
)
def test_command_blocks_run_as_written(path: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    copy = fresh_copy(home / "tap-copilot-metrics")
    (copy / ".venv").symlink_to(Path(sys.prefix))
    settings = {
        "organizations": {ORGANIZATION: ["platform", "data"]},
        "enterprises": [ENTERPRISE],
        "enterprise_teams": {ENTERPRISE: ["copilot-champions"]},
        "users_per_org": 6,
        "users_per_enterprise": 8,
    }
    with Simulator(**settings) as sim:
        config = tmp_path / "simulator-config.json"
        config.write_text(json.dumps(sim.tap_config()), encoding="utf-8")
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"VIRTUAL_ENV", "PYTHONHOME"} and not k.startswith("TAP_COPILOT_METRICS_")
        }
        env.update(
            {
                "SIMULATOR_URL": sim.base_url,
                "SIMULATOR_TOKEN": sim.settings.token,
                "SIMULATOR_CONFIG": str(config),
                "DOCS_TEST_HOME": str(home),
                "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            }
        )
        started = time.monotonic()
        completed = subprocess.run(
            ["bash", "-c", session_script(SESSIONS[path])],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    logs = "".join(f"\n--- {log}\n{log.read_text()[-3000:]}" for log in copy.glob("output/*.log"))
    print(f"{path.relative_to(ROOT)}: {time.monotonic() - started:.0f} s")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-6000:] + logs


# --- links -----------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.*)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_files_and_headings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        missing_anchor = bool(anchor) and linked.suffix == ".md" and anchor not in anchors(linked)
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert not broken, broken
