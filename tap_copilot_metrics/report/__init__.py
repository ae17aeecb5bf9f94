"""`copilot-metrics-report`: one self-contained HTML page of Copilot adoption and cost.

It reads the KPI marts (schema ``copilot_marts``, built by the dbt project in ``transform/``)
from a DuckDB file or a PostgreSQL URL and writes a single HTML file that opens from disk: the
charting library, the styles, the chart specifications and their data are all inline, and the
page makes no network request when viewed.

Charting library: **Vega-Lite**, written through **Vega-Altair** (``altair``) and rendered in the
browser by vega-embed, whose JavaScript (Vega, Vega-Lite, vega-embed; about 0.9 MB minified) is
bundled and inlined by **vl-convert** (``vl-convert-python``, maintained by the Vega team). Why:
both are well kept (Altair is a Vega project with regular releases; vl-convert ships the exact
Vega-Lite release Altair targets, with no Node.js and no download at build time); a chart is a
declarative JSON spec, so the page carries the marts' rows as data and the browser draws them
(the same numbers feed each chart and the table under it); and the inlined library is about a
fifth of plotly.js (about 4.7 MB), which keeps the file well under 5 MB at 5,000 users.
The tap never imports this package; install it with ``pip install 'tap-copilot-metrics[report]'``.

Modules by concern: :mod:`.data` loads the marts (DuckDB or PostgreSQL), :mod:`.charts` turns
them into Vega-Lite specs with their tables, :mod:`.page` writes the HTML, :mod:`.cli` is the
command.
"""
