"""Plain-pandas assessments behind the blocking asset checks (no Dagster here).

What stops a release, and what is only reported:

* **Blocks** (the pipeline cannot produce trustworthy figures): a ledger that does not
  balance (rows read != rows accepted + rows quarantined, so records were lost silently),
  or a collection year in which no LA's return was usable or no episode was accepted.
* **Reported, does not block**: an individual LA's return rejected or not received. The
  LA's figures are published as ``x`` with a note (GSS guidance on symbols), which is the
  correct outcome for a bad return, not a pipeline failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from assets.common.contracts import USABLE_STATUSES


@dataclass(frozen=True)
class Assessment:
    """The outcome of a check: pass/fail, why, and tables for the reviewer."""

    passed: bool
    problems: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)


def markdown_table(df: pd.DataFrame, max_rows: int = 10) -> str:
    """First rows of a table as markdown for the Dagster UI (values as plain strings)."""
    if df is None or df.empty:
        return "(none)"
    head = df.head(max_rows).astype("string").fillna("")
    return head.to_markdown(index=False)


def ledger_imbalance(ledger: pd.DataFrame) -> pd.DataFrame:
    """Ledger lines where rows read != accepted + quarantined + rejected (validation/ledger.py)."""
    from validation.ledger import unbalanced

    return unbalanced(ledger)


# Failure columns that may identify a child; never copied into Dagster's run storage
# (DAGSTER_HOME is outside OUTPUT/restricted/). File, row and column locate the record.
CHILD_LEVEL_FAILURE_COLUMNS = ["child", "value"]


def failures_for_metadata(failures: pd.DataFrame) -> pd.DataFrame:
    """Validation failures without the columns that could identify a child."""
    return failures.drop(columns=CHILD_LEVEL_FAILURE_COLUMNS, errors="ignore")


def assess_validated_years(years: Sequence) -> Assessment:
    """Blocking validation check over ValidatedYear results (one per collection year)."""
    problems: list[str] = []
    imbalances = []
    statuses = []
    failures = []
    for vy in years:
        bad = ledger_imbalance(vy.ledger)
        if not bad.empty:
            problems.append(f"{vy.year}: ledger does not balance on {len(bad)} row(s)")
            imbalances.append(bad.assign(collection_year=vy.year))
        status = vy.la_year_status
        statuses.append(status)
        usable = status["status"].isin(USABLE_STATUSES)
        if not usable.any():
            counts = status["status"].value_counts()
            problems.append(
                f"{vy.year}: no LA return is usable ({int(counts.get('rejected', 0))} rejected, "
                f"{int(counts.get('not_received', 0))} not received)"
            )
        elif getattr(vy, "episodes", None) is not None and vy.episodes.empty:
            # Returns were usable but every child was quarantined: there is nothing to
            # measure, and the run must stop here with the report, not fail in measures.
            problems.append(
                f"{vy.year}: no episode was accepted (every child in the "
                f"{int(usable.sum())} usable return(s) was quarantined)"
            )
        if vy.failures is not None and not vy.failures.empty:
            failures.append(vy.failures)
    status_all = pd.concat(statuses, ignore_index=True) if statuses else pd.DataFrame()
    failures_all = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
    tables = {
        "ledger_imbalance": pd.concat(imbalances, ignore_index=True)
        if imbalances
        else pd.DataFrame(),
        "failures": failures_all,
        "la_year_status": status_all,
    }
    # validation.collection_year names the column rule_code (validation.rules.FAILURE_COLUMNS).
    rule = "rule_code" if "rule_code" in failures_all.columns else "rule"
    if not failures_all.empty and rule in failures_all.columns:
        tables["failures_by_rule"] = (
            failures_all.groupby(rule, dropna=False)
            .size()
            .rename("failures")
            .reset_index()
            .sort_values(["failures", rule], ascending=[False, True])
        )
    counts = status_all["status"].value_counts() if not status_all.empty else pd.Series()
    figures = {
        "collection_years": len(years),
        "la_years_accepted": int(counts.get("accepted", 0)),
        "la_years_accepted_with_quarantine": int(counts.get("accepted_with_quarantine", 0)),
        "la_years_rejected": int(counts.get("rejected", 0)),
        "la_years_not_received": int(counts.get("not_received", 0)),
        "validation_failures": len(failures_all),
    }
    return Assessment(passed=not problems, problems=problems, tables=tables, figures=figures)


def rejected_la_years(la_year_status: pd.DataFrame) -> pd.DataFrame:
    """LA-years whose return was rejected or not received, with the reason (reported only)."""
    out = la_year_status[la_year_status["status"].isin(["rejected", "not_received"])]
    return out.sort_values(["collection_year", "la_code"]).reset_index(drop=True)
