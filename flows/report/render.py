"""Write one week's report: HTML (Jinja2, autoescaped), PDF (WeasyPrint), CSVs and Parquet, atomically.

The files are built in a temporary folder beside `reports/YYYY-Www/`, then swapped in: a reader sees
the old complete set or the new one, and a failed build leaves the old one as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from flows.report.build import WeeklyReport

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
PARQUET_NAME = "posts.parquet"
# Cells that a spreadsheet would run as a formula (CSV injection); such text gets a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def template_environment() -> jinja2.Environment:
    """Templates ship with the package (flows/report/templates); every value is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("flows.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = lambda v: "–" if v is None or v != v else f"{v:,}"
    env.filters["dec"] = lambda v, d=2: "–" if v is None or v != v else f"{v:.{d}f}"
    return env


def _pct(value: Any, digits: int = 0) -> str:
    if value is None or value != value:
        return "–"
    return f"{value * 100:.{digits}f}%"


def render_html(report: WeeklyReport) -> str:
    return template_environment().get_template("report.html.j2").render(**report.context)


def render_pdf(html: str, path: Path) -> None:
    import weasyprint  # imported when a PDF is written: it loads Pango

    weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV; text that a spreadsheet would read as a formula is prefixed with a quote."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(_safe_cell)
    out.to_csv(path, index=False)


def write_files(report: WeeklyReport, folder: Path) -> list[str]:
    """Every file of the report into `folder` (which exists and is empty); their names."""
    html = render_html(report)
    (folder / HTML_NAME).write_text(html, encoding="utf-8")
    render_pdf(html, folder / PDF_NAME)
    names = [HTML_NAME, PDF_NAME]
    for name, frame in report.tables.items():
        write_csv(frame, folder / f"{name}.csv")
        names.append(f"{name}.csv")
    posts = report.posts.copy()
    posts["reasons"] = [list(r) for r in posts["reasons"]]
    posts["hashtags"] = [list(h) if h is not None else [] for h in posts["hashtags"]]
    posts.to_parquet(folder / PARQUET_NAME, index=False)
    names.append(PARQUET_NAME)
    return names


def write_report(report: WeeklyReport, reports_dir: Path) -> tuple[Path, list[str]]:
    """Build the files in a temporary folder next to `reports_dir/YYYY-Www`, then swap it in."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / report.week.label
    token = uuid.uuid4().hex[:8]
    building = reports_dir / f".{report.week.label}.building-{token}"
    building.mkdir()
    try:
        names = write_files(report, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    retired = reports_dir / f".{report.week.label}.old-{token}"
    if target.exists():
        os.replace(target, retired)
    os.replace(building, target)
    shutil.rmtree(retired, ignore_errors=True)
    return target, names
