"""The HTML page: header, scope switch, a figure per chart (spec, definition, table), inline JS."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tap_copilot_metrics.report.charts import ChartView, Column
from tap_copilot_metrics.report.data import ReportData, ScopeData

NO_VALUE = "\N{EN DASH}"
SCOPE_LABELS = {"organization": "Organization", "enterprise": "Enterprise"}


@dataclass
class ScopeSection:
    """One scope's charts and the page ids of their containers."""

    data: ScopeData
    charts: list[ChartView]
    #: The scope's place on the page (ids of its charts are unique page-wide).
    number: int = 0

    @property
    def key(self) -> str:
        """The scope's key (`organization:octo-org`)."""
        return self.data.scope.key

    @property
    def label(self) -> str:
        """How the page names the scope (`Organization octo-org`)."""
        scope = self.data.scope
        return f"{SCOPE_LABELS.get(scope.kind, scope.kind.capitalize())} {scope.name}"

    def chart_id(self, index: int, chart: ChartView) -> str:
        """The DOM id of a chart's container."""
        return f"chart-{self.number}-{index}-{chart.key}"


def format_cell(column: Column, value: Any) -> str:
    """A table cell's text: rates as %, USD with cents, days ISO, NULL as a dash."""
    if value is None:
        return NO_VALUE
    kind = column.kind
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "usd":
        return f"{value:.2f}"
    if kind == "number":
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if kind == "int":
        return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    if kind == "month" and isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    if kind == "time" and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no `</` can close it)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def _table(section: ScopeSection, chart: ChartView) -> str:
    # Cells are right-aligned numbers unless marked `t` (text); the first column (a day, a
    # month or a login) is left-aligned by the style sheet.
    text = [c.kind in ("text", "time") and i > 0 for i, c in enumerate(chart.columns)]
    head = "".join(
        f'<th scope="col" data-field="{_e(c.field)}"{" class=t" if t else ""}>{_e(c.header)}</th>'
        for c, t in zip(chart.columns, text, strict=True)
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td{' class=t' if t else ''}>{_e(format_cell(c, row[c.field]))}</td>"
            for c, t in zip(chart.columns, text, strict=True)
        )
        + "</tr>"
        for row in chart.rows
    )
    return (
        f'<div class="table-wrap" role="region" tabindex="0" '
        f'aria-label="Numbers of {_e(chart.title)}, {_e(section.label)}">'
        f'<table data-chart="{_e(chart.key)}" data-mart="{_e(chart.mart)}" '
        f"data-where='{_e(json.dumps(chart.where))}'><caption>{_e(chart.title)}: the numbers "
        f"({len(chart.rows)} rows)</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _figure(section: ScopeSection, index: int, chart: ChartView) -> str:
    chart_id = section.chart_id(index, chart)
    if chart.spec is None:
        drawing = f'<p class="no-data" id="{chart_id}">No rows in the marts for this scope.</p>'
    else:
        drawing = f'<div class="chart" id="{chart_id}" data-chart="{_e(chart.key)}"></div>'
    note = f'<p class="note">{_e(chart.note)}</p>' if chart.note else ""
    return (
        f'<figure class="report-chart" data-chart="{_e(chart.key)}">'
        f'<h3>{_e(chart.title)}</h3>{drawing}<figcaption class="definition">'
        f"{_e(chart.definition)}</figcaption>{note}{_table(section, chart) if chart.rows else ''}"
        "</figure>"
    )


def _day_span(days: Sequence[dt.date]) -> str:
    if not days:
        return "no days in kpi_daily"
    return f"{days[0].isoformat()} to {days[-1].isoformat()} ({len(days)} days)"


def _section(section: ScopeSection, hidden: bool) -> str:
    days = section.data.days
    last = days[-1].isoformat() if days else NO_VALUE
    figures = "\n".join(_figure(section, i, c) for i, c in enumerate(section.charts))
    return (
        f'<section class="scope" data-scope="{_e(section.key)}"{" hidden" if hidden else ""}>'
        f"<h2>{_e(section.label)}</h2>"
        f'<p class="scope-meta">Days: <span class="date-range">{_e(_day_span(days))}</span>; '
        f'last complete day: <span class="last-day">{_e(last)}</span>.</p>\n{figures}</section>'
    )


def _header(data: ReportData, sections: Sequence[ScopeSection]) -> str:
    all_days = sorted({d for s in sections for d in s.data.days})
    last = all_days[-1].isoformat() if all_days else NO_VALUE
    scopes = ", ".join(s.label for s in sections) or "none"
    switch = ""
    if len(sections) > 1:
        options = "".join(f'<option value="{_e(s.key)}">{_e(s.label)}</option>' for s in sections)
        switch = (
            '<p class="switch"><label for="scope-select">Show scope </label>'
            f'<select id="scope-select">{options}</select></p>'
        )
    return (
        "<header><h1>GitHub Copilot adoption and cost</h1><dl>"
        f'<dt>Scopes</dt><dd class="scopes">{_e(scopes)}</dd>'
        f'<dt>Date range</dt><dd class="date-range">{_e(_day_span(all_days))}</dd>'
        f'<dt>Last complete day</dt><dd class="last-day">{_e(last)}</dd>'
        f"<dt>Source</dt><dd>{_e(data.source)} (schema copilot_marts)</dd></dl>"
        f"{switch}</header>"
    )


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
header,section{max-width:900px;margin:0 auto;padding:1rem 1.5rem}
header{background:#fff;border-bottom:1px solid #d0d7de}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.3rem;margin:1rem 0 .2rem}
h3{font-size:1.05rem;margin:0 0 .4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0}
.report-chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;
padding:1rem;overflow-x:auto}
.definition{color:#57606a;font-size:.9rem;margin:.3rem 0}.note{font-size:.85rem;color:#57606a}
.no-data{padding:2rem;text-align:center;color:#57606a;border:1px dashed #d0d7de}
.table-wrap{max-height:14rem;overflow:auto;border:1px solid #d0d7de;margin-top:.5rem}
table{border-collapse:collapse;font-size:.8rem;width:100%}
caption{text-align:left;font-size:.8rem;color:#57606a;padding:.2rem .4rem}
th,td{padding:.15rem .5rem;border-bottom:1px solid #eaeef2;white-space:nowrap}
td,th{text-align:right;font-variant-numeric:tabular-nums}
td:first-child,th:first-child,.t{text-align:left}
th{position:sticky;top:0;background:#f6f8fa}
select{font-size:1rem}
"""

SCRIPT = """
(function () {
  var specs = JSON.parse(document.getElementById("report-specs").textContent);
  var select = document.getElementById("scope-select");
  var drawn = {};
  function show(key) {
    document.querySelectorAll("section.scope").forEach(function (s) {
      s.hidden = s.getAttribute("data-scope") !== key;
    });
    if (drawn[key]) { return drawn[key]; }
    var section = document.querySelector('section.scope[data-scope="' + key + '"]');
    drawn[key] = Promise.all((specs[key] || []).map(function (chart) {
      var el = document.getElementById(chart.id);
      return vegaEmbed(el, chart.spec, {renderer: "svg", actions: false}).then(function () {
        el.setAttribute("data-rendered", "ok");
      }, function (error) {
        el.setAttribute("data-rendered", "error");
        el.textContent = "This chart could not be drawn: " + error;
        console.error(error);
      });
    })).then(function () { section.setAttribute("data-ready", "true"); });
    return drawn[key];
  }
  window.copilotReportShow = show;
  if (select) { select.addEventListener("change", function () { show(select.value); }); }
  var first = document.querySelector("section.scope");
  if (first) { show(first.getAttribute("data-scope")); }
})();
"""


def render_page(data: ReportData, sections: Sequence[ScopeSection], library_js: str) -> str:
    """The whole page; `library_js` is the inlined Vega/Vega-Lite/vega-embed bundle."""
    specs = {
        s.key: [
            {"id": s.chart_id(i, c), "chart": c.key, "spec": c.spec}
            for i, c in enumerate(s.charts)
            if c.spec is not None
        ]
        for s in sections
    }
    body = "\n".join(_section(s, hidden=i > 0) for i, s in enumerate(sections))
    if not sections:
        body = '<section><p class="no-data">The marts hold no rows.</p></section>'
    library = library_js.replace("</script", "<\\/script")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # Nothing may be fetched: no network, only the inline script and styles.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        'img-src data: blob:; font-src data:">'
        f"<title>GitHub Copilot adoption and cost</title><style>{STYLE}</style></head><body>\n"
        f"{_header(data, sections)}\n<main>{body}</main>\n"
        f'<script type="application/json" id="report-specs">{_script_json(specs)}</script>\n'
        f"<script>{library}</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
