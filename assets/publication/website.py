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

from assets.common.reference import load_regions, load_statistical_neighbours
from assets.common.vocabulary import (
    ENGLAND_NAME,
    FOLLOW_UP_MONTHS,
    HEADLINE_FOLLOW_UP_MONTHS,
    LOCAL,
    NATIONAL,
    SINGLE_YEAR,
    TOTAL,
    follow_up_label,
)
from assets.measures.comparison import change_wording
from assets.publication.charts import (
    IntervalRow,
    funnel_base,
    funnel_svg,
    interval_svg,
    scatter_svg,
    trend_svg,
)
from assets.publication.finder import by_letter, by_region, finder_entries
from assets.publication.la_summary import (
    funnel_sentence as la_funnel_sentence,
)
from assets.publication.la_summary import (
    headline_sentences,
    latest_year_sentence,
    risk_adjusted_sentence,
)
from assets.publication.notes import NOTE_DEFINITIONS, note_references, notes_sheet
from assets.publication.prose import comparison_word, published, withheld_words
from assets.publication.spreadsheet import SHORTHAND

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
    """A published value as shown on a page: numbers with thousands separators, symbols
    in the bracketed GSS shorthand the spreadsheet uses ([c], [x], [z], [low])."""
    if value.isdigit():
        return f"{int(value):,}"
    return SHORTHAND.get(value, value)


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
        f"below the 99.8% funnel limits. The other {hidden} authorities' pooled rates are "
        "not published, to protect confidentiality or because the data are not available."
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
            "region_code",
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


def region_table(site: SiteData) -> tuple[list[list[str]], str]:
    """England and every region for the latest cohort with England's 12-month rate
    published: one row per area whatever is withheld (a withheld cell shows its symbol)."""
    rows = site.totals[
        (site.totals["geographic_level"] != LOCAL)
        & (site.totals["cohort_span"] == SINGLE_YEAR)
        & (site.totals["follow_up"] == HEADLINE_WINDOW)
    ]
    nat = rows[(rows["geographic_level"] == NATIONAL) & rows["re_entry_rate"].str.isdigit()]
    latest = (
        nat["time_period"].max() if len(nat) else (rows["time_period"].max() if len(rows) else "")
    )
    rows = rows[rows["time_period"] == latest]
    by_code = {r["region_code"]: r for r in _records(rows)}
    out = []
    for code, name in [
        ("", ENGLAND_NAME),
        *load_regions()[["region_code", "region_name"]].itertuples(index=False),
    ]:
        r = by_code.get(code)
        cells = (
            [
                r[c]
                for c in (
                    "returned_home",
                    "re_entered",
                    "re_entry_rate",
                    "re_entry_rate_lower_ci",
                    "re_entry_rate_upper_ci",
                )
            ]
            if r
            else ["x"] * 5
        )
        out.append([name, *(display(v) for v in cells)])
    return out, latest


def _national(site: SiteData, window: str) -> dict[int, dict]:
    nat = site.totals[
        (site.totals["geographic_level"] == NATIONAL)
        & (site.totals["cohort_span"] == SINGLE_YEAR)
        & (site.totals["follow_up"] == window)
    ]
    return {int(r["time_period"]): r for r in _records(nat)}


def headline_tiles(site: SiteData) -> list[dict]:
    """England's latest rates, each with its change since the previous cohort in words."""
    tiles = []
    for months in (HEADLINE_FOLLOW_UP_MONTHS, max(FOLLOW_UP_MONTHS)):
        window = follow_up_label(months)
        rows = _national(site, window)
        years = [y for y in sorted(rows) if published(rows[y]["re_entry_rate"])]
        if not years:
            continue
        r = rows[years[-1]]
        change = "No earlier cohort is published."
        prev = rows.get(years[-1] - 1)
        if prev and published(prev["re_entry_rate"]):
            word = comparison_word(
                r["re_entry_rate"],
                r["re_entry_rate_lower_ci"],
                r["re_entry_rate_upper_ci"],
                prev["re_entry_rate"],
            )
            change = f"{word[0].upper()}{word[1:]} the {prev['re_entry_rate']}% for children who returned home in {years[-1] - 1}."
        tiles.append(
            {
                "label": f"Re-entered care within {window}",
                "value": f"{r['re_entry_rate']}%",
                "detail": f"Children who returned home in the year ending 31 March {years[-1]}, England.",
                "change": change,
            }
        )
    rows = _national(site, HEADLINE_WINDOW)
    years = [y for y in sorted(rows) if published(rows[y]["returned_home"])]
    if years:
        tiles.append(
            {
                "label": "Children who returned home",
                "value": display(rows[years[-1]]["returned_home"]),
                "detail": f"In the year ending 31 March {years[-1]}, England (rounded to the nearest 10).",
                "change": "",
            }
        )
    return tiles


STORY_GROUPS = [
    ("Planned return", "whether the return home was planned"),
    ("Previous returns home", "previous returns home"),
    ("Age at return", "age at the return home"),
    ("Legal status at return", "legal status at the return home"),
]


def who_reenters(site: SiteData) -> dict:
    """England's 12-month rates by the characteristics that matter most, pooled over the
    latest three cohorts, with one sentence per characteristic naming the extremes."""
    nat = site.ees[
        (site.ees["geographic_level"] == NATIONAL) & (site.ees["follow_up"] == HEADLINE_WINDOW)
    ]
    pooled = nat[nat["cohort_span"] == site.funnel_span]
    single = nat[(nat["cohort_span"] == SINGLE_YEAR) & nat["re_entry_rate"].str.isdigit()]
    latest = single["time_period"].max() if len(single) else ""
    single = nat[(nat["cohort_span"] == SINGLE_YEAR) & (nat["time_period"] == latest)]
    sentences, table = [], []
    for group, words in STORY_GROUPS:
        g = _records(pooled[pooled["characteristic_group"] == group])
        when = f"{site.funnel_span} (three years pooled)"
        if not any(published(r["re_entry_rate"]) for r in g):
            g = _records(single[single["characteristic_group"] == group])
            when = f"the year ending 31 March {latest}"
        for r in g:
            table.append(
                [
                    f"{group}: {r['characteristic']}",
                    when,
                    display(r["returned_home"]),
                    display(r["re_entered"]),
                    display(r["re_entry_rate"]),
                    display(r["re_entry_rate_lower_ci"]),
                    display(r["re_entry_rate_upper_ci"]),
                ]
            )
        shown = [r for r in g if published(r["re_entry_rate"])]
        if len(shown) < 2:
            continue
        hi = max(shown, key=lambda r: int(r["re_entry_rate"]))
        lo = min(shown, key=lambda r: int(r["re_entry_rate"]))
        sentences.append(
            f"By {words}, the rate was highest for {hi['characteristic']} "
            f"({hi['re_entry_rate']}%) and lowest for {lo['characteristic']} "
            f"({lo['re_entry_rate']}%), for children who returned home in {when}."
        )
    return {"sentences": sentences, "rows": table, "span": site.funnel_span}


def compare_entry(label: str, row: dict | None, emphasis: bool = False, link=None):
    """A comparison table row for an area and its interval, or, when it cannot be drawn,
    None and the symbol that says why (the rate's, else its interval's)."""
    cols = ("returned_home", "re_entry_rate", "re_entry_rate_lower_ci", "re_entry_rate_upper_ci")
    cells = [row[c] for c in cols] if row else ["x"] * 4
    bar, why = None, None
    if all(published(v) for v in cells[1:]):
        bar = IntervalRow(label, *(float(v) for v in cells[1:]), emphasis=emphasis)
    else:
        why = next(v for v in cells[1:] if not published(v))
    return [link or label, *(display(v) for v in cells)], bar, why


@dataclass
class NeighbourComparison:
    """An LA beside its neighbours, region and England, built in one pass for the LA
    page and the briefing: the comparison table, the neighbours table, the intervals
    drawn and the areas that could not be drawn with the symbol saying why."""

    compare_rows: list[list]
    sn_rows: list[list]
    intervals: list[IntervalRow]
    not_drawn: list[tuple[str, str]]


def neighbour_comparison(
    name: str,
    pooled: dict | None,
    neighbours: list[tuple] | None = None,  # (statistical_neighbours row, its pooled row or None)
    region: tuple[str, dict | None] = ("", None),
    england: dict | None = None,
) -> NeighbourComparison:
    """The LA's pooled 12-month rate beside each statistical neighbour (in rank order),
    its region and England."""
    out = NeighbourComparison([], [], [], [])

    def add(label, row, emphasis=False, link=None):
        table_row, bar, why = compare_entry(label, row, emphasis, link)
        out.compare_rows.append(table_row)
        if bar is not None:
            out.intervals.append(bar)
        else:
            out.not_drawn.append((label, why))

    add(name, pooled, emphasis=True)
    for nb, p in neighbours or []:
        if p is None:
            code = nb.neighbour_old_la_code
            out.sn_rows.append(
                [code, str(nb.rank), nb.closeness, display("x"), "Not in this release"]
            )
            continue
        link = _la_link(nb.neighbour_old_la_code, p["la_name"], "../")
        out.sn_rows.append(
            [link, str(nb.rank), nb.closeness, display(p["re_entry_rate"]), p["funnel_position"]]
        )
        add(p["la_name"], p, link=link)
    region_name, region_row = region
    add(region_name, region_row, link=f"{region_name} (region)")
    add(ENGLAND_NAME, england)
    if pooled:
        out.sn_rows.append([ENGLAND_NAME, "", "", display(pooled["england_re_entry_rate"]), ""])
    return out


def not_drawn_sentence(not_drawn: list[tuple[str, str]], own: str | None = None) -> str:
    """The areas missing from the comparison chart, named, by reason in words ("Not
    shown because their rates are not published to protect confidentiality: Barnsley
    and Rotherham."). ``own`` leaves out the LA itself (its absence is said elsewhere)."""
    by_reason: dict[str, list[str]] = {}
    for label, why in not_drawn:
        if label != own:
            by_reason.setdefault(withheld_words(why), []).append(label)
    parts = []
    for words, labels in by_reason.items():
        names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        verb = "its rate is" if len(labels) == 1 else "their rates are"
        parts.append(f"Not shown because {verb} {words}: {names}.")
    return " ".join(parts)


def england_trend_message(years: list[int], by_window: dict[str, pd.Series]) -> str:
    """The England trend chart's message: the headline window's first and last rates, and
    for each window why years have no point (follow-up not complete, or withheld)."""
    out = []
    head = by_window.get(HEADLINE_WINDOW)
    if head is not None:
        shown = [y for y in years if published(head.get(y, "x"))]
        if len(shown) > 1:
            out.append(
                f"The 12-month re-entry rate was {head[shown[0]]}% for children who returned "
                f"home in {shown[0]} and {head[shown[-1]]}% for {shown[-1]}."
            )
    for window, series in by_window.items():
        waiting = [y for y in years if series.get(y, "x") == "x"]
        withheld = [y for y in years if series.get(y, "x") == "c"]
        if waiting:
            out.append(
                f"Within {window}: no point for {waiting[0]}"
                + (f" to {waiting[-1]}" if len(waiting) > 1 else "")
                + " because follow-up is not yet complete or the figure is not available."
            )
        if withheld:
            out.append(
                f"Within {window}: no point for {', '.join(map(str, withheld))} because the "
                "figure is not published to protect confidentiality."
            )
    out.append("The data are in the table below the chart.")
    return " ".join(out)


def home_message(scatter: pd.DataFrame, england_share: float | None) -> str:
    """The message of the rate-against-share-going-home chart."""
    if not len(scatter):
        return "No local authority has both figures published for this period."
    corr = scatter["x"].corr(scatter["y"]) if len(scatter) > 2 else float("nan")
    link = (
        "Authorities that send a larger share of children home tend to have higher re-entry rates."
        if corr >= 0.3
        else "Authorities that send a larger share of children home tend to have lower "
        "re-entry rates."
        if corr <= -0.3
        else "There is little relation between the share sent home and the re-entry rate."
    )
    eng = (
        f" In England, {england_share:.0f}% of children who left care went home."
        if england_share is not None
        else ""
    )
    return (
        f"Each circle is one of {len(scatter)} local authorities, placed by the share of "
        f"children leaving its care who returned home and by its 12-month re-entry rate. "
        f"{link}{eng} The data are in the table below the chart."
    )


HOME_REASONS = ("(E4A)", "(E4B)")


def span_years(span: str) -> list[str]:
    """'2022 to 2024' -> ['2022', '2023', '2024']."""
    first, _, last = span.partition(" to ")
    if not (first.isdigit() and last.isdigit()):
        return []
    return [str(y) for y in range(int(first), int(last) + 1)]


def home_shares(ceased_ees: pd.DataFrame | None, span: str) -> dict[str | None, float]:
    """Share (%) of children ceasing care who returned home (E4A or E4B) over the pooled
    years, by LA code (None: England). Left out where any count needed is withheld."""
    if ceased_ees is None or not len(ceased_ees):
        return {}
    years = span_years(span)
    df = ceased_ees[ceased_ees["time_period"].isin(years)]
    df = df[df["geographic_level"].isin([LOCAL, NATIONAL])]
    home = df["reason_group"].str.endswith(HOME_REASONS)
    total = df["reason_group"] == TOTAL
    out: dict[str | None, float] = {}
    for code, g in df[home | total].groupby(df["old_la_code"], sort=True):
        mask_home = g["reason_group"].str.endswith(HOME_REASONS)
        if not g["ceased"].str.isdigit().all():
            continue
        if g["time_period"].nunique() != len(years):
            continue
        den = g.loc[~mask_home, "ceased"].astype(int).sum()
        if den:
            out[code or None] = 100 * g.loc[mask_home, "ceased"].astype(int).sum() / den
    return out


def trend_message(name: str, s12: dict[int, dict], shown: list[int]) -> str:
    """The message of an LA's trend chart: the first and last published rates."""
    if not shown:
        return f"No single-year 12-month rate for {name} is published."
    a, b = s12[shown[0]], s12[shown[-1]]
    if shown[0] == shown[-1]:
        return f"Only one single-year rate for {name} is published: {b['re_entry_rate']}% in {shown[-1]}."
    hidden = len(s12) - len(shown)
    tail = (
        f" Rates for {hidden} cohort years are not shown because they are not published "
        "or their follow-up is not yet complete."
        if hidden
        else ""
    )
    return (
        f"{name}'s 12-month re-entry rate was {a['re_entry_rate']}% for children who "
        f"returned home in {shown[0]} and {b['re_entry_rate']}% for {shown[-1]}.{tail}"
    )


def compare_message(
    name: str, rows: list[IntervalRow], not_drawn: list[tuple[str, str]] | None = None
) -> str:
    """The message of the comparison chart, in words, naming the areas it leaves out."""
    own = next((r for r in rows if r.emphasis), None)
    others = [r for r in rows if not r.emphasis]
    missing = not_drawn_sentence(not_drawn or [], own=name)
    tail = f" {missing}" if missing else ""
    if own is None:
        why = dict(not_drawn or []).get(name, "x")
        return (
            f"{name}'s pooled rate is {withheld_words(why)}; the chart shows "
            f"{len(others)} comparison {'area' if len(others) == 1 else 'areas'} with "
            f"{'its' if len(others) == 1 else 'their'} 95% confidence "
            f"{'interval' if len(others) == 1 else 'intervals'}.{tail}"
        )
    higher = sum(r.rate > own.rate for r in others)
    lower = sum(r.rate < own.rate for r in others)
    areas = "area" if len(others) == 1 else "areas"
    return (
        f"{name}'s pooled rate is {own.rate:.0f}% (95% confidence interval {own.lower:.0f}% "
        f"to {own.upper:.0f}%). Of the {len(others)} other {areas} shown, {higher} "
        f"{_have(higher)} a higher rate and {lower} {_have(lower)} a lower rate.{tail}"
    )


def _have(n: int) -> str:
    return "has" if n == 1 else "have"


STATUS_WORDS = {
    "accepted": "Accepted",
    "accepted_with_quarantine": "Accepted; some children's records held back",
    "rejected": "Rejected by validation",
    "not_received": "Not received",
}


def quality_rows(
    la_year_status: pd.DataFrame | None,
    code: str,
    upn_matching: pd.DataFrame | None = None,
    returned_home: dict[int, str] | None = None,
) -> list[list[str]]:
    """The LA's returns by collection year: status, the share of children held back and,
    with ``upn_matching`` (``assets.measures.cohorts.upn_match_rates``), the share of the
    children who returned home whose UPN lets the "any local authority" figure follow
    them into another LA.

    The UPN share is shown only for a year whose number returned home is published
    (``returned_home``: cohort year -> the published single-year count): a share of a
    withheld number would narrow it, so it is withheld with it."""
    if la_year_status is None:
        return []
    rows = la_year_status[la_year_status["la_code"] == code].sort_values("collection_year")
    upn = {}
    if upn_matching is not None:
        mine = upn_matching[upn_matching["la_code"].astype(str) == code]
        upn = dict(zip(mine["cohort_year"].astype(int), mine["upn_match_rate"], strict=True))
    returned_home = returned_home or {}
    out = []
    for r in rows.itertuples():
        share = (
            f"{100 * r.children_quarantined / r.children:.0f}"
            if r.children and r.status in ("accepted", "accepted_with_quarantine")
            else display("x")
        )
        row = [str(r.collection_year), STATUS_WORDS.get(r.status, r.status), share]
        if upn_matching is not None:
            year = int(r.collection_year)
            count = returned_home.get(year)
            if year in upn and published(count):
                row.append(f"{upn[year]:.0f}")
            else:
                row.append(display(count if count in ("c", "k") else "x"))
        out.append(row)
    return out


def render_site(
    folder: Path,
    *,
    release,
    reentry_ees: pd.DataFrame,
    notes: pd.DataFrame,
    la_files: dict[str, Path],
    downloads: list[dict] | Callable[[], list[dict]],
    ceased_ees: pd.DataFrame | None = None,
    la_year_status: pd.DataFrame | None = None,
    upn_matching: pd.DataFrame | None = None,
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
        england_trend_message(years, by_window),
    )
    region_rows, latest = region_table(site)
    shares = home_shares(ceased_ees, site.funnel_span)
    scatter = pd.DataFrame(
        {
            "x": [shares[c] for c in points["old_la_code"] if c in shares],
            "y": [
                r for c, r in zip(points["old_la_code"], points["rate"], strict=True) if c in shares
            ],
        }
    )
    entries = finder_entries(
        sorted(site.ees.loc[site.ees["geographic_level"] == LOCAL, "old_la_code"].unique())
    )
    used = notes_sheet(notes)
    write(
        "index.html",
        "index.html.j2",
        page_title="Summary",
        current="index",
        root="",
        region_count=len(region_rows) - 1,
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
        tiles=headline_tiles(site),
        home_rows=[
            [r.la_name, f"{shares[r.old_la_code]:.0f}", display(str(r.rate))]
            for r in points.sort_values(["la_name", "old_la_code"]).itertuples()
            if r.old_la_code in shares
        ],
        story=who_reenters(site),
        home_svg=Markup(
            scatter_svg(
                scatter,
                "home-chart",
                f"Re-entry rate against the share of children leaving care by going home, "
                f"{site.funnel_span}",
                home_message(scatter, shares.get(None)),
                "Children who left care by returning home (%)",
            )
        ),
        notes=[{"number": r.number, "title": r.title, "text": r.text} for r in used.itertuples()],
    )
    write(
        "methodology.html",
        "methodology.html.j2",
        page_title="Methodology",
        current="methodology",
        root="",
    )
    write(
        "local-authorities.html",
        "finder.html.j2",
        page_title="Find a local authority",
        current="finder",
        root="",
        letters=by_letter(entries),
        regions=by_region(entries),
        entry_count=len(entries),
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
    region_pooled = {
        r["region_code"]: r
        for r in _records(
            site.totals[
                (site.totals["geographic_level"] == "Regional")
                & (site.totals["cohort_span"] == site.funnel_span)
                & (site.totals["follow_up"] == HEADLINE_WINDOW)
            ]
        )
    }
    nat_pooled = site.totals[
        (site.totals["geographic_level"] == NATIONAL)
        & (site.totals["cohort_span"] == site.funnel_span)
        & (site.totals["follow_up"] == HEADLINE_WINDOW)
    ]
    england_pooled = _records(nat_pooled)[0] if len(nat_pooled) else None
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
        bars = {
            name: [
                (
                    (
                        float(s12[y]["re_entry_rate_lower_ci"]),
                        float(s12[y]["re_entry_rate_upper_ci"]),
                    )
                    if published(s12[y]["re_entry_rate_lower_ci"])
                    and published(s12[y]["re_entry_rate_upper_ci"])
                    else None
                )
                for y in la_years
            ]
        }
        shown_years = [y for y in la_years if published(s12[y]["re_entry_rate"])]
        chart = trend_svg(
            la_years,
            series,
            "la-trend-chart",
            f"12-month re-entry rate, {name}, statistical neighbours and England",
            trend_message(name, s12, shown_years)
            + " The chart shows the rate for each cohort year with its 95% confidence "
            "interval, beside its statistical neighbours pooled (dashed line) and England "
            "(dotted line). The data are in the table below the chart.",
            intervals=bars,
        )
        trend_rows = [
            [
                str(y),
                display(s12[y]["re_entry_rate"]),
                display(s12[y]["re_entry_rate_lower_ci"]),
                display(s12[y]["re_entry_rate_upper_ci"]),
                display(s12[y]["sn_re_entry_rate"]),
                display(eng12.get(y, "x")),
            ]
            for y in la_years
        ]
        pooled = pooled_by_code.get(code)
        region_row = region_pooled.get(info["region_code"])
        region_rate = (
            pooled.get("region_re_entry_rate")
            if pooled and pooled.get("region_re_entry_rate") is not None
            else (region_row["re_entry_rate"] if region_row else "x")
        )
        comparators = [
            ("its statistical neighbours", pooled["sn_re_entry_rate"] if pooled else "x"),
            (f"the {info['region_name']} region", region_rate),
            ("England", pooled["england_re_entry_rate"] if pooled else "x"),
        ]
        plotted = bool(
            pooled and published(pooled["returned_home"]) and published(pooled["re_entry_rate"])
        )
        highlight = (
            (int(pooled["returned_home"]), int(pooled["re_entry_rate"]), name) if plotted else None
        )
        f_sentence = la_funnel_sentence(name, pooled, site.funnel_span)
        fsvg = funnel_svg(
            base,
            "la-funnel-chart",
            f"Funnel plot of 12-month re-entry rates, {site.funnel_span}"
            + (f", {name} highlighted" if plotted else f"; {name} is not shown"),
            funnel_desc_all + " " + f_sentence,
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
            and r["cohort_span"] == site.funnel_span
            and r["follow_up"] == HEADLINE_WINDOW
        ]
        brk_when = f"in {site.funnel_span} (three years pooled)"
        if not any(published(r["re_entry_rate"]) for r in brk):
            single = [
                r
                for r in rows
                if r["characteristic_group"] != TOTAL
                and r["cohort_span"] == SINGLE_YEAR
                and r["follow_up"] == HEADLINE_WINDOW
                and r["re_entered"] != "x"
            ]
            last = max((r["time_period"] for r in single), default=None)
            brk = [r for r in single if r["time_period"] == last]
            brk_when = f"in the year ending 31 March {last}"
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
        ]
        neighbours = neighbour_comparison(
            name,
            pooled,
            [(nb, pooled_by_code.get(nb.neighbour_old_la_code)) for nb in sn_by_la.get(code, [])],
            (info["region_name"], region_row),
            england_pooled,
        )
        compare_svg = interval_svg(
            neighbours.intervals,
            "la-compare-chart",
            f"{name} beside its statistical neighbours, region and England, {site.funnel_span}",
            compare_message(name, neighbours.intervals, neighbours.not_drawn),
        )
        summary = headline_sentences(name, pooled, site.funnel_span, comparators, tot)
        summary.append(risk_adjusted_sentence(name, pooled, site.funnel_span))
        latest = [s12[y] for y in la_years if s12[y]["re_entry_rate"] != "x"]
        sentence = latest_year_sentence(name, latest[-1] if latest else None)
        if sentence:
            summary.append(sentence)
        share = shares.get(code)
        home_sentence = (
            f"Over {site.funnel_span}, {share:.0f}% of the children who stopped being looked "
            f"after by {name} left care by returning home, against {shares[None]:.0f}% in "
            "England. A low re-entry rate can come from sending fewer children home, so read "
            "the two together."
            if share is not None and shares.get(None) is not None
            else f"The share of children who left care by returning home from {name} is "
            "not published for this period, so it cannot be set beside the re-entry rate."
        )
        home_svg = scatter_svg(
            scatter,
            "la-home-chart",
            f"Re-entry rate against the share of children leaving care by going home, "
            f"{site.funnel_span}",
            home_sentence,
            "Children who left care by returning home (%)",
            highlight=(share, int(pooled["re_entry_rate"]), name)
            if share is not None and plotted
            else None,
        )
        home_rows = [
            [
                area,
                f"{v:.0f}" if v is not None else display("x"),
                display(rate),
            ]
            for area, v, rate in (
                (name, share, pooled["re_entry_rate"] if pooled else "x"),
                (
                    "England",
                    shares.get(None),
                    england_pooled["re_entry_rate"] if england_pooled else "x",
                ),
            )
        ]
        returned = {}
        for r in tot:  # the year's published number returned home, at any window
            year = int(r["time_period"])
            if r["cohort_span"] == SINGLE_YEAR and not published(returned.get(year)):
                returned[year] = r["returned_home"]
        quality = quality_rows(la_year_status, code, upn_matching, returned)
        csv_path = la_files[code]
        page = dict(
            page_title=name,
            la=info,
            summary=summary,
            trend_svg=Markup(chart),
            trend_headers=[
                "Cohort year",
                f"{name} (%)",
                "Lower 95% limit (%)",
                "Upper 95% limit (%)",
                "Statistical neighbours (%)",
                "England (%)",
            ],
            trend_rows=trend_rows,
            trend_numeric=[False, True, True, True, True, True],
            funnel_sentence=f_sentence,
            funnel_span=site.funnel_span,
            funnel_svg=Markup(fsvg),
            funnel_plotted=plotted,
            compare_svg=Markup(compare_svg),
            compare_headers=[
                "Area",
                "Returned home",
                "Rate (%)",
                "Lower 95% limit (%)",
                "Upper 95% limit (%)",
            ],
            compare_rows=neighbours.compare_rows,
            compare_not_drawn=not_drawn_sentence(neighbours.not_drawn),
            compare_numeric=[False, True, True, True, True],
            home_sentence=home_sentence,
            home_svg=Markup(home_svg),
            home_rows=home_rows,
            figure_headers=FIGURE_HEADERS,
            figure_rows=figure_rows,
            figure_numeric=FIGURE_NUMERIC,
            breakdown_caption=(
                f"12-month re-entry by characteristic, {name}, children who returned home "
                f"{brk_when}"
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
            sn_rows=neighbours.sn_rows,
            sn_numeric=[False, True, False, True, False],
            quality_headers=[
                "Collection year",
                "Return",
                "Children's records held back by validation (%)",
                *(
                    ["Children who returned home with a UPN usable for matching (%)"]
                    if upn_matching is not None
                    else []
                ),
            ],
            quality_rows=quality,
            quality_numeric=[False, False, True, True][: 3 + (upn_matching is not None)],
            upn_available=upn_matching is not None,
            notes=_note_items(global_only, notes_by_la.get(code, {})),
            la_csv=f"data/la/{csv_path.name}",
            la_csv_size=size_text(csv_path.stat().st_size),
        )
        write(f"la/{code}.html", "la.html.j2", current="la", root="../", **page)
        write(
            f"briefing/{code}.html",
            "briefing.html.j2",
            current="la",
            root="../",
            **{**page, "page_title": f"{name}: briefing"},
        )

    labels = {e.code: e.label for e in entries}  # "Dorset (until March 2019)" etc.
    la_dl_rows = [
        [
            _la_link(code, labels.get(code, la_names[code])),
            Markup(f'<a href="data/la/{escape(p.name)}">{escape(p.name)}</a>'),
            size_text(p.stat().st_size),
        ]
        for code, p in sorted(la_files.items(), key=lambda kv: (la_names[kv[0]].lower(), kv[0]))
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
