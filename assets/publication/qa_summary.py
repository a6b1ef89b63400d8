"""The reviewers' one-page QA summary and the per-LA "check your figures" packs.

The summary lists every check with its result and a link to the evidence, so the calls a
reviewer must make (a flagged jump, a break in series, a reconciliation gap, a warning
from validation) are on one page. Everything here is written under OUTPUT/restricted/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from markupsafe import escape

from assets.common.vocabulary import LOCAL
from assets.publication.prose import prose_fragments, symbols_in_text
from assets.publication.qa_checks import (
    BREAK_RATIO,
    RECONCILE_SHARE,
    breaks_in_series,
    reconciliation,
)
from assets.publication.qa_disclosure import WITHHELD_PAGE
from validation.plausibility import JUMP_MIN, JUMP_SHARE, PLAUSIBILITY_COLUMNS

# The validation report's own file (written by qa_pack.write_qa_reports): the summary
# reads it rather than computing its own flags.
PLAUSIBILITY_FILE = "plausibility.csv"
# An LA-year whose share of children who returned home with a UPN usable for matching is
# more than this many percentage points below England's share that year is listed: its
# "any local authority" figure undercounts moves between LAs more than others do. (On the
# national synthetic data about 70% have one, so a fixed 90% would list nearly every LA.)
UPN_WARNING_POINTS = 15.0


def low_upn_match(upn_matching: pd.DataFrame) -> pd.DataFrame:
    """LA-years more than UPN_WARNING_POINTS below England's UPN match rate that year."""
    by_year = upn_matching.groupby("cohort_year")[["with_upn", "index_returns"]].sum()
    england = (100 * by_year["with_upn"] / by_year["index_returns"]).round(1)
    out = upn_matching.assign(england_rate=upn_matching["cohort_year"].map(england))
    return out[out["upn_match_rate"] < out["england_rate"] - UPN_WARNING_POINTS]


SYMBOLS = ("c", "x", "z", "k")
SHOWN_ROWS = 25


def _read(path: Path) -> pd.DataFrame:
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        return pd.DataFrame()  # absent, or a table with no columns (nothing to report)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _table(df: pd.DataFrame, caption: str) -> str:
    if df.empty:
        return ""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
        for row in df.head(SHOWN_ROWS).astype(str).itertuples(index=False)
    )
    more = (
        f"<p>Showing {SHOWN_ROWS} of {len(df):,} rows; all are in the linked file.</p>"
        if len(df) > SHOWN_ROWS
        else ""
    )
    return (
        f'<div class="table-wrap"><table><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{more}"
    )


def withheld_counts(reentry_ees: pd.DataFrame) -> pd.DataFrame:
    """Cells of the headline file holding each symbol, by geographic level."""
    counts = ["returned_home", "re_entered", "re_entry_rate"]
    rows = []
    for level, g in reentry_ees.groupby("geographic_level", sort=True):
        for col in counts:
            vc = g[col].value_counts()
            rows.append(
                {
                    "geographic_level": level,
                    "column": col,
                    "cells": len(g),
                    **{f"shown as {s}": int(vc.get(s, 0)) for s in SYMBOLS},
                }
            )
    return pd.DataFrame(rows)


def prose_symbol_findings(candidate: Path) -> pd.DataFrame:
    """Every sentence of the candidate's pages that shows a bare suppression symbol."""
    rows = []
    for page in sorted(Path(candidate).rglob("*.html")):
        for text in prose_fragments(page.read_text(encoding="utf-8")):
            found = symbols_in_text(text)
            if found:
                rows.append(
                    {
                        "page": page.relative_to(candidate).as_posix(),
                        "symbols": " ".join(found),
                        "text": text[:200],
                    }
                )
    return pd.DataFrame(rows, columns=["page", "symbols", "text"])


def write_check_packs(qa: Path, reentry_ees: pd.DataFrame, ceased_ees: pd.DataFrame,
                      la_year_status: pd.DataFrame, flags: pd.DataFrame,
                      upn_matching: pd.DataFrame | None = None) -> int:  # fmt: skip
    """One folder per LA under qa/check_your_figures/<code>/: its published re-entry and
    ceasing rows, its returns' validation status, its plausibility flags and its UPN match
    rate by cohort year (``upn_matching.csv``, unrounded: restricted), for the LA's data
    team to review before publication. Returns the number of LAs."""
    root = Path(qa) / "check_your_figures"
    codes = sorted(set(reentry_ees.loc[reentry_ees["geographic_level"] == LOCAL, "old_la_code"]))
    # Each table is formatted once and its lines dealt out by LA (same bytes as writing
    # each LA's rows with to_csv): 153 LAs x 5 small to_csv calls were most of the time.
    sources = {
        "reentry.csv": (reentry_ees, "old_la_code"),
        "ceased_by_reason.csv": (ceased_ees, "old_la_code"),
        "returns.csv": (la_year_status, "la_code"),
        "plausibility.csv": (flags, "la_code"),
    }
    if upn_matching is not None:
        sources["upn_matching.csv"] = (upn_matching, "la_code")
    split = {name: _csv_lines_by(df, col) for name, (df, col) in sources.items()}
    for code in codes:
        folder = root / code
        folder.mkdir(parents=True, exist_ok=True)
        for name, (header, lines) in split.items():
            (folder / name).write_text(header + "".join(lines.get(code, ())), encoding="utf-8")
    return len(codes)


def _csv_lines_by(frame: pd.DataFrame, column: str) -> tuple[str, dict[str, list[str]]]:
    """The CSV header line and each value of ``column``'s data lines, in row order."""
    text = frame.to_csv(index=False, lineterminator="\n")
    header, _, body = text.partition("\n")
    lines = body.splitlines(keepends=True)
    if len(lines) != len(frame):  # a field with a line break: fall back to one call each
        return header + "\n", {
            str(k): [g.to_csv(index=False, header=False, lineterminator="\n")]
            for k, g in frame.groupby(frame[column].astype(str), sort=False)
        }
    out: dict[str, list[str]] = {}
    for key, line in zip(frame[column].astype(str), lines, strict=True):
        out.setdefault(key, []).append(line)
    return header + "\n", out


def _result(n: int, ok: str, bad: str) -> str:
    return (
        f'<p class="result pass">{escape(ok)}</p>'
        if n == 0
        else (f'<p class="result flag">{escape(bad.format(n=f"{n:,}"))}</p>')
    )


def measures_sections(qa: Path) -> list[str]:
    """Follow-up exclusions and funnel over-dispersion, from qa/measures/ (written by
    ``qa_pack.write_measures_reports``): what a reviewer needs to judge whether the
    figures lost children and how far the LA comparisons can be read."""
    folder = Path(qa) / "measures"
    if not folder.is_dir():
        return []
    england = _read(folder / "follow_up_exclusions_england.csv")
    funnels = _read(folder / "funnel_dispersion.csv")
    n = int(pd.to_numeric(england.get("children_excluded", pd.Series())).sum())
    excl = (
        "<p>No child was left out of any window for a quarantined follow-up year.</p>"
        if n == 0
        else f"<p>{n:,} child-window figures left out because a year the window needs "
        "was quarantined for the child (numerator and denominator), by cohort and window "
        "below; by LA in the linked file. Each child is still in every window that "
        "needs no quarantined year.</p>"
    )
    headline = funnels
    if len(funnels):
        headline = funnels[funnels["characteristic"].eq("Total")][
            [
                "time_period",
                "cohort_span",
                "follow_up_months",
                "las",
                "phi",
                "p_value",
                "overdispersed",
                "outside_998_binomial",
                "outside_998_adjusted",
                "outside_95_binomial",
                "outside_95_adjusted",
            ]
        ]
        headline = headline.assign(
            phi=pd.to_numeric(headline["phi"]).round(2).astype(str),
            p_value=pd.to_numeric(headline["p_value"]).map("{:.3g}".format),
        )
        # The pooled plots (the LA headline) first, then single years, latest first.
        pooled = headline["cohort_span"].ne("Single year").map({True: 0, False: 1})
        headline = headline.assign(_p=pooled).sort_values(
            ["_p", "time_period", "follow_up_months"],
            ascending=[True, False, True],
            kind="stable",
        )
        headline = headline.drop(columns="_p")
    return [
        '<h2 id="follow-up">Children left out for a quarantined follow-up year</h2>',
        excl,
        _table(
            england[england["children_excluded"].ne("0")] if len(england) else england,
            "Children and LAs left out, England, by cohort and window",
        ),  # fmt: skip
        '<p>Evidence: <a href="measures/follow_up_exclusions.csv">by LA</a>, '
        '<a href="measures/follow_up_exclusions_england.csv">England</a>.</p>',
        '<h2 id="funnels">Funnel plots: over-dispersion</h2>',
        "<p>Each LA funnel plot's over-dispersion factor (phi), the test of no "
        "over-dispersion, and the LAs outside the limits with plain binomial limits and "
        "with the random-effects adjustment used when the test rejects at 5% "
        "(docs/methodology.md). Total rows shown; every breakdown in the linked file.</p>",
        _table(headline, "Funnel plots (Total), LAs outside the limits"),
        '<p>Evidence: <a href="measures/funnel_dispersion.csv">funnel_dispersion.csv</a>.</p>',
    ]


def write_qa_summary(qa: Path, candidate: Path, la_year_status: pd.DataFrame,
                     checks: dict[str, bool], *, upn_matching: pd.DataFrame | None = None,
                     ) -> dict[str, int]:  # fmt: skip
    """Write qa/summary.html and the evidence files under qa/checks/; return the number
    of flags by check (for the candidate record and the tests). Plausibility flags are
    read from qa/plausibility.csv (``validation.plausibility``), written before this."""
    qa, candidate = Path(qa), Path(candidate)
    data = candidate / "data"
    reentry = _read(data / "la_reentry_to_care.csv")
    ceased = _read(data / "children_ceasing_care_by_reason.csv")
    evidence = qa / "checks"
    evidence.mkdir(parents=True, exist_ok=True)

    withheld = withheld_counts(reentry)
    found = qa / PLAUSIBILITY_FILE
    jumps = (
        pd.read_csv(found, dtype={"la_code": str})
        if found.exists()
        else pd.DataFrame(columns=PLAUSIBILITY_COLUMNS)
    )
    jumps["flagged"] = jumps["flagged"].astype(bool)
    names = reentry.drop_duplicates("old_la_code").set_index("old_la_code")["la_name"]
    jumps.insert(2, "la_name", jumps["la_code"].map(names).fillna(""))
    upn_low = (
        low_upn_match(upn_matching)
        if upn_matching is not None
        else pd.DataFrame(columns=["la_code", "cohort_year", "upn_match_rate"])
    )
    breaks = breaks_in_series(ceased)
    recon = reconciliation(ceased)
    prose = prose_symbol_findings(candidate)
    status = la_year_status.copy()
    share = status["children_quarantined"] / status["children"].where(status["children"] > 0)
    # Set before filtering: assigning a Series to an empty frame would adopt its index.
    status["quarantined_pct"] = (100 * share).round(1)
    warnings = status[status["status"].isin(["rejected", "not_received"]) | (share > 0.05)]
    files = {
        "withheld.csv": withheld,
        "plausibility.csv": jumps,
        "breaks_in_series.csv": breaks,
        "reconciliation.csv": recon,
        "symbols_in_prose.csv": prose,
        "validation_warnings.csv": warnings,
        "upn_match_below_threshold.csv": upn_low,
    }
    for name, df in files.items():
        df.to_csv(evidence / name, index=False, lineterminator="\n")
    packs = write_check_packs(qa, reentry, ceased, la_year_status, jumps, upn_matching)

    flagged = {
        "plausibility": int(jumps["flagged"].sum()),
        "breaks_in_series": int(breaks["flag"].sum()) if len(breaks) else 0,
        "reconciliation": int(recon["flag"].sum()) if len(recon) else 0,
        "symbols_in_prose": len(prose),
        "validation_warnings": len(warnings),
        "upn_match_rate": len(upn_low),
    }
    disclosure_link = (
        f'<a href="{WITHHELD_PAGE}">What was withheld, and why</a>'
        if (qa / WITHHELD_PAGE).exists()
        else "A page on what was withheld and why is not yet part of this pack; see "
        '<a href="disclosure/suppression_log.csv">the suppression log</a>'
    )
    check_rows = "".join(
        f'<tr><th scope="row">{escape(k.replace("_", " "))}</th><td>{"Pass" if v else "Fail"}</td></tr>'
        for k, v in sorted(checks.items())
    )
    total_withheld = int(withheld["shown as c"].sum()) if len(withheld) else 0
    sections = [
        '<h2 id="blocking">Blocking checks</h2>',
        f'<div class="table-wrap"><table><caption>Checks that stop a release</caption>'
        f'<thead><tr><th scope="col">Check</th><th scope="col">Result</th></tr></thead>'
        f"<tbody>{check_rows}</tbody></table></div>",
        '<h2 id="withheld">Withheld figures</h2>',
        f"<p>{total_withheld:,} count and rate cells of the headline file are withheld "
        f"to protect confidentiality. {disclosure_link}. Evidence: "
        '<a href="checks/withheld.csv">withheld.csv</a>, '
        '<a href="disclosure_audit.json">disclosure audit</a>.</p>',
        _table(withheld, "Cells by symbol, headline file"),
        '<h2 id="plausibility">Plausibility: year-on-year jumps by local authority</h2>',
        "<p>Each LA's children in its return and its returns home (episodes ending E4A or "
        f"E4B), flagged when either changes by more than {JUMP_SHARE:.0%} and by at least "
        f"{JUMP_MIN} from the year before; the same flags are a warning check in the run. "
        "Ask the LA whether the change is real (a change in practice) or recording (a "
        "resubmission, a new system).</p>",
        _result(
            flagged["plausibility"],
            "No jumps beyond the threshold.",
            "{n} LA-years flagged: decide each before approving.",
        ),  # fmt: skip
        _table(jumps[jumps["flagged"]].drop(columns="flagged"), "Flagged year-on-year changes"),
        '<p>Evidence: <a href="checks/plausibility.csv">plausibility.csv</a>.</p>',
        '<h2 id="breaks">Breaks in series</h2>',
        "<p>National ceased-by-reason counts that start, stop or change by more than "
        f"{BREAK_RATIO:.0f} times in a year. A break needs a note in the release.</p>",
        _result(
            flagged["breaks_in_series"],
            "No break in series.",
            "{n} breaks flagged: each needs a note.",
        ),  # fmt: skip
        _table(
            breaks[breaks["flag"]].drop(columns="flag") if len(breaks) else breaks,
            "Flagged breaks in series",
        ),  # fmt: skip
        '<p>Evidence: <a href="checks/breaks_in_series.csv">breaks_in_series.csv</a>.</p>',
        '<h2 id="reconciliation">Reconciliation with the DfE published table</h2>',
        "<p>National children ceasing care by reason against the DfE table (reference/"
        "ees_la_children_who_ceased_during_the_year.csv): on real data the published "
        "figures; on synthetic data the calibration targets. Flagged when the difference "
        f"exceeds {RECONCILE_SHARE:.0%}.</p>",
        _result(
            flagged["reconciliation"],
            "Every reason within the threshold.",
            "{n} reason-years differ by more than the threshold.",
        ),  # fmt: skip
        _table(recon, "Pipeline and published counts, England"),
        '<p>Evidence: <a href="checks/reconciliation.csv">reconciliation.csv</a>.</p>',
        *measures_sections(qa),
        '<h2 id="validation">Warnings from validation</h2>',
        "<p>Returns rejected or not received, and returns with more than 5% of children "
        "held back.</p>",
        _result(
            flagged["validation_warnings"], "No warnings.", "{n} LA-years with a warning."
        ),  # fmt: skip
        _table(warnings, "LA-years with a validation warning"),
        '<p>Evidence: <a href="checks/validation_warnings.csv">validation_warnings.csv</a>, '
        '<a href="validation/index.html">the validation report</a>.</p>',
        '<h2 id="upn">UPN match rate behind the "any local authority" figure</h2>',
        "<p>The share of each LA's children who returned home with a unique pupil number "
        "the any-LA linkage can use. Listed more than "
        f"{UPN_WARNING_POINTS:.0f} percentage points below England's share that year: a "
        "move into another LA's care is missed for a child without one.</p>",
        _result(
            flagged["upn_match_rate"],
            f"No LA-year more than {UPN_WARNING_POINTS:.0f} points below England."
            if upn_matching is not None
            else "Not computed for this pack.",
            "{n} LA-years below the threshold.",
        ),  # fmt: skip
        _table(upn_low, "LA-years with a low UPN match rate"),
        '<p>Evidence: <a href="checks/upn_match_below_threshold.csv">'
        "upn_match_below_threshold.csv</a>; every LA-year in its check-your-figures pack."
        "</p>",
        '<h2 id="prose">Symbols in published sentences</h2>',
        _result(
            flagged["symbols_in_prose"],
            "No page shows a suppression symbol in a sentence.",
            "{n} sentences show a bare symbol.",
        ),  # fmt: skip
        _table(prose, "Sentences with a bare symbol"),
        '<h2 id="packs">Check your figures: one pack per local authority</h2>',
        f'<p>{packs} folders under <a href="check_your_figures/">check_your_figures/</a>, '
        "each with the LA's figures as they will be published, its returns' validation "
        "status, its plausibility flags and its UPN match rate, to send to the LA's data team before "
        "publication.</p>",
    ]
    html = (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>QA summary - restricted</title>\n<style>"
        "body{font-family:system-ui,sans-serif;max-width:960px;margin:0 auto;padding:0 15px;"
        "line-height:1.4;color:#0b0c0c}table{border-collapse:collapse;width:100%}"
        "th,td{border-bottom:1px solid #b1b4b6;padding:4px 8px 4px 0;text-align:left}"
        "caption{text-align:left;font-weight:700}.table-wrap{overflow-x:auto}"
        ".result{font-weight:700;padding:4px 10px}.pass{border-left:6px solid #00703c}"
        ".flag{border-left:6px solid #d4351c}a{color:#1d70b8}</style>\n</head>\n<body>\n"
        '<main id="main-content">\n<h1>QA summary: restricted</h1>\n'
        "<p>Every check on this candidate release, with its result and a link to the "
        "evidence. Not for publication.</p>\n"
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )
    (qa / "summary.html").write_text(html, encoding="utf-8", newline="\n")
    return flagged
