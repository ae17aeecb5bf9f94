"""The command: `copilot-metrics-report --database PATH|URL --output report.html`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tap_copilot_metrics.report.charts import scope_charts
from tap_copilot_metrics.report.data import ReportData, ReportError, load_marts
from tap_copilot_metrics.report.page import ScopeSection, render_page


@cache
def library_js() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript, bundled by vl-convert for Altair's
    Vega-Lite release (read once per process)."""
    import altair as alt
    import vl_convert

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    snippet = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
    return vl_convert.javascript_bundle(snippet, vl_version=f"{major}.{minor}")


@dataclass(frozen=True)
class Built:
    """What `write_report` wrote."""

    path: Path
    bytes: int
    seconds: float
    scopes: int
    charts: int


def build_html(data: ReportData) -> str:
    """The page for marts already loaded."""
    sections = [
        ScopeSection(scope, scope_charts(scope), number) for number, scope in enumerate(data.scopes)
    ]
    return render_page(data, sections, library_js())


def write_report(source: str | Path, output: Path) -> Built:
    """Read the marts from `source` (DuckDB file or PostgreSQL URL) and write the page."""
    started = time.perf_counter()
    data = load_marts(source)
    page = build_html(data)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(output)
    charts = page.count('class="report-chart"')
    return Built(
        output, output.stat().st_size, time.perf_counter() - started, len(data.scopes), charts
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="copilot-metrics-report",
        description=(
            "Write one self-contained HTML report (charts and tables) of the Copilot KPI marts "
            "(schema copilot_marts) of a DuckDB file or a PostgreSQL database."
        ),
    )
    parser.add_argument(
        "--database",
        required=True,
        help="DuckDB file (e.g. output/copilot_metrics.duckdb) or postgresql://user@host/db URL",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("copilot-report.html"),
        help="the HTML file to write (default copilot-report.html)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; prints the report's path (exit 1 with one line on failure)."""
    args = parse_args(argv)
    try:
        built = write_report(args.database, args.output)
    except ReportError as exc:
        print(f"copilot-metrics-report: {exc}", file=sys.stderr)
        return 1
    print(
        f"{built.path} ({built.bytes / 1e6:.1f} MB, {built.scopes} scope(s), {built.charts} "
        f"charts, {built.seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
