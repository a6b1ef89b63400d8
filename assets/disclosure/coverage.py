"""What a release publishes of the figures users came for: England's and the regions'
Total figures, each current LA's pooled headline rate, its statistical-neighbour
comparison and its single-year rate. Read from the published strings alone, so the same
figures can be taken from any release folder (the benchmark, the QA pack)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.common.vocabulary import LOCAL, NATIONAL, REGIONAL, SINGLE_YEAR, TOTAL

HEADLINE_WINDOWS = (12, 24, 60)
AGGREGATE_FIGURES = ("returned_home", "re_entered", "not_re_entered", "re_entry_rate")
WITHHELD = "c"
NOT_AVAILABLE = ("x", "z")


def _shown(s: pd.Series) -> np.ndarray:
    """A figure is published when it is a number (or ``k``: rounds to 0 but is shown)."""
    t = s.astype("object").where(s.notna(), "x").astype(str).str.strip()
    return (~t.isin([WITHHELD, *NOT_AVAILABLE])).to_numpy()


def _total_rows(reentry: pd.DataFrame) -> pd.Series:
    return reentry["characteristic_group"].eq(TOTAL) & reentry["characteristic"].eq(TOTAL)


def _months(reentry: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(reentry["follow_up_months"], errors="coerce")


def _period(reentry: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(reentry["time_period"], errors="coerce")


def latest_pooled_span(reentry: pd.DataFrame, months: int) -> str | None:
    """The latest pooled span published (not ``x``) for England at ``months``."""
    nat = reentry[
        reentry["geographic_level"].eq(NATIONAL)
        & _total_rows(reentry)
        & _months(reentry).eq(months)
        & reentry["cohort_span"].ne(SINGLE_YEAR)
        & ~reentry["returned_home"].astype(str).isin(NOT_AVAILABLE)
    ]
    if nat.empty:
        return None
    return str(nat.sort_values("time_period")["cohort_span"].iloc[-1])


def latest_single_year(reentry: pd.DataFrame, months: int) -> int | None:
    nat = reentry[
        reentry["geographic_level"].eq(NATIONAL)
        & _total_rows(reentry)
        & _months(reentry).eq(months)
        & reentry["cohort_span"].eq(SINGLE_YEAR)
        & ~reentry["returned_home"].astype(str).isin(NOT_AVAILABLE)
    ]
    return None if nat.empty else int(_period(nat).max())


@dataclass(frozen=True)
class HeadlineCoverage:
    """Shares of the headline figures published (0-1) and the rows behind them."""

    aggregate_rows: int
    aggregate_rows_withheld: int
    aggregate_total_rows: int
    aggregate_total_rows_withheld: int
    current_las: int
    pooled_spans: dict[int, str | None]
    pooled_published: dict[int, int]
    pooled_available: dict[int, int]
    sn_published: int
    sn_span: str | None
    single_year: int | None
    single_year_published: int
    single_year_available: int
    la_headlines: pd.DataFrame  # one row per current LA: its headline strings (restricted)

    def share(self, n: int) -> float:
        return n / self.current_las if self.current_las else 0.0

    def lines(self) -> list[str]:
        agg_pub = self.aggregate_total_rows - self.aggregate_total_rows_withheld
        out = [
            f"England and regional Total rows (complete follow-up) with every count and the "
            f"rate published: {agg_pub} of {self.aggregate_total_rows} "
            f"({_pct(agg_pub, self.aggregate_total_rows)})",
            f"England and regional rows of any breakdown with a withheld count or rate: "
            f"{self.aggregate_rows_withheld} of {self.aggregate_rows} "
            f"({_pct(self.aggregate_rows_withheld, self.aggregate_rows)})",
        ]
        for m in HEADLINE_WINDOWS:
            n, d = self.pooled_published[m], self.pooled_available[m]
            out.append(
                f"current LAs with a published pooled {m}-month rate ({self.pooled_spans[m]}): "
                f"{n} of {d} with the figure available ({_pct(n, d)})"
            )
        d = self.pooled_available[12]
        out.append(
            f"current LAs with a published statistical-neighbour rate beside the pooled "
            f"12-month headline ({self.sn_span}): {self.sn_published} of {d} ({_pct(self.sn_published, d)})"
        )
        n, d = self.single_year_published, self.single_year_available
        out.append(
            f"current LAs with a published single-year 12-month rate ({self.single_year} "
            f"cohort): {n} of {d} with the figure available ({_pct(n, d)})"
        )
        out.append(f"current LAs: {self.current_las}")
        return out


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "n/a"


def headline_coverage(reentry: pd.DataFrame, current_las: list[str]) -> HeadlineCoverage:
    """``reentry``: the published reentry table (strings, ``follow_up_months`` numeric or
    text). ``current_las``: old LA codes of the LAs that exist in the latest year. Each
    share's denominator is the current LAs whose figure is available (not ``x``: an LA
    created inside the span has no pooled figure), so it measures withholding only."""
    r = reentry.copy()
    r["old_la_code"] = r["old_la_code"].astype("object").where(r["old_la_code"].notna(), None)
    r["old_la_code"] = r["old_la_code"].map(lambda v: None if v is None else str(v).split(".")[0])
    agg = r[r["geographic_level"].isin([NATIONAL, REGIONAL])]
    complete = ~agg["returned_home"].astype(str).isin(NOT_AVAILABLE)
    agg = agg[complete]
    figures = [c for c in AGGREGATE_FIGURES if c in agg]
    withheld = np.zeros(len(agg), dtype=bool)
    for c in figures:
        withheld |= agg[c].astype(str).str.strip().eq(WITHHELD).to_numpy()
    total = _total_rows(agg).to_numpy()
    la = r[r["geographic_level"].eq(LOCAL) & _total_rows(r)]
    la = la[la["old_la_code"].isin([str(c) for c in current_las])]
    spans = {m: latest_pooled_span(r, m) for m in HEADLINE_WINDOWS}
    head = pd.DataFrame({"old_la_code": sorted({str(c) for c in current_las})})
    pooled_published, pooled_available = {}, {}
    for m in HEADLINE_WINDOWS:
        sel = la[_months(la).eq(m) & la["cohort_span"].eq(spans[m])]
        rate = sel.set_index("old_la_code")["re_entry_rate"]
        head[f"pooled_{m}_rate"] = head["old_la_code"].map(rate).fillna("x")
        pooled_published[m] = int(_shown(head[f"pooled_{m}_rate"]).sum())
        pooled_available[m] = int((~head[f"pooled_{m}_rate"].isin(NOT_AVAILABLE)).sum())
        if m == 12 and "sn_re_entry_rate" in sel:
            sn = sel.set_index("old_la_code")["sn_re_entry_rate"]
            head["sn_12_rate"] = head["old_la_code"].map(sn).fillna("x")
    sn_published = int(_shown(head["sn_12_rate"]).sum()) if "sn_12_rate" in head else 0
    year = latest_single_year(r, 12)
    sel = la[_months(la).eq(12) & la["cohort_span"].eq(SINGLE_YEAR) & _period(la).eq(year)]
    head["single_12_rate"] = (
        head["old_la_code"].map(sel.set_index("old_la_code")["re_entry_rate"]).fillna("x")
    )
    return HeadlineCoverage(
        aggregate_rows=len(agg),
        aggregate_rows_withheld=int(withheld.sum()),
        aggregate_total_rows=int(total.sum()),
        aggregate_total_rows_withheld=int((withheld & total).sum()),
        current_las=len(head),
        pooled_spans=spans,
        pooled_published=pooled_published,
        pooled_available=pooled_available,
        sn_published=sn_published,
        sn_span=spans[12],
        single_year=year,
        single_year_published=int(_shown(head["single_12_rate"]).sum()),
        single_year_available=int((~head["single_12_rate"].isin(NOT_AVAILABLE)).sum()),
        la_headlines=head,
    )
