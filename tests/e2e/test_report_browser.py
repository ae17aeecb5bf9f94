"""`copilot-metrics-report` on the real pipeline, opened in headless Chromium.

Simulated GitHub -> `meltano run tap-copilot-metrics target-duckdb dbt-duckdb:build
copilot-metrics-report:html` (the real tap, loader, dbt project and meltano.yml's report utility)
-> Debian's chromium, driven by Playwright over the DevTools protocol (its own browsers are never
downloaded). Checked: every table and every chart's data equal the marts (read here from the
database), every chart of every scope draws marks, the console stays free of errors and the page
requests nothing but itself. The screenshot is kept as output/report-screenshot.png (gitignored)
for CI to keep.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.report import cli
from tests.e2e.dbt_support import install_transformers, run_with_blocks
from tests.e2e.e2e_support import PROJECT, Meltano, Pipeline
from tests.e2e.pg_cluster import PgServer
from tests.report_html_support import check_chart_data, check_tables, parse_report

pytestmark = [pytest.mark.duckdb, pytest.mark.dbt]

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a closed network: nothing of the browser's own (updates, sync, QUIC) goes out.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = PROJECT.root / "output" / "report-screenshot.png"
TRANSFORMER = "dbt-duckdb"
REPORT_UTILITY = "copilot-metrics-report"


@dataclass(frozen=True)
class Built:
    database: Path  # the raw tables and the marts
    report: Path  # the HTML file


@pytest.fixture(scope="module")
def built(meltano: Meltano, sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`meltano run tap-copilot-metrics target-duckdb dbt-duckdb:build copilot-metrics-report:html`
    (meltano.yml's utility, installed like a user would)."""
    workdir = tmp_path_factory.mktemp("report")
    install_transformers(meltano, workdir, TRANSFORMER, REPORT_UTILITY)
    database = workdir / "copilot_metrics.duckdb"
    report = workdir / "copilot-report.html"
    pipeline = Pipeline(
        meltano,
        sim,
        workdir,
        loader="target-duckdb",
        loader_env={"TARGET_DUCKDB_FILEPATH": str(database)},
        days=8,
        extra_env={
            "COPILOT_METRICS_REPORT_DATABASE": str(database),
            "COPILOT_METRICS_REPORT_OUTPUT": str(report),
        },
    )
    run_with_blocks(pipeline, f"{TRANSFORMER}:build", f"{REPORT_UTILITY}:html")
    return Built(database, report)


@pytest.fixture(scope="module")
def report_path(built: Built) -> Path:
    assert built.report.is_file()
    return built.report


def test_the_numbers_shown_equal_the_marts(built: Built) -> None:
    report = parse_report(built.report.read_text(encoding="utf-8"))
    with duckdb.connect(str(built.database), read_only=True) as con:
        scopes = con.execute(
            "select distinct scope || ':' || scope_name from copilot_marts.kpi_daily"
        ).fetchall()

        def query(sql: str, params: Any) -> list[tuple[Any, ...]]:
            return con.execute(sql, list(params)).fetchall()

        assert sorted(report.sections) == sorted(s for (s,) in scopes)
        assert len(report.sections) > 1  # the simulator's organizations and enterprise
        assert check_tables(report, query) > 0
        assert check_chart_data(report, query) > 0


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's chromium, headless, with a fresh profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (see .ci/run)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 960, "height": 1200},
        )
        yield context
        context.close()


def test_chromium_draws_every_chart_of_every_scope_offline(browser: Any, report_path: Path) -> None:
    report = parse_report(report_path.read_text(encoding="utf-8"))
    page = browser.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    url = report_path.as_uri()
    page.goto(url)

    for number, (key, section) in enumerate(report.sections.items()):
        if number:  # the first scope shows on load; the switch shows the others
            page.select_option("#scope-select", key)
        shown = f'section.scope[data-scope="{key}"]'
        page.wait_for_selector(f"{shown}[data-ready=true]", timeout=60_000)
        drawn = page.eval_on_selector_all(
            f"{shown} .chart",
            """els => els.map(e => ({
                id: e.id,
                state: e.getAttribute('data-rendered'),
                visible: e.offsetWidth > 0 && e.offsetHeight > 0,
                marks: e.querySelectorAll('svg g.role-mark > *').length,
            }))""",
        )
        assert [d["id"] for d in drawn] == section.charts
        assert len(section.charts) + len(section.no_data) == 14
        for chart in drawn:
            assert chart["state"] == "ok", (key, chart)
            assert chart["visible"], (key, chart)
            assert chart["marks"] > 0, (key, chart)  # no blank chart
        hidden = page.eval_on_selector_all(
            "section.scope", "els => els.filter(e => !e.hidden).map(e => e.dataset.scope)"
        )
        assert hidden == [key]
        if number == 0:
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            print(f"report screenshot: {SCREENSHOT}")
    # A scope without rows in a mart (e.g. no teams) shows a "no rows" line for that chart; the
    # simulator gives at least one scope rows in every mart, so all 14 charts are drawn there.
    assert any(not s.no_data for s in report.sections.values())
    assert problems == []
    assert set(requests) == {url}  # the page itself, nothing else


def test_the_screenshot_is_kept_for_ci() -> None:
    # Written by the test above (same module, run in order); CI keeps output/ as artifacts.
    assert SCREENSHOT.is_file()
    assert SCREENSHOT.stat().st_size > 10_000
    assert shutil.which(str(CHROMIUM))


#: DuckDB column types as PostgreSQL types of the same Python values (psycopg's).
PG_TYPES = {
    "HUGEINT": "bigint",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
}


@pytest.mark.postgres
def test_a_postgresql_url_gives_the_same_report(
    built: Built, postgres_server: PgServer, tmp_path: Path
) -> None:
    """The marts copied as they are into PostgreSQL (as dbt-postgres would hold them): the page
    read through `postgresql://` equals the DuckDB one but for the source line."""
    postgres_server.create_database("report_marts")
    url = postgres_server.url("report_marts")
    with (
        duckdb.connect(str(built.database), read_only=True) as source,
        psycopg.connect(url) as target,
    ):
        target.execute("create schema copilot_marts")
        for (table,) in source.execute(
            "select table_name from information_schema.tables where table_schema = 'copilot_marts'"
        ).fetchall():
            columns = source.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'copilot_marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            types = [
                PG_TYPES.get(t, t.lower() if t.startswith("DECIMAL") else "text")
                for _, t in columns
            ]
            ddl = ", ".join(f'"{c}" {t}' for (c, _), t in zip(columns, types, strict=True))
            target.execute(f"create table copilot_marts.{table} ({ddl})")
            rows = source.execute(f"select * from copilot_marts.{table}").fetchall()  # noqa: S608
            marks = ", ".join(["%s"] * len(columns))
            with target.cursor() as cursor:
                cursor.executemany(
                    f"insert into copilot_marts.{table} values ({marks})".encode(),  # noqa: S608
                    [
                        tuple(
                            str(v) if t == "text" and v is not None else v
                            for v, t in zip(row, types, strict=True)
                        )
                        for row in rows
                    ],
                )
    from_pg = tmp_path / "pg.html"
    from_duckdb = tmp_path / "duckdb.html"
    cli.write_report(url, from_pg)
    cli.write_report(built.database, from_duckdb)
    pg_page = from_pg.read_text(encoding="utf-8")
    duck_page = from_duckdb.read_text(encoding="utf-8")
    assert f":{postgres_server.password}@" not in pg_page  # the source line omits the login
    assert _without_source(pg_page) == _without_source(duck_page)


def _without_source(page: str) -> str:
    start = page.index("<dt>Source</dt>")
    return page[:start] + page[page.index("</dd>", start) :]
