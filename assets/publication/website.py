"""The static HTML release: summary, methodology, one page per LA, downloads.

Pages are rendered with Jinja2 (autoescaping on) from the same EES-format rows as the open
data file, so every figure on a page is the CSV's figure. No JavaScript: charts are inline
SVG with a text alternative and their data table beside them. Markup follows WCAG 2.2 AA
(skip link, landmarks, one h1, captions and header scopes on tables, ``lang="en-GB"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from assets.common.reference import load_statistical_neighbours
from assets.common.vocabulary import (
    FOLLOW_UP_MONTHS,
    HEADLINE_FOLLOW_UP_MONTHS,
    LOCAL,
    NATIONAL,
    SINGLE_YEAR,
    TOTAL,
    follow_up_label,
)
from assets.measures.comparison import change_wording, ratio_reading
from assets.publication.charts import funnel_base, funnel_svg, trend_svg
from assets.publication.notes import NOTE_DEFINITIONS, note_references, notes_sheet

RATIO_COLUMNS = ("standardised_ratio", "standardised_ratio_lower_ci", "standardised_ratio_upper_ci")

NOTE_DEFINITIONS_BY_NUMBER = {d.number: d for d in NOTE_DEFINITIONS}
TEMPLATES = resources.files("templates")
HEADLINE_WINDOW = follow_up_label(HEADLINE_FOLLOW_UP_MONTHS)
WINDOWS = [follow_up_label(m) for m in FOLLOW_UP_MONTHS]


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "release"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["data_table"] = data_table
    return env


_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


def _escape(value) -> str:
    """markupsafe.escape's text without a Markup object per cell (same five characters)."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return value.translate(_HTML_ESCAPES)
    return str(escape(value))


def data_table(id: str, caption, headers: list, rows: list[list], numeric: list[bool]) -> Markup:
    """A data table with caption, column headers and row headers, every value escaped.

    Built in Python rather than as a Jinja macro: the LA pages hold about 200,000 cells,
    and the macro's per-cell loop was most of the time spent rendering the site."""
    cls = [' class="num"' if n else "" for n in numeric]
    e = _escape
    out = [
        f'<div class="table-wrap" role="region" aria-labelledby="{e(id)}-caption" tabindex="0">\n'
        f'<table id="{e(id)}">\n<caption id="{e(id)}-caption">{e(caption)}</caption>\n<thead><tr>',
        *(f'<th scope="col"{cls[i]}>{e(h)}</th>' for i, h in enumerate(headers)),
        "</tr></thead>\n<tbody>\n",
    ]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            if i:
                out.append(f"<td{cls[i]}>{e(cell)}</td>")
            else:
                out.append(f'<th scope="row">{e(cell)}</th>')
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n</div>")
    return Markup("".join(out))


def display(value: str) -> str:
    """A published value as shown on a page: numbers with thousands separators, symbols as is."""
    return f"{int(value):,}" if value.isdigit() else value


def _num(value: str) -> float | None:
    return float(value) if value.isdigit() else None


def size_text(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n} bytes"


@dataclass
class SiteData:
    """Slices of the headline EES file that the pages use, computed once."""

    ees: pd.DataFrame
    totals: pd.DataFrame
    la_pooled_12: pd.DataFrame
    funnel_span: str
    england_pooled_rate: float | None


def _site_data(ees: pd.DataFrame) -> SiteData:
    totals = ees[ees["characteristic_group"] == TOTAL]
    pooled = totals[
        (totals["cohort_span"] != SINGLE_YEAR) & (totals["follow_up"] == HEADLINE_WINDOW)
    ]
    span = pooled["cohort_span"].max() if len(pooled) else ""
    pooled = pooled[pooled["cohort_span"] == span]
    nat = pooled[pooled["geographic_level"] == NATIONAL]
    eng = None
    if len(nat):
        row = nat.iloc[0]
        if (
            row["re_entered"].isdigit()
            and row["returned_home"].isdigit()
            and int(row["returned_home"])
        ):
            eng = 100 * int(row["re_entered"]) / int(row["returned_home"])
        elif row["re_entry_rate"].isdigit():
            eng = float(row["re_entry_rate"])
    la = pooled[pooled["geographic_level"] == LOCAL]
    if eng is None:
        # No England pooled row: every pooled LA row carries England's published rate.
        rates = la.loc[la["england_re_entry_rate"].str.isdigit(), "england_re_entry_rate"]
        if len(rates):
            eng = float(rates.astype(int).mode().min())
    return SiteData(ees, totals, la, span, eng)


def _funnel_points(site: SiteData) -> pd.DataFrame:
    la = site.la_pooled_12
    ok = la["returned_home"].str.isdigit() & la["re_entry_rate"].str.isdigit()
    return pd.DataFrame(
        {
            "old_la_code": la.loc[ok, "old_la_code"],
            "la_name": la.loc[ok, "la_name"],
            "n": la.loc[ok, "returned_home"].astype(int),
            "rate": la.loc[ok, "re_entry_rate"].astype(int),
        }
    )


def _england_headlines(site: SiteData) -> list[str]:
    nat = site.totals[
        (site.totals["geographic_level"] == NATIONAL) & (site.totals["cohort_span"] == SINGLE_YEAR)
    ]
    out = []
    for window, words in [
        ("12 months", "within 12 months"),
        ("60 months", "within five years (60 months)"),
    ]:
        rows = nat[(nat["follow_up"] == window) & nat["re_entry_rate"].str.isdigit()].sort_values(
            "time_period"
        )
        if not len(rows):
            continue
        last = rows.iloc[-1]
        sentence = (
            f"{last['re_entry_rate']}% of the {display(last['returned_home'])} children who returned home "
            f"from care in England in the year ending 31 March {last['time_period']} re-entered care "
            f"{words} (95% confidence interval {last['re_entry_rate_lower_ci']}% to "
            f"{last['re_entry_rate_upper_ci']}%)."
        )
        sentence += _year_on_year(rows)
        out.append(sentence)
    return out


def _year_on_year(rows: pd.DataFrame) -> str:
    """Compare with the previous cohort, in words chosen by a two-proportion interval
    (assets.measures.comparison.change_wording): a change is stated only when it is real."""
    if len(rows) < 2:
        return ""
    last, prev = rows.iloc[-1], rows.iloc[-2]
    counts = [last["re_entered"], last["returned_home"], prev["re_entered"], prev["returned_home"]]
    if not all(str(v).isdigit() for v in counts):
        return ""
    words = change_wording(*([int(v)] for v in counts))[0]
    if words is None:
        return ""
    return (
        f" This is {words} the {prev['re_entry_rate']}% for children who returned home in the "
        f"year ending 31 March {prev['time_period']}."
    )


def _standardised_ratio_sentence(row: dict) -> str:
    """The LA's standardised ratio with its plain reading (comparison.ratio_reading),
    from the published (disclosure-controlled) figures; nothing if any is withheld."""
    values = [row.get(c, "") for c in RATIO_COLUMNS]
    try:
        ratio, lower, upper = (float(v) for v in values)
    except ValueError:
        return ""
    reading = ratio_reading([lower], [upper])[0]
    return (
        f" Allowing for the ages of its children and whether their returns were planned, it "
        f"had {ratio:.2f} times the re-entries England's rates would predict (95% confidence "
        f"interval {lower:.2f} to {upper:.2f}): {reading}."
    )


def _range_sentence(site: SiteData, points: pd.DataFrame) -> str:
    la = site.la_pooled_12
    if not len(points):
        return "No local authority pooled rates are published in this release."
    lo = points.sort_values(["rate", "old_la_code"]).iloc[0]
    hi = points.sort_values(["rate", "old_la_code"]).iloc[-1]
    above = la["funnel_position"].str.startswith("Above 99.8").sum()
    below = la["funnel_position"].str.startswith("Below 99.8").sum()
    hidden = len(la) - len(points)
    return (
        f"Across the {len(points)} local authorities with a published three-year pooled rate "
        f"({site.funnel_span}), the 12-month re-entry rate ranged from {lo['rate']}% in "
        f"{lo['la_name']} to {hi['rate']}% in {hi['la_name']}. {above} were above and {below} "
        f"below the 99.8% funnel limits. {hidden} authorities' rates are not published "
        f"because of small numbers or unavailable data."
    )


def _la_link(code: str, name: str, root: str = "") -> Markup:
    return Markup(f'<a href="{root}la/{escape(code)}.html">{escape(name)}</a>')


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (much faster than to_dict on Arrow strings)."""
    cols = {c: df[c].to_numpy(dtype=object) for c in df.columns}
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def _collect_notes(notes: pd.DataFrame) -> dict[str | None, dict[int, tuple[set, set]]]:
    """Cohort years and details of each note number, by LA code (None: global notes).

    One pass over the notes instead of a filter and group-by per LA page. Rows scoped to
    a level but to no LA are not listed on LA pages and are left out."""
    out: dict[str | None, dict[int, tuple[set, set]]] = {}
    cols = ["old_la_code", "geographic_level", "note_number", "time_period", "detail"]
    for code, level, number, year, detail in zip(
        *(notes[c].to_numpy(dtype=object) for c in cols), strict=True
    ):
        code = None if pd.isna(code) else code
        if code is None and not pd.isna(level):
            continue
        years, details = out.setdefault(code, {}).setdefault(int(number), (set(), set()))
        if not pd.isna(year):
            years.add(int(year))
        if detail:
            details.add(detail)
    return out


def _note_items(*parts: dict[int, tuple[set, set]]) -> list[dict]:
    """The page's note list from the global and the LA's own note years and details."""
    merged: dict[int, tuple[set, set]] = {}
    for part in parts:
        for number, (years, details) in part.items():
            y, d = merged.setdefault(number, (set(), set()))
            y |= years
            d |= details
    out = []
    for number in sorted(merged):
        years, details = merged[number]
        d = NOTE_DEFINITIONS_BY_NUMBER[number]
        out.append(
            {
                "number": number,
                "title": d.title,
                "text": d.text,
                "years": ", ".join(str(y) for y in sorted(years)),
                "details": [] if d.key == "small_cohort" else sorted(details),
            }
        )
    return out


FIGURE_HEADERS = [
    "Cohort year",
    "Cohort years",
    "Follow-up window",
    "Returned home",
    "Re-entered",
    "Did not re-enter",
    "Re-entered, any LA",
    "Rate (%)",
    "Lower 95% limit (%)",
    "Upper 95% limit (%)",
    "Statistical neighbours (%)",
    "England (%)",
    "Funnel plot position",
    "Notes",
]
FIGURE_COLUMNS = [
    "time_period",
    "cohort_span",
    "follow_up",
    "returned_home",
    "re_entered",
    "not_re_entered",
    "re_entered_any_la",
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "sn_re_entry_rate",
    "england_re_entry_rate",
    "funnel_position",
]
FIGURE_NUMERIC = [
    False,
    False,
    False,
    True,
    True,
    True,
    True,
    True,
    True,
    True,
    True,
    True,
    False,
    False,
]


# The columns of the headline file that an LA page shows or selects on.
LA_PAGE_COLUMNS = list(
    dict.fromkeys(
        [
            "old_la_code",
            "new_la_code",
            "la_name",
            "region_name",
            "characteristic_group",
            "characteristic",
            *FIGURE_COLUMNS,
        ]
    )
)


def _trend_table(years: list[int], series: dict[str, pd.Series]):
    rows = []
    for y in years:
        rows.append([str(y), *[display(s.get(y, "x")) for s in series.values()]])
    return rows


def render_site(
    folder: Path,
    *,
    release,
    reentry_ees: pd.DataFrame,
    notes: pd.DataFrame,
    la_files: dict[str, Path],
    downloads: list[dict] | Callable[[], list[dict]],
) -> list[Path]:
    """Write index.html, methodology.html, downloads.html, la/<code>.html and static/.

    ``downloads`` may be a function returning the list: it is called only when
    downloads.html, the last page, is written, so files still being written elsewhere
    (the spreadsheet) can be listed with their final size."""
    folder = Path(folder)
    env = _env()
    site = _site_data(reentry_ees)
    date_text = release.release_date.strftime("%-d %B %Y")
    common = {"release": release, "release_date_text": date_text}
    written: list[Path] = []

    def write(rel: str, template: str, **ctx) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        html = env.get_template(template).render(**common, **ctx)
        path.write_text(html, encoding="utf-8", newline="\n")
        written.append(path)

    static = folder / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "style.css").write_bytes(TEMPLATES.joinpath("static", "style.css").read_bytes())
    written.append(static / "style.css")

    points = _funnel_points(site)
    eng_rate = site.england_pooled_rate if site.england_pooled_rate is not None else 0.0
    base = funnel_base(points, eng_rate, "Children who returned home (three years pooled)")
    funnel_desc_all = (
        f"{len(points)} local authorities plotted. England's pooled rate is {eng_rate:.0f}%. "
        f"The limits narrow as the number of children grows."
    )

    # Home page.
    nat = site.totals[
        (site.totals["geographic_level"] == NATIONAL) & (site.totals["cohort_span"] == SINGLE_YEAR)
    ]
    years = sorted(int(y) for y in nat["time_period"].unique())
    by_window = {
        w: nat[nat["follow_up"] == w].set_index(
            nat[nat["follow_up"] == w]["time_period"].astype(int)
        )["re_entry_rate"]
        for w in WINDOWS
    }
    trend_series = {f"Within {w}": [_num(by_window[w].get(y, "x")) for y in years] for w in WINDOWS}
    eng_trend_svg = trend_svg(
        years,
        trend_series,
        "england-trend-chart",
        "Re-entry rate by follow-up window, England",
        "Line chart of the percentage of children who re-entered care within 6, 12, 24 and "
        "60 months of returning home, by cohort year. Years whose follow-up is not yet "
        "complete have no point. The data are in the table below the chart.",
    )
    region = site.totals[
        (site.totals["geographic_level"] != LOCAL)
        & (site.totals["cohort_span"] == SINGLE_YEAR)
        & (site.totals["follow_up"] == HEADLINE_WINDOW)
        & site.totals["re_entry_rate"].str.isdigit()
    ]
    latest = region["time_period"].max() if len(region) else ""
    region = region[region["time_period"] == latest]
    region_rows = [
        [
            r.region_name or r.country_name,
            display(r.returned_home),
            display(r.re_entered),
            display(r.re_entry_rate),
            display(r.re_entry_rate_lower_ci),
            display(r.re_entry_rate_upper_ci),
        ]
        for r in region.itertuples()
    ]
    la_latest = site.ees[site.ees["geographic_level"] == LOCAL].drop_duplicates(
        "old_la_code", keep="last"
    )
    pooled_by_la = site.la_pooled_12.set_index("old_la_code")
    la_index_rows = []
    for r in la_latest.sort_values(["region_code", "la_name"]).itertuples():
        p = pooled_by_la.loc[r.old_la_code] if r.old_la_code in pooled_by_la.index else None
        la_index_rows.append(
            [
                _la_link(r.old_la_code, r.la_name),
                r.region_name,
                display(p["re_entry_rate"]) if p is not None else "x",
                p["funnel_position"] if p is not None else "Not available",
            ]
        )
    used = notes_sheet(notes)
    write(
        "index.html",
        "index.html.j2",
        page_title="Summary",
        current="index",
        root="",
        headlines=_england_headlines(site),
        range_sentence=_range_sentence(site, points),
        trend_svg=Markup(eng_trend_svg),
        trend_headers=["Cohort year", *[f"Within {w} (%)" for w in WINDOWS]],
        trend_rows=_trend_table(years, {w: by_window[w].to_dict() for w in WINDOWS}),
        trend_numeric=[False, True, True, True, True],
        funnel_svg=Markup(
            funnel_svg(
                base,
                "funnel-chart",
                f"Funnel plot of local authority 12-month re-entry rates, {site.funnel_span}",
                funnel_desc_all,
            )
        ),
        funnel_span=site.funnel_span,
        funnel_headers=[
            "Local authority",
            "Returned home",
            "Re-entry rate (%)",
            "Funnel plot position",
        ],
        funnel_rows=[
            [r.la_name, display(r.returned_home), display(r.re_entry_rate), r.funnel_position]
            for r in site.la_pooled_12.sort_values("la_name").itertuples()
        ],
        funnel_numeric=[False, True, True, False],
        region_caption=f"12-month re-entry, England and regions, children who returned home in the year ending 31 March {latest}",
        region_headers=[
            "Area",
            "Returned home",
            "Re-entered",
            "Rate (%)",
            "Lower 95% limit (%)",
            "Upper 95% limit (%)",
        ],
        region_rows=region_rows,
        region_numeric=[False, True, True, True, True, True],
        la_index_headers=[
            "Local authority",
            "Region",
            f"Pooled 12-month rate (%), {site.funnel_span}",
            "Funnel plot position",
        ],
        la_index_rows=la_index_rows,
        la_index_numeric=[False, False, True, False],
        notes=[{"number": r.number, "title": r.title, "text": r.text} for r in used.itertuples()],
    )
    write(
        "methodology.html",
        "methodology.html.j2",
        page_title="Methodology",
        current="methodology",
        root="",
    )

    # LA pages: plain Python records grouped once, so 150 pages cost no per-page scans.
    sn_by_la: dict[str, list] = {}
    for nb in load_statistical_neighbours().itertuples():
        sn_by_la.setdefault(nb.old_la_code, []).append(nb)
    la_rows_all = site.ees[site.ees["geographic_level"] == LOCAL]
    refs = note_references(
        la_rows_all.assign(
            time_period=la_rows_all["time_period"].astype(int),
            follow_up_months=la_rows_all["follow_up"]
            .str.extract(r"^(\d+)", expand=False)
            .astype(int),
        ),
        notes,
    )
    by_la: dict[str, list[dict]] = {}
    page_rows = la_rows_all[LA_PAGE_COLUMNS].assign(notes=refs.to_numpy())
    for rec in _records(page_rows):
        by_la.setdefault(rec["old_la_code"], []).append(rec)
    eng12 = by_window[HEADLINE_WINDOW].to_dict()
    pooled_by_code = {r["old_la_code"]: r for r in _records(site.la_pooled_12)}
    notes_by_la = _collect_notes(notes)
    global_only = notes_by_la.get(None, {})
    la_names = {code: rows[-1]["la_name"] for code, rows in by_la.items()}
    months = {w: int(w.split()[0]) for w in reentry_ees["follow_up"].unique()}
    for code in sorted(by_la):
        rows = by_la[code]
        info = rows[-1]
        name = info["la_name"]
        tot = [r for r in rows if r["characteristic_group"] == TOTAL]
        s12 = {
            int(r["time_period"]): r
            for r in tot
            if r["cohort_span"] == SINGLE_YEAR and r["follow_up"] == HEADLINE_WINDOW
        }
        la_years = sorted(s12)
        series = {
            name: [_num(s12[y]["re_entry_rate"]) for y in la_years],
            "Statistical neighbours": [_num(s12[y]["sn_re_entry_rate"]) for y in la_years],
            "England": [_num(eng12.get(y, "x")) for y in la_years],
        }
        chart = trend_svg(
            la_years,
            series,
            "la-trend-chart",
            f"12-month re-entry rate, {name}, statistical neighbours and England",
            f"Line chart of the 12-month re-entry rate for {name} (circles, solid line), "
            "its statistical neighbours pooled (squares, dashed line) and England (triangles, "
            "dotted line) by cohort year. Missing points are suppressed or not available. The "
            "data are in the table below the chart.",
        )
        trend_rows = [
            [
                str(y),
                display(s12[y]["re_entry_rate"]),
                display(s12[y]["sn_re_entry_rate"]),
                display(eng12.get(y, "x")),
            ]
            for y in la_years
        ]
        pooled = pooled_by_code.get(code)
        highlight = None
        if pooled and pooled["returned_home"].isdigit() and pooled["re_entry_rate"].isdigit():
            highlight = (int(pooled["returned_home"]), int(pooled["re_entry_rate"]), name)
            funnel_sentence = (
                f"Over {site.funnel_span}, {pooled['re_entry_rate']}% of the "
                f"{display(pooled['returned_home'])} children who returned home from "
                f"{name} re-entered care within 12 months, compared with "
                f"{display(pooled['sn_re_entry_rate'])}% for its statistical neighbours and "
                f"{display(pooled['england_re_entry_rate'])}% for England. Funnel plot "
                f"position: {pooled['funnel_position'].lower()}."
            ) + _standardised_ratio_sentence(pooled)
        else:
            funnel_sentence = (
                f"{name}'s pooled rate for {site.funnel_span} is not published (small "
                "numbers or data not available), so it is not shown on the funnel plot."
            )
        fsvg = funnel_svg(
            base,
            "la-funnel-chart",
            f"Funnel plot of 12-month re-entry rates, {site.funnel_span}, {name} highlighted",
            funnel_desc_all + " " + funnel_sentence,
            highlight,
        )
        ordered = sorted(
            tot,
            key=lambda r: (
                r["cohort_span"] != SINGLE_YEAR,
                months[r["follow_up"]],
                int(r["time_period"]),
            ),
        )
        figure_rows = [
            [display(r[c]) if FIGURE_NUMERIC[i] else r[c] for i, c in enumerate(FIGURE_COLUMNS)]
            + [r["notes"]]
            for r in ordered
        ]
        brk = [
            r
            for r in rows
            if r["characteristic_group"] != TOTAL
            and r["cohort_span"] == SINGLE_YEAR
            and r["follow_up"] == HEADLINE_WINDOW
        ]
        brk_years = [int(r["time_period"]) for r in brk if r["re_entered"] != "x"]
        brk_year = max(brk_years) if brk_years else None
        breakdown_rows = [
            [
                f"{r['characteristic_group']}: {r['characteristic']}",
                display(r["returned_home"]),
                display(r["re_entered"]),
                display(r["re_entry_rate"]),
                display(r["re_entry_rate_lower_ci"]),
                display(r["re_entry_rate_upper_ci"]),
            ]
            for r in brk
            if brk_year is not None and int(r["time_period"]) == brk_year
        ]
        sn_rows = []
        for nb in sn_by_la.get(code, []):
            p = pooled_by_code.get(nb.neighbour_old_la_code)
            if p is None:
                sn_rows.append(
                    [
                        nb.neighbour_old_la_code,
                        str(nb.rank),
                        nb.closeness,
                        "x",
                        "Not in this release",
                    ]
                )
            else:
                sn_rows.append(
                    [
                        _la_link(nb.neighbour_old_la_code, p["la_name"], "../"),
                        str(nb.rank),
                        nb.closeness,
                        display(p["re_entry_rate"]),
                        p["funnel_position"],
                    ]
                )
        if pooled:
            sn_rows.append(["England", "", "", display(pooled["england_re_entry_rate"]), ""])
        summary = [funnel_sentence]
        latest = [s12[y] for y in la_years if s12[y]["re_entry_rate"] != "x"]
        if latest:
            r = latest[-1]
            rate = (
                f"{r['re_entry_rate']}%."
                if r["re_entry_rate"].isdigit()
                else "not published (small numbers)."
            )
            summary.append(
                f"Of the {display(r['returned_home'])} children who returned home in the year "
                f"ending 31 March {r['time_period']}, the 12-month re-entry rate was {rate}"
            )
        csv_path = la_files[code]
        write(
            f"la/{code}.html",
            "la.html.j2",
            page_title=name,
            current="la",
            root="../",
            la=info,
            summary=summary,
            trend_svg=Markup(chart),
            trend_headers=[
                "Cohort year",
                f"{name} (%)",
                "Statistical neighbours (%)",
                "England (%)",
            ],
            trend_rows=trend_rows,
            trend_numeric=[False, True, True, True],
            funnel_sentence=funnel_sentence,
            funnel_span=site.funnel_span,
            funnel_svg=Markup(fsvg),
            figure_headers=FIGURE_HEADERS,
            figure_rows=figure_rows,
            figure_numeric=FIGURE_NUMERIC,
            breakdown_caption=(
                f"12-month re-entry by characteristic, {name}, year ending 31 March {brk_year}"
            ),
            breakdown_headers=[
                "Characteristic",
                "Returned home",
                "Re-entered",
                "Rate (%)",
                "Lower 95% limit (%)",
                "Upper 95% limit (%)",
            ],
            breakdown_rows=breakdown_rows,
            breakdown_numeric=[False, True, True, True, True, True],
            sn_headers=[
                "Local authority",
                "Rank",
                "Closeness",
                "Pooled 12-month rate (%)",
                "Funnel plot position",
            ],
            sn_rows=sn_rows,
            sn_numeric=[False, True, False, True, False],
            notes=_note_items(global_only, notes_by_la.get(code, {})),
            la_csv=f"data/la/{csv_path.name}",
            la_csv_size=size_text(csv_path.stat().st_size),
        )

    la_dl_rows = [
        [
            _la_link(code, la_names[code]),
            Markup(f'<a href="data/la/{escape(p.name)}">{escape(p.name)}</a>'),
            size_text(p.stat().st_size),
        ]
        for code, p in sorted(la_files.items())
    ]
    write(
        "downloads.html",
        "downloads.html.j2",
        page_title="Downloads",
        current="downloads",
        root="",
        files=downloads() if callable(downloads) else downloads,
        la_headers=["Local authority", "File", "Size"],
        la_rows=la_dl_rows,
        la_numeric=[False, False, True],
    )
    return written


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """Text of every <table id=...> on a page, row by row (used by the agreement tests)."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables: dict[str, list[list[str]]] = {}
            self.current = None
            self.row = None
            self.cell = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                self.current = a.get("id", f"table-{len(self.tables)}")
                self.tables[self.current] = []
            elif tag == "tr" and self.current:
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.row.append("".join(self.cell).strip())
                self.cell = None
            elif tag == "tr" and self.row is not None:
                self.tables[self.current].append(self.row)
                self.row = None
            elif tag == "table":
                self.current = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    p = P()
    p.feed(html)
    return p.tables
