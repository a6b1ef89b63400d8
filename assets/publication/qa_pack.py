"""The reviewers' QA pack, written beside the candidate under OUTPUT/restricted/: the
validation report, ledger, suppression log, audit, the differences from the last release,
the one-page QA summary (summary.html) and the per-LA "check your figures" packs.
"""

import json
from pathlib import Path

import pandas as pd

from assets.common.contracts import USABLE_STATUSES
from assets.common.csv_safety import neutralise_formulas
from assets.publication.candidate_record import write_candidate_record
from assets.publication.differences import release_differences
from validation.assessment import ledger_imbalance


def _csv(df: pd.DataFrame | None, path: Path) -> None:
    """A reviewers' CSV; text from the inputs cannot run as a spreadsheet formula."""
    frame = pd.DataFrame() if df is None else df
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    neutralise_formulas(frame).to_csv(path, index=False, lineterminator="\n")


# The measures' restricted QA tables, by file name under qa/measures/.
MEASURES_DIR = "measures"
FOLLOW_UP_EXCLUSIONS = "follow_up_exclusions.csv"
FOLLOW_UP_EXCLUSIONS_ENGLAND = "follow_up_exclusions_england.csv"
FUNNEL_DISPERSION = "funnel_dispersion.csv"


def write_measures_reports(qa: Path, measures) -> None:
    """The reviewers' view of what the measures left out and how noisy the LA
    comparisons are: children excluded from a window because a follow-up year was
    quarantined (by LA, and summed for England), and each funnel plot's over-dispersion
    with the LAs outside its limits before and after the adjustment."""
    from assets.measures.tables import follow_up_exclusions_by_window

    folder = Path(qa) / MEASURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    exclusions = getattr(measures, "follow_up_exclusions", None)
    _csv(exclusions, folder / FOLLOW_UP_EXCLUSIONS)
    _csv(follow_up_exclusions_by_window(exclusions), folder / FOLLOW_UP_EXCLUSIONS_ENGLAND)
    _csv(getattr(measures, "funnel_dispersion", None), folder / FUNNEL_DISPERSION)


def plausibility_of(history) -> pd.DataFrame:
    """The history's plausibility table (computed once, by the history step), or computed
    here for a history stored before the table was part of it."""
    from validation.plausibility import plausibility_table

    table = getattr(history, "plausibility", None)
    if table is None:
        table = plausibility_table(history.ledger, history.episode_history)
    return table


def write_qa_reports(
    qa: Path, *, history, controlled, inventory: pd.DataFrame, release: str, measures=None
) -> None:
    """The parts of the QA pack that need only the run's inputs (not the candidate): the
    validation report, ledger, LA-year status, inventory, controlled tables and audit,
    and (given ``measures``) the measures' exclusions and funnel dispersion."""
    from validation.report import write_validation_report

    if measures is not None:
        write_measures_reports(qa, measures)

    write_validation_report(qa / "validation", history, inventory, release)
    _csv(history.ledger, qa / "ledger.csv")
    _csv(history.la_year_status, qa / "la_year_status.csv")
    _csv(inventory, qa / "inventory.csv")
    # Each LA-year against its previous year: a return that passes every rule can still
    # have lost half its children (a warning for the reviewer, not a rejection).
    _csv(plausibility_of(history), qa / "plausibility.csv")
    from assets.disclosure.files import write_published
    from assets.publication.manifest import audit_summary

    published, audit = controlled.published, controlled.audit
    # Controlled tables + restricted suppression log, in the layout the audit re-reads
    # (`reentry check`, and the next release's suppression against this one).
    write_published(published, qa / "disclosure")
    from assets.publication.qa_disclosure import write_withheld_page

    write_withheld_page(
        qa,
        published,
        getattr(controlled, "previous_reentry", None),
        getattr(controlled, "previous_loss", None),
    )
    _csv(getattr(audit, "failures", None), qa / "disclosure_audit_failures.csv")
    (qa / "disclosure_audit.json").write_text(
        json.dumps(
            {
                **audit_summary(audit),
                "protection_width": controlled.config.protection_width,
                "threshold_low": controlled.config.threshold_low,
                "threshold_high": controlled.config.threshold_high,
                "rounding_base": controlled.config.rounding_base,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )


def finish_qa_pack(
    qa: Path,
    *,
    history,
    controlled,
    inventory: pd.DataFrame,
    candidate: Path,
    previous: Path | None,
    landing: Path | None = None,
    settings: dict | None = None,
    upn_matching: pd.DataFrame | None = None,
) -> dict[str, bool]:
    """The parts of the QA pack that compare the built candidate: differences from the
    previous release, the QA checks and the candidate record (which pins the candidate's
    manifest hash and the run's settings, tying the pack to this candidate). Returns the
    checks."""
    from assets.common.hashing import file_sha256
    from assets.common.release_folders import MANIFEST_NAME

    differences = release_differences(candidate, previous)
    _csv(differences, qa / "differences_from_previous_release.csv")
    status = history.la_year_status
    usable = status["status"].isin(USABLE_STATUSES).groupby(status["collection_year"]).any()
    checks = {
        "disclosure_audit": bool(controlled.audit.passed),
        "ledger_balances": ledger_imbalance(history.ledger).empty,
        "every_year_has_usable_returns": bool(usable.all()) and not usable.empty,
    }
    from assets.publication.qa_summary import write_qa_summary

    write_qa_summary(qa, candidate, status, checks, upn_matching=upn_matching)
    write_candidate_record(
        qa,
        inventory=inventory,
        checks=checks,
        landing=landing,
        manifest_sha256=file_sha256(candidate / MANIFEST_NAME),
        settings=settings,
    )
    return checks
