"""The reviewers' validation report: an HTML summary, one page per LA, and CSVs.

Written under ``OUTPUT/restricted/<release>/validation/`` (the caller passes that folder)
because it holds child identifiers; it never goes to ``publications/``. Deterministic:
sorted tables, no timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from assets.common.reference import load_las
from validation.ledger import unbalanced

STATUS_LABELS = {
    "accepted": "Accepted",
    "accepted_with_quarantine": "Accepted with quarantined children",
    "rejected": "Rejected",
    "not_received": "Not received",
}
# Per-LA pages list at most this many failing rows (failures.csv has them all).
MAX_ROWS_PER_LA_PAGE = 5000


class ValidationOutcome(Protocol):
    """What the report needs of a validation: the failures, the ledger and each LA-year's
    status after every rule (the history stage's result has all three, cross-year rules
    included)."""

    failures: pd.DataFrame
    ledger: pd.DataFrame
    la_year_status: pd.DataFrame


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("templates", "validation"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        keep_trailing_newline=True,
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # lineterminator fixed and no index: same bytes on every platform and run. Text from
    # the inputs (file names, CHILD ids) cannot run as a formula in a reviewer's spreadsheet.
    from assets.common.csv_safety import neutralise_formulas

    neutralise_formulas(frame).to_csv(
        path, index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts for the templates, missing values as None. A plain loop: the report
    converts hundreds of small frames, and a frame-wide ``where`` per call was most of
    the report's time."""
    columns = list(frame.columns)
    values = frame.astype(object).to_numpy()
    missing = frame.isna().to_numpy()
    return [
        {c: (None if m else v) for c, v, m in zip(columns, row, miss, strict=True)}
        for row, miss in zip(values, missing, strict=True)
    ]


def write_validation_report(
    out_dir: Path, history: ValidationOutcome, inventory: pd.DataFrame, release: str
) -> Path:
    """Write index.html, la/<code>.html and the CSVs into ``out_dir``; return index.html."""
    out_dir = Path(out_dir)
    (out_dir / "la").mkdir(parents=True, exist_ok=True)
    env = _env()
    names = load_las().drop_duplicates("old_la_code").set_index("old_la_code")["la_name"]

    failures = history.failures.copy()
    ledger = history.ledger.copy()
    status = history.la_year_status.sort_values(["la_code", "collection_year"]).copy()
    status["status_label"] = status["status"].map(STATUS_LABELS)
    status["la_name"] = status["la_code"].map(names).fillna("")

    _write_csv(failures, out_dir / "failures.csv")
    _write_csv(ledger, out_dir / "ledger.csv")
    _write_csv(status.drop(columns=["status_label"]), out_dir / "la_year_status.csv")
    _write_csv(inventory.sort_values("path"), out_dir / "inventory.csv")

    by_la_year = ledger.groupby(["la_code", "collection_year"])[
        ["rows_read", "rows_accepted"]
    ].sum()
    rule_counts = (
        failures.dropna(subset=["la_code"])
        .groupby(["la_code", "collection_year", "rule_code"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["la_code", "collection_year", "rule_code"])
    )
    rule_text = rule_counts.groupby(["la_code", "collection_year"]).apply(
        lambda g: "; ".join(f"{c}: {n}" for c, n in zip(g["rule_code"], g["n"], strict=True))
    )
    key = pd.MultiIndex.from_frame(status[["la_code", "collection_year"]].astype(object))
    la_years = status.copy()
    la_years["rows_read"] = by_la_year["rows_read"].reindex(key).fillna(0).astype(int).to_numpy()
    la_years["rows_accepted"] = (
        by_la_year["rows_accepted"].reindex(key).fillna(0).astype(int).to_numpy()
    )
    la_years["rules"] = rule_text.reindex(key).to_numpy() if len(rule_text) else None
    la_years["page"] = "la/" + la_years["la_code"] + ".html"

    by_rule = (
        failures.groupby(["rule_code", "severity", "message"])
        .agg(
            failures=("rule_code", "size"),
            la_years=("la_code", lambda s: s.dropna().nunique()),
        )
        .reset_index()
    )
    # Same message can differ per file-level failure; collapse those to one line per rule.
    by_rule = (
        by_rule.groupby(["rule_code", "severity"])
        .agg(
            message=("message", "first"),
            failures=("failures", "sum"),
            la_years=("la_years", "max"),
        )
        .reset_index()
        .sort_values(["failures", "rule_code"], ascending=[False, True])
    )
    file_level = by_rule["severity"].eq("file")
    by_rule.loc[file_level, "message"] = by_rule.loc[file_level, "rule_code"].map(
        _generic_file_message
    )

    yearly = ledger.groupby("collection_year")[
        ["rows_read", "rows_accepted", "rows_quarantined", "rows_rejected"]
    ].sum()
    bad_years = set(unbalanced(ledger)["collection_year"])
    ledger_by_year = [
        {**row, "collection_year": year, "balances": year not in bad_years}
        for year, row in yearly.astype(int).to_dict("index").items()
    ]
    counts = status["status"].value_counts()
    status_totals = [
        {"label": label, "count": int(counts.get(code, 0))} for code, label in STATUS_LABELS.items()
    ]
    unplaced = inventory[
        inventory["problem"].notna()
        & (inventory["collection_year"].isna() | inventory["la_code"].isna())
    ].sort_values("path")
    years = sorted(status["collection_year"].unique().tolist())
    years_text = f"{years[0]} to {years[-1]}" if years else "(none)"

    index = out_dir / "index.html"
    index.write_text(
        env.get_template("summary.html.j2").render(
            release=release,
            years_text=years_text,
            status_totals=status_totals,
            ledger_by_year=ledger_by_year,
            by_rule=_records(by_rule),
            unplaced=_records(unplaced[["path", "problem"]]),
            la_years=_records(la_years),
        ),
        encoding="utf-8",
    )

    la_template = env.get_template("la.html.j2")
    for la, la_status in status.groupby("la_code", sort=True):
        la_fail = failures[failures["la_code"].eq(la)]
        la_fail = la_fail.sort_values(["collection_year", "file", "row", "rule_code"])
        files = ledger[ledger["la_code"].eq(la)].sort_values(["collection_year", "file"])
        (out_dir / "la" / f"{la}.html").write_text(
            la_template.render(
                release=release,
                la_code=la,
                la_name=names.get(la, ""),
                years=_records(la_status),
                files=_records(files),
                failures=_records(la_fail.head(MAX_ROWS_PER_LA_PAGE)),
                total_failures=len(la_fail),
                truncated=len(la_fail) > MAX_ROWS_PER_LA_PAGE,
            ),
            encoding="utf-8",
        )
    return index


def _generic_file_message(code: str) -> str:
    from validation.rules import message_for

    return message_for(code)


class _Combined:
    """Several collection years' validation outcomes as one (for a stopped run)."""

    def __init__(self, years: list) -> None:
        def cat(name: str) -> pd.DataFrame:
            frames = [getattr(y, name) for y in years if not getattr(y, name).empty]
            return pd.concat(frames, ignore_index=True) if frames else getattr(years[0], name)

        self.failures = cat("failures")
        self.ledger = cat("ledger")
        self.la_year_status = cat("la_year_status")


def write_stopped_run_report(
    out_dir: Path, years: list, inventory: pd.DataFrame, release: str
) -> Path:
    """The validation report and ledger of a run that stopped at the validation check,
    so the analyst can see why without a traceback or a re-run. ``years``: the
    ValidatedYear of each collection year validated."""
    index = write_validation_report(out_dir, _Combined(years), inventory, release)
    (Path(out_dir) / "STOPPED.txt").write_text(
        "This run stopped at the validation check: no release was built from it.\n"
        "failures.csv names every problem by file, row, column and rule; ledger.csv\n"
        "accounts for every row of every file.\n",
        encoding="utf-8",
    )
    return index
