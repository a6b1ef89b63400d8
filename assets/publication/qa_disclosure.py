"""The reviewers' "what was withheld" page of the QA pack (restricted: it names the LAs
whose headline is withheld and why, which the public release never says).

A two-minute read: England and regional figures withheld (expected: none), the headline
figures published, each current LA without a published pooled 12-month rate and the
reason (a small count of its own, or a complement protecting another's), and the
information lost by table and by LA."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.common.reference import las_in_year, load_las
from assets.common.vocabulary import LOCAL, TOTAL
from assets.disclosure.coverage import headline_coverage

WITHHELD_PAGE = "disclosure_withheld.md"
HEADLINE_COUNTS = ("returned_home", "re_entered", "not_re_entered")
TOP_LAS = 15


def _table(df: pd.DataFrame) -> list[str]:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return lines


def headline_reasons(log: pd.DataFrame, span: str | None, las: list[str]) -> pd.DataFrame:
    """Why each listed LA's pooled 12-month rate is withheld: 'own small count' when one
    of its headline counts is primary, else 'protects another figure'."""
    if span is None:
        return pd.DataFrame(columns=["old_la_code", "la_name", "reason", "counts withheld"])
    sel = log[
        log["geographic_level"].eq(LOCAL)
        & log["cohort_span"].eq(span)
        & pd.to_numeric(log["follow_up_months"], errors="coerce").eq(12)
        & log["characteristic_group"].eq(TOTAL)
        & log["characteristic"].eq(TOTAL)
        & log["column"].isin(HEADLINE_COUNTS)
        & log["reason"].isin(["primary", "secondary"])
    ]
    names = load_las().drop_duplicates("old_la_code", keep="last").set_index("old_la_code")
    rows = []
    for la in las:
        mine = sel[sel["old_la_code"].astype(str).eq(str(la))]
        if mine.empty:
            reason = "rate not calculated or not available"
        elif mine["reason"].eq("primary").any():
            reason = "own small count"
        else:
            reason = "protects another figure"
        rows.append(
            {
                "old_la_code": la,
                "la_name": names["la_name"].get(str(la), ""),
                "reason": reason,
                "counts withheld": ", ".join(sorted(mine["column"].unique())) or "-",
            }
        )
    return pd.DataFrame(rows)


def loss_by_la(log: pd.DataFrame) -> pd.DataFrame:
    """LA count cells withheld per LA (primary and secondary), most first."""
    la = log[log["geographic_level"].eq(LOCAL) & log["reason"].isin(["primary", "secondary"])]
    la = la[~la["column"].astype(str).str.contains("rate|ci|ratio|funnel", regex=True)]
    counts = la.groupby(["old_la_code", "reason"]).size().unstack(fill_value=0)
    out = counts.reindex(columns=["primary", "secondary"], fill_value=0)
    out.index.name = "old_la_code"
    out["withheld"] = out["primary"] + out["secondary"]
    out = out.sort_values(["withheld", "secondary"], ascending=False, kind="stable")
    return out.reset_index()[["old_la_code", "primary", "secondary", "withheld"]]


LOG_COLUMNS = (
    "table",
    "geographic_level",
    "old_la_code",
    "cohort_span",
    "follow_up_months",
    "characteristic_group",
    "characteristic",
    "column",
    "reason",
)
LOSS_COLUMNS = ["table", "nonzero_la_cells", "redesigned", "primary", "secondary"]


def _with_columns(df: pd.DataFrame | None, columns) -> pd.DataFrame:
    """A log or table with every column the page reads (a missing one is empty)."""
    df = pd.DataFrame() if df is None else df.copy()
    for col in columns:
        if col not in df:
            df[col] = pd.Series([None] * len(df), index=df.index, dtype="object")
    return df


def _headline_rows(cov) -> list[tuple[str, int, int]]:
    """(figure, published, out of) for each headline figure of a coverage."""
    agg = cov.aggregate_total_rows
    rows = [("England and regional Total rows", agg - cov.aggregate_total_rows_withheld, agg)]
    for m, span in cov.pooled_spans.items():
        rows.append(
            (f"LA pooled {m}-month rate ({span})", cov.pooled_published[m], cov.pooled_available[m])
        )
    rows.append((f"LA neighbour rate ({cov.sn_span})", cov.sn_published, cov.pooled_available[12]))
    rows.append(
        (
            f"LA single-year 12-month rate ({cov.single_year})",
            cov.single_year_published,
            cov.single_year_available,
        )
    )
    return rows


def _share(n: int, d: int) -> str:
    return f"{n} of {d} ({100 * n / d:.1f}%)" if d else f"{n} of {d}"


def against_previous(
    cov, previous_reentry: pd.DataFrame, loss: pd.DataFrame, previous_loss: pd.DataFrame | None
) -> list[str]:
    """The section comparing this release with the previous approved one: each headline
    figure's coverage and each table's information loss, side by side, so a reviewer sees
    at once whether the design (or the data) now withholds more."""
    current = cov.la_headlines["old_la_code"].astype(str).tolist()
    prev = headline_coverage(previous_reentry, current)
    rows = []
    for (name, n, d), (pname, pn, pd_) in zip(
        _headline_rows(cov), _headline_rows(prev), strict=True
    ):
        label = name if name == pname else f"{name}; previous: {pname}"
        rows.append(
            {"figure": label, "previous release": _share(pn, pd_), "this release": _share(n, d)}
        )
    lines = ["## Against the previous release", "", "Headline figures published:", ""]
    lines += _table(pd.DataFrame(rows)) + [""]
    if previous_loss is not None and len(previous_loss):
        cols = ["table", "primary", "secondary"]
        before = _with_columns(previous_loss, LOSS_COLUMNS)[cols]
        after = _with_columns(loss, LOSS_COLUMNS)[cols]
        both = before.merge(after, on="table", how="outer", suffixes=(" (previous)", " (this)"))
        both = both.fillna(0)
        for col in both.columns[1:]:
            both[col] = both[col].astype("int64")
        lines += ["Non-zero LA cells withheld, by table:", ""]
        lines += _table(both) + [""]
    return lines


def withheld_page(
    published,
    previous_reentry: pd.DataFrame | None = None,
    previous_loss: pd.DataFrame | None = None,
) -> str:
    """The page's markdown. ``previous_reentry`` and ``previous_loss``: the previous
    approved release's published reentry table and information loss, for the section
    against the previous release (left out when there is none)."""
    log = _with_columns(published.suppression_log, LOG_COLUMNS)
    log["reason"] = log["reason"].astype("object").fillna("")
    log["column"] = log["column"].astype("object").fillna("").astype(str)
    reentry = published.reentry
    last = int(pd.to_numeric(reentry["time_period"], errors="coerce").max())
    current = las_in_year(last)["old_la_code"].astype(str).tolist()
    cov = headline_coverage(reentry, current)
    agg = log[~log["geographic_level"].eq(LOCAL) & log["reason"].isin(["primary", "secondary"])]
    lines = ["# What was withheld (restricted)", ""]
    lines += [
        "## England and regional figures withheld (expected: none)",
        "",
        f"{len(agg)} England or regional count cells withheld."
        + ("" if agg.empty else " A region's figure was one LA's small count: see the log."),
        "",
        "## Headline figures published",
        "",
        *[f"- {line}" for line in cov.lines()],
        "",
    ]
    head = cov.la_headlines
    missing = head.loc[head["pooled_12_rate"].eq("c"), "old_la_code"]
    reasons = headline_reasons(log, cov.pooled_spans[12], missing.tolist())
    lines += [
        f"## Current LAs without a published pooled 12-month rate ({cov.pooled_spans[12]}): "
        f"{len(reasons)}",
        "",
    ]
    if len(reasons):
        counts = reasons["reason"].value_counts()
        lines += [", ".join(f"{k}: {v}" for k, v in counts.items()), ""]
        lines += _table(reasons) + [""]
    loss = _with_columns(published.information_loss, LOSS_COLUMNS)
    lines += ["## Information loss by table (non-zero LA cells)", ""]
    show = loss[LOSS_COLUMNS]
    lines += _table(show) + [""]
    by_la = loss_by_la(log)
    lines += [f"## Information loss by LA (the {TOP_LAS} LAs with most cells withheld)", ""]
    lines += _table(by_la.head(TOP_LAS)) + [""]
    if previous_reentry is not None:
        lines += against_previous(cov, previous_reentry, loss, previous_loss)
    else:
        lines += ["## Against the previous release", "", "No previous approved release.", ""]
    return "\n".join(lines)


def write_withheld_page(qa: Path, published, previous_reentry=None, previous_loss=None) -> Path:
    path = Path(qa) / WITHHELD_PAGE
    path.write_text(withheld_page(published, previous_reentry, previous_loss), encoding="utf-8")
    return path
