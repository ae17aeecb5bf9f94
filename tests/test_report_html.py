"""`copilot-metrics-report` on marts-shaped data: every number shown equals the marts'.

The marts here come from the devkit's generator (`copilot_devkit.report_benchmark.make_marts`,
the contract's columns with pseudo-random values, two scopes) so that every chart has rows and
the scope switch is exercised; tests/e2e/test_report_browser.py does the same checks on marts
that dbt built from a real Meltano load, and opens the page in Chromium.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from copilot_devkit.report_benchmark import make_marts

from tap_copilot_metrics.report import cli
from tap_copilot_metrics.report.data import MART_COLUMNS
from tests.report_html_support import check_chart_data, check_tables, parse_report

SCOPES = (("enterprise", "octo-ent"), ("organization", "octo-org"))
LAST_DAY = dt.date(2026, 11, 15)


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("marts") / "marts.duckdb"
    make_marts(path, users=60, days=15, last_day=LAST_DAY, scopes=SCOPES)
    return path


@pytest.fixture(scope="module")
def page(marts: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("report") / "report.html"
    built = cli.write_report(marts, output)
    assert built.path == output
    return output.read_text(encoding="utf-8")


def _query(database: Path):
    con = duckdb.connect(str(database), read_only=True)

    def query(sql: str, params):
        return con.execute(sql, list(params)).fetchall()

    return query


def test_every_table_and_every_chart_shows_the_marts_numbers(marts: Path, page: str) -> None:
    report = parse_report(page)
    query = _query(marts)
    assert sorted(report.sections) == ["enterprise:octo-ent", "organization:octo-org"]
    for section in report.sections.values():
        # Every chart of the issue, each with its table; these marts leave none empty.
        assert len(section.charts) == 14, section.charts
        assert not section.no_data
        assert {t.mart for t in section.tables} == set(MART_COLUMNS) - {"kpi_user_activity"}
    assert check_tables(report, query) > 1000
    assert check_chart_data(report, query) > 1000


def test_header_names_the_scopes_the_days_and_the_last_complete_day(marts: Path, page: str) -> None:
    report = parse_report(page)
    query = _query(marts)
    ((first, last, days),) = query(
        "select min(day), max(day), count(distinct day) from copilot_marts.kpi_daily", []
    )
    assert report.header["Scopes"] == "Enterprise octo-ent, Organization octo-org"
    assert report.header["Date range"] == f"{first} to {last} ({days} days)"
    assert report.header["Last complete day"] == str(last)
    for key, section in report.sections.items():
        kind, name = key.split(":")
        ((s_first, s_last),) = query(
            "select min(day), max(day) from copilot_marts.kpi_daily "
            "where scope = ? and scope_name = ?",
            [kind, name],
        )
        assert section.date_range.startswith(f"{s_first} to {s_last}")
        assert section.last_day == str(s_last)


def test_several_scopes_get_a_switch_and_only_the_first_is_shown(page: str) -> None:
    report = parse_report(page)
    assert report.options == list(report.sections)
    assert [s.hidden for s in report.sections.values()] == [False, True]
    assert set(report.specs) == set(report.sections)
    ids = [i for s in report.sections.values() for i in (*s.charts, *s.no_data)]
    assert len(ids) == len(set(ids)) == 28  # the page finds each scope's charts by id


def test_the_page_is_self_contained(page: str) -> None:
    report = parse_report(page)
    assert report.external == []  # no src, href or <link>: nothing to fetch
    assert report.scripts == 3  # the specs (JSON), the Vega bundle, the page's own script
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    assert "window.vegaEmbed" in page


def test_one_scope_has_no_switch(tmp_path: Path) -> None:
    database = tmp_path / "one.duckdb"
    make_marts(database, users=20, days=3, last_day=LAST_DAY, scopes=SCOPES[1:])
    output = tmp_path / "one.html"
    cli.write_report(database, output)
    report = parse_report(output.read_text(encoding="utf-8"))
    assert report.options == []
    assert list(report.sections) == ["organization:octo-org"]
    assert report.header["Scopes"] == "Organization octo-org"


def test_an_empty_mart_says_so_instead_of_drawing_an_empty_chart(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    make_marts(database, users=20, days=3, last_day=LAST_DAY, scopes=SCOPES[1:])
    with duckdb.connect(str(database)) as con:
        con.execute("delete from copilot_marts.kpi_pull_requests_daily")
    output = tmp_path / "empty.html"
    cli.write_report(database, output)
    (section,) = parse_report(output.read_text(encoding="utf-8")).sections.values()
    assert [n.split("-", 3)[3] for n in section.no_data] == [
        "pull-requests",
        "pull-request-outcomes",
    ]
    assert len(section.charts) == 12


def test_the_command_prints_the_path_or_one_line_why_not(
    marts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "report.html"
    assert cli.main(["--database", str(marts), "--output", str(output)]) == 0
    assert capsys.readouterr().out.startswith(f"{output} (")
    assert output.is_file()

    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as con:
        con.execute("create schema copilot_marts")
        con.execute("create table copilot_marts.kpi_daily (scope varchar)")
    assert cli.main(["--database", str(bare), "--output", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "kpi_team_daily" in err
    assert "dbt build" in err
    assert not (tmp_path / "x.html").exists()

    assert cli.main(["--database", str(tmp_path / "nope.duckdb")]) == 1
    assert "no such DuckDB file" in capsys.readouterr().err
